"""``kp.train.compare`` and ``kp.train.per_group`` on the Dask cluster give the same models as
locally (same seeds); a failing group is reported, a small one skipped; the CLI's --per-group."""

from __future__ import annotations

import json
import os

import kepler as kp
import numpy as np
import pandas as pd
import pytest
from kepler.api import LocalExecutor
from kepler_tabular import make_sensor_data

SENSORS = make_sensor_data(rows=1200, seed=3)


def _with_broken_and_small_groups(frame):
    """pump-04's target is all missing (its training fails); pump-05 has 8 rows (skipped)."""
    frame = frame.copy()
    frame.loc[frame["pump"] == "pump-04", "efficiency"] = np.nan
    small = frame.head(8).assign(pump="pump-05")
    return pd.concat([frame, small], ignore_index=True)


def test_compare_on_dask_gives_the_models_it_gives_locally(dask_executor):
    data = SENSORS.drop(columns=["failure"])
    params = {"random_forest": {"n_estimators": 15}}
    local = kp.train.compare(data, target="efficiency", n_jobs=1, params=params,
                             algorithms=["random_forest", "linear_regression"])
    remote = kp.train.compare(data, target="efficiency", executor=dask_executor, params=params,
                              algorithms=["random_forest", "linear_regression"])
    assert list(remote.leaderboard.index) == list(local.leaderboard.index) or \
        remote.leaderboard.to_dict() == local.leaderboard.to_dict()
    for mine, theirs in zip(local.models, remote.models, strict=True):
        assert mine.metrics == pytest.approx(theirs.metrics)
        assert np.allclose(mine.predict(data.head(50)), theirs.predict(data.head(50)))
    assert set(remote.workers).isdisjoint({os.getpid()})


def test_per_group_on_dask_matches_local_and_reports_failed_and_skipped(dask_executor):
    data = _with_broken_and_small_groups(SENSORS.drop(columns=["failure"]))
    kwargs = {"by": "pump", "algorithm": "random_forest", "target": "efficiency",
              "n_estimators": 10, "min_rows": 20}
    local = kp.train.per_group(data, executor=LocalExecutor(workers=1), **kwargs)
    group = kp.train.per_group(data, executor=dask_executor, save=True, **kwargs)
    assert sorted(group.predictor.members) == ["pump-01", "pump-02", "pump-03"]
    failed = group.predictor.info["failed"]
    assert list(failed) == ["pump-04"] and "Traceback" in failed["pump-04"]["traceback"]
    assert group.predictor.info["skipped"] == {"pump-05": "8 rows, fewer than min_rows=20"}
    rows = data[data["pump"].isin(["pump-01", "pump-02", "pump-03"])].head(60)
    assert np.allclose(group.predict(rows), local.predict(rows))
    for key in ("pump-01", "pump-02", "pump-03"):
        assert group.predictor.member(key).metrics == local.predictor.member(key).metrics
    board = kp.models.group_leaderboard(group)
    assert list(board["status"]) == ["trained"] * 3 + ["skipped", "failed"]
    assert board["score"].iloc[:3].is_monotonic_increasing  # rmse: lower is better, first

    loaded = kp.models.load(group.name)  # through the registry
    assert loaded.manifest.format.name == "model-group"
    assert np.allclose(loaded.predict(rows.to_dict("records")), local.predict(rows))
    folder = loaded.path
    document = json.loads((folder / "group.json").read_text())
    assert [m["group"] for m in document["members"]] == ["pump-01", "pump-02", "pump-03"]
    assert all(len(m["sha256"]) == 64 and m["metrics"] for m in document["members"])
    assert document["failed"]["pump-04"]["error"] and document["skipped"]["pump-05"]


def test_a_member_swapped_in_a_saved_group_is_refused(dask_executor, tmp_path):
    data = SENSORS.drop(columns=["failure"])
    group = kp.train.per_group(data, by="pump", algorithm="random_forest", target="efficiency",
                               executor=dask_executor, n_estimators=5).save(tmp_path / "g")
    manifest = tmp_path / "g" / "members" / "0001" / "kepler-model.json"
    manifest.write_text(manifest.read_text().replace('"version": null', '"version": 7'))
    with pytest.raises(kp.errors.ArtifactTamperedError):
        kp.models.load(group.path)


def test_cli_per_group_on_a_dask_address(kepler_cli, address, tmp_path):
    path = tmp_path / "pumps.parquet"
    SENSORS.drop(columns=["failure"]).to_parquet(path)
    result = kepler_cli("train", "random_forest", "--data", str(path), "--target", "efficiency",
                        "--per-group", "pump", "--executor", address, "--param",
                        "n_estimators=5", "--name", "pumps")
    assert result.code == 0, result.out + result.err
    assert "4 trained, 0 failed, 0 skipped" in result.out
    listed = kepler_cli("models", "list")
    assert "pumps" in listed.out
    groups = kepler_cli("models", "groups", "pumps", "--json")
    assert {g["group"] for g in json.loads(groups.out)["groups"]} == {
        "pump-01", "pump-02", "pump-03", "pump-04"}
    refused = kepler_cli("train", "random_forest", "--data", str(path), "--executor", "local")
    assert refused.code != 0 and "--per-group" in refused.err + refused.out
