"""Batch scoring: ``kepler predict`` (files, SPL to HEC), ``kp.deploy.batch_score`` and the
``pipelines:`` of kepler.yml."""

from __future__ import annotations

import json

import kepler as kp
import pandas as pd
import pytest


@pytest.fixture
def registered(project, artifacts, sensors):
    kp.models.load(artifacts["classifier"]).save()
    rows = sensors.drop(columns=["failure"]).head(40).copy()
    rows["asset_id"] = [f"P-{i % 4}" for i in range(len(rows))]
    rows.to_parquet(project / "new.parquet")
    return project


@pytest.fixture
def splunk(splunk_server, monkeypatch, registered, sensors):
    """The test server with index pumps (the rows to score) and predictions; Kepler points at
    it through environment variables."""
    rows = pd.read_parquet(registered / "new.parquet")
    splunk_server.add_index("pumps", rows)
    splunk_server.add_index("predictions")
    for key, value in {"HOST": splunk_server.host, "PORT": str(splunk_server.port),
                       "SCHEME": splunk_server.scheme, "TOKEN": splunk_server.token,
                       "HEC_URL": splunk_server.hec_url, "HEC_TOKEN": splunk_server.hec_token,
                       "HEC_BACKOFF": "0.01"}.items():
        monkeypatch.setenv(f"KEPLER_SPLUNK__{key}", value)
    return splunk_server


def test_predict_a_file_into_a_file(registered, kepler_cli, classifier):
    result = kepler_cli("predict", "pump-failure", "--input", "new.parquet", "--output",
                        "out/scored.parquet")
    assert result.code == 0, result.err
    assert "Scored 40 rows with pump-failure version 1" in result.out
    scored = pd.read_parquet(registered / "out" / "scored.parquet")
    rows = pd.read_parquet(registered / "new.parquet")
    assert scored["prediction"].tolist() == classifier.predict(rows).tolist()
    assert scored["probability_1"].tolist() == classifier.predict_proba(rows)[:, 1].tolist()
    assert set(scored["model"]) == {"pump-failure"} and set(scored["model_version"]) == {"1"}
    assert "asset_id" in scored.columns


def test_predict_spl_results_to_splunk(splunk, kepler_cli):
    result = kepler_cli("predict", "pump-failure:1", "--spl", "search index=pumps",
                        "--earliest", "2025-12-01T00:00:00Z", "--latest", "now", "--to-splunk",
                        "--index", "predictions", "--keep", "asset_id", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["rows"] == 40 and report["written"]["sent"] == 40
    assert report["destination"] == "splunk:predictions"
    events = splunk.hec_events(index="predictions")
    assert len(events) == 40
    event = events[0]["event"]
    assert event["model"] == "pump-failure" and event["model_version"] == "1"
    assert event["prediction"] in (0, 1) and 0 <= event["probability"] <= 1
    assert event["asset_id"].startswith("P-") and "temperature" in event["features"]
    assert events[0]["time"] >= pd.Timestamp("2026-01-01", tz="UTC").timestamp()


def test_batch_score_in_python_returns_the_scored_table(registered, sensors, classifier):
    rows = sensors.drop(columns=["failure"]).tail(7)
    report = kp.deploy.batch_score("pump-failure", rows)
    assert report.rows == 7 and report.destination is None
    assert report.frame["prediction"].tolist() == classifier.predict(rows).tolist()
    assert report.to_dict()["model"] == "pump-failure"


def test_predict_needs_exactly_one_source(registered, kepler_cli):
    assert kepler_cli("predict", "pump-failure").code == 2
    both = kepler_cli("predict", "pump-failure", "--input", "new.parquet", "--spl", "search x")
    assert both.code == 2
    assert kepler_cli("predict", "pump-failure", "--input", "new.parquet", "--index",
                      "x").code == 2


PIPELINES = """
pipelines:
  nightly-file:
    model: pump-failure
    input: new.parquet
    schedule: "30 2 * * *"
    destination: {type: file, path: out/nightly.csv}
  hourly-splunk:
    model: pump-failure:1
    spl: search index=pumps
    earliest: "2025-12-01T00:00:00Z"
    keep: [asset_id]
    schedule: "@hourly"
    destination: {type: splunk, index: predictions}
  adhoc:
    model: pump-failure
    input: new.parquet
    destination: {type: file, path: out/adhoc.jsonl}
"""


def test_pipelines_list_run_and_cron(splunk, registered, kepler_cli):
    with (registered / "kepler.yml").open("a") as handle:
        handle.write(PIPELINES)
    listed = kepler_cli("pipeline", "list")
    assert listed.code == 0, listed.err
    assert "nightly-file" in listed.out and "splunk:predictions" in listed.out
    ran = kepler_cli("pipeline", "run", "nightly-file")
    assert ran.code == 0, ran.err
    assert len(pd.read_csv(registered / "out" / "nightly.csv")) == 40
    ran = kepler_cli("pipeline", "run", "hourly-splunk", "--json")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["written"]["sent"] == 40
    assert len(splunk.hec_events(index="predictions")) == 40
    cron = kepler_cli("pipeline", "cron")
    lines = cron.out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("30 2 * * * cd ")
    assert "pipeline run hourly-splunk" in lines[1] and lines[1].startswith("@hourly ")
    missing = kepler_cli("pipeline", "run", "nightly")
    assert missing.code == 1 and "Did you mean 'nightly-file'" in missing.err


def test_a_bad_pipeline_is_a_config_error_naming_the_key(registered, kepler_cli):
    with (registered / "kepler.yml").open("a") as handle:
        handle.write("pipelines:\n  broken:\n    model: pump-failure\n    input: new.parquet\n"
                     "    schedule: every hour\n")
    result = kepler_cli("pipeline", "run", "broken")
    assert result.code == 3
    assert "pipelines.broken.schedule" in result.err and "cron expression" in result.err


def test_config_validate_checks_pipelines_and_the_prediction_log(registered, kepler_cli):
    with (registered / "kepler.yml").open("a") as handle:
        handle.write("serve: {log_to_splunk: true, host: 0.0.0.0}\n"
                     "pipelines:\n"
                     "  good: {model: pump-failure, input: new.parquet}\n"
                     "  stale: {model: pump-failur, input: new.parquet}\n")
    result = kepler_cli("config", "validate")
    assert result.code == 6  # a check failed
    lines = {line.split("  ")[1].strip(): line for line in result.out.splitlines()
             if line.startswith("serve ")}
    assert "PASS" in lines["pipeline good: model pump-failure exists"]
    assert "FAIL" in lines["pipeline stale: model pump-failur exists"]
    assert "Models here: pump-failure" in lines["pipeline stale: model pump-failur exists"]
    assert "FAIL" in lines["serve: prediction logging to Splunk configured"]
    assert "WARN" in lines["serve: API key when listening beyond this machine"]
