"""Monitoring dashboards, alerts and HEC token rotation against the test server."""

from __future__ import annotations

import json
import re

import httpx
import kepler as kp
import pytest

STATS = {"name": "pump-failures", "version": 3, "task": "classification",
         "features": {"temperature": {"mean": 61.2, "std": 4.8},
                      "vibration": {"mean": 2.1, "std": 0.4},
                      "status": {"categories": ["running", "idle"]}}}


def parse(server, spl):
    with httpx.Client(base_url=server.url, verify=False) as http:
        return http.get("/services/search/parser", params={"q": spl, "output_mode": "json"},
                        headers={"Authorization": f"Bearer {server.token}"})


def test_the_definition_is_studio_json_and_every_search_is_valid_spl(splunk):
    board = kp.results.create_dashboard(STATS, index="ml_predictions", dry_run=True)
    spec = board.definition
    assert set(spec) >= {"dataSources", "visualizations", "layout", "title"}
    json.dumps(spec)  # serialisable
    placed = {item["item"] for item in spec["layout"]["structure"]}
    assert placed == set(spec["visualizations"])
    for viz in spec["visualizations"].values():
        assert viz["dataSources"]["primary"] in spec["dataSources"]
    queries = [ds["options"]["query"] for ds in spec["dataSources"].values()]
    assert any("timechart count" in q for q in queries)
    assert any("latency_ms" in q for q in queries)
    assert any("latest(model_version)" in q for q in queries)
    drift = spec["dataSources"]["ds_drift"]["options"]["query"]
    assert "61.2" in drift and "4.8" in drift and "'features.temperature'" in drift
    assert "status" not in drift  # categorical features have no mean to drift from
    for query in queries:
        answer = parse(splunk, query)
        assert answer.status_code == 200, (query, answer.text)
    assert splunk.requests_to(r"data/ui/views") == []  # a dry run sends nothing


def test_create_then_update_in_place(splunk, kepler_cli):
    first = kp.results.create_dashboard(STATS, index="ml_predictions")
    assert first.created and first.name == "kepler_pump_failures"
    xml = splunk.views()["kepler_pump_failures"]
    assert xml.startswith('<dashboard version="2"')
    definition = json.loads(re.search(r"<!\[CDATA\[(.*)\]\]>", xml, re.S).group(1))
    assert definition["title"] == "Kepler model pump-failures v3"
    second = kp.results.create_dashboard({**STATS, "version": 4}, index="ml_predictions")
    assert not second.created and len(splunk.views()) == 1
    assert "v4" in splunk.views()["kepler_pump_failures"]


def test_cli_dashboard_from_a_stats_file(splunk, kepler_cli, tmp_path):
    stats = tmp_path / "stats.json"
    stats.write_text(json.dumps(STATS))
    dry = kepler_cli("splunk", "dashboard", "create", str(stats), "--index", "ml", "--dry-run")
    assert dry.code == 0 and json.loads(dry.out)["dataSources"]
    made = kepler_cli("splunk", "dashboard", "create", str(stats), "--index", "ml")
    assert made.code == 0 and "created" in made.out


def test_an_alert_is_a_scheduled_saved_search_with_valid_spl(splunk, kepler_cli, tmp_path):
    alert = kp.results.create_alert(STATS, index="ml_predictions",
                                    condition="anomaly_rate > 0.05", email="ops@plant.example")
    saved = splunk.saved_searches()[alert.name]
    assert saved["is_scheduled"] == "1" and saved["cron_schedule"] == "*/15 * * * *"
    assert saved["action.email.to"] == "ops@plant.example"
    assert parse(splunk, saved["search"]).status_code == 200
    stats = tmp_path / "stats.json"
    stats.write_text(json.dumps(STATS))
    cli = kepler_cli("splunk", "alert", "create", str(stats), "--index", "ml_predictions",
                     "--condition", "p95_latency_ms > 200", "--name", "slow pumps")
    assert cli.code == 0 and "slow pumps" in splunk.saved_searches()
    with pytest.raises(kp.KeplerError, match="needs a condition"):
        kp.results.create_alert(STATS, index="x", condition=" ")


def test_bad_model_statistics_are_refused():
    with pytest.raises(kp.KeplerError, match="need a 'name'"):
        kp.results.create_dashboard({"features": {}}, index="x", dry_run=True)


@pytest.fixture
def rotating(splunk, monkeypatch, kepler_cli):
    assert kepler_cli("secrets", "set", "splunk-hec-token", stdin=splunk.hec_token).code == 0
    monkeypatch.delenv("KEPLER_SPLUNK__HEC_TOKEN")
    (splunk_project := __import__("pathlib").Path.cwd() / "kepler.yml").write_text(
        "splunk:\n  hec_token: ${secret:splunk-hec-token}\n")
    splunk.add_index("ml_predictions")
    return splunk_project


def test_rotation_creates_verifies_then_disables_with_writes_working(splunk, rotating,
                                                                      kepler_cli):
    import pandas as pd

    old = splunk.hec_token
    result = kepler_cli("secrets", "rotate", "splunk-hec")
    assert result.code == 0, result.err
    new = kp.config.load().section("splunk").hec_token.get_secret_value()
    assert new != old
    report = kp.results.to_splunk(pd.DataFrame({"v": [1]}), index="ml_predictions",
                                  progress=False)
    assert report.sent == 1  # writes use the new token
    with httpx.Client(base_url=splunk.hec_url) as http:
        refused = http.post("/services/collector/event", json={"event": "x"},
                            headers={"Authorization": f"Splunk {old}"})
    assert refused.json()["code"] == 1  # the old one is disabled, not deleted
    names = {e.get("_token") for e in splunk.hec_events()}
    assert any(n and n.startswith("kepler-") for n in names)  # the proof event was sent
    purged = kepler_cli("secrets", "rotate", "splunk-hec", "--purge")
    assert purged.code == 0 and "purged " in purged.out and "kepler-default" in purged.out


def test_rotation_refuses_a_token_not_in_the_secrets_store(splunk, kepler_cli):
    result = kepler_cli("secrets", "rotate", "splunk-hec")
    assert result.code == 3 and "${secret:NAME}" in result.err
