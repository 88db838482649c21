"""``kp.train.compare(..., executor=...)``: candidates as tasks of a kepler.api executor give
the models ``n_jobs`` gives, and a failing candidate is still reported, not fatal."""

from __future__ import annotations

import kepler as kp
import numpy as np
import pytest
from kepler.api import LocalExecutor


def test_compare_on_the_local_executor_matches_n_jobs_1(sensors):
    data = sensors.drop(columns=["failure"]).head(400)
    options = {"target": "efficiency", "algorithms": ["random_forest", "linear_regression"],
               "params": {"random_forest": {"n_estimators": 5}}}
    here = kp.train.compare(data, n_jobs=1, **options)
    pooled = kp.train.compare(data, executor=LocalExecutor(workers=2), **options)
    assert [m.algorithm for m in here.models] == [m.algorithm for m in pooled.models]
    for mine, theirs in zip(here.models, pooled.models, strict=True):
        assert mine.metrics == pytest.approx(theirs.metrics)
        assert np.allclose(mine.predict(data.head(20)), theirs.predict(data.head(20)))
    by_name = kp.train.compare(data, executor="local", **options)
    assert len(by_name.models) == 2


def test_a_candidate_failing_on_the_executor_is_reported(sensors):
    data = sensors.drop(columns=["failure"]).head(300)
    board = kp.train.compare(data, target="efficiency", executor=LocalExecutor(workers=1),
                             algorithms=["random_forest", "linear_regression"],
                             params={"random_forest": {"n_estimators": -3}})
    assert list(board.failures) == ["random_forest"] and len(board.models) == 1
