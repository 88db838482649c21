"""The template plugin, tested the way a third party should test theirs: through Kepler's
public API and CLI, with the plugin installed (entry point) and Kepler's pytest fixtures."""

from __future__ import annotations

import json

import pytest
from kepler.api import (
    DeployEvent,
    ExtractEvent,
    KeplerError,
    PredictionEvent,
    TrainEvent,
    fire,
    list_plugins,
    load_config,
)


@pytest.fixture(autouse=True)
def project(kepler_home, kepler_cli, tmp_path, monkeypatch):
    assert kepler_cli("init", "plant").code == 0
    folder = tmp_path / "work" / "plant"
    monkeypatch.chdir(folder)
    return folder


def test_the_plugin_is_discovered_through_its_entry_point():
    [info] = [p for p in list_plugins() if p.name == "audit"]
    assert (info.status, info.distribution) == ("enabled", "kepler-audit")
    assert {"kepler_after_train", "kepler_commands", "kepler_connectors",
            "kepler_sinks"} <= set(info.hooks)
    assert info.api == ">=1.3,<2"


def test_lifecycle_events_are_appended_without_the_data(project, kepler_cli):
    fire(ExtractEvent(connector="splunk", query="search index=x", rows=12,
                      data=["rows", "not", "logged"]))
    fire(TrainEvent(trainer="random_forest", model=object(), metrics={"f1": 0.91}))
    fire(DeployEvent(target="local", name="pumps", model="m", version="2",
                     url="http://127.0.0.1:8080"))
    fire(PredictionEvent(model="m", version="2", rows=5, predictions=[1, 0]))
    lines = (project / ".kepler" / "audit.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["event"] for e in events] == ["extract", "train", "deploy", "predictions"]
    assert events[0]["rows"] == 12 and "data" not in events[0]
    assert events[1]["metrics"] == {"f1": 0.91} and "model" not in events[1]
    assert all(e["env"] == "dev" for e in events)
    shown = kepler_cli("audit", "show", "--last", "2")
    assert shown.code == 0
    assert "deploy" in shown.out and "predictions" in shown.out and "extract" not in shown.out
    as_json = [json.loads(x) for x in kepler_cli("audit", "show", "--json").out.splitlines()]
    assert len(as_json) == 4


def test_the_config_section_validates_and_can_turn_auditing_off(project, monkeypatch):
    monkeypatch.setenv("KEPLER_AUDIT__ENABLED", "false")
    fire(DeployEvent(target="t", name="n", model="m"))
    assert not (project / ".kepler" / "audit.jsonl").exists()
    monkeypatch.setenv("KEPLER_AUDIT__ENABLED", "maybe")
    with pytest.raises(KeplerError, match="audit.enabled = 'maybe'"):
        load_config().audit


def test_validate_checks_the_log_is_writable(kepler_cli, project):
    result = kepler_cli("config", "validate")
    assert result.code == 0 and "audit log writable" in result.out
    checks = json.loads(kepler_cli("config", "validate", "--json").out)
    [audit] = [c for c in checks if c["plugin"] == "audit"]
    assert audit == {"plugin": "audit", "check": "audit log writable", "status": "pass",
                     "detail": str(project / ".kepler" / "audit.jsonl"), "hint": ""}


def test_disabling_the_plugin_removes_its_command(kepler_cli):
    assert kepler_cli("plugins", "disable", "audit").code == 0
    assert kepler_cli("audit", "show").code == 2
    assert kepler_cli("plugins", "enable", "audit").code == 0
    assert kepler_cli("audit", "show").code == 0
