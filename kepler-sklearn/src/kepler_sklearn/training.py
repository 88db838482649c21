"""Fit, evaluate and describe one scikit-learn-style estimator: the engine behind every trainer.

``kp.train.<algorithm>`` and ``kp.train.sklearn`` both end here with a :class:`Candidate` (how to
build the estimator) and the user's keywords. The result is a :class:`kepler.model.Model` whose
predictor carries its preprocessing, whose manifest holds metrics against a naive baseline, the
feature schema, the effective parameters, lineage and the package versions it needs.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from kepler.api import (
    Environment,
    FormatInfo,
    KeplerError,
    Model,
    ModelManifest,
    TargetInfo,
    TrainerInfo,
    TrainingError,
    TrainingInfo,
    json_safe,
)
from kepler.api import check_model_name as check_name
from kepler_tabular import (
    Evaluation,
    Prepared,
    average,
    build_preprocessor,
    class_warnings,
    default_name,
    describe_data,
    distribution_of,
    evaluate,
    folds,
    holdout,
    prepare,
)
from sklearn.base import clone

from . import __version__
from .predictor import LightGBMBooster, TabularModel

log = logging.getLogger(__name__)

#: Keywords every trainer takes; anything else is a parameter of the estimator.
KEPLER_KEYWORDS = ("target", "features", "task", "test_size", "split", "cv", "random_state",
                   "name", "time_column", "groups", "save")
#: Packages (import names) every scikit-learn-family model needs to load.
BASE_MODULES = ("kepler", "kepler_tabular", "kepler_sklearn", "sklearn", "skops", "numpy", "scipy",
                "pandas")


@dataclass(frozen=True)
class Candidate:
    """How to build one estimator and how to save it."""

    #: Shown as the model's algorithm: "random_forest", or a class name for kp.train.sklearn.
    algorithm: str
    #: Tasks it can do.
    tasks: tuple[str, ...]
    #: ``make(task) -> unfitted estimator`` with its defaults (not the user's params yet).
    make: Callable[[str], Any]
    scale: bool = False
    format: str = "skops"
    encode_labels: bool = False
    preprocess: bool = True
    trusted: tuple[str, ...] = ()
    #: The trainer's name in events and the manifest ("random_forest", "sklearn").
    trainer: str = ""
    #: Extra default parameters applied before the user's.
    defaults: Mapping[str, Any] | None = None


def valid_params(estimator: Any) -> list[str]:
    """The estimator's parameters: what ``get_params`` reports plus the named arguments of its
    ``__init__`` (CatBoost and LightGBM report only the parameters that were set)."""
    names = set(estimator.get_params(deep=False))
    try:
        signature = inspect.signature(type(estimator).__init__)
    except (TypeError, ValueError):
        return sorted(names)
    names |= {p.name for p in signature.parameters.values() if p.name != "self"
              and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return sorted(names)


def configure(estimator: Any, algorithm: str, params: Mapping[str, Any],
              random_state: int | None) -> Any:
    """Apply the user's parameters, refusing unknown ones with the list of valid ones."""
    valid = valid_params(estimator)
    unknown = [p for p in params if p not in valid]
    if unknown:
        close = difflib.get_close_matches(unknown[0], valid, n=1)
        raise TrainingError(
            f"Unknown parameter(s) for {algorithm} ({type(estimator).__name__}): "
            f"{', '.join(unknown)}." + (f" Did you mean {close[0]!r}?" if close else ""),
            hint=f"Valid parameters: {', '.join(valid)}. Kepler's own keywords: "
            f"{', '.join(KEPLER_KEYWORDS)}.",
        )
    settings = dict(params)
    current = estimator.get_params(deep=False)
    if ("random_state" in valid and "random_state" not in settings and random_state is not None
            and current.get("random_state") is None):  # an instance's own seed is kept
        settings["random_state"] = random_state
    try:
        return estimator.set_params(**settings)
    except (TypeError, ValueError) as exc:
        raise TrainingError(f"Invalid parameters for {algorithm}: {exc}",
                            hint=f"Valid parameters: {', '.join(valid)}.") from exc


def _fit(pipeline_steps: tuple[Any, Any], X: pd.DataFrame, y: Any, algorithm: str
         ) -> tuple[Any, Any, float]:
    """Fit preprocessing then estimator; return both fitted and the seconds it took."""
    preprocess, estimator = pipeline_steps
    started = time.perf_counter()
    try:
        features = preprocess.fit_transform(X) if preprocess is not None else X
        if y is None:
            estimator.fit(features)
        else:
            estimator.fit(features, y)
    except KeplerError:
        raise
    except (ValueError, TypeError) as exc:  # scikit-learn's InvalidParameterError is a ValueError
        raise TrainingError(f"{algorithm} failed to train: {exc}",
                            hint="Check the parameters and the data types of the features.") \
            from exc
    return preprocess, estimator, time.perf_counter() - started


class _Run:
    """One training run: the prepared data, the estimator template and the label encoding."""

    def __init__(self, candidate: Candidate, prepared: Prepared, estimator: Any) -> None:
        self.candidate = candidate
        self.prepared = prepared
        self.template = estimator
        self.classes: list[Any] | None = None
        #: Notes already logged as warnings (not logged again as information).
        self.warned: set[str] = set()
        if prepared.task == "classification":
            assert prepared.y is not None
            self.classes = list(np.unique(prepared.y.to_numpy()))
            if len(self.classes) < 2:
                raise TrainingError(
                    f"The target {prepared.y.name!r} has only one class ({self.classes[0]!r}); "
                    "there is nothing to tell apart.",
                    hint="Widen the time range so the data holds both outcomes.")

    def _labels(self, y: pd.Series | None) -> Any:
        if y is None or self.prepared.task not in ("classification", "regression"):
            return None
        if self.prepared.task == "classification" and self.candidate.encode_labels:
            assert self.classes is not None
            return np.searchsorted(np.asarray(self.classes), y.to_numpy())
        return y.to_numpy()

    def fit(self, rows: np.ndarray) -> tuple[TabularModel, float]:
        X = self.prepared.X.iloc[rows]
        y = self.prepared.y.iloc[rows] if self.prepared.y is not None else None
        preprocess = (build_preprocessor(self.prepared.schema, scale=self.candidate.scale)
                      if self.candidate.preprocess else None)
        preprocess, estimator, seconds = _fit((preprocess, clone(self.template)), X,
                                              self._labels(y), self.candidate.algorithm)
        if self.candidate.format == "lightgbm-text":  # predict as it will after loading
            estimator = LightGBMBooster(estimator.booster_, task=self.prepared.task,
                                        n_classes=len(self.classes or []) or None)
        predictor = TabularModel(preprocess, estimator, task=self.prepared.task,
                                 classes=self.classes,
                                 encoded=self.candidate.encode_labels and self.classes is not None,
                                 trusted=self.candidate.trusted)
        return predictor, seconds

    def evaluate(self, predictor: TabularModel, train: np.ndarray, test: np.ndarray
                 ) -> Evaluation:
        X, y = self.prepared.X, self.prepared.y
        return evaluate(
            self.prepared.task, predictor, X.iloc[train], X.iloc[test],
            y.iloc[train] if y is not None else None, y.iloc[test] if y is not None else None)


@dataclass
class _Outcome:
    """What evaluating a run gave: the model kept, its metrics and the rows behind them."""

    predictor: TabularModel
    result: Evaluation
    seconds: float
    rows_train: int
    rows_test: int


def _holdout(run: _Run, *, test_size: float, split: str, random_state: int | None
             ) -> _Outcome:
    """Fit on the training rows, score on the held-out ones."""
    prepared = run.prepared
    train_rows, test_rows = holdout(prepared, test_size=test_size, split=split,
                                    random_state=random_state)
    predictor, seconds = run.fit(train_rows)
    result = run.evaluate(predictor, train_rows, test_rows)
    if run.classes is not None and prepared.y is not None:
        seen = prepared.y.iloc[test_rows].nunique()
        if seen < len(run.classes):
            prepared.notes.append(
                f"the held-out rows hold only {seen} of the {len(run.classes)} classes, so "
                "the metrics cannot show how well the others are recognised; use more "
                "data, a larger test_size, split='random' or cv")
        _warn(run, class_warnings(prepared.y.iloc[train_rows], prepared.y.iloc[test_rows]))
    if prepared.time_column is not None:
        times = prepared.frame[prepared.time_column]
        result.details["train_period"] = _period(times.iloc[train_rows])
        result.details["test_period"] = _period(times.iloc[test_rows])
    return _Outcome(predictor, result, seconds, len(train_rows), len(test_rows))


def _warn(run: _Run, notes: list[str]) -> None:
    """Metrics that rest on too few rows: logged as warnings and kept in the manifest's notes
    (``kepler train`` prints them)."""
    for note in notes:
        log.warning("%s: %s", run.candidate.algorithm, note)
    run.prepared.notes.extend(notes)
    run.warned.update(notes)


def _cross_validate(run: _Run, *, cv: int, split: str, random_state: int | None) -> _Outcome:
    """Metrics averaged over the folds; the model kept is fitted on every row."""
    results = []
    for train_rows, test_rows in folds(run.prepared, cv=cv, split=split,
                                       random_state=random_state):
        fold_predictor, _ = run.fit(train_rows)
        results.append(run.evaluate(fold_predictor, train_rows, test_rows))
    if run.classes is not None and run.prepared.y is not None:
        _warn(run, class_warnings(run.prepared.y, folds=cv))
    everything = np.arange(len(run.prepared.frame))
    predictor, seconds = run.fit(everything)
    return _Outcome(predictor, average(results), seconds, len(everything), 0)


def _manifest(candidate: Candidate, run: _Run, outcome: _Outcome, data: Any, *,
              target: str | None, name: str | None, training: TrainingInfo,
              estimator: Any, started: float) -> ModelManifest:
    prepared, result = run.prepared, outcome.result
    return ModelManifest(
        name=name or default_name(target, candidate.algorithm, prepared.task),
        description=f"{candidate.algorithm} ({prepared.task})"
        + (f" predicting {target!r}" if target and prepared.task != "anomaly" else ""),
        task=prepared.task, algorithm=candidate.algorithm,
        target=TargetInfo(name=target,
                          dtype=str(prepared.y.dtype) if prepared.y is not None else None,
                          classes=json_safe(run.classes) if run.classes is not None else None),
        trainer=TrainerInfo(name=candidate.trainer or candidate.algorithm, plugin="sklearn",
                            distribution="kepler-sklearn", version=__version__,
                            framework=_framework(estimator),
                            framework_version=_version_of(type(estimator).__module__)),
        features=prepared.schema,
        metrics=result.metrics, baseline=result.baseline, main_metric=result.main(prepared.task),
        evaluation=json_safe(result.details),
        params=json_safe(estimator.get_params(deep=False)),
        training=training,
        lineage=describe_data(data if isinstance(data, pd.DataFrame) else prepared.frame),
        environment=environment_of(estimator),
        format=FormatInfo(name=candidate.format),
        extra={"total_seconds": round(time.perf_counter() - started, 4)},
    )


def fit(candidate: Candidate, data: Any, *, target: str | None = None,
        features: Sequence[str] | None = None, task: str = "auto", test_size: float = 0.2,
        split: str = "auto", cv: int | None = None, random_state: int | None = 0,
        name: str | None = None, time_column: str | None = None, groups: str | None = None,
        **params: Any) -> Model:
    """Train, evaluate and describe one candidate; see :func:`kepler_sklearn.sdk.train_sklearn`
    for the meaning of each keyword."""
    started = time.perf_counter()
    if name is not None:
        check_name(name)  # before training, not at save time
    prepared = prepare(data, target=target, features=features, task=task,
                       tasks=candidate.tasks, algorithm=candidate.algorithm, split=split,
                       time_column=time_column, groups=groups)
    estimator = candidate.make(prepared.task)
    if candidate.defaults:
        estimator.set_params(**candidate.defaults)
    estimator = configure(estimator, candidate.algorithm, params, random_state)
    run = _Run(candidate, prepared, estimator)
    split = prepared.split  # "auto" resolved
    if cv is None:
        outcome = _holdout(run, test_size=test_size, split=split, random_state=random_state)
    else:
        outcome = _cross_validate(run, cv=cv, split=split, random_state=random_state)
    for note in prepared.notes:
        if note not in run.warned:
            log.info("%s: %s", candidate.algorithm, note)
    training = TrainingInfo(
        seconds=round(outcome.seconds, 4), rows_train=outcome.rows_train,
        rows_test=outcome.rows_test, split=split, test_size=None if cv else test_size, cv=cv,
        random_state=random_state, time_column=prepared.time_column,
        groups=prepared.group_column, left_out=prepared.left_out,
        evaluated_on="cv" if cv else "holdout", notes=prepared.notes)
    manifest = _manifest(candidate, run, outcome, data, target=target, name=name,
                         training=training, estimator=estimator, started=started)
    return Model(manifest, outcome.predictor)


def _period(times: pd.Series) -> dict[str, str]:
    return {"from": str(times.min().isoformat()), "to": str(times.max().isoformat())}


def _version_of(module: str) -> str:
    found = distribution_of(module)
    return found[1] if found else ""


def _framework(estimator: Any) -> str:
    top = type(estimator).__module__.split(".")[0]
    return {"sklearn": "scikit-learn"}.get(top, top)


def environment_of(estimator: Any) -> Environment:
    """Exact versions of what loading needs, plus modules no distribution provides."""
    packages: dict[str, str] = {}
    local: list[str] = []
    top = type(estimator).__module__.split(".")[0]
    for module in (*BASE_MODULES, top):
        found = distribution_of(module)
        if found:
            packages[found[0]] = found[1]
        elif module not in sys.stdlib_module_names and module not in local:
            local.append(module)
    return Environment(packages=dict(sorted(packages.items())), local_modules=local)
