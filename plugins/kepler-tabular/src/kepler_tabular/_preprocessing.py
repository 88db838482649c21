"""Preprocessing that travels inside the model, so the served model takes raw records.

Built from scikit-learn's own ``ColumnTransformer``, ``SimpleImputer``, ``OneHotEncoder`` and
``StandardScaler``; the three small transformers here only bridge pandas types scikit-learn does
not take as they come (nullable numbers and booleans, pandas strings with missing values,
timestamps). They are plain scikit-learn estimators, saved by skops and allow-listed by name.
Their public names (``kepler_tabular.AsFloat``...) are what a saved model records, so moving this
module breaks no artifact; kepler-serve's compiled fast path reads the fitted transformers and
:data:`MISSING` through those names too.

What each column becomes:

- numbers and booleans: float, missing values imputed with the training median plus a
  missing-indicator column; scaled for algorithms that need it;
- categories (strings with few distinct values): one-hot, unseen values at prediction ignored,
  rare ones grouped beyond 30 categories;
- datetimes: hour, day of week and month (UTC), then as numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

#: The category a missing value becomes (what the one-hot encoder saw in training).
MISSING = "(missing)"
#: At most this many one-hot columns per category feature; rarer values are grouped.
MAX_ONE_HOT = 30
#: What each datetime feature becomes, in this order.
DATETIME_PARTS = ("hour", "day_of_week", "month")
#: The module name recorded for the transformers in saved models: the public one.
_PUBLIC = "kepler_tabular"


class AsFloat(TransformerMixin, BaseEstimator):
    """Numbers, nullable integers and booleans as float64, missing values as NaN."""

    def fit(self, X: Any, y: Any = None) -> AsFloat:
        self.n_features_in_ = np.shape(X)[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        frame = pd.DataFrame(X)
        if not len(frame.columns):
            return np.empty((len(frame), 0))
        return np.column_stack([_as_float(frame[c]) for c in frame.columns])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(input_features if input_features is not None else [], dtype=object)


def _as_float(column: pd.Series) -> np.ndarray:
    if column.dtype.kind in "fiu":  # plain NumPy numbers: no conversion needed
        return column.to_numpy(dtype="float64")
    values = column.astype("object").where(column.notna(), np.nan)
    if column.dtype.kind == "b" or pd.api.types.is_bool_dtype(column):
        return values.map(lambda v: float(v) if v == v else np.nan).to_numpy(dtype="float64")
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")


class Categories(TransformerMixin, BaseEstimator):
    """Category-like columns as Python strings, missing values as one category of their own."""

    def fit(self, X: Any, y: Any = None) -> Categories:
        self.n_features_in_ = np.shape(X)[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        frame = pd.DataFrame(X)
        columns = [frame[c].astype("object").where(frame[c].notna(), MISSING).map(str)
                   .to_numpy(dtype=object) for c in frame.columns]
        return np.column_stack(columns) if columns else np.empty((len(frame), 0), dtype=object)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(input_features if input_features is not None else [], dtype=object)


class DatetimeFeatures(TransformerMixin, BaseEstimator):
    """Timestamps as hour, day of week and month (UTC; naive times taken as UTC).

    The absolute time is left out on purpose: a model that learned "later means higher" cannot
    extrapolate to the future it will be served in.
    """

    def fit(self, X: Any, y: Any = None) -> DatetimeFeatures:
        frame = pd.DataFrame(X)
        self.n_features_in_ = len(frame.columns)
        self.columns_ = [str(c) for c in frame.columns]
        return self

    def transform(self, X: Any) -> np.ndarray:
        frame = pd.DataFrame(X)
        parts = []
        for column in frame.columns:
            values = frame[column]
            if pd.api.types.is_datetime64_any_dtype(values):
                times = values.dt.tz_localize("UTC") if values.dt.tz is None else \
                    values.dt.tz_convert("UTC")
            else:  # strings from a request: ISO 8601 or anything pandas reads
                times = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
            for part in DATETIME_PARTS:
                parts.append(getattr(times.dt, part).astype("float64").to_numpy())
        return np.column_stack(parts) if parts else np.empty((len(frame), 0))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = input_features if input_features is not None else self.columns_
        return np.asarray([f"{c}_{p}" for c in names for p in DATETIME_PARTS], dtype=object)


def column_kinds(schema: Any) -> dict[str, list[str]]:
    """Feature names by how they are preprocessed, from a :class:`kepler.api.FeatureSchema`."""
    kinds: dict[str, list[str]] = {"numeric": [], "category": [], "datetime": []}
    for feature in schema:
        if feature.kind in ("number", "integer", "boolean"):
            kinds["numeric"].append(feature.name)
        elif feature.kind == "datetime":
            kinds["datetime"].append(feature.name)
        elif feature.kind == "category":
            kinds["category"].append(feature.name)
    return kinds


def build_preprocessor(schema: Any, *, scale: bool) -> ColumnTransformer:
    """The ``ColumnTransformer`` for a feature schema (text columns must already be left out)."""
    kinds = column_kinds(schema)
    numeric_steps: list[tuple[str, Any]] = [
        ("as_float", AsFloat()),
        ("impute", SimpleImputer(strategy="median", add_indicator=True)),
    ]
    datetime_steps: list[tuple[str, Any]] = [
        ("parts", DatetimeFeatures()),
        ("impute", SimpleImputer(strategy="median")),
    ]
    if scale:
        numeric_steps.append(("scale", StandardScaler()))
        datetime_steps.append(("scale", StandardScaler()))
    transformers: list[tuple[str, Any, list[str]]] = []
    if kinds["numeric"]:
        transformers.append(("numeric", Pipeline(numeric_steps), kinds["numeric"]))
    if kinds["category"]:
        transformers.append(("category", Pipeline([
            ("as_str", Categories()),
            ("one_hot", OneHotEncoder(handle_unknown="infrequent_if_exist",
                                      max_categories=MAX_ONE_HOT, sparse_output=False)),
        ]), kinds["category"]))
    if kinds["datetime"]:
        transformers.append(("datetime", Pipeline(datetime_steps), kinds["datetime"]))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)


for _cls in (AsFloat, Categories, DatetimeFeatures):
    _cls.__module__ = _PUBLIC
