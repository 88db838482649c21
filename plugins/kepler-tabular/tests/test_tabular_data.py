"""Data checks and splits: what every tabular trainer does before it fits anything."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kepler.api import TrainingError
from kepler_tabular import (
    as_frame,
    find_time_column,
    folds,
    holdout,
    infer_task,
    prepare,
    resolve_task,
)

CLASSIFY = ("classification", "regression")


def _prepare(data, **options):
    options.setdefault("target", "failure")
    options.setdefault("features", None)
    return prepare(data, task=options.pop("task", "auto"), tasks=options.pop("tasks", CLASSIFY),
                   algorithm="mine", **options)


def test_the_task_follows_the_target():
    assert infer_task(pd.Series([0, 1, 1, 0])) == "classification"
    assert infer_task(pd.Series(["ok", "fault"])) == "classification"
    assert infer_task(pd.Series(np.linspace(0, 1, 50))) == "regression"
    assert infer_task(pd.Series(range(50))) == "regression"  # too many whole values for classes
    with pytest.raises(TrainingError, match="mine does not do clustering"):
        resolve_task("clustering", CLASSIFY, pd.Series([1.0]), "mine")
    with pytest.raises(TrainingError, match="regression needs numbers"):
        resolve_task("regression", CLASSIFY, pd.Series(["a", "b"], name="y"), "mine")


def test_unknown_columns_suggest_the_closest(sensors):
    with pytest.raises(TrainingError, match="Did you mean 'failure'") as info:
        _prepare(sensors, target="falure")
    assert "temperature" in info.value.hint
    with pytest.raises(TrainingError, match="also listed as a feature"):
        _prepare(sensors, features=["failure", "rpm"])
    with pytest.raises(TrainingError, match="training data is empty"):
        as_frame(pd.DataFrame())


def test_automatic_features_leave_out_ids_and_empty_columns(sensors):
    sensors["serial"] = [f"SN-{i}" for i in range(len(sensors))]
    sensors["nothing"] = np.nan
    sensors.loc[:9, "failure"] = None
    prepared = _prepare(sensors)
    assert "serial" not in prepared.features and "nothing" not in prepared.features
    assert prepared.task == "classification" and len(prepared.frame) == len(sensors) - 10
    assert any("left out 'serial'" in n for n in prepared.notes)
    assert "dropped 10 row(s) with no value in the target 'failure'" in prepared.notes
    assert prepared.schema.names == prepared.features
    with pytest.raises(TrainingError, match="too many distinct values"):
        _prepare(sensors, features=["serial", "rpm"])


def test_the_time_column_is_found_or_named(sensors):
    assert find_time_column(sensors, None) == "_time"
    renamed = sensors.rename(columns={"_time": "when"})
    assert find_time_column(renamed, None) == "when"  # the only datetime column
    with pytest.raises(TrainingError, match="no datetime column"):
        find_time_column(sensors.drop(columns="_time"), None)


def test_random_holdout_is_stratified_and_repeatable(sensors):
    prepared = _prepare(sensors)
    train, test = holdout(prepared, test_size=0.25, split="random", random_state=0)
    assert len(test) == 100 and len(np.intersect1d(train, test)) == 0
    rate = prepared.y.mean()
    assert prepared.y.iloc[test].mean() == pytest.approx(rate, abs=0.02)
    again = holdout(prepared, test_size=0.25, split="random", random_state=0)
    assert np.array_equal(again[1], test)
    with pytest.raises(TrainingError, match="between 0 and 1"):
        holdout(prepared, test_size=1.5, split="random", random_state=0)


def test_time_holdout_tests_on_the_newest_rows(sensors):
    prepared = _prepare(sensors.sample(frac=1, random_state=1), split="time")
    train, test = holdout(prepared, test_size=0.2, split="time", random_state=0)
    times = prepared.frame["_time"].to_numpy()
    assert times[train].max() < times[test].min()
    for fold_train, fold_test in folds(prepared, cv=3, split="time", random_state=0):
        assert times[fold_train].max() < times[fold_test].min()


def test_group_split_keeps_each_group_on_one_side(sensors):
    prepared = _prepare(sensors, split="group", groups="pump")
    assert prepared.group_column == "pump" and "pump" not in prepared.features
    train, test = holdout(prepared, test_size=0.25, split="group", random_state=0)
    pumps = sensors["pump"].astype(str).to_numpy()
    assert set(pumps[train]).isdisjoint(pumps[test]) and len(set(pumps[test])) == 1
    assert len(train) + len(test) == len(sensors)
    seen = []
    for fold_train, fold_test in folds(prepared, cv=2, split="group", random_state=0):
        assert set(pumps[fold_train]).isdisjoint(pumps[fold_test])
        seen += list(fold_test)
    assert sorted(seen) == list(range(len(sensors)))  # every row tested exactly once
    named = _prepare(sensors, split="group", groups="pump", features=["pump", "rpm"])
    assert named.features == ["pump", "rpm"]  # asked for: a feature as well


def test_group_split_says_what_it_needs(sensors):
    with pytest.raises(TrainingError, match="needs groups='COLUMN'"):
        _prepare(sensors, split="group")
    with pytest.raises(TrainingError, match="goes with split='group'"):
        _prepare(sensors, split="random", groups="pump")
    assert _prepare(sensors, groups="pump").split == "group"  # split="auto" with groups=
    with pytest.raises(TrainingError, match="Did you mean 'pump'"):
        _prepare(sensors, split="group", groups="pumps")
    with pytest.raises(TrainingError, match="Unknown split 'grouped'"):
        _prepare(sensors, split="grouped")
    one = _prepare(sensors.assign(site="north"), split="group", groups="site")
    with pytest.raises(TrainingError, match="at least 2 groups .* 'site' has 1"):
        holdout(one, test_size=0.2, split="group", random_state=0)
    with pytest.raises(TrainingError, match="at least 5 groups"):
        folds(_prepare(sensors, split="group", groups="pump"), cv=5, split="group",
              random_state=0)
