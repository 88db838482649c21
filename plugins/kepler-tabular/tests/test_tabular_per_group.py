"""``kp.train.per_group`` on core's local executor: one member per group, the model group's
manifest and routing, failures and skips, and the CLI's --per-group."""

from __future__ import annotations

import json

import kepler as kp
import numpy as np
import pytest
from kepler.api import LocalExecutor, ModelInputError, TrainingError


@pytest.fixture
def pumps(sensors):
    return sensors.drop(columns=["failure"])


def test_one_member_per_group_with_its_own_metrics_and_routing(pumps):
    group = kp.train.per_group(pumps, by="pump", algorithm="random_forest",
                               target="efficiency", executor=LocalExecutor(workers=2),
                               n_estimators=5)
    members = group.predictor.members
    assert sorted(members) == sorted(pumps["pump"].unique())
    assert group.manifest.format.name == "model-group" and group.features[0] == "pump"
    assert "kepler-tabular" in group.manifest.environment.packages
    for key, member in members.items():
        rows = pumps[pumps["pump"] == key].head(5)
        assert np.allclose(group.predict(rows), member.predict(rows.drop(columns=["pump"])))
        assert member.metrics and member.baseline
    mean_rmse = np.mean([m.metrics["rmse"] for m in members.values()])
    assert group.metrics["rmse"] == pytest.approx(mean_rmse)
    with pytest.raises(ModelInputError, match="No model for pump='pump-99'"):
        group.predict(pumps.head(1).assign(pump="pump-99"))
    with pytest.raises(ModelInputError, match="needs 'pump'"):
        group.predictor.predict(pumps.head(1).drop(columns=["pump"]))


def test_failed_and_skipped_groups_are_listed_and_every_group_failing_is_an_error(pumps):
    data = pumps.copy()
    data.loc[data["pump"] == "pump-01", "efficiency"] = np.nan
    group = kp.train.per_group(data, by="pump", target="efficiency", n_estimators=5,
                               executor=LocalExecutor(workers=1), min_rows=10)
    assert "pump-01" in group.predictor.info["failed"]
    board = kp.models.group_leaderboard(group)
    assert board.loc[board["group"] == "pump-01", "status"].item() == "failed"
    with pytest.raises(TrainingError, match="No pump group could be trained"):
        kp.train.per_group(data, by="pump", target="efficiency", min_rows=10_000,
                           executor=LocalExecutor(workers=1))
    with pytest.raises(TrainingError, match="fallback='nope'"):
        kp.train.per_group(data, by="pump", target="efficiency", fallback="nope")


def test_kepler_train_per_group_saves_one_model_group(kepler_cli, pumps, tmp_path):
    path = tmp_path / "pumps.parquet"
    pumps.to_parquet(path)
    result = kepler_cli("train", "random_forest", "--data", str(path), "--target",
                        "efficiency", "--per-group", "pump", "--min-rows", "10",
                        "--param", "n_estimators=5", "--name", "per-pump")
    assert result.code == 0, result.err
    loaded = kp.models.load("per-pump")
    assert loaded.manifest.extra["model_group"]["members"] == pumps["pump"].nunique()
    shown = json.loads(kepler_cli("models", "groups", "per-pump", "--json").out)
    assert {g["status"] for g in shown["groups"]} == {"trained"}
