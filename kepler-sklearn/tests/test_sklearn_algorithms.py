"""Every algorithm trains on the synthetic pump data, beats its naive baseline, and predicts the
same after save -> load."""

from __future__ import annotations

import kepler as kp
import numpy as np
import pytest
from kepler.api import Model

CLASSIFIERS = ["random_forest", "gradient_boosting", "hist_gradient_boosting", "extra_trees",
               "logistic_regression", "ridge", "svm", "knn", "xgboost", "lightgbm"]
REGRESSORS = ["random_forest", "gradient_boosting", "hist_gradient_boosting", "extra_trees",
              "linear_regression", "ridge", "lasso", "svm", "knn", "xgboost", "lightgbm"]
CLASSIFICATION_METRICS = {"accuracy", "precision", "recall", "f1", "roc_auc"}
REGRESSION_METRICS = {"rmse", "mae", "r2", "mape"}


def _round_trip(model: Model, data) -> Model:
    model.save()
    loaded = kp.models.load(model.name, model.version)
    assert loaded.predictor is not model.predictor  # really read back from the files
    assert np.array_equal(loaded.predict(data), model.predict(data))
    return loaded


def test_every_listed_algorithm_is_registered():
    assert set(CLASSIFIERS + REGRESSORS + ["isolation_forest", "kmeans", "sklearn", "compare"]) \
        <= set(dir(kp.train))


@pytest.mark.parametrize("algorithm", CLASSIFIERS)
def test_classifiers_beat_the_majority_class_and_round_trip(algorithm, sensors, project):
    model = getattr(kp.train, algorithm)(sensors, target="failure")
    assert (model.task, model.algorithm, model.main_metric) == ("classification", algorithm, "f1")
    assert set(model.metrics) >= CLASSIFICATION_METRICS
    assert model.baseline["f1"] == 0.0 and model.baseline["roc_auc"] == 0.5  # majority class
    assert model.metrics["f1"] > 0.6 and model.metrics["roc_auc"] > 0.8
    assert model.beats_baseline is True
    assert model.classes == [0, 1]
    matrix = model.manifest.evaluation["confusion_matrix"]
    assert matrix["labels"] == [0, 1] and sum(map(sum, matrix["matrix"])) == 120
    loaded = _round_trip(model, sensors)
    if algorithm not in ("ridge", "svm"):  # they give decision scores, not probabilities
        assert np.array_equal(loaded.predict_proba(sensors), model.predict_proba(sensors))
        assert model.predict_proba(sensors).shape == (600, 2)


@pytest.mark.parametrize("algorithm", REGRESSORS)
def test_regressors_beat_the_training_mean_on_the_newest_rows(algorithm, sensors, project):
    model = getattr(kp.train, algorithm)(sensors, target="efficiency", split="time")
    assert (model.task, model.main_metric) == ("regression", "rmse")
    assert set(model.metrics) >= REGRESSION_METRICS
    assert model.metrics["rmse"] < model.baseline["rmse"]
    assert model.beats_baseline is True
    _round_trip(model, sensors)


def test_isolation_forest_finds_the_faults_it_never_saw_labelled(sensors, project):
    model = kp.train.isolation_forest(sensors, target="failure")
    assert model.task == "anomaly" and "failure" not in model.features
    assert model.main_metric == "roc_auc" and model.metrics["roc_auc"] > 0.7
    assert model.baseline == {"anomaly_rate": 0.0, "roc_auc": 0.5, "precision": 0.0,
                              "recall": 0.0, "f1": 0.0}
    flags = model.predict(sensors)
    assert flags.dtype == bool and 0 < flags.mean() < 0.5
    quantiles = model.manifest.evaluation["score_quantiles"]
    assert quantiles["p1"] <= quantiles["p50"] <= quantiles["p99"]
    loaded = _round_trip(model, sensors)
    assert np.array_equal(loaded.score_samples(sensors), model.score_samples(sensors))


def test_isolation_forest_without_labels_reports_the_anomaly_rate(sensors):
    model = kp.train.isolation_forest(sensors.drop(columns=["failure"]))
    assert set(model.metrics) == {"anomaly_rate"} and model.main_metric is None
    assert model.beats_baseline is None


def test_kmeans_beats_one_cluster(sensors, project):
    model = kp.train.kmeans(sensors, features=["temperature", "pressure", "vibration", "flow"],
                            n_clusters=3)
    assert model.task == "clustering" and model.main_metric == "inertia_per_row"
    assert model.metrics["inertia_per_row"] < model.baseline["inertia_per_row"]
    assert -1 <= model.metrics["silhouette"] <= 1
    assert set(model.predict(sensors)) == {0, 1, 2}
    assert sum(model.manifest.evaluation["cluster_sizes"].values()) == 120
    _round_trip(model, sensors)


def test_string_labels_survive_encoding_in_xgboost(sensors, project):
    sensors["state"] = np.where(sensors["failure"] == 1, "fault", "ok")
    model = kp.train.xgboost(sensors.drop(columns=["failure"]), target="state")
    assert model.classes == ["fault", "ok"]
    assert model.manifest.evaluation["positive_class"] == "fault"  # the rarer class
    assert set(model.predict(sensors)) <= {"fault", "ok"}
    loaded = _round_trip(model, sensors)
    assert list(loaded.predict(sensors.head(3))) == list(model.predict(sensors.head(3)))


def test_multiclass_uses_macro_averages(sensors, project):
    sensors["band"] = np.digitize(sensors["efficiency"], [86, 89])
    model = kp.train.lightgbm(sensors.drop(columns=["efficiency"]), target="band", split="random")
    assert model.classes == [0, 1, 2]
    assert model.manifest.evaluation["average"] == "macro"
    assert model.predict_proba(sensors).shape == (600, 3)
    assert model.metrics["accuracy"] > model.baseline["accuracy"]
    _round_trip(model, sensors)
