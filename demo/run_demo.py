"""Kepler's main job, end to end, on embedded defaults: ``nox -s demo``.

Runs in a throw-away folder with its own Kepler home, so it touches nothing of the user's and
cleans up after itself. Each step is a real ``kepler`` command, exactly as a user would type it.
The demo grows as capabilities land: extraction from the Splunk test server, training,
deployment and writing predictions back arrive with their plugins.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KEPLER = str(Path(sys.executable).parent / "kepler")


def step(title: str, *args: str, cwd: Path, env: dict[str, str], stdin: str | None = None,
         expect: int = 0) -> str:
    print(f"\n$ kepler {' '.join(args)}    # {title}", flush=True)
    result = subprocess.run([KEPLER, *args], cwd=cwd, env=env, input=stdin, text=True,
                            capture_output=True, timeout=300)
    print((result.stdout + result.stderr).rstrip())
    if result.returncode != expect:
        raise SystemExit(f"demo step failed ({result.returncode}, expected {expect}): {title}")
    return result.stdout


def start_splunk(rows: int) -> Any:
    """kepler-splunk's test server over HTTPS, loaded with a week of pump sensor readings."""
    from datetime import UTC, datetime, timedelta

    from kepler_splunk.testing import SplunkTestServer, generate_sensor_data

    start = (datetime.now(UTC) - timedelta(days=7)).replace(microsecond=0)
    period = max(1, int(7 * 86_400 / rows))
    server = SplunkTestServer(https=True).start()
    server.add_index("pumps", generate_sensor_data(rows, start=start.isoformat(),
                                                   freq=f"{period}s"))
    return server


def extract_in_python(project: Path, env: dict[str, str]) -> None:
    """What a data scientist types in a notebook."""
    code = (
        "import kepler as kp\n"
        "df = kp.data.from_splunk('index=pumps', earliest='-7d@d', latest='now', progress=False)\n"
        "print(f'{len(df):,} rows x {df.shape[1]} columns; sid {df.attrs[\"sid\"]}')\n"
        "print(df.dtypes.to_string())\n"
        "print(df.groupby('asset_id')['failure'].sum().sort_values().tail(3).to_string())\n"
    )
    print("\n>>> kp.data.from_splunk('index=pumps', earliest='-7d@d')    # in Python", flush=True)
    result = subprocess.run([sys.executable, "-c", code], cwd=project, env=env, text=True,
                            capture_output=True, timeout=300)
    print((result.stdout + result.stderr).rstrip())
    if result.returncode:
        raise SystemExit("demo step failed: extraction in Python")


def main() -> None:
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="kepler-demo-"))
    env = {**os.environ, "KEPLER_CONFIG_DIR": str(work / "home"),
           "KEPLER_CACHE_DIR": str(work / "cache"),
           "KEPLER_SECRETS_BACKEND": "file", "KEPLER_STRICT_PLUGINS": "1"}
    for name in [n for n in env if n.startswith("KEPLER_") and "__" in n]:
        env.pop(name)  # the demo runs on its embedded defaults only
    env.pop("KEPLER_PROJECT", None)
    env.pop("KEPLER_ENV", None)
    server = start_splunk(rows=int(os.environ.get("KEPLER_DEMO_ROWS", "60000")))
    try:
        step("what is installed", "plugins", "list", cwd=work, env=env)
        step("a new project", "init", "pump-monitoring", cwd=work, env=env)
        project = work / "pump-monitoring"
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
        step("the Splunk token goes to the encrypted store, never to kepler.yml",
             "secrets", "set", "splunk-token", cwd=project, env=env, stdin=server.token + "\n")
        with (project / "kepler.yml").open("a") as handle:
            handle.write(
                "\nsplunk:\n"
                f"  host: {server.host}\n  port: {server.port}\n  scheme: https\n"
                f"  ca_file: {server.ca_file}\n"
                "  token: ${secret:splunk-token}\n"
            )
        step("resolved configuration, secrets masked", "--env", "prod", "config", "show",
             cwd=project, env=env)
        subprocess.run(["git", "add", "-A"], cwd=project, check=True)
        step("no secret in tracked files", "config", "check", cwd=project, env=env)
        step("connectivity, credentials, permissions", "config", "validate", cwd=project, env=env)
        step("the indexes there are", "splunk", "catalog", cwd=project, env=env)
        step("your SPL, every row, straight to Parquet", "data", "splunk", "index=pumps",
             "--earliest", "-7d@d", "--out", "data/pumps.parquet", cwd=project, env=env)
        extract_in_python(project, env)
        (project / "leak.py").write_text(f"TOKEN = '{server.token}'\n")
        subprocess.run(["git", "add", "leak.py"], cwd=project, check=True)
        step("a leaked secret is caught before it is pushed", "config", "check",
             cwd=project, env=env, expect=6)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nDemo finished in {time.perf_counter() - started:.1f} s; {work} removed.")


if __name__ == "__main__":
    main()
