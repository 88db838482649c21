"""Writing 200,000 rows × 10 columns to HEC: Kepler's writer against the loop users write today.

The baseline is what Splunk's HEC examples lead people to write: each row to a JSON event with
``json.dumps``, ``requests.post`` of 100 events per request, no gzip, one request at a time.
Both run against the same test server (its own process), in the same run; each side's client
CPU per event is reported too.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from _report import write_section

ROWS = int(os.environ.get("KEPLER_BENCH_HEC_ROWS", "200000"))
ROUNDS = 3


def frame() -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    start = pd.Timestamp("2024-06-01", tz="UTC")
    return pd.DataFrame({
        "_time": start + pd.to_timedelta(np.arange(ROWS), unit="s"),
        "asset_id": [f"PUMP-{i % 40:03d}" for i in range(ROWS)],
        "site": rng.choice(["north", "south", "east"], ROWS),
        "temperature": rng.normal(60, 5, ROWS).round(3),
        "pressure": rng.normal(6, 0.5, ROWS).round(3),
        "vibration": rng.gamma(2, 1, ROWS).round(3),
        "flow": rng.normal(120, 10, ROWS).round(2),
        "prediction": rng.integers(0, 2, ROWS),
        "probability": rng.random(ROWS).round(4),
        "model_version": ["3"] * ROWS,
    })


def naive(data: Any, url: str, token: str, index: str) -> tuple[float, float]:
    import requests

    cpu, wall = time.process_time(), time.perf_counter()
    session = requests.Session()
    headers = {"Authorization": f"Splunk {token}"}
    records = data.assign(
        _time=data["_time"].dt.as_unit("ns").astype("int64") / 1e9).to_dict("records")
    for start in range(0, len(records), 100):
        body = "\n".join(
            json.dumps({"time": r.pop("_time"), "event": r, "index": index})
            for r in records[start:start + 100])
        response = session.post(f"{url}/services/collector/event", data=body, headers=headers)
        response.raise_for_status()
    return time.process_time() - cpu, time.perf_counter() - wall


def kepler(data: Any, index: str) -> tuple[float, float, Any]:
    import kepler as kp

    cpu, wall = time.process_time(), time.perf_counter()
    report = kp.results.to_splunk(data, index=index, progress=False)
    return time.process_time() - cpu, time.perf_counter() - wall, report


def main() -> None:
    from kepler_splunk_testing import SplunkTestServerProcess

    data = frame()
    with SplunkTestServerProcess() as server:
        info = server.info
        os.environ.update({
            "KEPLER_SPLUNK__HOST": info["host"], "KEPLER_SPLUNK__PORT": str(info["port"]),
            "KEPLER_SPLUNK__SCHEME": info["scheme"], "KEPLER_SPLUNK__TOKEN": info["token"],
            "KEPLER_SPLUNK__HEC_URL": info["hec_url"], "KEPLER_SPLUNK__HEC_TOKEN":
            info["hec_token"]})
        kepler(data.head(2_000), "main")  # warm-up: imports, connections
        runs_naive, runs_kepler = [], []
        for _ in range(ROUNDS):  # interleaved, so the machine's noise hits both alike
            runs_naive.append(naive(data, info["hec_url"], info["hec_token"], "main"))
            cpu, wall, report = kepler(data, "main")
            assert report.sent == ROWS and report.ok, report
            runs_kepler.append((cpu, wall))
    n_cpu, n_wall = sorted(runs_naive, key=lambda r: r[1])[ROUNDS // 2]
    k_cpu, k_wall = sorted(runs_kepler, key=lambda r: r[1])[ROUNDS // 2]
    body = f"""| client | events/s | wall s | client CPU µs/event |
|---|---|---|---|
| json.dumps + requests.post, 100 events/request, no gzip | {ROWS / n_wall:,.0f} | \
{n_wall:.2f} | {n_cpu / ROWS * 1e6:.1f} |
| `kp.results.to_splunk` | {ROWS / k_wall:,.0f} | {k_wall:.2f} | {k_cpu / ROWS * 1e6:.1f} |

{ROWS:,} rows × 10 columns to the test server's HEC (its own process), same run, median of
{ROUNDS} interleaved rounds.
Kepler: **{n_wall / k_wall:.1f}× the events per second** of the usual loop (goal ≥ 5×), with
{report.batches} gzip batches of ≤ 800 kB, 4 in flight, {report.bytes_sent / 1e6:.1f} MB on the
wire; every event carries a `kepler_row_id`.
"""
    write_section("hec-write", "Writing results to Splunk HEC",
                  "nox -s bench  (benchmarks/hec_write.py)", body)
    print(body)


if __name__ == "__main__":
    main()
