"""Fast start: the CLI's common paths import no heavy library, with every plugin installed.

conda's tests/cli/test_startup_benchmarks.py, as a subprocess so nothing this test process
already imported counts.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "numpy", "sklearn", "torch", "splunklib", "fastapi", "uvicorn", "boto3",
         "botocore", "google.cloud", "azure", "xgboost", "lightgbm", "pyarrow", "scipy",
         "matplotlib")

PROBE = """
import contextlib, io, json, sys
import importlib.metadata as md
argv = json.loads(sys.argv[1])
if argv == ["import"]:
    import kepler as kp
    kp.data, kp.train, kp.config, kp.plugins
else:
    [ep] = [e for e in md.entry_points(group="console_scripts") if e.name == "kepler"]
    sys.argv = ["kepler", *argv]
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            ep.load()()
        except SystemExit as exc:
            assert exc.code in (0, None), exc.code
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("argv", [["--help"], ["plugins", "list"], ["plugins", "list", "--json"],
                                  ["import"], ["config", "show"], ["train", "--help"],
                                  ["train", "random_forest", "--help"], ["models", "list"],
                                  ["models", "list", "--json"], ["deploy", "--help"],
                                  ["deploy", "list"], ["deploy", "targets"],
                                  ["serve", "--help"], ["predict", "--help"],
                                  ["pipeline", "--help"]])
def test_startup_imports_nothing_heavy(argv):
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True,
                         text=True, check=True).stdout
    modules = json.loads(out.splitlines()[-1])
    heavy = sorted({m for m in modules for h in HEAVY if m == h or m.startswith(h + ".")})
    assert heavy == [], f"'kepler {' '.join(argv)}' imported {heavy}"


def test_every_installed_plugin_loads_in_strict_mode():
    """CI's guard: a first-party plugin that fails to load fails the build."""
    code = ("import kepler.plugins as p; "
            "print([(i.name, i.status, i.error) for i in p.list_plugins()])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**__import__("os").environ, "KEPLER_STRICT_PLUGINS": "1"})
    assert result.returncode == 0, result.stderr
    assert "'failed'" not in result.stdout
