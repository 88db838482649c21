"""The plugin: records, config section, import budget (no boto3 for --help)."""

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
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("boto3", "botocore", "moto")))))
"""


@pytest.mark.parametrize("argv", [["--help"], ["aws", "--help"], ["deploy", "targets"]])
def test_cli_imports_no_aws_library(argv):
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    assert json.loads(out.splitlines()[-1]) == []


def test_records(kepler_cli):
    targets = kepler_cli("deploy", "targets", "--json")
    assert {"name": "aws", "plugin": "aws", "distribution": "kepler-aws",
            "description": "AWS ECS on Fargate behind a load balancer: autoscaling, canary, "
            "rollback."} in json.loads(targets.out)
    assert namespace("deploy").to_aws.__module__ == "kepler_aws.sdk"


def test_config_section_per_environment_and_variables(project, kepler_cli, monkeypatch):
    shown = kepler_cli("--env", "prod", "config", "show", "--json")
    assert shown.code == 0, shown.err
    values = {v["key"]: v for v in json.loads(shown.out)["values"]}
    assert values["aws.region"]["value"] == "us-east-1"
    assert values["aws.region"]["source"].endswith("[environments.prod]")
    assert values["aws.load_balancer"]["value"] == "internal"
    monkeypatch.setenv("KEPLER_AWS__REGION", "ap-south-1")
    from kepler.api import ConfigError
    from kepler.api import load_config as load

    assert load(env="prod").section("aws").region == "ap-south-1"
    monkeypatch.setenv("KEPLER_AWS__CPU", "300")
    with pytest.raises(ConfigError, match="Fargate CPU units"):
        load().section("aws")
    monkeypatch.setenv("KEPLER_AWS__CPU", "auto")
    monkeypatch.setenv("KEPLER_AWS__ENV_VARS__SPLUNK_TOKEN", "x")
    with pytest.raises(ConfigError, match="looks like a secret"):
        load().section("aws")


def test_the_deployer_implements_the_protocol(kepler_cli):
    from kepler.api import Deployer, deployer

    target = deployer("aws")
    assert isinstance(target, Deployer)
    for extra in ("canary", "promote", "rollback", "revisions", "plan"):
        assert callable(getattr(target, extra)) and getattr(target, extra).__doc__
    assert target.list() == []  # aws.region unset: quiet, no credentials asked
    assert kepler_cli("deploy", "list").err == ""
