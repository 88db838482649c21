"""'kepler train ALGORITHM' and 'kepler models ...' with real scikit-learn models."""

from __future__ import annotations

import json

import kepler as kp
import numpy as np
import pandas as pd
import pytest
from kepler.api import ConnectorSpec, hookimpl
from kepler.api import reset_plugins as reset
from kepler_tabular import make_sensor_data
from plugin_subscriber import Subscriber

CALLS: list[dict] = []


class FakeSplunkConnector:
    """Stands in for kepler-splunk's connector: the query is SPL, with a time range."""

    def __init__(self, config):
        self.config = config

    def query(self, spl, earliest=None, latest=None, **options):
        CALLS.append({"spl": spl, "earliest": earliest, "latest": latest})
        frame = make_sensor_data(rows=300)
        frame.attrs.update({"spl": spl, "earliest": earliest, "latest": latest, "sid": "fake.1"})
        return frame


class FakeSplunk:
    @hookimpl
    def kepler_connectors(self):
        yield ConnectorSpec(name="splunk", target="test_sklearn_cli:FakeSplunkConnector",
                            query_option="spl")


@pytest.fixture
def data_files(sensors, project):
    sensors.to_parquet(project / "pumps.parquet")
    sensors.to_csv(project / "pumps.csv", index=False)
    return project


def test_train_help_lists_every_algorithm(kepler_cli):
    result = kepler_cli("train", "--help")
    assert result.code == 0
    for name in ("random_forest", "xgboost", "lightgbm", "isolation_forest", "kmeans"):
        assert name in result.out
    one = kepler_cli("train", "random_forest", "--help")
    assert "Tasks: classification, regression" in one.out and "--split [auto|random|time|group]" in one.out


def test_train_from_parquet_saves_to_the_registry(data_files, kepler_cli, kepler_plugin):
    subscriber = kepler_plugin(Subscriber(), name="subscriber")
    result = kepler_cli("train", "random_forest", "--data", "pumps.parquet", "--target",
                        "failure", "--split", "time", "--param", "n_estimators=25",
                        "--param", "max_depth=6")
    assert result.code == 0, result.err
    assert "Trained random_forest (classification, target 'failure') on 480 rows" in result.out
    assert "f1 (main)" in result.out and "baseline: majority class" in result.out
    assert "The model beats the naive baseline on f1." in result.out
    assert "Saved as failure-random_forest version 1" in result.out
    model = kp.models.load("failure-random_forest")
    assert (model.manifest.params["n_estimators"], model.manifest.params["max_depth"]) == (25, 6)
    assert model.manifest.lineage.source == "file"
    assert model.manifest.lineage.details["path"].endswith("pumps.parquet")
    [(_, event)] = subscriber.events  # after-train fired once, with the saved artifact
    assert event.artifact_path == str(model.path) and event.version == 1


def test_train_from_csv_reads_times_and_prints_json(data_files, kepler_cli):
    result = kepler_cli("train", "ridge", "--data", "pumps.csv", "--target", "efficiency",
                        "--split", "time", "--features", "_time,temperature,vibration,flow",
                        "--no-save", "--json")
    assert result.code == 0, result.err
    info = json.loads(result.out)
    assert info["path"] is None and info["task"] == "regression"
    assert [f["name"] for f in info["features"]] == ["_time", "temperature", "vibration", "flow"]
    assert info["features"][0]["kind"] == "datetime"
    assert info["training"]["time_column"] == "_time"
    assert kp.models.list() == []


def test_train_errors_exit_with_their_codes(data_files, kepler_cli):
    unknown = kepler_cli("train", "random_forest", "--data", "pumps.parquet", "--target",
                         "failure", "--param", "n_estimator=5")
    assert unknown.code == 1 and "Did you mean 'n_estimators'" in unknown.err
    assert "Valid parameters:" in unknown.err
    no_target = kepler_cli("train", "random_forest", "--data", "pumps.parquet", "--target", "x")
    assert no_target.code == 1 and "The columns are: _time, pump" in no_target.err
    missing = kepler_cli("train", "random_forest", "--data", "nope.parquet", "--target", "y")
    assert missing.code == 2 and "does not exist" in missing.err
    (data_files / "pumps.xlsx").write_text("")
    wrong = kepler_cli("train", "ridge", "--data", "pumps.xlsx", "--target", "y")
    assert wrong.code == 1 and "unknown file type '.xlsx'" in wrong.err


def test_spl_goes_through_the_splunk_connector(project, kepler_cli, kepler_plugin, monkeypatch):
    monkeypatch.setenv("KEPLER_DISABLE_PLUGINS", "splunk")  # whether installed or not
    reset()
    missing = kepler_cli("train", "random_forest", "--spl", "search index=pumps", "--target",
                         "failure")
    assert missing.code == 4 and "connector 'splunk'" in missing.err
    assert "kepler-splunk" in missing.err
    kepler_plugin(FakeSplunk(), name="fakesplunk")
    CALLS.clear()
    result = kepler_cli("train", "logistic_regression", "--spl", "search index=pumps",
                        "--earliest", "-7d", "--latest", "now", "--target", "failure")
    assert result.code == 0, result.err
    assert CALLS == [{"spl": "search index=pumps", "earliest": "-7d", "latest": "now"}]
    lineage = kp.models.load("failure-logistic_regression").manifest.lineage
    assert lineage.source == "splunk" and lineage.details["sid"] == "fake.1"
    assert lineage.details["earliest"] == "-7d"


def test_the_models_commands_on_trained_models(data_files, kepler_cli, tmp_path):
    for algorithm in ("logistic_regression", "knn", "extra_trees"):
        assert kepler_cli("train", algorithm, "--data", "pumps.parquet", "--target", "failure",
                          "--name", "pumps").code == 0
    listing = kepler_cli("models", "list")
    assert listing.out.count("pumps") == 3 and "f1=" in listing.out
    compared = kepler_cli("models", "compare", "pumps:all", "--json", "--plot",
                          str(tmp_path / "board.png"))
    assert compared.code == 0, compared.err
    board = json.loads(compared.out)
    scores = [row["f1"] for row in board["leaderboard"]]
    assert scores == sorted(scores, reverse=True)
    assert (tmp_path / "board.png").stat().st_size > 1000
    best = board["leaderboard"][0]["version"]
    assert kepler_cli("models", "promote", "pumps", str(best), "--alias", "prod").code == 0
    shown = kepler_cli("models", "show", "pumps:prod")
    assert f"version {best}" in shown.out and "temperature" in shown.out
    assert "pump-01, pump-02, pump-03, pump-04" in shown.out
    frame = pd.read_parquet(data_files / "pumps.parquet")
    assert kp.models.load("pumps:prod").version == best
    assert np.array_equal(kp.models.load("pumps:prod").predict(frame),
                          kp.models.load("pumps", best).predict(frame))
    deleted = kepler_cli("models", "delete", "pumps", "--yes", "--force")
    assert deleted.code == 0 and "Deleted pumps version(s) 1, 2, 3" in deleted.out
