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


def main() -> None:
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="kepler-demo-"))
    env = {**os.environ, "KEPLER_CONFIG_DIR": str(work / "home"),
           "KEPLER_SECRETS_BACKEND": "file", "KEPLER_STRICT_PLUGINS": "1"}
    env.pop("KEPLER_PROJECT", None)
    env.pop("KEPLER_ENV", None)
    try:
        step("what is installed", "plugins", "list", cwd=work, env=env)
        step("a new project", "init", "pump-monitoring", cwd=work, env=env)
        project = work / "pump-monitoring"
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
        step("a secret goes to the encrypted store, never to kepler.yml",
             "secrets", "set", "demo-token", cwd=project, env=env, stdin="demo-token-0123456789\n")
        with (project / "kepler.yml").open("a") as handle:
            handle.write("\naudit:\n  path: .kepler/audit.jsonl\n"
                         "demo:\n  token: ${secret:demo-token}\n")
        step("resolved configuration, secrets masked", "--env", "prod", "config", "show",
             cwd=project, env=env)
        subprocess.run(["git", "add", "-A"], cwd=project, check=True)
        step("no secret in tracked files", "config", "check", cwd=project, env=env)
        step("every plugin's checks", "config", "validate", cwd=project, env=env)
        (project / "leak.py").write_text("TOKEN = 'demo-token-0123456789'\n")
        subprocess.run(["git", "add", "leak.py"], cwd=project, check=True)
        step("a leaked secret is caught before it is pushed", "config", "check",
             cwd=project, env=env, expect=6)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nDemo finished in {time.perf_counter() - started:.1f} s; {work} removed.")


if __name__ == "__main__":
    main()
