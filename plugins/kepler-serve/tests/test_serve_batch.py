"""Batch scoring: ``kepler predict`` (files, SPL to HEC), ``kp.deploy.batch_score`` and the
``pipelines:`` of kepler.yml."""

from __future__ import annotations

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


def test_any_sinks_report_is_serialised_without_assuming_its_fields(tmp_path):
    """The Sink protocol promises "a report of what was delivered", nothing more."""
    import dataclasses
    import json

    from kepler_serve.batch import BatchReport

    @dataclasses.dataclass
    class FileReport:  # a third party's: no sent, no spooled
        rows: int
        path: object
        failed: list

    class Plain:
        def __init__(self):
            self.delivered = 3
            self._secret_state = object()

    for written, expected in [
            (FileReport(2, tmp_path / "x.jsonl", [{"row": 1}]),
             {"rows": 2, "path": str(tmp_path / "x.jsonl"), "failed": 1}),
            ({"rows": 5}, {"rows": 5}), (Plain(), {"delivered": 3}),
            (tmp_path / "out.csv", str(tmp_path / "out.csv")), (None, None)]:
        report = BatchReport(model="m", version=1, rows=1, seconds=0.1, destination="x",
                             written=written)
        as_dict = report.to_dict()
        assert as_dict["written"] == expected
        json.dumps(as_dict)
