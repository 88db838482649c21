"""The plugin: records, config section, import budget (no google.cloud for --help)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from kepler.api import namespace

PROBE = """
import contextlib, io, json, sys
import importlib.metadata as md
[ep] = [e for e in md.entry_points(group="console_scripts") if e.name == "kepler"]
sys.argv = ["kepler", *json.loads(sys.argv[1])]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        ep.load()()
    except SystemExit:
        pass
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("google", "grpc")))))
"""


@pytest.mark.parametrize("argv", [["--help"], ["gcp", "--help"], ["deploy", "targets"]])
def test_cli_imports_no_google_library(argv):
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    assert json.loads(out.splitlines()[-1]) == []


def test_records(kepler_cli):
    targets = kepler_cli("deploy", "targets", "--json")
    assert {"name": "cloud-run", "plugin": "gcp", "distribution": "kepler-gcp",
            "description": "Google Cloud Run: autoscaling, canary, rollback."} in \
        json.loads(targets.out)
    assert "to_cloud_run" in dir(namespace("deploy"))
    assert namespace("deploy").to_cloud_run.__module__ == "kepler_gcp.sdk"


def test_config_section_validates_with_named_keys(project, kepler_cli, monkeypatch):
    shown = kepler_cli("--env", "prod", "config", "show", "--json")
    assert shown.code == 0, shown.err
    values = {v["key"]: v for v in json.loads(shown.out)["values"]}
    assert values["gcp.project"]["value"] == "plant-prod"
    assert values["gcp.project"]["source"].endswith("[environments.prod]")
    assert values["gcp.min_instances"]["value"] == "1"
    assert values["gcp.region"]["value"] == "us-central1"
    monkeypatch.setenv("KEPLER_GCP__MEMORY", "2GB")
    bad = kepler_cli("config", "show")
    assert "gcp.memory" in bad.out + bad.err
    monkeypatch.setenv("KEPLER_GCP__MEMORY", "2Gi")
    monkeypatch.setenv("KEPLER_GCP__ENV_VARS__SPLUNK_TOKEN", "x")
    from kepler.api import ConfigError
    from kepler.api import load_config as load

    with pytest.raises(ConfigError, match="looks like a secret"):
        load().section("gcp")


def test_the_deployer_implements_the_protocol(kepler_cli):
    from kepler.api import Deployer, deployer

    target = deployer("cloud-run")
    assert isinstance(target, Deployer)
    for extra in ("canary", "promote", "rollback", "revisions", "plan"):
        assert callable(getattr(target, extra)) and getattr(target, extra).__doc__
    assert target.list() == []  # gcp.project unset: quiet and empty, no credentials asked
    assert kepler_cli("deploy", "list").err == ""
