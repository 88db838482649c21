"""The shared vocabulary of model metrics: each task's main metric and which way is better.

Trainers of every framework compute their metrics under these names, so ``kp.models.compare``
can rank a scikit-learn model against a PyTorch one from their manifests alone. The computing
itself lives with the trainers (kepler-sklearn's uses ``sklearn.metrics``).

Metric names by task:

- classification: ``accuracy``, ``precision``, ``recall``, ``f1`` (binary: of the positive
  class; multiclass: macro average), ``roc_auc``; baseline: always the majority class.
- regression / forecasting: ``rmse``, ``mae``, ``r2``, ``mape``; baseline: the training mean
  (forecasting: the last value).
- anomaly: ``anomaly_rate`` and, with labels, ``roc_auc``, ``precision``, ``recall``, ``f1``;
  baseline: flag nothing (a constant score).
- clustering: ``silhouette``, ``inertia_per_row``; baseline: one cluster (the mean).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The metric ``kp.train.compare`` and ``kp.models.compare`` rank by, per task.
MAIN_METRIC: dict[str, str] = {
    "classification": "f1",
    "regression": "rmse",
    "forecasting": "rmse",
    "anomaly": "roc_auc",
    "clustering": "inertia_per_row",
}

#: Metrics where a smaller value is better; every other metric is better when larger.
LOWER_IS_BETTER = frozenset({"rmse", "mae", "mse", "mape", "log_loss", "inertia",
                             "inertia_per_row", "fit_seconds"})

#: What the naive baseline is, per task, for reports.
BASELINE_LABEL: dict[str, str] = {
    "classification": "majority class",
    "regression": "training mean",
    "forecasting": "last value",
    "anomaly": "flag nothing",
    "clustering": "one cluster (the mean)",
}


def higher_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER


def main_metric(task: str, metrics: Mapping[str, Any] | None = None) -> str | None:
    """The task's main metric, if the model has it (an unlabelled anomaly model has none)."""
    name = MAIN_METRIC.get(task)
    if name is None or (metrics is not None and name not in metrics):
        return None
    return name


def is_better(a: float, b: float, metric: str) -> bool:
    """Whether value ``a`` beats value ``b`` on ``metric`` (strictly)."""
    return a < b if metric in LOWER_IS_BETTER else a > b


def beats_baseline(metrics: Mapping[str, Any], baseline: Mapping[str, Any],
                   metric: str | None) -> bool | None:
    """Whether the model beats its naive baseline on ``metric``; None when it cannot be told."""
    if metric is None:
        return None
    ours, theirs = metrics.get(metric), baseline.get(metric)
    if not isinstance(ours, int | float) or not isinstance(theirs, int | float):
        return None
    return is_better(float(ours), float(theirs), metric)
