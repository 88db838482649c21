"""Automatic metrics per task, always next to a naive baseline on the same rows.

Names and directions follow core's metric vocabulary (``kepler.api.MAIN_METRIC``), so models of
every framework rank together.
The baselines are scikit-learn's own ``DummyClassifier`` (majority class) and ``DummyRegressor``
(training mean), fitted on the training rows; for anomalies the baseline flags nothing, for
clustering it puts every row in one cluster. A model that does not beat its baseline is not
worth deploying, and the user sees it at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from kepler.api import json_safe, main_metric
from sklearn import metrics as skm
from sklearn.dummy import DummyClassifier, DummyRegressor

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@dataclass
class Evaluation:
    """Scalar metrics, the baseline's on the same rows, and non-scalar details."""

    metrics: dict[str, float]
    baseline: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)

    def main(self, task: str) -> str | None:
        return main_metric(task, self.metrics)


def positive_class(y_train: pd.Series) -> Any:
    """Binary problems: the rarer training class is the one to detect (failures, faults);
    a tie goes to the larger value (1, True, 'yes')."""
    counts = pd.Series(y_train).value_counts()
    rarest = counts[counts == counts.min()].index
    return sorted(rarest, key=lambda v: (str(type(v)), v))[-1]


def _scores(y_true: Any, y_pred: Any, proba: np.ndarray | None, decision: np.ndarray | None,
            classes: list[Any], positive: Any) -> dict[str, float]:
    binary = len(classes) == 2
    average = "binary" if binary else "macro"
    extra = {"pos_label": positive} if binary else {}
    result = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(y_true, y_pred, average=average, zero_division=0,
                                         labels=None if binary else classes, **extra),
        "recall": skm.recall_score(y_true, y_pred, average=average, zero_division=0,
                                   labels=None if binary else classes, **extra),
        "f1": skm.f1_score(y_true, y_pred, average=average, zero_division=0,
                           labels=None if binary else classes, **extra),
    }
    present = set(pd.unique(np.asarray(y_true, dtype=object)))
    if binary and len(present) == 2:
        if proba is not None:
            score = proba[:, classes.index(positive)]
        elif decision is not None:  # decision_function is positive towards classes[1]
            score = decision if classes.index(positive) == 1 else -decision
        else:
            score = None
        if score is not None:
            truth = np.asarray(y_true, dtype=object) == positive
            result["roc_auc"] = skm.roc_auc_score(truth, score)
    elif not binary and proba is not None and present == set(classes):
        result["roc_auc"] = skm.roc_auc_score(y_true, proba, multi_class="ovr",
                                              labels=classes)
    return {k: float(v) for k, v in result.items()}


def classification(predictor: Any, X_test: pd.DataFrame, y_test: pd.Series,
                   y_train: pd.Series) -> Evaluation:
    classes = list(predictor.classes)
    y_pred = predictor.predict(X_test)
    proba = decision = None
    if hasattr(predictor.estimator, "predict_proba"):
        proba = predictor.predict_proba(X_test)
    elif hasattr(predictor.estimator, "decision_function") and len(classes) == 2:
        decision = predictor.decision_function(X_test)
    return score_classification(y_test, y_pred, y_train, classes, proba=proba, decision=decision)


def score_classification(y_test: pd.Series, y_pred: Any, y_train: pd.Series,
                         classes: list[Any], *, proba: np.ndarray | None = None,
                         decision: np.ndarray | None = None) -> Evaluation:
    """Classification metrics of predictions already made, next to the majority class.

    For trainers whose samples are not table rows (kepler-torch's windows of sensor readings):
    they predict, this scores, so every framework's metrics mean the same.
    """
    classes = list(classes)
    positive = positive_class(y_train) if len(classes) == 2 else None
    ours = _scores(y_test, y_pred, proba, decision, classes, positive)
    dummy = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(y_train), 1)), y_train)
    zeros = np.zeros((len(y_test), 1))
    theirs = _scores(y_test, dummy.predict(zeros), dummy.predict_proba(zeros), None, classes,
                     positive)
    matrix = skm.confusion_matrix(y_test, y_pred, labels=classes)
    details = {"confusion_matrix": {"labels": json_safe(classes), "matrix": matrix.tolist()},
               "positive_class": json_safe(positive),
               "average": "binary" if len(classes) == 2 else "macro",
               "support": json_safe(pd.Series(y_test).value_counts().to_dict())}
    return Evaluation(ours, {k: v for k, v in theirs.items() if k in ours}, details)


def regression_scores(y_true: Any, y_pred: Any) -> dict[str, float]:
    """rmse, mae, r2 and mape of ``y_pred`` against ``y_true``."""
    return {
        "rmse": float(skm.root_mean_squared_error(y_true, y_pred)),
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "r2": float(skm.r2_score(y_true, y_pred)),
        "mape": float(skm.mean_absolute_percentage_error(y_true, y_pred)),
    }


def regression(predictor: Any, X_test: pd.DataFrame, y_test: pd.Series,
               y_train: pd.Series) -> Evaluation:
    return score_regression(y_test, predictor.predict(X_test), y_train)


def score_regression(y_test: Any, y_pred: Any, y_train: Any) -> Evaluation:
    """Regression metrics of predictions already made, next to the training mean."""
    y_true = np.asarray(y_test, dtype="float64")
    y_pred = np.asarray(y_pred, dtype="float64")
    ours = regression_scores(y_true, y_pred)
    dummy = DummyRegressor(strategy="mean").fit(np.zeros((len(y_train), 1)),
                                                np.asarray(y_train, dtype="float64"))
    theirs = regression_scores(y_true, dummy.predict(np.zeros((len(y_true), 1))))
    details = {"residual_quantiles": quantiles(y_true - y_pred),
               "baseline_prediction": float(dummy.constant_.ravel()[0])}
    return Evaluation(ours, theirs, details)


def quantiles(values: np.ndarray) -> dict[str, float]:
    if not len(values):
        return {}
    found = np.quantile(values, QUANTILES)
    return {f"p{round(q * 100)}": float(v) for q, v in zip(QUANTILES, found, strict=True)}


def anomaly(predictor: Any, X_test: pd.DataFrame, y_test: pd.Series | None,
            y_train: pd.Series | None) -> Evaluation:
    flags = np.asarray(predictor.predict(X_test), dtype=bool)
    scores = predictor.score_samples(X_test)
    ours: dict[str, float] = {"anomaly_rate": float(flags.mean())}
    theirs: dict[str, float] = {"anomaly_rate": 0.0}
    details: dict[str, Any] = {"score_quantiles": quantiles(scores),
                               "score_min": float(scores.min()), "score_max": float(scores.max())}
    if y_test is not None and y_train is not None and y_test.nunique() == 2:
        positive = positive_class(y_train)
        truth = (y_test.to_numpy(dtype=object) == positive)
        ours.update({
            "roc_auc": float(skm.roc_auc_score(truth, -scores)),
            "precision": float(skm.precision_score(truth, flags, zero_division=0)),
            "recall": float(skm.recall_score(truth, flags, zero_division=0)),
            "f1": float(skm.f1_score(truth, flags, zero_division=0)),
        })
        theirs.update({"roc_auc": 0.5, "precision": 0.0, "recall": 0.0, "f1": 0.0})
        details["labels_from"] = str(y_test.name)
        details["positive_class"] = json_safe(positive)
    return Evaluation(ours, theirs, details)


def clustering(predictor: Any, X_test: pd.DataFrame, X_train: pd.DataFrame) -> Evaluation:
    test = np.asarray(predictor.transform(X_test), dtype="float64")
    labels = np.asarray(predictor.predict(X_test))
    estimator = predictor.estimator
    if hasattr(estimator, "cluster_centers_"):
        centres = np.asarray(estimator.cluster_centers_)[labels]
    else:  # centroids of the held-out rows' own clusters
        means = {label: test[labels == label].mean(axis=0) for label in np.unique(labels)}
        centres = np.vstack([means[label] for label in labels])
    ours: dict[str, float] = {
        "inertia_per_row": float(np.mean(np.sum((test - centres) ** 2, axis=1)))}
    mean = np.asarray(predictor.transform(X_train), dtype="float64").mean(axis=0)
    theirs = {"inertia_per_row": float(np.mean(np.sum((test - mean) ** 2, axis=1)))}
    distinct = len(np.unique(labels))
    if 2 <= distinct < len(test):
        ours["silhouette"] = float(skm.silhouette_score(
            test, labels, sample_size=min(len(test), 2000), random_state=0))
    sizes = pd.Series(labels).value_counts().sort_index()
    return Evaluation(ours, theirs, {"cluster_sizes": json_safe(sizes.to_dict())})


def evaluate(task: str, predictor: Any, X_train: pd.DataFrame, X_test: pd.DataFrame,
             y_train: pd.Series | None, y_test: pd.Series | None) -> Evaluation:
    """The task's metrics and baseline on the held-out rows."""
    if task == "classification":
        assert y_train is not None and y_test is not None
        return classification(predictor, X_test, y_test, y_train)
    if task == "regression":
        assert y_train is not None and y_test is not None
        return regression(predictor, X_test, y_test, y_train)
    if task == "anomaly":
        return anomaly(predictor, X_test, y_test, y_train)
    if task == "clustering":
        return clustering(predictor, X_test, X_train)
    raise ValueError(f"unknown task {task!r}")


def average(evaluations: list[Evaluation]) -> Evaluation:
    """Cross-validation: the mean of each metric over the folds, with per-fold values kept."""
    names = [n for n in evaluations[0].metrics if all(n in e.metrics for e in evaluations)]
    base = [n for n in evaluations[0].baseline if all(n in e.baseline for e in evaluations)]
    per_fold = {n: [e.metrics[n] for e in evaluations] for n in names}
    return Evaluation(
        {n: float(np.mean(v)) for n, v in per_fold.items()},
        {n: float(np.mean([e.baseline[n] for e in evaluations])) for n in base},
        {"folds": len(evaluations), "per_fold": per_fold,
         "std": {n: float(np.std(v)) for n, v in per_fold.items()},
         "last_fold": evaluations[-1].details},
    )
