"""Serving one model: Kepler's server against ``mlflow models serve``, side by side, same run.

The model: a 50-tree ``RandomForestClassifier`` on 10 numeric features, trained once with
``kp.train.random_forest`` (Kepler's preprocessing inside). MLflow serves the very same fitted
scikit-learn pipeline (``model.predictor.pipeline()``, saved with ``mlflow.sklearn``), so both
answer with the same predictions, which is checked. Each server runs in its own process with one
worker on 127.0.0.1; the load comes from another process: 8 clients, each sending one
single-record request at a time over a kept-alive connection (closed loop), for a fixed time
after a warm-up. Then one request of 1,000 records, repeated, for batch latency.

Kepler's /predict answers with predictions *and* class probabilities; MLflow's with predictions.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _report import write_section

SECONDS = float(os.environ.get("KEPLER_BENCH_SERVING_SECONDS", "8"))
CLIENTS = 8
BATCH = 1_000
BATCH_REPEATS = 15
FEATURES = ["temperature", "pressure", "vibration", "flow", "rpm", "efficiency", "current",
            "oil_temp", "humidity", "noise_db"]

LOAD = r'''
import asyncio, json, sys, time

async def client(host, port, request, stop, latencies, errors):
    reader, writer = await asyncio.open_connection(host, port)
    while time.perf_counter() < stop:
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        if not head.startswith(b"HTTP/1.1 200"):
            errors.append(head.split(b"\r\n")[0].decode())
    writer.close()

async def run(port, path, body, clients, seconds, warmup):
    body = body.encode()
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
               f"\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    if warmup:
        await run_phase(port, request, clients, warmup)
    return await run_phase(port, request, clients, seconds)

async def run_phase(port, request, clients, seconds):
    latencies, errors = [], []
    stop = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(client("127.0.0.1", port, request, stop, latencies, errors)
                           for _ in range(clients)))
    return latencies, errors, time.perf_counter() - started

port, path, body, clients, seconds = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                      int(sys.argv[4]), float(sys.argv[5]))
latencies, errors, elapsed = asyncio.run(run(port, path, body, clients, seconds, 1.0))
latencies.sort()
def pct(p):
    return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
print(json.dumps({"requests": len(latencies), "rps": len(latencies) / elapsed,
                  "p50": pct(0.50), "p99": pct(0.99), "errors": len(errors),
                  "first_error": errors[0] if errors else None}))
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def data(rows: int = 5_000) -> Any:
    import numpy as np
    from kepler_tabular import make_sensor_data

    frame = make_sensor_data(rows=rows, seed=3)
    rng = np.random.default_rng(3)
    frame["current"] = (frame["rpm"] / 100 + rng.normal(0, 0.5, rows)).round(3)
    frame["oil_temp"] = (frame["temperature"] * 0.8 + rng.normal(0, 1, rows)).round(2)
    frame["humidity"] = rng.uniform(20, 80, rows).round(1)
    frame["noise_db"] = (70 + 20 * frame["vibration"] + rng.normal(0, 2, rows)).round(1)
    frame["flow"] = frame["flow"].fillna(frame["flow"].median())
    return frame[[*FEATURES, "failure"]]


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode}) before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:  # noqa: S310 - http://127.0.0.1
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} was not ready within {seconds:.0f} s")


def post(url: str, payload: Any) -> Any:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(),  # noqa: S310
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310 - loopback only
        return json.loads(reply.read())


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def load(port: int, path: str, body: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", LOAD, str(port), path, body, str(CLIENTS),
                          str(SECONDS)], capture_output=True, text=True, check=True,
                         timeout=SECONDS + 120)
    return json.loads(out.stdout)


def batch_latency(url: str, payload: Any) -> float:
    post(url, payload)  # warm
    times = []
    for _ in range(BATCH_REPEATS):
        started = time.perf_counter()
        post(url, payload)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    import kepler as kp
    import mlflow.sklearn

    work = Path(tempfile.mkdtemp(prefix="kepler-bench-serving-"))
    env = {**os.environ, "KEPLER_CONFIG_DIR": str(work / "home"),
           "KEPLER_DATA_DIR": str(work / "data"), "KEPLER_SECRETS_BACKEND": "file",
           "MLFLOW_TRACKING_URI": f"file://{work / 'mlruns'}",
           # mlflow starts its server with 'uvicorn' from PATH: this environment's
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("KEPLER_PROJECT", None)
    os.environ.update({k: env[k] for k in ("KEPLER_CONFIG_DIR", "KEPLER_DATA_DIR")})
    processes: list[subprocess.Popen[bytes]] = []
    try:
        frame = data()
        model = kp.train.random_forest(frame, target="failure", n_estimators=50)
        model.save(work / "kepler-model")
        pipeline = model.predictor.pipeline()
        import skops.io

        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(pipeline))
        mlflow.sklearn.save_model(pipeline, str(work / "mlflow-model"),
                                  skops_trusted_types=trusted)
        rows = frame.drop(columns=["failure"])
        one = rows.iloc[[7]].to_dict("records")
        batch = rows.head(BATCH).to_dict("records")
        check = rows.sample(200, random_state=1).to_dict("records")

        kepler_port, mlflow_port = free_port(), free_port()
        kepler_bin = Path(sys.executable).parent / "kepler"
        mlflow_bin = Path(sys.executable).parent / "mlflow"
        processes.append(subprocess.Popen(
            [str(kepler_bin), "serve", str(work / "kepler-model"), "--port", str(kepler_port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True))
        processes.append(subprocess.Popen(
            [str(mlflow_bin), "models", "serve", "-m", str(work / "mlflow-model"),
             "--env-manager", "local", "-h", "127.0.0.1", "-p", str(mlflow_port), "-w", "1"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True))
        kepler_url, mlflow_url = f"http://127.0.0.1:{kepler_port}", \
            f"http://127.0.0.1:{mlflow_port}"
        wait_ready(f"{kepler_url}/ready", processes[0])
        wait_ready(f"{mlflow_url}/ping", processes[1])
        post(f"{kepler_url}/predict", {"instances": one})  # warm
        with urllib.request.urlopen(f"{kepler_url}/metadata") as reply:  # noqa: S310
            metadata = json.loads(reply.read())
        ours = post(f"{kepler_url}/predict", {"instances": check})["predictions"]
        theirs = post(f"{mlflow_url}/invocations", {"dataframe_records": check})["predictions"]
        expected = model.predict(check).tolist()
        if not ours == theirs == expected:
            raise SystemExit("the two servers disagree with the model: not comparable")

        results = {
            "kepler": load(kepler_port, "/predict", json.dumps({"instances": one})),
            "mlflow": load(mlflow_port, "/invocations", json.dumps({"dataframe_records": one})),
        }
        for name, result in results.items():
            if result["errors"]:
                raise SystemExit(f"{name}: {result['errors']} errors, e.g. "
                                 f"{result['first_error']}")
        batch_ms = {
            "kepler": batch_latency(f"{kepler_url}/predict", {"instances": batch}),
            "mlflow": batch_latency(f"{mlflow_url}/invocations", {"dataframe_records": batch}),
        }
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(work, ignore_errors=True)

    k, m = results["kepler"], results["mlflow"]
    rps_ratio = k["rps"] / m["rps"]
    p99_ratio = k["p99"] / m["p99"]
    import mlflow

    body = (
        f"A 50-tree `RandomForestClassifier` on {len(FEATURES)} numeric features "
        f"(`kp.train.random_forest`, 5,000 rows); MLflow {mlflow.__version__} serves the same "
        "fitted scikit-learn pipeline (`mlflow models serve --env-manager local -w 1`); Kepler "
        "runs `kepler serve` (one uvicorn worker, access log on). Both on 127.0.0.1, each in "
        f"its own process; {CLIENTS} clients in another process, each with one single-record "
        f"request in flight on a kept-alive connection, for {SECONDS:.0f} s after a 1 s "
        f"warm-up. Predictions of both servers were checked equal to the model's on 200 rows. "
        f"Kepler's answers also carry class probabilities; its scoring path: "
        f"{metadata['serving']['scoring_path']} ({metadata['serving']['fast_path']}).\n\n"
        "| server | requests/s | p50 ms | p99 ms | 1,000-row request, median ms |\n"
        "|---|---|---|---|---|\n"
        f"| `mlflow models serve` | {m['rps']:,.0f} | {m['p50']:.1f} | {m['p99']:.1f} | "
        f"{batch_ms['mlflow']:.1f} |\n"
        f"| `kepler serve` | {k['rps']:,.0f} | {k['p50']:.1f} | {k['p99']:.1f} | "
        f"{batch_ms['kepler']:.1f} |\n\n"
        f"Kepler: **{rps_ratio:.1f}×** MLflow's requests per second (goal ≥ 5×), p99 "
        f"**{p99_ratio:.2f}×** MLflow's (goal ≤ 0.33×); a 1,000-row request in "
        f"{batch_ms['kepler']:.1f} ms against {batch_ms['mlflow']:.1f} ms.\n\n"
        "Where it comes from: each request is validated straight from its bytes against the "
        "schema-generated shape (pydantic-core), then scored on the fast path, which replays "
        "the fitted preprocessing in NumPy and walks each fitted tree with scikit-learn's own "
        "compiled `predict` (no DataFrame, no joblib round trip), checked at start-up to give "
        "bit-identical predictions and probabilities; responses are written with orjson.\n")
    write_section("serving", "Serving: Kepler's model server against MLflow's",
                  "nox -s bench (benchmarks/serving.py)", body)
    print(body)


if __name__ == "__main__":
    main()
