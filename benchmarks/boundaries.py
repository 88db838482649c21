"""Issue 12 (plugin boundaries) against the code before it: startup, training and serving, one run.

BEFORE is a baseline commit (default ``bf5d35d``, the last one before the work), checked out with
``git worktree add --detach`` into a temporary folder; AFTER is this working tree as it is. Each
side gets its own venv (cached under ``.nox/bench-before`` and ``.nox/bench-after``) holding that
side's Kepler distributions, installed non-editable from its own tree, found the way its noxfile
finds them (every ``kepler-*/`` and ``plugins/*/`` pyproject.toml) less kepler-torch and
kepler-gcp, which none of the three measures needs; torch is installed on neither side.

Every measure runs in a subprocess of the side's venv, so nothing leaks from one side to the
other, and the sides alternate round by round (A B, then B A, ...) so that the noise of a shared
machine hits both alike; the figures are medians over the rounds:

1. startup: ``kepler --help`` and ``kepler plugins list`` above ``python -c pass``
   (``startup.wall``, the whole process's wall time);
2. training: ``kp.train.random_forest(df, target="failure")`` on the same generated sensor data
   (``make_sensor_data``, wherever the side keeps it; the frames are checked identical by hash),
   after an untimed warm-up call that pays the imports;
3. serving: a saved 50-tree random forest (``serving.data()``'s 10 features) behind
   ``kepler serve`` (one worker), loaded with ``serving.load``'s client: single-record requests,
   8 closed-loop clients for the same time on both sides; requests/s and p99.

``--quick`` shrinks every size to check the script itself and writes nothing to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import serving  # its load client and server helpers, and the 10-feature model data
from _report import write_section
from startup import wall

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve()
#: Not needed by any of the three measures; kepler-torch would bring torch in.
LEFT_OUT = {"kepler-torch", "kepler-gcp"}
THRESHOLD = 0.05  # a ratio further than this from 1.0, the wrong way, is reported as worse


@dataclass(frozen=True)
class Sizes:
    startup_runs: int
    train_rows: int
    train_rounds: int
    serve_seconds: float
    serve_rounds: int


FULL = Sizes(startup_runs=21, train_rows=100_000, train_rounds=3, serve_seconds=6.0,
             serve_rounds=5)
QUICK = Sizes(startup_runs=3, train_rows=5_000, train_rounds=1, serve_seconds=1.5,
              serve_rounds=2)


@dataclass
class Side:
    """One of the two trees, its venv, and the throw-away Kepler home its processes use."""

    name: str
    tree: Path
    venv: Path
    work: Path
    distributions: list[str] = field(default_factory=list)

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    @property
    def kepler(self) -> str:
        return str(self.venv / "bin" / "kepler")

    def env(self) -> dict[str, str]:
        """Its own config and data folders, so neither side sees the other's registry."""
        env = {**os.environ, "KEPLER_CONFIG_DIR": str(self.work / "home"),
               "KEPLER_DATA_DIR": str(self.work / "data"), "KEPLER_SECRETS_BACKEND": "file",
               "PATH": f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.pop("KEPLER_PROJECT", None)
        return env

    def task(self, *args: str, timeout: float = 1800) -> dict[str, Any]:
        """Run one of this script's ``--side`` tasks in this side's venv; its JSON answer."""
        out = subprocess.run([self.python, str(SCRIPT), "--side", *args], env=self.env(),
                             cwd=self.work, capture_output=True, text=True, timeout=timeout)
        if out.returncode:
            raise SystemExit(f"{self.name}: side task {args} failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


# --- the venvs -------------------------------------------------------------------------------

def distributions(tree: Path) -> list[Path]:
    """The tree's distributions as its noxfile finds them, kepler-core first, less LEFT_OUT."""
    found = sorted(p.parent for p in tree.glob("kepler-*/pyproject.toml"))
    found += sorted(p.parent for p in tree.glob("plugins/*/pyproject.toml"))
    core = tree / "kepler-core"
    return [d for d in [core] + [d for d in found if d != core] if d.name not in LEFT_OUT]


def pip(side: Side, *args: str) -> str:
    out = subprocess.run([side.python, "-m", "pip", *args], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{side.name}: pip {' '.join(args[:3])} … failed:\n{out.stderr[-3000:]}")
    return out.stdout


def prepare_venv(side: Side, stamp: str | None) -> None:
    """Create (or reuse) the side's venv and install its tree's distributions into it.

    A stamp (the baseline's commit) lets an unchanged baseline skip the reinstall; the working
    tree has none and is reinstalled every run, since it changes. Kepler distributions already
    in the venv are removed first, so one that the tree dropped cannot linger.
    """
    dists = distributions(side.tree)
    side.distributions = [d.name for d in dists]
    marker = side.venv / ".kepler-bench-stamp"
    wanted = f"{stamp}:{','.join(side.distributions)}" if stamp else None
    if wanted and marker.is_file() and marker.read_text() == wanted:
        return
    if not (side.venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(side.venv)], check=True)
        pip(side, "install", "--quiet", "hatchling>=1.21")
    marker.unlink(missing_ok=True)
    present = json.loads(pip(side, "list", "--format", "json"))
    old = [p["name"] for p in present if p["name"].lower().startswith("kepler")]
    if old:
        pip(side, "uninstall", "--yes", "--quiet", *old)
    pip(side, "install", "--quiet", "--no-build-isolation", *map(str, dists))
    if any(p["name"].lower() == "torch" for p in json.loads(pip(side, "list", "--format", "json"))):
        raise SystemExit(f"{side.name}: torch got installed; the sides would not be comparable")
    if wanted:
        marker.write_text(wanted)


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


# --- the side tasks (run inside a side's venv) -----------------------------------------------

def sensor_generator() -> tuple[Callable[..., Any], str]:
    """``make_sensor_data`` from wherever this side keeps it (it moved in issue 12)."""
    try:
        from kepler_tabular import make_sensor_data
        return make_sensor_data, "kepler_tabular.make_sensor_data"
    except ImportError:
        from kepler_sklearn.datasets import make_sensor_data
        return make_sensor_data, "kepler_sklearn.datasets.make_sensor_data"


def frame_hash(frame: Any) -> str:
    import pandas as pd

    values = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    columns = ",".join(f"{c}:{t}" for c, t in frame.dtypes.items())
    return hashlib.sha256(values.tobytes() + columns.encode()).hexdigest()[:16]


def side_train(rows: int) -> dict[str, Any]:
    """Seconds of one ``kp.train.random_forest`` on ``rows`` rows, its imports paid before."""
    import kepler as kp

    generate, where = sensor_generator()
    kp.train.random_forest(generate(rows=500, seed=5), target="failure", n_estimators=5)
    frame = generate(rows=rows)
    started = time.perf_counter()
    model = kp.train.random_forest(frame, target="failure")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "fit_seconds": model.manifest.training.seconds,
            "hash": frame_hash(frame), "shape": list(frame.shape), "generator": where}


def side_model(folder: str) -> dict[str, Any]:
    """Train and save serving.py's 50-tree model; the request rows and the model's answers."""
    import types

    import kepler as kp
    import pandas as pd

    generate, where = sensor_generator()
    if where.startswith("kepler_sklearn"):  # serving.data() imports it from its new home
        sys.modules["kepler_tabular"] = types.SimpleNamespace(make_sensor_data=generate)
    frame = serving.data()
    model = kp.train.random_forest(frame, target="failure", n_estimators=50)
    model.save(folder)
    rows = frame.drop(columns=["failure"])
    check = rows.sample(200, random_state=1)

    def records(part: pd.DataFrame) -> list[dict[str, Any]]:
        return json.loads(json.dumps(part.to_dict("records"), default=lambda v: v.item()))

    return {"one": records(rows.iloc[[7]]), "check": records(check),
            "expected": json.loads(json.dumps(model.predict(check).tolist(),
                                              default=lambda v: v.item())),
            "hash": frame_hash(frame), "shape": list(frame.shape), "generator": where}


def run_side_task(args: list[str]) -> None:
    task, arg = args[0], args[1]
    result = side_train(int(arg)) if task == "train" else side_model(arg)
    print(json.dumps(result))


# --- the three measures (run by the driver) --------------------------------------------------

def alternate(sides: list[Side], rounds: int) -> list[list[Side]]:
    """A B, B A, A B, ...: each side goes first as often as the other."""
    return [sides if r % 2 == 0 else sides[::-1] for r in range(rounds)]


def measure_startup(sides: list[Side], runs: int) -> dict[str, dict[str, Any]]:
    cases = {"pass": lambda s: [s.python, "-c", "pass"],
             "help": lambda s: [s.kepler, "--help"],
             "plugins": lambda s: [s.kepler, "plugins", "list"]}
    samples = {s.name: {c: [] for c in cases} for s in sides}
    for side in sides:  # warm the OS caches, and the bytecode of a fresh install
        for make in cases.values():
            wall(make(side))
    for order in alternate(sides, runs):
        for side in order:
            for case, make in cases.items():
                samples[side.name][case].append(wall(make(side)))
    result: dict[str, dict[str, Any]] = {}
    for side in sides:
        med = {c: statistics.median(v) * 1000 for c, v in samples[side.name].items()}
        listing = subprocess.run([side.kepler, "plugins", "list"], capture_output=True,
                                 text=True).stdout
        result[side.name] = {"pass_ms": med["pass"], "help_ms": med["help"] - med["pass"],
                             "plugins_ms": med["plugins"] - med["pass"],
                             "plugins": [line.split()[0] for line in listing.splitlines()[2:]
                                         if line.strip()]}
    return result


def measure_training(sides: list[Side], rows: int, rounds: int) -> dict[str, dict[str, Any]]:
    runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in sides}
    for order in alternate(sides, rounds):
        for side in order:
            runs[side.name].append(side.task("train", str(rows)))
            print(f"  training {side.name}: {runs[side.name][-1]['seconds']:.2f} s", flush=True)
    hashes = {r["hash"] for v in runs.values() for r in v}
    if len(hashes) != 1:
        raise SystemExit(f"the two sides generated different training data: {hashes}")
    return {name: {"seconds": statistics.median(r["seconds"] for r in v),
                   "all": [r["seconds"] for r in v],
                   "fit_seconds": statistics.median(r["fit_seconds"] for r in v),
                   "shape": v[0]["shape"], "generator": v[0]["generator"]}
            for name, v in runs.items()}


def start_server(side: Side, model: Path) -> tuple[subprocess.Popen[bytes], str, int]:
    port = serving.free_port()
    process = subprocess.Popen([side.kepler, "serve", str(model), "--port", str(port)],
                               env=side.env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    serving.wait_ready(f"{url}/ready", process)
    return process, url, port


def check_servers(sides: list[Side], models: dict[str, dict[str, Any]],
                  urls: dict[str, str]) -> dict[str, str]:
    """Both servers answer as their model does, and as each other; their scoring paths."""
    if len({m["hash"] for m in models.values()}) != 1:
        raise SystemExit("the two sides generated different serving data")
    answers = {}
    paths = {}
    for side in sides:
        url, model = urls[side.name], models[side.name]
        serving.post(f"{url}/predict", {"instances": model["one"]})  # warm
        answers[side.name] = serving.post(f"{url}/predict",
                                          {"instances": model["check"]})["predictions"]
        if answers[side.name] != model["expected"]:
            raise SystemExit(f"{side.name}: the server disagrees with its model")
        meta = json.loads(urlopen_text(f"{url}/metadata"))
        paths[side.name] = f"{meta['serving']['scoring_path']} ({meta['serving']['fast_path']})"
    if len({json.dumps(a) for a in answers.values()}) != 1:
        raise SystemExit("the two sides' servers give different predictions: not comparable")
    return paths


def urlopen_text(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as reply:  # noqa: S310 - loopback only
        return reply.read().decode()


def measure_serving(sides: list[Side], sizes: Sizes) -> dict[str, dict[str, Any]]:
    models = {}
    for side in sides:
        models[side.name] = side.task("model", str(side.work / "model"))
    servers: list[subprocess.Popen[bytes]] = []
    urls, ports = {}, {}
    serving.SECONDS = sizes.serve_seconds  # serving.load reads it at each call
    try:
        for side in sides:
            process, urls[side.name], ports[side.name] = start_server(side, side.work / "model")
            servers.append(process)
        paths = check_servers(sides, models, urls)
        rounds: dict[str, list[dict[str, Any]]] = {s.name: [] for s in sides}
        for order in alternate(sides, sizes.serve_rounds):
            for side in order:
                body = json.dumps({"instances": models[side.name]["one"]})
                result = serving.load(ports[side.name], "/predict", body)
                if result["errors"]:
                    raise SystemExit(f"{side.name}: {result['errors']} errors, e.g. "
                                     f"{result['first_error']}")
                rounds[side.name].append(result)
                print(f"  serving {side.name}: {result['rps']:,.0f} req/s, "
                      f"p99 {result['p99']:.1f} ms", flush=True)
    finally:
        for process in servers:
            serving.stop(process)
    return {name: {"rps": statistics.median(r["rps"] for r in v),
                   "p50": statistics.median(r["p50"] for r in v),
                   "p99": statistics.median(r["p99"] for r in v),
                   "rps_all": [r["rps"] for r in v],
                   "requests": sum(r["requests"] for r in v), "path": paths[name],
                   "shape": models[name]["shape"]}
            for name, v in rounds.items()}


# --- the report ------------------------------------------------------------------------------

def ratio_row(label: str, before: float, after: float, fmt: str, higher_is_better: bool,
              worse: list[str]) -> str:
    """One table row; a ratio past THRESHOLD the wrong way is added to ``worse``."""
    ratio = after / before
    if (ratio < 1 - THRESHOLD) if higher_is_better else (ratio > 1 + THRESHOLD):
        worse.append(f"{label}: {before:{fmt}} before, {after:{fmt}} after ({ratio:.2f}×)")
    return f"| {label} | {before:{fmt}} | {after:{fmt}} | {ratio:.2f}× |"


def table(startup: dict[str, Any], training: dict[str, Any], served: dict[str, Any],
          sizes: Sizes, worse: list[str]) -> str:
    b, a = "before", "after"
    rows, n = [], sizes.train_rows
    rows.append(ratio_row(f"`kepler --help`, ms above `python -c pass` (median of "
                          f"{sizes.startup_runs})", startup[b]["help_ms"], startup[a]["help_ms"],
                          ".0f", False, worse))
    rows.append(ratio_row(f"`kepler plugins list`, ms above `python -c pass` (median of "
                          f"{sizes.startup_runs})", startup[b]["plugins_ms"],
                          startup[a]["plugins_ms"], ".0f", False, worse))
    rows.append(ratio_row(f"`kp.train.random_forest`, {n:,} rows, s (median of "
                          f"{sizes.train_rounds})", training[b]["seconds"],
                          training[a]["seconds"], ".2f", False, worse))
    rows.append(ratio_row("↳ preprocessing + fit inside it, s (Kepler's own timing)",
                          training[b]["fit_seconds"], training[a]["fit_seconds"], ".2f", False,
                          []))  # context for the row above, not a measure of its own
    rows.append(ratio_row(f"`kepler serve`, single-record requests/s, higher is better (median "
                          f"of {sizes.serve_rounds})", served[b]["rps"], served[a]["rps"],
                          ",.0f", True, worse))
    rows.append(ratio_row("`kepler serve`, p99 ms", served[b]["p99"], served[a]["p99"], ".1f",
                          False, worse))
    rows.append(ratio_row("`kepler serve`, p50 ms", served[b]["p50"], served[a]["p50"], ".1f",
                          False, worse))
    return ("| measure | before | after | after/before |\n|---|---|---|---|\n"
            + "\n".join(rows))


def spread(values: list[float], fmt: str = ".2f") -> str:
    return (f"{min(values):{fmt}}–{max(values):{fmt}}" if len(values) > 1
            else f"{values[0]:{fmt}}")


def report(sides: list[Side], baseline: str, after_label: str, load: float,
           results: tuple[dict[str, Any], dict[str, Any], dict[str, Any]], sizes: Sizes) -> str:
    startup, training, served = results
    before, after = sides
    worse: list[str] = []
    rows = table(startup, training, served, sizes, worse)
    tshape, sshape = training["after"]["shape"], served["after"]["shape"]
    verdict = ("**No measure is worse after than before** by more than the 5% taken as noise."
               if not worse else "**Worse after than before by more than 5%:** "
               + "; ".join(worse) + ".")
    return (
        f"BEFORE: {baseline}, installed from a `git worktree` of it. AFTER: {after_label}. Each "
        "side in its own venv with its own tree's distributions installed non-editable "
        f"(before: {', '.join(before.distributions)}; after: {', '.join(after.distributions)}); "
        "kepler-torch and kepler-gcp left out on both sides, torch installed on neither. Every "
        "measure runs in a subprocess of its side's venv; the sides alternate round by round "
        f"(A B, B A, …). Load average {load:.1f} when it started.\n\n"
        f"{rows}\n\n{verdict}\n\n"
        f"- Startup: wall time of the whole process (`startup.wall`), {sizes.startup_runs} "
        f"interleaved runs per command and side; bare Python took "
        f"{startup['before']['pass_ms']:.0f} ms before and {startup['after']['pass_ms']:.0f} ms "
        f"after. Plugins listed: before {', '.join(startup['before']['plugins'])}; after "
        f"{', '.join(startup['after']['plugins'])}.\n"
        f"- Training: {tshape[0]:,} rows × {tshape[1]} columns from `make_sensor_data` (before: "
        f"`{training['before']['generator']}`, after: `{training['after']['generator']}`; the "
        "two frames hashed identical), target `failure`, default 100 trees on one core, timed "
        "after an untimed warm-up call in the same process; runs before "
        f"{spread(training['before']['all'])} s, after {spread(training['after']['all'])} s.\n"
        f"- Serving: serving.py's 50-tree model on {sshape[0]:,} rows × {sshape[1] - 1} numeric "
        "features, trained and saved by each side's own code on the same data, served by that "
        f"side's `kepler serve` (one worker, access log on); {serving.CLIENTS} clients in one "
        "process (`serving.load`), each with one single-record request in flight on a "
        f"kept-alive connection, {sizes.serve_seconds:g} s after a 1 s warm-up per round "
        f"(requests in all: before {served['before']['requests']:,}, after "
        f"{served['after']['requests']:,}). Both servers were checked to answer 200 rows as "
        "their models and each other do. Requests/s per round: before "
        f"{spread(served['before']['rps_all'], ',.0f')}, after "
        f"{spread(served['after']['rps_all'], ',.0f')}. "
        f"Scoring path before: {served['before']['path']}; after: {served['after']['path']}.\n")


# --- the driver ------------------------------------------------------------------------------

def describe_after() -> str:
    dirty = git("status", "--porcelain", "--untracked-files=no")
    head = git("log", "-1", "--format=%h")
    return f"the working tree at `{head}`" + (" plus its uncommitted changes" if dirty else "")


def run(baseline: str, cache: Path, sizes: Sizes) -> tuple[list[Side], str, float, tuple[
        dict[str, Any], dict[str, Any], dict[str, Any]]]:
    commit = git("rev-parse", "--verify", f"{baseline}^{{commit}}")
    label = f"`{git('log', '-1', '--format=%h (%s)', commit)}`"
    work = Path(tempfile.mkdtemp(prefix="kepler-bench-boundaries-"))
    tree = work / "before-tree"
    git("worktree", "add", "--detach", str(tree), commit)
    try:
        sides = [Side("before", tree, cache / "bench-before", work / "before"),
                 Side("after", ROOT, cache / "bench-after", work / "after")]
        for side in sides:
            side.work.mkdir(parents=True)
            print(f"installing {side.name} into {side.venv}", flush=True)
            prepare_venv(side, commit if side.name == "before" else None)
        # startup's processes inherit these: an empty Kepler home, not the user's
        os.environ.update({"KEPLER_CONFIG_DIR": str(work / "home"),
                           "KEPLER_DATA_DIR": str(work / "data")})
        load = os.getloadavg()[0]
        print("startup", flush=True)
        startup = measure_startup(sides, sizes.startup_runs)
        print("training", flush=True)
        training = measure_training(sides, sizes.train_rows, sizes.train_rounds)
        print("serving", flush=True)
        served = measure_serving(sides, sizes)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                       check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return sides, label, load, (startup, training, served)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="bf5d35d", help="the BEFORE ref (default bf5d35d)")
    parser.add_argument("--cache", type=Path, default=ROOT / ".nox",
                        help="where the bench-before / bench-after venvs are kept")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, to check the script; BENCHMARKS.md is left alone")
    parser.add_argument("--side", nargs=2, help=argparse.SUPPRESS)  # run inside a side's venv
    args, _ = parser.parse_known_args()  # nox -s bench hands every script the same posargs
    if args.side:
        run_side_task(args.side)
        return
    sizes = QUICK if args.quick else FULL
    sides, label, load, results = run(args.baseline, args.cache.resolve(), sizes)
    body = report(sides, label, describe_after(), load, results, sizes)
    print(body)
    if not args.quick:
        command = " ".join(["python benchmarks/boundaries.py", *sys.argv[1:]]).strip()
        write_section("boundaries", "Plugin boundaries: before and after (issue 12)",
                      command, body)


if __name__ == "__main__":
    main()
