"""SPL to DataFrame: Kepler's from_splunk against the splunk-sdk path users write today.

Same test server (its own process, so its CPU is not the client's), same 1,000,000 events,
same run. Three client paths, each timed by the client's own CPU time and wall time:

1. splunk-sdk as its docs show: create a job, page ``job.results(output_mode="json",
   count=50000)``, ``JSONResultsReader``, ``pd.DataFrame`` of the dicts;
2. ``kp.data.from_splunk`` (typed columns, internals dropped);
3. ``pyarrow.csv.read_csv`` of the same rows as CSV already in memory (the floor for parsing).

Memory: peak RSS growth of ``from_splunk`` in a fresh process against the final DataFrame's
``memory_usage(deep=True)``; ``from_splunk_chunks`` peak growth at 250,000 and 1,000,000 rows.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from typing import Any

from _report import write_section

ROWS = int(os.environ.get("KEPLER_BENCH_ROWS", "1000000"))
SPL = "search index=pumps"


def clock() -> tuple[float, float]:
    return time.process_time(), time.perf_counter()


def since(start: tuple[float, float]) -> tuple[float, float]:
    cpu, wall = clock()
    return cpu - start[0], wall - start[1]


def service(info: dict[str, Any]) -> Any:
    import splunklib.client as client

    return client.connect(host=info["host"], port=info["port"], scheme=info["scheme"],
                          splunkToken=info["token"], autologin=True)


def wait(job: Any) -> None:
    while not job.is_done():
        time.sleep(0.05)


def splunk_sdk_path(info: dict[str, Any]) -> tuple[float, float, int]:
    import pandas as pd
    import splunklib.results as results

    start = clock()
    svc = service(info)
    job = svc.jobs.create(SPL, earliest_time="0", exec_mode="normal")
    wait(job)
    total = int(job["resultCount"])
    rows: list[dict[str, Any]] = []
    for offset in range(0, total, 50_000):
        reader = results.JSONResultsReader(job.results(output_mode="json", count=50_000,
                                                       offset=offset))
        rows.extend(r for r in reader if isinstance(r, dict))
    frame = pd.DataFrame(rows)
    cpu, wall = since(start)
    return cpu, wall, len(frame)


def kepler_path(env_ready: None = None) -> tuple[float, float, int]:
    import kepler as kp

    start = clock()
    frame = kp.data.from_splunk(SPL, earliest=0, progress=False)
    cpu, wall = since(start)
    return cpu, wall, len(frame)


def csv_bytes(info: dict[str, Any]) -> bytes:
    svc = service(info)
    job = svc.jobs.create(SPL, earliest_time="0", exec_mode="normal")
    wait(job)
    total = int(job["resultCount"])
    parts = []
    for offset in range(0, total, 50_000):
        body = job.results(output_mode="csv", count=50_000, offset=offset).read()
        parts.append(body if offset == 0 else body[body.index(b"\n") + 1:])
    return b"".join(parts)


def arrow_csv_floor(body: bytes) -> tuple[float, float, int]:
    import pyarrow.csv as pacsv

    start = clock()
    table = pacsv.read_csv(io.BytesIO(body),
                           parse_options=pacsv.ParseOptions(newlines_in_values=True))
    cpu, wall = since(start)
    return cpu, wall, table.num_rows


MEMORY_PROBE = r"""
import json, sys
import pandas, pyarrow, splunklib.client
import kepler as kp
import kepler_splunk.extract

def high_water():  # peak RSS of this process (VmHWM), reset below by clear_refs
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

mode = sys.argv[1]
kp.config.load().section("splunk")
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")  # reset VmHWM to the current RSS
base = rss()
if mode == "frame":
    df = kp.data.from_splunk("search index=pumps", earliest=0, progress=False)
    final = int(df.memory_usage(deep=True).sum()); rows = len(df)
else:
    rows = 0; final = 0
    for chunk in kp.data.from_splunk_chunks("search index=pumps", earliest=0, progress=False):
        rows += len(chunk)
print(json.dumps({"growth": high_water() - base, "final": final, "rows": rows}))
"""


def memory(mode: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, mode], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def main() -> None:
    from kepler_splunk_testing import SplunkTestServerProcess

    results: dict[str, tuple[float, float, int]] = {}
    mem: dict[str, Any] = {}
    with SplunkTestServerProcess(generate={"pumps": ROWS}) as server:
        info = server.info
        env = {**os.environ, "KEPLER_SPLUNK__HOST": info["host"],
               "KEPLER_SPLUNK__PORT": str(info["port"]), "KEPLER_SPLUNK__SCHEME": info["scheme"],
               "KEPLER_SPLUNK__TOKEN": info["token"]}
        os.environ.update(env)
        kepler_path()  # warm-up: imports, first connection
        results["kepler"] = kepler_path()
        results["splunk-sdk"] = splunk_sdk_path(info)
        results["pyarrow csv"] = arrow_csv_floor(csv_bytes(info))
        mem["frame"] = memory("frame", env)
        with SplunkTestServerProcess(generate={"pumps": ROWS // 4}) as small:
            small_env = {**env, "KEPLER_SPLUNK__PORT": str(small.info["port"])}
            mem["chunks_small"] = memory("chunks", small_env)
        mem["chunks"] = memory("chunks", env)

    sdk_cpu, sdk_wall, sdk_rows = results["splunk-sdk"]
    k_cpu, k_wall, k_rows = results["kepler"]
    pa_cpu, _, pa_rows = results["pyarrow csv"]
    assert sdk_rows == k_rows == pa_rows == ROWS, (sdk_rows, k_rows, pa_rows)
    lines = ["| client path | CPU s | wall s | rows/s (wall) |", "|---|---|---|---|"]
    for name, (cpu, wall, rows) in results.items():
        lines.append(f"| {name} | {cpu:.2f} | {wall:.2f} | {rows / wall:,.0f} |")
    frame = mem["frame"]
    body = "\n".join(lines) + f"""

{ROWS:,} events × 12 fields (plus Splunk's internal fields) from the test server in another
process, one run, same machine. CPU is the client process's own (all threads).

- Kepler vs splunk-sdk: **{sdk_cpu / k_cpu:.1f}× less client CPU** (goal ≥ 10×), \
{sdk_wall / k_wall:.1f}× faster wall time.
- Kepler vs pyarrow parsing the same rows as CSV from memory: {k_cpu / pa_cpu:.1f}× the CPU \
(goal ≤ 3×); Kepler also fetches over HTTP, drops internal fields and types every column.
- Peak memory of `from_splunk`: {frame['growth'] / 1e6:,.0f} MB of RSS growth for a DataFrame \
of {frame['final'] / 1e6:,.0f} MB: **{frame['growth'] / frame['final']:.2f}×** (goal ≤ 3×).
- `from_splunk_chunks` peak RSS growth: {mem['chunks_small']['growth'] / 1e6:,.0f} MB at \
{ROWS // 4:,} rows, {mem['chunks']['growth'] / 1e6:,.0f} MB at {ROWS:,} rows.
"""
    write_section("splunk-extract", "Splunk extraction: SPL to DataFrame",
                  "nox -s bench  (benchmarks/splunk_extract.py)", body)
    print(body)


if __name__ == "__main__":
    main()
