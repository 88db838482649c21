"""A model's feature schema from a DataFrame, and a user's input checked against it.

The schema itself (:class:`kepler.api.FeatureSchema`) is core's: it is the manifest's contract,
read by servers and dashboards without pandas. Inferring it from a table and turning a request
into the table a tabular predictor takes are pandas work, so they live here; tabular model
formats name :func:`prepare_inputs` as their ``prepare``, which ``Model.predict`` calls.

Example::

    from kepler_tabular import infer_schema, prepare_inputs
    schema = infer_schema(df, ["temperature", "pump"])
    schema["temperature"].mean, schema["pump"].categories
    prepare_inputs(schema, {"temperature": "71.5", "pump": "pump-02"})   # a one-row DataFrame
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
from kepler.api import Feature, FeatureSchema, ModelInputError

#: A string column with at most this many distinct values is a category (its values are kept).
MAX_CATEGORIES = 100


def infer_schema(data: pd.DataFrame, columns: Sequence[str] | None = None) -> FeatureSchema:
    """The schema of ``data``, restricted to ``columns`` (in that order) when given."""
    names = columns if columns is not None else [str(c) for c in data.columns]
    return FeatureSchema(features=[_describe(data[name], str(name)) for name in names])


def _as_table(data: Any) -> pd.DataFrame:
    if isinstance(data, dict):
        data = [data]
    if isinstance(data, pd.DataFrame):
        return data
    try:
        return pd.DataFrame(data)
    except (TypeError, ValueError) as exc:
        raise ModelInputError(
            f"Cannot read the input as a table: {exc}",
            hint="Pass a pandas DataFrame, a list of records (dicts) or one record.",
        ) from exc


def prepare_inputs(schema: FeatureSchema, data: Any) -> pd.DataFrame:
    """``data`` as a DataFrame holding exactly the schema's columns, in order.

    Accepts a DataFrame, a list of records or one record (a dict). An absent optional feature
    is added as missing (the model imputes it); an absent required one, or a value that cannot
    be read as the feature's kind, is a :class:`~kepler.api.ModelInputError` naming the column.
    """
    data = _as_table(data)
    missing = [f.name for f in schema.features if f.required and f.name not in data.columns]
    if missing:
        raise ModelInputError(
            f"The input lacks required feature(s) {', '.join(map(repr, missing))}.",
            hint=f"The model takes: {', '.join(schema.names)}. Got: "
            f"{', '.join(map(str, data.columns)) or 'no columns'}.",
        )
    frame = data.copy() if len(data.columns) else pd.DataFrame(index=data.index)
    for feature in schema.features:
        if feature.name not in frame.columns:
            frame[feature.name] = float("nan")
        elif feature.kind in ("number", "integer"):
            frame[feature.name] = _as_number(frame[feature.name], feature.name)
        elif feature.kind == "datetime":
            frame[feature.name] = _as_datetime(frame[feature.name], feature.name)
    return frame[schema.names]


def _as_number(column: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column
    if pd.api.types.is_bool_dtype(column):
        return column.astype(float)
    converted = pd.to_numeric(column, errors="coerce")
    bad = column[converted.isna() & column.notna()]
    if len(bad):
        raise ModelInputError(
            f"Feature {name!r} must be a number; got {bad.iloc[0]!r} (row {bad.index[0]!r}"
            f"{f' and {len(bad) - 1} more' if len(bad) > 1 else ''}).",
            hint="Send numbers (or leave the value out where the feature is optional).",
        )
    return converted


def _as_datetime(column: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        return column
    converted = pd.to_datetime(column, utc=True, errors="coerce", format="mixed")
    bad = column[converted.isna() & column.notna()]
    if len(bad):
        raise ModelInputError(
            f"Feature {name!r} must be a date and time; got {bad.iloc[0]!r} "
            f"(row {bad.index[0]!r}).",
            hint="Send ISO 8601 strings such as '2026-05-01T12:00:00Z'.",
        )
    return converted


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _describe(column: pd.Series, name: str) -> Feature:
    types = pd.api.types
    missing = float(column.isna().mean()) if len(column) else 0.0
    base: dict[str, Any] = {"name": name, "dtype": str(column.dtype),
                            "required": missing == 0.0, "missing_fraction": round(missing, 6)}
    present = column.dropna()
    if types.is_bool_dtype(column):
        return Feature(kind="boolean", categories=sorted({str(v) for v in present}), **base)
    if types.is_datetime64_any_dtype(column):
        return Feature(kind="datetime",
                       min=present.min().isoformat() if len(present) else None,
                       max=present.max().isoformat() if len(present) else None, **base)
    if types.is_numeric_dtype(column):
        numbers = present.astype(float)
        return Feature(kind="integer" if types.is_integer_dtype(column) else "number",
                       min=_finite(numbers.min()), max=_finite(numbers.max()),
                       mean=_finite(numbers.mean()), std=_finite(numbers.std()), **base)
    try:
        values = sorted({str(v) for v in present.unique()})
    except TypeError:  # unhashable values (lists from multivalue fields)
        values = sorted({str(v) for v in present})
    if len(values) <= MAX_CATEGORIES:
        return Feature(kind="category", categories=values, **base)
    return Feature(kind="text", **base)
