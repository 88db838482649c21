"""Kepler's main job, end to end, on embedded defaults: ``nox -s demo``.

Runs in a throw-away folder with its own Kepler home, so it touches nothing of the user's and
cleans up after itself (servers stopped, folders removed). Each step is a real ``kepler`` command,
exactly as a user would type it, or the few lines of Python a notebook or a plant application
would run:

1. kepler-splunk's test server over HTTPS, loaded with a week of pump sensor readings (failures
   preceded by drift); the Splunk and HEC tokens go to the encrypted secrets store;
2. configuration shown, checked and validated; the catalog; the data extracted with your SPL;
3. three models trained and compared, the best promoted to ``prod``;
4. the best deployed as a local REST API, sent live requests, its predictions logged to Splunk
   HEC in the background; a batch of recent readings scored back to Splunk too;
5. the monitoring dashboard created; a short report printed, and the comparison chart written
   to ``demo/out/comparison.png``.

``KEPLER_DEMO_ROWS`` (default 60000) sets the size of the dataset.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KEPLER = str(Path(sys.executable).parent / "kepler")
OUT = Path(__file__).resolve().parent / "out"
ALGORITHMS = ("random_forest", "hist_gradient_boosting", "logistic_regression")
FEATURES = "_time,asset_id,site,temperature,pressure,vibration,flow,rpm,power_kw,status"
INDEX = "ml_predictions"
LIVE_REQUESTS = 300


def step(title: str, *args: str, cwd: Path, env: dict[str, str], stdin: str | None = None,
         expect: int = 0, show: bool = True) -> str:
    print(f"\n$ kepler {' '.join(args)}    # {title}", flush=True)
    result = subprocess.run([KEPLER, *args], cwd=cwd, env=env, input=stdin, text=True,
                            capture_output=True, timeout=300)
    if show:
        print((result.stdout + result.stderr).rstrip())
    if result.returncode != expect:
        if not show:
            print((result.stdout + result.stderr).rstrip())
        raise SystemExit(f"demo step failed ({result.returncode}, expected {expect}): {title}")
    return result.stdout


def python(title: str, code: str, *, cwd: Path, env: dict[str, str], args: tuple[str, ...] = ()
           ) -> str:
    """Python as a user runs it in a notebook or an application, in its own process."""
    print(f"\n>>> {title}    # in Python", flush=True)
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, text=True,
                            capture_output=True, timeout=300)
    print((result.stdout + result.stderr).rstrip())
    if result.returncode:
        raise SystemExit(f"demo step failed: {title}")
    return result.stdout


def start_splunk(rows: int) -> Any:
    """kepler-splunk's test server over HTTPS, loaded with a week of pump sensor readings, with
    an index for the predictions."""
    from datetime import UTC, datetime, timedelta

    from kepler_splunk_testing import SplunkTestServer, generate_sensor_data

    start = (datetime.now(UTC) - timedelta(days=7)).replace(microsecond=0)
    period = max(1, int(7 * 86_400 / rows))
    server = SplunkTestServer(https=True).start()
    server.add_index("pumps", generate_sensor_data(rows, start=start.isoformat(),
                                                   freq=f"{period}s"))
    server.add_index(INDEX)  # a Splunk admin creates it once; HEC writes only to existing ones
    return server


EXTRACT = """\
import kepler as kp
df = kp.data.from_splunk('index=pumps', earliest='-7d@d', latest='now', progress=False)
print(f'{len(df):,} rows x {df.shape[1]} columns; sid {df.attrs["sid"]}')
print(df.dtypes.to_string())
print(df.groupby('asset_id')['failure'].sum().sort_values().tail(3).to_string())
"""

LIVE = """\
# A plant application calling the model's REST API: one reading per request, as they arrive.
import json, statistics, sys, time, urllib.request
import pandas as pd

url, count = sys.argv[1], int(sys.argv[2])
features = [f["name"] for f in json.load(urllib.request.urlopen(url + "/metadata"))["features"]]
readings = pd.read_parquet("data/pumps.parquet").sort_values("_time").tail(count)
readings = readings[features].astype(object).where(readings[features].notna(), None)
latencies, failures = [], 0
for record in readings.to_dict("records"):
    record["_time"] = record["_time"].isoformat()
    body = json.dumps({"instances": [record]}).encode()
    request = urllib.request.Request(url + "/predict", data=body,
                                     headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request) as reply:
        answer = json.load(reply)
    latencies.append((time.perf_counter() - started) * 1000)
    failures += answer["predictions"][0] == 1
latencies.sort()
print(f"{len(latencies)} live requests to {url}/predict: p50 "
      f"{statistics.median(latencies):.1f} ms, p99 {latencies[int(0.99 * len(latencies))]:.1f} ms;"
      f" {failures} predicted failure(s)")
print("last answer:", json.dumps(answer))
"""


def configure(project: Path, server: Any, env: dict[str, str]) -> None:
    step("the Splunk token goes to the encrypted store, never to kepler.yml",
         "secrets", "set", "splunk-token", cwd=project, env=env, stdin=server.token + "\n")
    step("and so does the HEC token", "secrets", "set", "hec-token", cwd=project, env=env,
         stdin=server.hec_token + "\n")
    with (project / "kepler.yml").open("a") as handle:
        handle.write(
            "\nsplunk:\n"
            f"  host: {server.host}\n  port: {server.port}\n  scheme: https\n"
            f"  ca_file: {server.ca_file}\n"
            "  token: ${secret:splunk-token}\n"
            f"  hec_url: {server.hec_url}\n"
            "  hec_token: ${secret:hec-token}\n"
            "serve:\n"
            "  log_to_splunk: true         # every served prediction goes to HEC\n"
            f"  index: {INDEX}\n"
        )


def train_and_compare(project: Path, env: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    for algorithm in ALGORITHMS:
        step(f"train {algorithm}", "train", algorithm, "--data", "data/pumps.parquet",
             "--target", "failure", "--features", FEATURES, "--name", "pump-failure",
             cwd=project, env=env)
    out = step("rank every version, chart included", "models", "compare", "pump-failure:all",
               "--json", "--plot", "comparison.png", cwd=project, env=env, show=False)
    board = json.loads(out)
    leaderboard = board["leaderboard"]
    metric = board["metric"]
    for row in leaderboard:
        print(f"  {row['rank']}. {row['model']:<16} {row['algorithm']:<24} "
              f"{metric}={row[metric]:.4f}")
    best = int(leaderboard[0]["version"])
    step("the best one becomes prod", "models", "promote", "pump-failure", str(best),
         "--alias", "prod", cwd=project, env=env)
    return leaderboard, best


def deploy_and_use(project: Path, env: dict[str, str]) -> str:
    out = step("serve prod as a REST API, in the background", "deploy", "pump-failure:prod",
               "--target", "local", "--json", cwd=project, env=env)
    url = json.loads(out)["url"]
    step("what is deployed", "deploy", "list", cwd=project, env=env)
    python("live requests from a plant application", LIVE, cwd=project, env=env,
           args=(url, str(LIVE_REQUESTS)))
    (project / "reading.json").write_text(json.dumps({"instances": [{
        "_time": "2026-01-05T10:00:00Z", "asset_id": "PUMP-003", "site": "plant-north",
        "temperature": 71.5, "pressure": 4.1, "vibration": 7.9, "flow": 82.0, "rpm": 1490,
        "power_kw": 41.0, "status": "alarm"}]}))
    step("one reading from a file", "deploy", "predict", "pump-failure", "--data",
         "reading.json", cwd=project, env=env)
    bad = project / "bad.json"
    reading = json.loads((project / "reading.json").read_text())["instances"][0]
    bad.write_text(json.dumps([{**reading, "temperature": "hot", "status": "exploded"}]))
    step("bad input is refused field by field, never a crash", "deploy", "predict",
         "pump-failure", "--data", "bad.json", cwd=project, env=env, expect=1)
    time.sleep(1.5)  # one prediction-log interval: the live predictions reach HEC
    step("live state: requests, scoring path, prediction log", "deploy", "status",
         "pump-failure", cwd=project, env=env)
    return url


def main() -> None:
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="kepler-demo-"))
    env = {**os.environ, "KEPLER_CONFIG_DIR": str(work / "home"),
           "KEPLER_CACHE_DIR": str(work / "cache"), "KEPLER_DATA_DIR": str(work / "data"),
           "KEPLER_SECRETS_BACKEND": "file", "KEPLER_STRICT_PLUGINS": "1",
           "MPLBACKEND": "Agg"}
    for name in [n for n in env if n.startswith("KEPLER_") and "__" in n]:
        env.pop(name)  # the demo runs on its embedded defaults only
    for name in ("KEPLER_PROJECT", "KEPLER_ENV", "PORT"):
        env.pop(name, None)
    server = start_splunk(rows=int(os.environ.get("KEPLER_DEMO_ROWS", "60000")))
    project = work / "pump-monitoring"
    deployed = False
    try:
        step("what is installed", "plugins", "list", cwd=work, env=env)
        step("a new project", "init", "pump-monitoring", cwd=work, env=env)
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
        configure(project, server, env)
        step("resolved configuration, secrets masked", "--env", "prod", "config", "show",
             cwd=project, env=env)
        subprocess.run(["git", "add", "-A"], cwd=project, check=True)
        step("no secret in tracked files", "config", "check", cwd=project, env=env)
        step("connectivity, credentials, permissions", "config", "validate", cwd=project, env=env)
        step("the indexes there are", "splunk", "catalog", cwd=project, env=env)
        step("your SPL, every row, straight to Parquet", "data", "splunk", "index=pumps",
             "--earliest", "-7d@d", "--out", "data/pumps.parquet", cwd=project, env=env)
        python("kp.data.from_splunk('index=pumps', earliest='-7d@d')", EXTRACT, cwd=project,
               env=env)

        leaderboard, best = train_and_compare(project, env)
        deployed = True
        url = deploy_and_use(project, env)
        step("batch scoring: the last six hours of readings back to Splunk", "predict",
             "pump-failure:prod", "--spl", "search index=pumps", "--earliest", "-6h",
             "--to-splunk", "--index", INDEX, "--keep", "asset_id", cwd=project, env=env)
        dashboard = step("the monitoring dashboard in Splunk", "splunk", "dashboard", "create",
                         "pump-failure:prod", "--index", INDEX, cwd=project, env=env)
        step("stop the server: requests in flight finish, queued predictions are sent",
             "deploy", "delete", "pump-failure", cwd=project, env=env)
        deployed = False

        (project / "leak.py").write_text(f"TOKEN = '{server.token}'\n")
        subprocess.run(["git", "add", "leak.py"], cwd=project, check=True)
        step("a leaked secret is caught before it is pushed", "config", "check",
             cwd=project, env=env, expect=6)

        OUT.mkdir(exist_ok=True)
        chart = OUT / "comparison.png"
        shutil.copyfile(project / "comparison.png", chart)
        events = server.hec_events(index=INDEX)
        live = sum(1 for e in events if e.get("source") == "kepler-serve")
        views = [name for name in server.views() if "pump" in name]
        report(leaderboard, best, url, len(events), live, dashboard.strip(), views, chart)
    finally:
        if deployed:  # a failed step must not leave a server behind
            subprocess.run([KEPLER, "deploy", "delete", "pump-failure"], cwd=project, env=env,
                           capture_output=True, timeout=60)
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nDemo finished in {time.perf_counter() - started:.1f} s; {work} removed.")


def report(leaderboard: list[dict[str, Any]], best: int, url: str, rows: int, live: int,
           dashboard: str, views: list[str], chart: Path) -> None:
    metric = next(k for k in ("f1", "r2", "rmse") if k in leaderboard[0])
    print("\n" + "=" * 72 + "\nReport\n" + "=" * 72)
    print(f"Leaderboard (by {metric}, held-out rows):")
    for row in leaderboard:
        mark = "  <- prod" if int(row["version"]) == best else ""
        print(f"  {row['rank']}. pump-failure:{row['version']}  {row['algorithm']:<24} "
              f"{metric} {row[metric]:.4f}  precision {row.get('precision', 0):.3f}  "
              f"recall {row.get('recall', 0):.3f}{mark}")
    print(f"Endpoint:        {url}/predict  (docs: {url}/docs; stopped now)")
    print(f"Rows written:    {rows} prediction events in index {INDEX} "
          f"({live} live from the server's prediction log, {rows - live} batch-scored)")
    print(f"Dashboard:       {', '.join(views) or '?'} — {dashboard}")
    print(f"Comparison PNG:  {chart}")


if __name__ == "__main__":
    main()
