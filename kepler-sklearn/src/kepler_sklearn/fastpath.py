"""kepler-sklearn's compiled predictor: scoring validated records without pandas, identically.

The skops format record names :func:`compiled_predictor` (``ModelFormatSpec.compiled``); a model
server asks ``model.compiled()`` for it and never needs to know this module exists.

A kepler-sklearn model's predictor is a fitted ``ColumnTransformer`` (Kepler's preprocessing)
plus an estimator. Scoring one record through it costs milliseconds, almost all of it overhead:
a DataFrame per request, pandas conversions in each transformer, and for forests a joblib
``Parallel`` per call. This module compiles such a predictor into NumPy operations that repeat
exactly what the fitted objects compute:

- numbers and booleans: a float64 matrix; ``SimpleImputer`` (its fitted statistics and missing
  indicator) and ``StandardScaler`` (its mean and scale), the same arithmetic in the same order;
- categories: each value's output row is read off the fitted ``OneHotEncoder`` itself at compile
  time (infrequent groups and unknown values included), then looked up per request;
- datetimes: hour, day of week and month in UTC, as ``DatetimeFeatures`` reads them;
- forests and decision trees of scikit-learn: each fitted tree's own compiled ``predict``, summed
  in the estimators' order and divided as scikit-learn does, without the joblib round trip;
  any other estimator is called directly on the matrix.

Nothing is approximated: no float32 re-encoding of thresholds (as ONNX would do), no
re-implementation of a tree. The server still proves it before trusting it: it scores rows drawn
from the feature schema both ways and keeps the compiled scorer only when predictions and
probabilities are bit-for-bit equal. Any step this module does not know makes
:func:`compiled_predictor` return None, and the model stays on its own (slower) path.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

Rows = Sequence[dict[str, Any]]


class Unsupported(Exception):
    """The predictor holds something the fast path does not compile."""


# --- preprocessing blocks ---------------------------------------------------------------------


def _numbers(rows: Rows, names: Sequence[str]) -> np.ndarray:
    # NumPy turns None into NaN and booleans into 0.0/1.0, as AsFloat does.
    return np.array([[row.get(name) for name in names] for row in rows], dtype=np.float64)


def _time_parts(value: Any) -> tuple[float, float, float]:
    if value is None:
        return (math.nan, math.nan, math.nan)
    if isinstance(value, str):  # a request validated elsewhere; normally a datetime already
        value = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    moment = value.astimezone(_dt.UTC) if value.tzinfo is not None else value
    return (float(moment.hour), float(moment.weekday()), float(moment.month))


def _times(rows: Rows, names: Sequence[str]) -> np.ndarray:
    return np.array([[part for name in names for part in _time_parts(row.get(name))]
                     for row in rows], dtype=np.float64).reshape(len(rows), 3 * len(names))


class _Impute:
    """A fitted SimpleImputer (NaN as the missing value) with its missing indicator."""

    def __init__(self, imputer: Any) -> None:
        missing = imputer.missing_values
        if not (isinstance(missing, float) and math.isnan(missing)):
            raise Unsupported(f"SimpleImputer(missing_values={missing!r})")
        statistics = np.asarray(imputer.statistics_, dtype=np.float64)
        keep_all = imputer.strategy == "constant" or getattr(imputer, "keep_empty_features",
                                                             False)
        valid = np.ones(len(statistics), bool) if keep_all else ~np.isnan(statistics)
        self.valid = None if valid.all() else np.flatnonzero(valid)
        self.statistics = statistics if self.valid is None else statistics[self.valid]
        indicator = getattr(imputer, "indicator_", None)
        self.indicator = None if indicator is None else np.asarray(indicator.features_)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        mask = np.isnan(X)
        if self.valid is None:
            out = np.where(mask, self.statistics, X)
        else:
            out = np.where(mask[:, self.valid], self.statistics, X[:, self.valid])
        if self.indicator is not None:
            out = np.hstack((out, mask[:, self.indicator]))
        return out


class _Scale:
    """A fitted StandardScaler: subtract the mean, divide by the scale, as it does in place."""

    def __init__(self, scaler: Any) -> None:
        self.mean = scaler.mean_ if scaler.with_mean else None
        self.scale = scaler.scale_ if scaler.with_std else None

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=np.float64)
        if self.mean is not None:
            X -= self.mean
        if self.scale is not None:
            X /= self.scale
        return X


def _numeric_steps(steps: Sequence[Any]) -> list[Callable[[np.ndarray], np.ndarray]]:
    compiled: list[Callable[[np.ndarray], np.ndarray]] = []
    for step in steps:
        kind = type(step).__name__
        if kind == "SimpleImputer":
            compiled.append(_Impute(step))
        elif kind == "StandardScaler":
            compiled.append(_Scale(step))
        else:
            raise Unsupported(f"preprocessing step {kind}")
    return compiled


class _NumericBlock:
    def __init__(self, names: Sequence[str], steps: Sequence[Any], *, times: bool) -> None:
        self.names = list(names)
        self.read = _times if times else _numbers
        self.steps = _numeric_steps(steps)

    def __call__(self, rows: Rows) -> np.ndarray:
        X = self.read(rows, self.names)
        for step in self.steps:
            X = step(X)
        return X


class _CategoryBlock:
    """Categories -> OneHotEncoder, as a lookup of each value's output row."""

    def __init__(self, names: Sequence[str], encoder: Any, missing: str) -> None:
        if getattr(encoder, "sparse_output", False):
            raise Unsupported("a sparse OneHotEncoder")
        self.names = list(names)
        self.missing = missing
        categories = [list(c) for c in encoder.categories_]
        if len(categories) != len(self.names):
            raise Unsupported("an encoder whose columns differ from its block's")
        unknown = "\x00kepler-unknown\x00"
        base = [c[0] if len(c) else missing for c in categories]
        self.tables: list[tuple[dict[str, int], np.ndarray]] = []
        start = 0
        widths = list(getattr(encoder, "_n_features_outs", []))
        if len(widths) != len(self.names):
            raise Unsupported("an encoder without per-feature widths")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown categories warn; that is the point here
            for i, values in enumerate(categories):
                probes = [str(v) for v in values] + [missing, unknown]
                grid = np.array([[*base[:i], p, *base[i + 1:]] for p in probes], dtype=object)
                out = np.asarray(encoder.transform(grid), dtype=np.float64)
                block = out[:, start:start + widths[i]]
                codes = {p: n for n, p in enumerate(probes[:-1])}
                self.tables.append((codes, np.ascontiguousarray(block)))
                start += widths[i]
        if start != sum(widths):
            raise Unsupported("an encoder of unexpected width")

    def __call__(self, rows: Rows) -> np.ndarray:
        parts = []
        for name, (codes, table) in zip(self.names, self.tables, strict=True):
            unknown = len(table) - 1
            index = [codes.get(self.missing if (v := row.get(name)) is None else str(v), unknown)
                     for row in rows]
            parts.append(table[index])
        return np.hstack(parts) if parts else np.empty((len(rows), 0))


def _block(name: str, transformer: Any, columns: Sequence[str]) -> Callable[[Rows], np.ndarray]:
    steps = list(transformer.steps) if type(transformer).__name__ == "Pipeline" else \
        [(name, transformer)]
    first = type(steps[0][1]).__name__
    rest = [s for _, s in steps[1:]]
    if first == "AsFloat":
        return _NumericBlock(columns, rest, times=False)
    if first == "DatetimeFeatures":
        return _NumericBlock(columns, rest, times=True)
    if first == "Categories" and len(rest) == 1 and type(rest[0]).__name__ == "OneHotEncoder":
        from kepler_tabular import MISSING

        return _CategoryBlock(columns, rest[0], MISSING)
    raise Unsupported(f"preprocessing {' -> '.join(type(s).__name__ for _, s in steps)}")


class Preprocess:
    """A fitted ColumnTransformer as blocks over records, in its output order."""

    def __init__(self, transformer: Any) -> None:
        if type(transformer).__name__ != "ColumnTransformer":
            raise Unsupported(f"preprocessing {type(transformer).__name__}")
        self.blocks: list[Callable[[Rows], np.ndarray]] = []
        for name, fitted, columns in transformer.transformers_:
            if isinstance(fitted, str):
                if fitted == "drop":
                    continue
                raise Unsupported(f"a {fitted!r} transformer")
            names = [str(c) for c in columns]
            if not names:
                continue
            self.blocks.append(_block(name, fitted, names))

    def __call__(self, rows: Rows) -> np.ndarray:
        parts = [block(rows) for block in self.blocks]
        return np.hstack(parts) if len(parts) > 1 else parts[0]


# --- estimators -------------------------------------------------------------------------------


def _float32(X: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(X, dtype=np.float32)


class Trees:
    """A fitted scikit-learn forest or decision tree: each tree's own compiled predict, summed in
    order and divided as scikit-learn's forests do (one output only)."""

    FORESTS = ("RandomForestClassifier", "ExtraTreesClassifier", "RandomForestRegressor",
               "ExtraTreesRegressor")
    TREES = ("DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier",
             "ExtraTreeRegressor")

    def __init__(self, estimator: Any) -> None:
        kind = type(estimator).__name__
        if kind not in self.FORESTS + self.TREES:
            raise Unsupported(kind)
        if getattr(estimator, "n_outputs_", 1) != 1:
            raise Unsupported(f"{kind} with several outputs")
        self.forest = kind in self.FORESTS
        self.trees = [e.tree_ for e in estimator.estimators_] if self.forest else \
            [estimator.tree_]
        self.classifier = kind.endswith("Classifier")
        self.classes_ = getattr(estimator, "classes_", None)
        self.n_classes = int(estimator.n_classes_) if self.classifier else 0
        self.n_features_in_ = estimator.n_features_in_

    def _sum(self, X: np.ndarray) -> np.ndarray:
        X32 = _float32(X)
        if X32.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} columns, got {X32.shape[1]}")
        if self.classifier:
            total = np.zeros((X32.shape[0], self.n_classes), dtype=np.float64)
            for tree in self.trees:
                total += tree.predict(X32)[:, :self.n_classes]
        else:
            total = np.zeros(X32.shape[0], dtype=np.float64)
            for tree in self.trees:
                total += tree.predict(X32)[:, 0]
        if self.forest:
            total /= len(self.trees)
        return total

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if not self.classifier:
            raise AttributeError("predict_proba")
        return self._sum(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.classifier:
            assert self.classes_ is not None
            return np.asarray(self.classes_.take(np.argmax(self._sum(X), axis=1), axis=0))
        return self._sum(X)


def _estimator(estimator: Any) -> Any:
    try:
        return Trees(estimator)
    except Unsupported:
        return estimator  # called directly on the matrix: no DataFrame, no ColumnTransformer


# --- the compiled model -----------------------------------------------------------------------


class FastModel:
    """A kepler-sklearn model compiled for records (:class:`kepler.api.CompiledPredictor`):
    ``predict`` and ``predict_proba`` give what :class:`kepler.api.Model` gives for the same
    records."""

    def __init__(self, preprocess: Preprocess | None, predictor: Any, description: str) -> None:
        self.preprocess = preprocess
        self.predictor = predictor  # a TabularModel whose "preprocess" is None
        self.description = description

    def matrix(self, rows: Rows) -> Any:
        return self.preprocess(rows) if self.preprocess is not None else rows

    def predict(self, rows: Rows) -> np.ndarray:
        return np.asarray(self.predictor.predict(self.matrix(rows)))

    def predict_proba(self, rows: Rows) -> np.ndarray:
        return np.asarray(self.predictor.predict_proba(self.matrix(rows)))

    def score_samples(self, rows: Rows) -> np.ndarray:
        return np.asarray(self.predictor.score_samples(self.matrix(rows)))

    def predict_and_proba(self, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
        """Both at once: the matrix is built once, and a forest is walked once (its prediction
        is the class of highest probability, as scikit-learn's forests decide)."""
        X = self.matrix(rows)
        estimator = self.predictor.estimator
        if isinstance(estimator, Trees) and estimator.classifier and not self.predictor.encoded:
            assert estimator.classes_ is not None
            proba = estimator.predict_proba(X)
            return np.asarray(estimator.classes_.take(np.argmax(proba, axis=1), axis=0)), proba
        return (np.asarray(self.predictor.predict(X)),
                np.asarray(self.predictor.predict_proba(X)))


def compile_predictor(predictor: Any) -> FastModel:
    """Compile a :class:`~kepler_sklearn.predictor.TabularModel`; raise :class:`Unsupported`
    for anything else."""
    from .predictor import TabularModel

    if not isinstance(predictor, TabularModel):
        raise Unsupported(f"predictor {type(predictor).__module__}.{type(predictor).__name__}")
    if predictor.preprocess is None:
        raise Unsupported("a model without Kepler's preprocessing")
    preprocess = Preprocess(predictor.preprocess)
    estimator = _estimator(predictor.estimator)
    inner = TabularModel(None, estimator, task=predictor.task, classes=predictor.classes,
                         encoded=predictor.encoded)
    how = "compiled trees" if isinstance(estimator, Trees) else type(estimator).__name__
    return FastModel(preprocess, inner, f"NumPy preprocessing + {how}")


def compiled_predictor(model: Any) -> FastModel | None:
    """The compiled scorer of ``model`` (a :class:`kepler.api.Model` in the skops format), or
    None when its predictor holds something this module does not compile (the reason is
    logged at debug level)."""
    try:
        return compile_predictor(model.predictor)
    except Unsupported as exc:
        log.debug("%s: not compiled: %s", getattr(model, "name", "model"), exc)
        return None


__all__ = ["FastModel", "Unsupported", "compile_predictor", "compiled_predictor"]
