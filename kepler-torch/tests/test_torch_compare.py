"""PyTorch and scikit-learn models in one leaderboard."""

from __future__ import annotations

import kepler as kp
import pytest
from torch_test_modules import Subscriber

# scikit-learn's trainers and kp.train.compare come with kepler-sklearn, which kepler-torch does
# not need: these run where both are installed.
pytest.importorskip("kepler_sklearn")


def test_models_compare_ranks_saved_torch_and_sklearn_models_together(sensors, project):
    kp.train.pytorch(sensors, target="failure", epochs=12, progress=False, save=True)
    kp.train.logistic_regression(sensors, target="failure", save=True)
    kp.train.random_forest(sensors, target="failure", n_estimators=10, save=True)
    board = kp.models.compare(["failure-mlp", "failure-logistic_regression:1",
                               "failure-random_forest"])
    assert board.metric == "f1" and len(board) == 3
    frame = board.leaderboard
    assert sorted(frame["framework"]) == ["pytorch", "scikit-learn", "scikit-learn"]
    assert list(frame["f1"]) == sorted(frame["f1"], reverse=True)
    assert set(frame["baseline_f1"]) == {0.0}  # the same held-out rows for every framework
    assert {m.manifest.training.rows_test for m in board} == {120}
    mlp = board["failure-mlp:1"]
    assert mlp.beats_baseline and mlp.algorithm == "mlp"
    figure = board.plot(["f1"])
    assert len(figure.axes[0].patches) == 3


def test_train_compare_takes_pytorch_as_a_candidate(sensors, kepler_plugin):
    subscriber = kepler_plugin(Subscriber(), name="subscriber")
    board = kp.train.compare(sensors, target="efficiency", n_jobs=1, split="time",
                             algorithms=["ridge", "pytorch"],
                             params={"pytorch": {"epochs": 12, "progress": False}})
    assert sorted(board.labels) == ["mlp", "ridge"] and board.metric == "rmse"
    assert not board.failures
    assert len({tuple(sorted(m.baseline.items())) for m in board}) == 1  # one split for both
    assert sorted(e.trainer for e in subscriber.events) == ["pytorch", "ridge"]


def test_parallel_compare_carries_torchscript_models_back_from_its_workers(sensors):
    from torch_test_modules import TinyNet

    board = kp.train.compare(sensors, target="failure", n_jobs=2,
                             algorithms=["logistic_regression", "pytorch"],
                             params={"pytorch": {"model": TinyNet, "epochs": 12,
                                                 "progress": False}})
    assert not board.failures and len(board.workers) == 2
    net = board["TinyNet"]
    assert net.manifest.format.name == "torchscript"
    assert len(net.predict(sensors.head(3))) == 3


def test_a_trained_model_pickles_for_other_processes(sensors):
    import pickle

    import numpy as np
    from torch_test_modules import TinyNet

    model = kp.train.pytorch(sensors, target="failure", model=TinyNet, epochs=1, progress=False)
    copy = pickle.loads(pickle.dumps(model))
    assert np.array_equal(copy.predict_proba(sensors), model.predict_proba(sensors))
