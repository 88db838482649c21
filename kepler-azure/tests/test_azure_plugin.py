"""The plugin's records, its lazy imports and the targets core lists."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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
print(json.dumps(sorted(m for m in sys.modules if m == "azure" or m.startswith("azure."))))
"""


@pytest.mark.parametrize("argv", [["--help"], ["azure", "--help"], ["deploy", "targets"]])
def test_cli_imports_no_azure_sdk(argv):
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    assert json.loads(out.splitlines()[-1]) == []


def test_plugin_module_imports_no_azure_sdk():
    code = ("import sys, kepler_azure.plugin\n"
            "print([m for m in sys.modules if m.startswith('azure')])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_targets_say_aci_has_no_autoscaling(kepler_cli, project):
    result = kepler_cli("deploy", "targets", "--json")
    assert result.code == 0, result.err
    targets = {t["name"]: t for t in json.loads(result.out)}
    assert targets["azure"]["distribution"] == "kepler-azure"
    assert "no autoscaling" in targets["azure-aci"]["description"]
    assert "autoscaling" in targets["azure"]["description"]


def test_config_section_is_per_environment(project):
    from kepler.api import load_config

    assert load_config(env="prod").section("azure").resource_group == "plant-prod"
    assert load_config(env="staging").section("azure").max_replicas == 5
    assert load_config().section("azure").app_id("pumps", "dev") == "pumps-dev"


def test_env_vars_refuse_secrets():
    from kepler_azure.config import AzureSettings
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="looks like a secret"):
        AzureSettings(env_vars={"SPLUNK_TOKEN": "x"})
    with pytest.raises(ValidationError):
        AzureSettings(memory="512Mi")


def test_the_product_path_uses_the_default_credential_chain(monkeypatch):
    from azure.identity import DefaultAzureCredential
    from kepler_azure import clients
    from kepler_azure.config import AzureSettings

    monkeypatch.setattr(clients, "TEST_WIRING", {})
    azure = clients.Azure(AzureSettings(subscription="s"))
    assert isinstance(azure.credential, DefaultAzureCredential)
    assert azure._kwargs("apps")["base_url"] == "https://management.azure.com"
    assert "authentication_policy" not in azure._kwargs("apps")
    assert clients._authority("https://management.usgovcloudapi.net") == \
        "login.microsoftonline.us"


def test_builder_auto_uses_acr_where_no_docker_answers(monkeypatch, tmp_path):
    import kepler_azure.image as image

    (tmp_path / "empty-path").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))  # no docker client at all
    assert image.docker_answers() is False
