"""Edge: the runner's ONNX path against the native model, and the runner against kepler serve.

The model: a 50-tree ``RandomForestClassifier`` on 10 numeric features, trained once with
``kp.train.random_forest`` (Kepler's preprocessing inside), exported with
``kp.models.to_onnx`` (parity checked) into an edge bundle without wheels.

1. Scoring one row, in this process: the runner's own path (``Scorer.score``: validation, the
   ONNX feed, onnxruntime, decoding) against ``model.predict`` (Kepler's native path: a
   DataFrame, the ColumnTransformer, the forest), median of many calls each, same run.
2. Requests per second, one worker each, same load generator as ``serving.py`` (8 clients,
   closed loop, single-record /predict): ``python runner.py`` against ``kepler serve``.
3. Installed size: a fresh venv with the bundle's requirements.txt (what a device installs)
   against one with kepler-serve and kepler-sklearn (what ``kepler serve`` of this model needs).
   Set ``KEPLER_BENCH_EDGE_SIZES=0`` to skip (it installs from the package index).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _report import write_section
from serving import data, free_port, load, post, stop, wait_ready

ROOT = Path(__file__).resolve().parent.parent
SINGLE_CALLS = int(os.environ.get("KEPLER_BENCH_EDGE_CALLS", "2000"))


def per_call(function: Any, calls: int) -> float:
    """Median seconds of one call, over ``calls`` calls in batches of 50 (after a warm-up)."""
    for _ in range(20):
        function()
    samples = []
    for _ in range(max(1, calls // 50)):
        started = time.perf_counter()
        for _ in range(50):
            function()
        samples.append((time.perf_counter() - started) / 50)
    return statistics.median(samples)


def venv_size(folder: Path, requirements: list[str]) -> int:
    """Bytes of a fresh venv holding ``requirements`` (pip itself excluded from neither)."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    subprocess.run([str(folder / "bin" / "pip"), "install", "--quiet", *requirements],
                   check=True)
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def single_row(model: Any, bundle: Path, row: list[dict[str, Any]]) -> tuple[float, float]:
    sys.path.insert(0, str(bundle))
    import runner  # the bundle's own copy, as the device runs it

    scorer = runner.Scorer(bundle, runner.verify_bundle(bundle))
    assert scorer.score(row)["predictions"] == model.predict(row).tolist()
    return (per_call(lambda: scorer.score(row), SINGLE_CALLS),
            per_call(lambda: model.predict(row), max(100, SINGLE_CALLS // 10)))


def throughput(work: Path, bundle: Path, one: list[dict[str, Any]], env: dict[str, str]
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    edge_port, serve_port = free_port(), free_port()
    processes = [
        subprocess.Popen([sys.executable, str(bundle / "runner.py"), "--port", str(edge_port),
                          "--host", "127.0.0.1"], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True),
        subprocess.Popen([str(Path(sys.executable).parent / "kepler"), "serve",
                          str(work / "model"), "--port", str(serve_port)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)]
    try:
        wait_ready(f"http://127.0.0.1:{edge_port}/ready", processes[0])
        wait_ready(f"http://127.0.0.1:{serve_port}/ready", processes[1])
        body = json.dumps({"instances": one})
        for port in (edge_port, serve_port):
            post(f"http://127.0.0.1:{port}/predict", {"instances": one})  # warm
        return load(edge_port, "/predict", body), load(serve_port, "/predict", body)
    finally:
        for process in processes:
            stop(process)


def main() -> None:
    import kepler as kp
    from kepler_edge.bundle import requirements, write_bundle

    work = Path(tempfile.mkdtemp(prefix="kepler-bench-edge-"))
    env = {**os.environ, "KEPLER_CONFIG_DIR": str(work / "home"),
           "KEPLER_DATA_DIR": str(work / "data"), "KEPLER_SECRETS_BACKEND": "file"}
    env.pop("KEPLER_PROJECT", None)
    env.pop("KEPLER_SPLUNK__HEC_URL", None)
    os.environ.update({k: env[k] for k in ("KEPLER_CONFIG_DIR", "KEPLER_DATA_DIR")})
    frame = data()
    model = kp.train.random_forest(frame, target="failure", n_estimators=50)
    model.save(work / "model")
    exported = kp.models.to_onnx(model)
    bundle = write_bundle(exported, work / "bundle", platform="manylinux_2_28_x86_64",
                          python=f"{sys.version_info.major}.{sys.version_info.minor}",
                          wheels=False)
    one = frame.drop(columns=["failure"]).iloc[[7]].to_dict("records")
    onnx_s, native_s = single_row(model, bundle, one)
    edge, serve = throughput(work, bundle, one, env)
    sizes = ""
    if os.environ.get("KEPLER_BENCH_EDGE_SIZES", "1") != "0":
        edge_size = venv_size(work / "venv-edge", requirements().split())
        serve_size = venv_size(work / "venv-serve", [
            "-e", str(ROOT / "kepler-core"), "-e", str(ROOT / "plugins" / "kepler-tabular"),
            "-e", str(ROOT / "kepler-sklearn"), "-e", str(ROOT / "plugins" / "kepler-serve")])
        sizes = (f"| installed environment (fresh venv) | {edge_size / 2**20:,.0f} MiB | "
                 f"{serve_size / 2**20:,.0f} MiB | {serve_size / edge_size:.1f}x smaller |\n")
    body = (
        f"Model: 50-tree random forest, 10 numeric features; parity: "
        f"{exported.parity['label_mismatches']} label(s) differ, max probability difference "
        f"{exported.parity['max_abs_diff_probabilities']:.1e} on "
        f"{exported.parity['rows']} rows.\n\n"
        "| measure | edge runner (ONNX) | native / kepler serve | ratio |\n"
        "|---|---|---|---|\n"
        f"| one row, in process (median) | {onnx_s * 1e6:,.0f} µs | {native_s * 1e6:,.0f} µs "
        f"(`model.predict`) | {native_s / onnx_s:,.0f}x faster |\n"
        f"| requests/s, 1 worker, 8 clients, 1 row | {edge['rps']:,.0f} | "
        f"{serve['rps']:,.0f} (`kepler serve`) | {edge['rps'] / serve['rps']:.2f}x |\n"
        f"| p50 latency over HTTP | {edge['p50']:.2f} ms | {serve['p50']:.2f} ms | |\n"
        + sizes)
    print(body)
    write_section("edge", "Edge: the ONNX runner against the native model and kepler serve",
                  "python benchmarks/edge.py", body)


if __name__ == "__main__":
    main()
