"""Metric indexes: data points stored one per row, and the row selection mstats/mcatalog share.

A metric index holds one data point per row: ``_time``, ``metric_name``, ``_value`` (float64) and
dimension columns (``host``, ``asset_id``, ...). Data in Splunk's multi-measurement form, where a
row has ``metric_name:<name>`` columns (``{"_time": t, "metric_name:cpu.user": 1.5,
"metric_name:cpu.sys": 0.4, "host": "a"}``), is converted to that layout when registered: one data
point per non-missing measurement. Everything here works on whole columns (Arrow, NumPy).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kepler_splunk_testing.arrowtext import to_text
from kepler_splunk_testing.datasets import (
    Dataset,
    DatasetError,
    Index,
    empty_time_dataset,
    text_matches,
    to_dataset,
)
from kepler_splunk_testing.metricspl import Condition

__all__ = [
    "MEASUREMENT_PREFIX",
    "MetricRows",
    "factorize",
    "matching_indexes",
    "metric_dataset",
    "number_text",
    "select_rows",
]

MEASUREMENT_PREFIX = "metric_name:"
_POINT_FIELDS = ("_time", "metric_name", "_value")
_INDEX_FIELDS = ("index", "host", "source", "sourcetype")


# -- registration -----------------------------------------------------------------------------


def metric_dataset(data: Any) -> Dataset:
    """Data for ``add_index(..., datatype="metric")`` as one data point per row, newest first.

    Accepts rows with ``metric_name`` and ``_value``, rows with ``metric_name:<name>`` columns,
    or both. Points without a metric name or a numeric value are not indexed (as in Splunk).
    """
    if data is None:
        return empty_time_dataset()
    dataset = to_dataset(data, require_time=True)
    table = dataset.table
    if table.num_rows == 0 and "metric_name" not in table.column_names:
        return dataset
    measures = [name for name in table.column_names if name.startswith(MEASUREMENT_PREFIX)]
    long_form = "metric_name" in table.column_names or "_value" in table.column_names
    if not measures and not long_form:
        raise DatasetError(
            "metric index data needs 'metric_name' and '_value' columns, or one "
            f"'metric_name:<name>' column per measurement; got columns {table.column_names}"
        )
    dimensions = [
        name for name in table.column_names if name not in _POINT_FIELDS and name not in measures
    ]
    pieces = []
    if long_form:
        if "metric_name" not in table.column_names or "_value" not in table.column_names:
            raise DatasetError("metric index data needs both 'metric_name' and '_value' columns")
        names = table.column("metric_name").chunk(0)
        if not pa.types.is_string(names.type):
            names = to_text(names)
        pieces.append(_points(table, dimensions, names, "_value", "_value"))
    for name in measures:
        metric = name[len(MEASUREMENT_PREFIX) :]
        pieces.append(_points(table, dimensions, _constant(metric, table.num_rows), name, name))
    points = pa.concat_tables(pieces, promote_options="default") if len(pieces) > 1 else pieces[0]
    times = points.column("_time").combine_chunks()
    times_ns = times.view(pa.int64()).to_numpy(zero_copy_only=False)
    columns = {name: points.column(name).combine_chunks() for name in points.column_names}
    return Dataset(pa.table(columns), times_ns).newest_first()


def _points(
    table: pa.Table, dimensions: list[str], names: pa.Array, value_column: str, label: str
) -> pa.Table:
    values = _numeric(table.column(value_column).chunk(0), label)
    keep = pc.and_(pc.is_valid(names), pc.and_(pc.is_valid(values), pc.invert(pc.is_nan(values))))
    keep = pc.fill_null(keep, False)
    selected = table.select(["_time", *dimensions]).filter(keep)
    return selected.append_column("metric_name", names.filter(keep)).append_column(
        "_value", values.filter(keep)
    )


def _constant(value: str, count: int) -> pa.Array:
    """``value`` in each of ``count`` rows, without a Python list of that length."""
    codes = pa.array(np.zeros(count, np.int32))
    return pa.DictionaryArray.from_arrays(codes, pa.array([value])).cast(pa.string())


def _numeric(values: pa.Array, label: str) -> pa.Array:
    if pa.types.is_list(values.type):
        raise DatasetError(f"metric values must be numbers; {label!r} holds lists")
    try:
        return pc.cast(values, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise DatasetError(
            f"metric values must be numbers; {label!r} holds {values.type}"
        ) from None


# -- selection --------------------------------------------------------------------------------


def matching_indexes(
    indexes: Sequence[Index], patterns: Sequence[str], excluded: Sequence[str]
) -> list[Index]:
    """Metric indexes named by ``index=`` patterns (``*`` matches no ``_`` index, as in Splunk)."""

    def matches(name: str, pattern: str) -> bool:
        if "*" in pattern and name.startswith("_") and not pattern.startswith("_"):
            return False
        return fnmatch.fnmatchcase(name.lower(), pattern.lower())

    return [
        index
        for index in indexes
        if index.datatype == "metric"
        and any(matches(index.name, pattern) for pattern in patterns)
        and not any(matches(index.name, pattern) for pattern in excluded)
    ]


@dataclass
class MetricRows:
    """Selected data points: times (ns), values, metric names and the requested fields."""

    times_ns: np.ndarray
    values: np.ndarray
    names: pa.Array
    fields: dict[str, pa.Array]
    scanned: int

    def __len__(self) -> int:
        return len(self.values)

    def take(self, mask: np.ndarray) -> MetricRows:
        chosen = pa.array(mask)
        return MetricRows(
            self.times_ns[mask],
            self.values[mask],
            self.names.filter(chosen),
            {name: column.filter(chosen) for name, column in self.fields.items()},
            self.scanned,
        )


def select_rows(
    indexes: Sequence[Index],
    earliest_ns: int | None,
    latest_ns: int | None,
    conditions: Sequence[Condition],
    fields: Sequence[str],
) -> MetricRows:
    """Points of ``indexes`` in [earliest, latest) passing every condition, with ``fields``."""
    parts: list[MetricRows] = []
    scanned = 0
    for index in indexes:
        dataset = index.dataset
        if "metric_name" not in dataset.table.column_names:
            continue
        window = dataset.time_slice(earliest_ns, latest_ns)
        count = window.stop - window.start
        scanned += count
        if count == 0:
            continue
        keep = np.ones(count, dtype=bool)
        for condition in conditions:
            keep &= _condition_mask(index, window, condition)
        part = MetricRows(
            dataset.times_ns[window] if dataset.times_ns is not None else np.zeros(0, np.int64),
            dataset.column("_value").slice(window.start, count).to_numpy(zero_copy_only=False),
            dataset.column("metric_name").slice(window.start, count),
            {name: _field(index, window, name) for name in fields},
            0,
        )
        parts.append(part if keep.all() else part.take(keep))
    return _concat(parts, fields, scanned)


def _field(index: Index, window: slice, name: str) -> pa.Array:
    dataset = index.dataset
    count = window.stop - window.start
    if name in dataset.table.column_names:
        return dataset.column(name).slice(window.start, count)
    if name == "metric_name":
        return dataset.column("metric_name").slice(window.start, count)
    constant = _index_constant(index, name)
    if constant is None:
        return pa.nulls(count, pa.string())
    return _constant(constant, count)


def _index_constant(index: Index, name: str) -> str | None:
    return {
        "index": index.name,
        "host": index.host,
        "source": index.source,
        "sourcetype": index.sourcetype,
    }.get(name)


def _condition_mask(index: Index, window: slice, condition: Condition) -> np.ndarray:
    """Splunk's ``field=value`` test (case-insensitive, ``*`` wildcards) on a window of rows."""
    dataset = index.dataset
    count = window.stop - window.start
    if condition.field in dataset.table.column_names:
        column = dataset.text_column(condition.field).slice(window.start, count)
        hits = np.zeros(count, dtype=bool)
        for value in condition.values:
            hits |= text_matches(column, value).to_numpy(zero_copy_only=False)
        if condition.op == "!=":
            present = column.is_valid().to_numpy(zero_copy_only=False)
            return present & ~hits
        return hits
    constant = _index_constant(index, condition.field)
    if constant is None:
        return np.zeros(count, dtype=bool)  # a missing field matches neither = nor !=
    single = pa.array([constant])
    matched = any(text_matches(single, value)[0].as_py() for value in condition.values)
    return np.full(count, matched != (condition.op == "!="))


def _concat(parts: list[MetricRows], fields: Sequence[str], scanned: int) -> MetricRows:
    if not parts:
        return MetricRows(
            np.zeros(0, np.int64),
            np.zeros(0, np.float64),
            pa.array([], pa.string()),
            {name: pa.array([], pa.string()) for name in fields},
            scanned,
        )
    if len(parts) == 1:
        parts[0].scanned = scanned
        return parts[0]
    columns: dict[str, pa.Array] = {}
    for name in fields:
        arrays = [part.fields[name] for part in parts]
        if len({array.type for array in arrays if array.null_count < len(array)}) > 1:
            arrays = [to_text(array) for array in arrays]  # one index's ints, another's strings
        kind = next((a.type for a in arrays if a.null_count < len(a)), arrays[0].type)
        columns[name] = pa.concat_arrays(
            [a if a.type == kind else pa.nulls(len(a), kind) for a in arrays]
        )
    return MetricRows(
        np.concatenate([part.times_ns for part in parts]),
        np.concatenate([part.values for part in parts]),
        pa.concat_arrays([part.names for part in parts]),
        columns,
        scanned,
    )


# -- grouping and formatting ------------------------------------------------------------------


def factorize(values: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Codes numbering the distinct values in sorted order (-1 for null), and those values."""
    if len(values) == 0:
        return np.zeros(0, np.int64), values
    encoded = pc.dictionary_encode(values)
    dictionary = encoded.dictionary
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(dictionary), np.int64)
    rank[order] = np.arange(len(dictionary), dtype=np.int64)
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    codes = np.where(indices >= 0, rank[np.maximum(indices, 0)], -1)
    return codes, dictionary.take(pa.array(order))


def number_text(values: np.ndarray, present: np.ndarray | None = None) -> pa.Array:
    """Numbers as Splunk writes them: ``3``, ``2.5``, ``0.30000000000000004`` (never ``3.0``
    or exponents); ``present`` False (or NaN) gives a missing value."""
    if values.dtype.kind in "iu":
        text = pc.cast(pa.array(values, pa.int64()), pa.string())
    else:
        floats = values.astype(np.float64, copy=False)
        finite = np.isfinite(floats)
        integral = finite & (np.floor(floats) == floats) & (np.abs(floats) < 2.0**53)
        as_int = pc.cast(pa.array(np.where(integral, floats, 0).astype(np.int64)), pa.string())
        if integral.all():
            text = as_int
        else:
            as_float = pc.cast(pa.array(np.where(finite, floats, 0.0)), pa.string())
            text = pc.if_else(pa.array(integral), as_int, as_float)
        exponent = pc.match_substring(text, "e").to_numpy(zero_copy_only=False) & ~integral
        if exponent.any():  # rare: write very large or small numbers out in full
            fixed = text.to_pylist()
            for position in np.flatnonzero(exponent):
                fixed[position] = np.format_float_positional(floats[position], trim="-")
            text = pa.array(fixed, pa.string())
        present = finite if present is None else present & finite
    if present is not None and not present.all():
        text = pc.if_else(pa.array(present), text, pa.scalar(None, pa.string()))
    return text
