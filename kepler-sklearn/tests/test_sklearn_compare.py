"""kp.train.compare (parallel training, one split for all) and kp.models.compare (saved models)."""

from __future__ import annotations

import os

import kepler as kp
import pytest
from kepler.api import CapabilityNotInstalledError, ModelError, TrainingError
from plugin_subscriber import Subscriber
from sklearn.linear_model import LogisticRegression

FOUR = ["random_forest", "logistic_regression", "knn", "extra_trees"]


def test_compare_ranks_by_f1_and_every_candidate_shares_one_split(sensors, kepler_plugin):
    subscriber = kepler_plugin(Subscriber(), name="subscriber")
    board = kp.train.compare(sensors, target="failure", algorithms=FOUR, n_jobs=1,
                             params={"random_forest": {"n_estimators": 20}})
    scores = [m.metrics["f1"] for m in board.models]
    assert scores == sorted(scores, reverse=True)
    assert board.metric == "f1" and board.best is board.models[0]
    assert list(board.leaderboard["model"]) == board.labels
    assert list(board.leaderboard["f1"]) == scores
    assert list(board.leaderboard.index) == [1, 2, 3, 4]
    assert sorted(board.labels) == sorted(FOUR)
    assert board["random_forest"].manifest.params["n_estimators"] == 20
    # the same held-out rows: the majority-class baseline scores identically for everyone
    assert len({tuple(sorted(m.baseline.items())) for m in board.models}) == 1
    assert {m.manifest.training.rows_test for m in board.models} == {120}
    assert board.workers == (os.getpid(),)  # n_jobs=1: in this process
    assert sorted(e.trainer for _, e in subscriber.events) == sorted(FOUR)


def test_parallel_compare_uses_several_workers_and_ranks_the_same(sensors):
    kwargs = {"target": "failure", "algorithms": FOUR,
              "params": {"random_forest": {"n_estimators": 20}, "extra_trees":
                         {"n_estimators": 20}}}
    kp.train.compare(sensors, n_jobs=2, **kwargs)  # start both workers
    board = kp.train.compare(sensors, n_jobs=2, **kwargs)
    assert len(board.workers) == 2 and os.getpid() not in board.workers
    alone = kp.train.compare(sensors, n_jobs=1, **kwargs)
    assert board.labels == alone.labels
    assert [m.metrics for m in board] == [m.metrics for m in alone]


def test_regression_ranks_lowest_rmse_first(sensors):
    board = kp.train.compare(sensors, target="efficiency", split="time", n_jobs=1,
                             algorithms=["ridge", "knn", LogisticRegression()])
    assert board.failures and "LogisticRegression" in board.failures  # cannot do regression
    assert board.metric == "rmse" and not board.higher_is_better
    rmse = [m.metrics["rmse"] for m in board]
    assert rmse == sorted(rmse) and len(rmse) == 2


def test_default_candidates_follow_the_task(sensors):
    board = kp.train.compare(sensors, target="failure", n_jobs=1, test_size=0.3)
    assert sorted(board.labels) == ["extra_trees", "hist_gradient_boosting",
                                    "logistic_regression", "random_forest"]
    assert {m.manifest.training.rows_test for m in board} == {180}


def test_compare_errors_are_clear(sensors):
    with pytest.raises(CapabilityNotInstalledError, match="Did you mean 'random_forest'"):
        kp.train.compare(sensors, target="failure", algorithms=["random_forrest"])
    with pytest.raises(TrainingError, match="Unknown keyword.*n_estimators"):
        kp.train.compare(sensors, target="failure", n_estimators=5)
    with pytest.raises(TrainingError, match="params names candidate.*svm"):
        kp.train.compare(sensors, target="failure", algorithms=["ridge"],
                         params={"svm": {"C": 1}})
    with pytest.raises(TrainingError, match="Every candidate failed"):
        kp.train.compare(sensors, target="failure", algorithms=["linear_regression"])


def test_plot_draws_one_panel_per_metric_with_the_baseline(sensors, tmp_path):
    board = kp.train.compare(sensors, target="failure", n_jobs=1,
                             algorithms=["logistic_regression", "knn"])
    figure = board.plot(["f1", "accuracy"])
    assert len(figure.axes) == 2
    bars = [patch.get_height() for patch in figure.axes[0].patches]
    assert bars == pytest.approx([m.metrics["f1"] for m in board])
    baseline = figure.axes[0].lines[0].get_ydata()[0]
    assert baseline == pytest.approx(board.best.baseline["f1"])
    figure.savefig(tmp_path / "compare.png")
    assert (tmp_path / "compare.png").read_bytes().startswith(b"\x89PNG")
    assert "<table>" in board._repr_html_()
    assert repr(board).startswith("Comparison of 2 classification model(s) by f1")


def test_models_compare_ranks_saved_models_of_any_origin(sensors, project):
    kp.train.ridge(sensors, target="failure", name="pumps").save()
    kp.train.random_forest(sensors, target="failure", n_estimators=20, name="pumps").save()
    kp.train.logistic_regression(sensors, target="failure").save(project / "exported")
    board = kp.models.compare(["pumps:1", "pumps:2", "exported"])
    scores = [m.metrics["f1"] for m in board]
    assert scores == sorted(scores, reverse=True)
    assert set(board.labels) == {"pumps:1", "pumps:2", "logistic_regression"}
    by_accuracy = kp.models.compare(["pumps:1", "pumps:2"], metric="accuracy")
    assert by_accuracy.metric == "accuracy"
    kp.train.ridge(sensors, target="efficiency", name="eff").save()
    with pytest.raises(ModelError, match="different tasks"):
        kp.models.compare(["pumps:1", "eff"])
