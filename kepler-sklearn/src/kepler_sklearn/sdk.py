"""``kp.train.sklearn``: any scikit-learn-compatible estimator, trained the Kepler way.

This is how any library works with Kepler: CatBoost, a scikit-learn ``Pipeline`` of your own,
or your own class that implements ``fit``/``predict``. It gets the same preprocessing, splits,
metrics against a baseline, artifact and registry as the built-in algorithms.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import Any

from kepler.api import Model, TrainingError, finish_training

from .training import Candidate, fit

_XGBOOST = {"XGBClassifier", "XGBRegressor"}
_LIGHTGBM = {"LGBMClassifier", "LGBMRegressor"}


def resolve_estimator(estimator: Any) -> Any:
    """An estimator instance from an instance, a class, or an import path
    (``"catboost:CatBoostClassifier"`` or ``"catboost.CatBoostClassifier"``)."""
    if isinstance(estimator, str):
        module_name, sep, attr = estimator.partition(":")
        if not sep:
            module_name, _, attr = estimator.rpartition(".")
        if not module_name or not attr:
            raise TrainingError(f"{estimator!r} is not an import path of a class.",
                                hint="Write 'package.module:ClassName', e.g. "
                                "'sklearn.ensemble:RandomForestClassifier'.")
        try:
            cls = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise TrainingError(f"Cannot import {estimator!r}: {exc}",
                                hint="Install the library that provides it, or fix the path.") \
                from exc
        estimator = cls
    if isinstance(estimator, type):
        estimator = estimator()
    if not callable(getattr(estimator, "fit", None)) or not callable(
            getattr(estimator, "get_params", None)):
        raise TrainingError(
            f"{type(estimator).__name__} is not a scikit-learn-compatible estimator: it needs "
            "fit() and get_params().",
            hint="Subclass sklearn.base.BaseEstimator, or wrap the model in a class that does.",
        )
    return estimator


def _task_of(estimator: Any) -> tuple[str, ...]:
    from sklearn.utils import get_tags

    try:
        kind = get_tags(estimator).estimator_type
    except Exception:  # an estimator too far from scikit-learn for tags: let the data decide
        kind = getattr(estimator, "_estimator_type", None)
    return {"classifier": ("classification",), "regressor": ("regression",),
            "outlier_detector": ("anomaly",), "clusterer": ("clustering",)}.get(
        str(kind), ("classification", "regression"))


def candidate_for_estimator(estimator: Any, *, trusted: Iterable[str] = (),
                            preprocess: bool = True, scale: bool = True) -> Candidate:
    """How to train and save an arbitrary estimator: XGBoost and LightGBM in their native
    formats, everything else with skops."""
    from sklearn.base import clone

    kind = type(estimator).__name__
    top = type(estimator).__module__.split(".")[0]
    fmt, encode = "skops", False
    if top == "xgboost" and kind in _XGBOOST:
        fmt, encode = "xgboost-ubj", True
    elif top == "lightgbm" and kind in _LIGHTGBM:
        fmt, encode = "lightgbm-text", True
    template = clone(estimator)
    return Candidate(algorithm=kind, tasks=_task_of(estimator), make=lambda task: clone(template),
                     scale=scale, format=fmt, encode_labels=encode, preprocess=preprocess,
                     trusted=tuple(trusted), trainer="sklearn")


def train_sklearn(estimator: Any, data: Any, target: str | None = None, *,
                  features: Sequence[str] | None = None, task: str = "auto",
                  test_size: float = 0.2, split: str = "auto", cv: int | None = None,
                  random_state: int | None = 0, name: str | None = None,
                  time_column: str | None = None, groups: str | None = None,
                  trusted: Iterable[str] = (),
                  preprocess: bool = True, scale: bool = True, save: bool = False,
                  **params: Any) -> Model:
    """Train any scikit-learn-compatible estimator on ``data``.

    ``estimator``: an instance (``LogisticRegression(C=0.5)``), a class, or an import path
    (``"catboost:CatBoostClassifier"``). ``params`` set its parameters (unknown ones are an error
    listing the valid ones).

    Keywords shared by every ``kp.train.*``:

    - ``target``: the column to predict (optional for anomaly detection and clustering);
    - ``features``: the input columns (default: every other usable column except Splunk's own
      fields such as ``host``, ``source``, ``_time`` (``kepler_tabular.SPLUNK_FIELDS``) and
      columns holding lists (multivalue fields); the notes name what was left out and why);
    - ``task``: "auto" (labels -> classification, numbers -> regression), or name it;
    - ``test_size``: fraction of rows held out for the metrics;
    - ``split``: "auto" (default: "time" when the data has a time column, else "random"; the
      manifest records the choice), "random", or "time" to hold out the newest rows
      (``time_column`` names the timestamp; default ``_time`` or the only datetime column), or
      "group" to hold out whole groups (``groups`` names the column: a pump, a site; never in
      training and testing both);
    - ``cv``: k-fold cross-validated metrics instead (the model is then fitted on every row);
    - ``random_state``: for the split and the estimator; ``name``: the registry name;
    - ``save``: save to the registry as the next version (unless a version identical in data,
      parameters, features and split exists: that one is reused, with a note).

    Specific to this function: ``preprocess=False`` hands the raw table to the estimator (it does
    its own preprocessing); ``scale=False`` skips standard scaling. ``trusted`` lists your own
    classes the payload contains: the model is saved with skops, which rebuilds only trusted
    types, so name them here (``trusted=["mypkg.models.MyModel"]``) and again when loading
    (``kp.models.load(..., trusted=[...])`` or ``sklearn.trusted_types`` in kepler.yml). Nothing
    is ever pickled.

    Example::

        from sklearn.linear_model import LogisticRegression
        model = kp.train.sklearn(LogisticRegression(C=0.5), df, target="failure")
        model = kp.train.sklearn("catboost:CatBoostClassifier", df, target="failure",
                                 verbose=False, trusted=["catboost.core.CatBoostClassifier"])
    """
    instance = resolve_estimator(estimator)
    candidate = candidate_for_estimator(instance, trusted=trusted, preprocess=preprocess,
                                        scale=scale)
    model = fit(candidate, data, target=target, features=features, task=task,
                test_size=test_size, split=split, cv=cv, random_state=random_state, name=name,
                time_column=time_column, groups=groups, **params)
    return finish_training("sklearn", model, save=save)
