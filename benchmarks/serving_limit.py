"""Serving near the limit: ``kepler serve`` against the bare-ASGI ceiling, in one run (issue 21).

The ceiling: an ASGI app that reads the body and answers a constant JSON, under the same
uvicorn (one worker, uvloop + httptools, no access log). Against it, ``kepler serve`` with its
defaults (one worker, access log on) and the prediction log on, sent to Splunk HEC (the
Splunk-protocol test server, in its own process), for three models on the same 10 numeric
features: a 50-tree random forest, 50-tree XGBoost and a PyTorch MLP. Each is scored on the
path ``kepler serve`` picks (``/metadata``'s ``scoring_path``: onnxruntime where the ONNX export
passes its parity check). Load: ``wrk -t2 -c8`` (``apt-get install wrk``), single-record
``POST /predict`` on kept-alive connections; the ceiling is measured before and after the
servers, and each ratio uses their mean. Then ``--workers 2``, and one 1,000-row request
(median of many, one kept-alive connection, body encoded once) on the ONNX path against the
format's own compiled path (``--compiler format``: the path of the previous release). Last, the
random forest with both logs off, to show what logging costs.

Both cores serve and generate load at once: wrk's threads share the machine with the server.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _report import write_section
from serving import data, free_port, stop, wait_ready

SECONDS = int(os.environ.get("KEPLER_BENCH_LIMIT_SECONDS", "6"))
BATCH = 1_000
BATCH_REPEATS = 40

BARE_APP = '''
ANSWER = b'{"predictions":[0],"probabilities":[[0.9,0.1]]}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(ANSWER))]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": ANSWER})
'''

WRK_SCRIPT = '''
local f = io.open(os.getenv("KEPLER_BENCH_BODY"), "r")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
'''


def wrk(port: int, body: Path, work: Path, connections: int = 8) -> dict[str, Any]:
    """Requests/s and latency percentiles of ``wrk -t2`` against ``POST /predict``."""
    script = work / "post.lua"
    script.write_text(WRK_SCRIPT)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{SECONDS}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}/predict"],
        env={**os.environ, "KEPLER_BENCH_BODY": str(body)}, capture_output=True, text=True,
        check=True, timeout=SECONDS + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"port {port}: {errors.group(1)} error answers under load\n{out}")
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": _latency(out, "50%"), "p99": _latency(out, "99%"),
            "requests": total}


def _latency(out: str, label: str) -> float:
    """A wrk latency percentile in ms."""
    match = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)\b", out)
    if match is None:
        return float("nan")
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[match.group(2)]
    return float(match.group(1)) * scale


def batch_ms(port: int, body: bytes) -> float:
    """Median ms of one 1,000-row request on one kept-alive connection (body encoded once)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    times = []
    for i in range(BATCH_REPEATS + 3):
        started = time.perf_counter()
        connection.request("POST", "/predict", body, headers)
        reply = connection.getresponse()
        reply.read()
        if reply.status != 200:
            raise SystemExit(f"port {port}: the 1,000-row request answered {reply.status}")
        if i >= 3:  # warm-up
            times.append(time.perf_counter() - started)
    connection.close()
    return statistics.median(times) * 1000


def metadata(port: int) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/metadata")
    body: dict[str, Any] = json.loads(connection.getresponse().read())
    connection.close()
    return body


def train_models(work: Path) -> dict[str, Any]:
    """The three models, saved; returns name -> (artifact folder, model)."""
    import kepler as kp

    frame = data()
    models = {
        "random forest (50 trees)": kp.train.random_forest(frame, target="failure",
                                                           n_estimators=50),
        "XGBoost (50 trees)": kp.train.xgboost(frame, target="failure", n_estimators=50),
        "PyTorch MLP": kp.train.pytorch(frame, target="failure", epochs=5),
    }
    return {name: (model.save(work / f"model-{i}").path, model)
            for i, (name, model) in enumerate(models.items())}


class Servers:
    """The processes of one run, stopped at the end whatever happens."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work, self.env = work, env
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, command: list[str], ready: str, port: int,
              env: dict[str, str] | None = None) -> int:
        process = subprocess.Popen(command, env={**self.env, **(env or {})}, cwd=self.work,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        self.processes.append(process)
        wait_ready(f"http://127.0.0.1:{port}{ready}", process, seconds=300)
        return port

    def bare(self) -> int:
        (self.work / "bare_app.py").write_text(BARE_APP)
        port = free_port()
        uvicorn = str(Path(sys.executable).parent / "uvicorn")
        return self.start([uvicorn, "bare_app:app", "--port", str(port), "--no-access-log",
                           "--log-level", "warning", "--loop", "uvloop", "--http", "httptools"],
                          "/predict", port)

    def kepler(self, folder: Path, *options: str, env: dict[str, str] | None = None) -> int:
        port = free_port()
        kepler = str(Path(sys.executable).parent / "kepler")
        return self.start([kepler, "serve", str(folder), "--port", str(port), *options],
                          "/ready", port, env)

    def stop_all(self) -> None:
        for process in self.processes:
            stop(process)
        self.processes.clear()


def hec_server(work: Path) -> tuple[dict[str, str], int]:
    """The Splunk-protocol test server in the background: its HEC settings and pid."""
    out = subprocess.run([sys.executable, "-m", "kepler_splunk_testing", "--index",
                          "ml_predictions", "--background", "--max-seconds", "1800"],
                         capture_output=True, text=True, check=True, cwd=work).stdout
    settings = dict(re.findall(r"export (KEPLER_[A-Z_]+)=(\S+)", out))
    settings = {k: v.strip("'\"") for k, v in settings.items()}
    return settings, int(settings.pop("KEPLER_SPLUNK_TEST_PID"))


def logged_events(settings: dict[str, str]) -> int:
    """How many prediction events the HEC index holds (searched through Kepler's connector)."""
    import kepler as kp

    saved = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    try:
        frame = kp.data.from_splunk("search index=ml_predictions | stats count",
                                    earliest="0", latest="now")
        return int(frame["count"].iloc[0])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(work: Path, env: dict[str, str]) -> dict[str, Any]:
    models = train_models(work)
    frame = data().drop(columns=["failure"])
    one = work / "one.json"
    one.write_text(json.dumps({"instances": frame.iloc[[7]].to_dict("records")}))
    batch = json.dumps({"instances": frame.head(BATCH).to_dict("records")}).encode()
    results: dict[str, Any] = {"models": {}}
    servers = Servers(work, env)
    try:
        ceiling = [wrk(servers.bare(), one, work)]
        servers.stop_all()
        for name, (folder, _model) in models.items():
            port = servers.kepler(folder)
            served = metadata(port)["serving"]
            results["models"][name] = {**wrk(port, one, work), "path": served["scoring_path"],
                                       "note": served["fast_path"],
                                       "log": metadata(port)["serving"]["prediction_log"]}
            servers.stop_all()  # the prediction log is flushed on the way out
        rf_folder = next(iter(models.values()))[0]
        port = servers.kepler(rf_folder, "--workers", "2")
        results["workers2"] = wrk(port, one, work, connections=16)
        servers.stop_all()
        port = servers.kepler(rf_folder, "--workers", "1")
        results["workers1_16"] = wrk(port, one, work, connections=16)
        results["batch_onnx"] = batch_ms(port, batch)
        servers.stop_all()
        port = servers.kepler(rf_folder, "--compiler", "format")
        results["format"] = {**wrk(port, one, work), "batch": batch_ms(port, batch)}
        servers.stop_all()
        port = servers.kepler(rf_folder, env={"KEPLER_SERVE__ACCESS_LOG": "false",
                                              "KEPLER_SERVE__LOG_TO_SPLUNK": "false"})
        results["quiet"] = wrk(port, one, work)
        servers.stop_all()
        ceiling.append(wrk(servers.bare(), one, work))
    finally:
        servers.stop_all()
    results["ceiling"] = ceiling
    return results


def _row(label: str, result: dict[str, Any], ceiling: float) -> str:
    return (f"| {label} | {result['rps']:,.0f} | {result['rps'] / ceiling:.0%} | "
            f"{result['p50']:.2f} | {result['p99']:.2f} |")


def report(results: dict[str, Any], logged: int) -> str:
    ceiling = statistics.mean(c["rps"] for c in results["ceiling"])
    lines = [
        "| server | requests/s | of the ceiling | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
        f"| bare ASGI app (the ceiling; before / after: "
        f"{results['ceiling'][0]['rps']:,.0f} / {results['ceiling'][1]['rps']:,.0f}) | "
        f"{ceiling:,.0f} | 100% | {results['ceiling'][0]['p50']:.2f} | "
        f"{results['ceiling'][0]['p99']:.2f} |"]
    for name, result in results["models"].items():
        lines.append(_row(f"`kepler serve`, {name}: {result['path']}", result, ceiling))
    fmt = results["format"]
    lines.append(_row("`kepler serve --compiler format`, random forest: the format's own "
                      "compiled trees", fmt, ceiling))
    quiet = results["quiet"]
    lines.append(_row("`kepler serve`, random forest, access log and prediction log off",
                      quiet, ceiling))
    scored = sum(r["requests"] for r in results["models"].values()) + fmt["requests"] + \
        results["workers1_16"]["requests"] + results["workers2"]["requests"] + \
        2 * (BATCH_REPEATS + 3) * BATCH
    w1, w2 = results["workers1_16"], results["workers2"]
    rf = next(iter(results["models"].values()))
    notes = [
        "",
        f"- Random forest on its chosen path: **{rf['rps'] / ceiling:.0%} of the ceiling** "
        f"(goal ≥ 50%), p99 {rf['p99']:.2f} ms (goal ≤ 3 ms); "
        f"{rf['rps'] / fmt['rps']:.1f}× the format's own compiled path; with both logs off "
        f"{quiet['rps']:,.0f} req/s, **{quiet['rps'] / ceiling:.0%}** (p99 "
        f"{quiet['p99']:.2f} ms).",
        f"- `--workers 2`, 16 connections: {w2['rps']:,.0f} req/s against {w1['rps']:,.0f} "
        f"with one worker and the same 16 connections: **{w2['rps'] / w1['rps']:.2f}×** "
        "(goal ≥ 1.7×; wrk's two threads share the two cores with the workers).",
        f"- A 1,000-row request: **{results['batch_onnx']:.1f} ms** on the ONNX path against "
        f"{fmt['batch']:.1f} ms on the format's own compiled path, same client "
        f"(**{fmt['batch'] / results['batch_onnx']:.1f}×**; goal ≥ 3× faster than 9.4 ms).",
        f"- Prediction log on (HEC, the Splunk-protocol test server) in every run but the "
        f"last row's: {logged:,} events indexed for the {scored:,} predictions wrk and the "
        "batch client counted as answered (requests in flight when a wrk window closed are "
        "scored and logged too, not counted).",
        "",
        "Scoring paths (`/metadata`):",
    ]
    for name, result in results["models"].items():
        notes.append(f"- {name}: {result['path']}: {result['note']}")
    return "\n".join(lines + notes) + "\n"


def main() -> None:
    if shutil.which("wrk") is None:  # the other benchmarks of the session still run
        print("serving_limit.py: skipped, it needs wrk (apt-get install wrk)", file=sys.stderr)
        return
    work = Path(tempfile.mkdtemp(prefix="kepler-bench-limit-"))
    env = {**os.environ, "KEPLER_CONFIG_DIR": str(work / "home"),
           "KEPLER_DATA_DIR": str(work / "data"), "KEPLER_SECRETS_BACKEND": "file",
           "PYTHONPATH": str(work)}
    env.pop("KEPLER_PROJECT", None)
    os.environ.update({k: env[k] for k in ("KEPLER_CONFIG_DIR", "KEPLER_DATA_DIR")})
    hec, hec_pid = hec_server(work)
    env.update(hec)
    env["KEPLER_SERVE__LOG_TO_SPLUNK"] = "true"
    env["KEPLER_SERVE__INDEX"] = "ml_predictions"
    try:
        results = run(work, env)
        time.sleep(2)  # the last server's log was flushed on its way out; let HEC index it
        logged = logged_events(hec)
    finally:
        import signal

        os.kill(hec_pid, signal.SIGTERM)
        shutil.rmtree(work, ignore_errors=True)
    body = (
        f"One uvicorn worker each unless said (uvloop + httptools), on 127.0.0.1; load from "
        f"`wrk -t2 -c8 -d{SECONDS}s` (8 kept-alive connections, single-record `POST /predict`). "
        "`kepler serve` runs with its defaults (access log on) and the prediction log on "
        "(`serve.log_to_splunk`, to the Splunk-protocol test server's HEC). Models: 10 numeric "
        "features, 5,000 training rows; scoring path as `/metadata` reports it.\n\n"
        + report(results, logged))
    print(body)
    write_section("serving-limit", "Serving near the limit: kepler serve against a bare ASGI app",
                  "nox -s bench (benchmarks/serving_limit.py)", body)


if __name__ == "__main__":
    main()
