"""The feature schema of a model: what each input is, as seen in the training data.

Serving validates requests against it, dashboards measure drift against its statistics, and
:meth:`kepler.model.Model.predict` uses it to refuse a table that lacks a required column before
the framework fails somewhere deep inside. It is inferred from a pandas DataFrame; pandas is
imported only inside :meth:`FeatureSchema.infer` and :meth:`FeatureSchema.prepare`, so reading a
manifest never imports it.

Example::

    from kepler.schema import FeatureSchema
    schema = FeatureSchema.infer(df[["temperature", "pump"]])
    schema["temperature"].mean, schema["pump"].categories
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import ModelInputError

#: A string column with at most this many distinct values is a category (its values are kept).
MAX_CATEGORIES = 100

Kind = Literal["number", "integer", "boolean", "category", "text", "datetime"]


class Feature(BaseModel):
    """One input column and its statistics over the training rows."""

    model_config = ConfigDict(extra="ignore")

    name: str
    kind: Kind
    #: The pandas dtype at training time, e.g. "float64", "str", "datetime64[ns, UTC]".
    dtype: str
    #: True when no training row lacked it: a missing value at serving time is then suspicious.
    #: Optional features may be absent from a prediction request; they are imputed.
    required: bool = True
    missing_fraction: float = 0.0
    #: Values seen in training, for categories (sorted, as strings).
    categories: list[str] | None = None
    #: Numbers: min/max/mean/std; datetimes: min/max as ISO 8601 strings.
    min: float | str | None = None
    max: float | str | None = None
    mean: float | None = None
    std: float | None = None


class FeatureSchema(BaseModel):
    """The model's inputs, in the order the model expects them."""

    model_config = ConfigDict(extra="ignore")

    features: list[Feature] = Field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    def __iter__(self) -> Iterator[Feature]:  # type: ignore[override]
        return iter(self.features)

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, name: str) -> Feature:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(f"{name!r} is not a feature of this model; features: {self.names}")

    def __contains__(self, name: object) -> bool:
        return name in self.names

    # --- inference ----------------------------------------------------------------------------

    @classmethod
    def infer(cls, data: Any, columns: Sequence[str] | None = None) -> FeatureSchema:
        """The schema of ``data`` (a DataFrame), restricted to ``columns`` when given."""
        return cls(features=[_describe(data[name], str(name))
                             for name in (columns if columns is not None else data.columns)])

    # --- checking -----------------------------------------------------------------------------

    def prepare(self, data: Any) -> Any:
        """``data`` as a DataFrame holding exactly the schema's columns, in order.

        Accepts a DataFrame, a list of records or one record (a dict). An absent optional feature
        is added as missing (the model imputes it); an absent required one, or a value that
        cannot be read as the feature's kind, is a :class:`ModelInputError` naming the column.
        """
        from ._optional import pandas

        pd = pandas()

        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, pd.DataFrame):
            try:
                data = pd.DataFrame(data)
            except (TypeError, ValueError) as exc:
                raise ModelInputError(
                    f"Cannot read the input as a table: {exc}",
                    hint="Pass a pandas DataFrame, a list of records (dicts) or one record.",
                ) from exc
        missing = [f.name for f in self.features if f.required and f.name not in data.columns]
        if missing:
            raise ModelInputError(
                f"The input lacks required feature(s) {', '.join(map(repr, missing))}.",
                hint=f"The model takes: {', '.join(self.names)}. Got: "
                f"{', '.join(map(str, data.columns)) or 'no columns'}.",
            )
        frame = data.copy() if len(data.columns) else pd.DataFrame(index=data.index)
        for feature in self.features:
            if feature.name not in frame.columns:
                frame[feature.name] = float("nan")
            elif feature.kind in ("number", "integer"):
                frame[feature.name] = _as_number(frame[feature.name], feature.name)
            elif feature.kind == "datetime":
                frame[feature.name] = _as_datetime(frame[feature.name], feature.name)
        return frame[self.names]


def _as_number(column: Any, name: str) -> Any:
    from ._optional import pandas

    pd = pandas()

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


def _as_datetime(column: Any, name: str) -> Any:
    from ._optional import pandas

    pd = pandas()

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


def _describe(column: Any, name: str) -> Feature:
    from ._optional import pandas

    pd = pandas()

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
        kind: Kind = "integer" if types.is_integer_dtype(column) else "number"
        numbers = present.astype(float)
        return Feature(kind=kind, min=_finite(numbers.min()), max=_finite(numbers.max()),
                       mean=_finite(numbers.mean()), std=_finite(numbers.std()), **base)
    try:
        values = sorted({str(v) for v in present.unique()})
    except TypeError:  # unhashable values (lists from multivalue fields)
        values = sorted({str(v) for v in present})
    if len(values) <= MAX_CATEGORIES:
        return Feature(kind="category", categories=values, **base)
    return Feature(kind="text", **base)
