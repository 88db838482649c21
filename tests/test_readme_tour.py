"""README's tour, run as written (issue 18): the block between ``<!-- tour:start -->`` and
``<!-- tour:end -->`` goes to bash unchanged, with Kepler and every first-party plugin installed,
against a Splunk test server the tour itself starts in the background.

The test only adds what a failing run needs to clean up after itself (stop the test server and
the local deployment) and checks what each step should have produced."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
TOUR = re.compile(r"<!-- tour:start -->\s*```bash\n(?P<body>.*?)```\s*<!-- tour:end -->", re.S)

#: Runs when bash exits, passing or failing: the tour's own last lines do the same on success.
CLEAN_UP = """
trap 'status=$?; set +e
      cd "$TOUR_HOME/pump-failures" 2>/dev/null && kepler deploy delete pump-failure >/dev/null 2>&1
      kill ${KEPLER_SPLUNK_TEST_PID:-} 2>/dev/null; exit $status' EXIT
"""


def readme_tour() -> str:
    found = TOUR.search(README.read_text(encoding="utf-8"))
    assert found, "README.md lost its <!-- tour:start --> ... <!-- tour:end --> block"
    return found.group("body")


def test_readme_tour_is_plain_commands():
    """Every line is a command a reader can paste: no placeholders such as NAME or '...'."""
    for line in readme_tour().splitlines():
        command = line.split("  #")[0]
        assert "NAME" not in command and "..." not in command and "[" not in command, line


@pytest.mark.skipif(sys.platform == "win32", reason="the tour is written for a POSIX shell")
def test_readme_tour_runs_as_written(tmp_path):
    env = {**os.environ, "TOUR_HOME": str(tmp_path),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    script = "set -euo pipefail\n" + CLEAN_UP + readme_tour()
    run = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, f"{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    out = run.stdout
    assert re.search(r"PUMP-\d+\s+\d+\.\d+", out), out  # the stats average per asset
    project = tmp_path / "pump-failures"
    assert (project / "pumps.parquet").stat().st_size > 0
    assert (project / ".kepler" / "models" / "pump-failure" / "1" / "kepler-model.json").is_file()
    assert "pump-failure:prod -> version 1" in out
    assert '"model": "pump-failure"' in out and '"version": 1' in out
    assert re.search(r"Scored [\d,]+ rows with pump-failure version 1 .* events accepted", out)
    assert "Dashboard 'kepler_pump_failure' created" in out
    assert "Deleted deployment 'pump-failure'." in out
    assert not list((project / ".kepler" / "deployments" / "local").glob("*.json"))
