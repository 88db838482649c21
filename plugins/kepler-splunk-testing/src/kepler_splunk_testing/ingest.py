"""Appending rows to a registered index while the server runs (what HEC writes land in).

An index's :class:`~kepler_splunk_testing.datasets.Dataset` is immutable and sorted newest first,
so appending builds a new dataset (old rows + new rows, columns unified, sorted again) and swaps
in a new :class:`~kepler_splunk_testing.datasets.Index` object. A search that already holds the
old object keeps a consistent view; the next search sees the new rows. The cost is one copy of
the index per HEC request, which is negligible at test sizes.

Column types are unified the way Splunk would show the values anyway: integers and floats become
floats, a column that is multivalue on either side becomes multivalue, anything else that
disagrees becomes text. Rows of the old data lacking ``host``/``source``/``sourcetype`` (which
HEC rows always carry) get the index's defaults, so they look exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from kepler_splunk_testing.arrowtext import to_text
from kepler_splunk_testing.datasets import Dataset, Index, to_dataset

__all__ = ["append_rows"]

_DEFAULTED = ("host", "source", "sourcetype")


def append_rows(engine: Any, name: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """Append ``rows`` (dicts with ``_time`` in epoch seconds) to index ``name``.

    Event indexes take the rows as events; metric indexes take them as data points (each row a
    ``metric_name``/``_value`` pair plus dimensions). Returns the number of rows stored.
    ``engine`` is the server's :class:`~kepler_splunk_testing.engine.SearchEngine`; the caller
    serialises calls (two concurrent appends to one index would lose one of them).
    """
    if not rows:
        return 0
    current = next((index for index in engine.index_list(settle=False) if index.name == name),
                   None)
    if current is None:
        raise KeyError(name)
    if current.datatype == "metric":
        from kepler_splunk_testing.metricdata import metric_dataset

        added = metric_dataset(list(rows))
    else:
        added = to_dataset(list(rows), require_time=True)
    if added.num_rows == 0:
        return 0
    merged = _merge(current, added)
    engine.add_index(
        Index(
            current.name,
            current.datatype,
            merged,
            current.host,
            current.source,
            current.sourcetype,
            current.bucket,
        )
    )
    return added.num_rows


def _merge(index: Index, added: Dataset) -> Dataset:
    old = index.dataset
    old_rows, new_rows = old.num_rows, added.num_rows
    names = list(old.fields) + [name for name in added.fields if name not in old.fields]
    columns: dict[str, pa.Array] = {}
    for name in names:
        left = old.column(name) if name in old.fields else None
        right = added.column(name) if name in added.fields else None
        if left is None:
            assert right is not None
            left = _missing(index, old, name, old_rows, right.type)
        if right is None:
            right = _missing(index, added, name, new_rows, left.type)
        left, right = _unify(left, right)
        columns[name] = pa.concat_arrays([left, right])
    old_times = old.times_ns if old.times_ns is not None else np.zeros(0, np.int64)
    assert added.times_ns is not None
    times = np.concatenate([old_times, added.times_ns])
    return Dataset(pa.table(columns), times).newest_first()


def _missing(index: Index, part: Dataset, name: str, count: int, kind: pa.DataType) -> pa.Array:
    """The values of a column for rows that lack it: Splunk's defaults where they exist."""
    if count == 0:
        return pa.nulls(0, kind)
    if name in _DEFAULTED:
        value = getattr(index, name)
        return pa.array([value] * count, pa.string())
    if name == "_indextime" and part.times_ns is not None:
        return pa.array(part.times_ns // 1_000_000_000, pa.int64())
    return pa.nulls(count, kind)


def _unify(left: pa.Array, right: pa.Array) -> tuple[pa.Array, pa.Array]:
    if left.type == right.type:
        return left, right
    if pa.types.is_null(left.type):
        return pa.nulls(len(left), right.type), right
    if pa.types.is_null(right.type):
        return left, pa.nulls(len(right), left.type)
    numeric = (pa.types.is_integer, pa.types.is_floating)
    if any(test(left.type) for test in numeric) and any(test(right.type) for test in numeric):
        return left.cast(pa.float64()), right.cast(pa.float64())
    if pa.types.is_list(left.type) or pa.types.is_list(right.type):
        return _as_multivalue(left), _as_multivalue(right)
    return to_text(left).cast(pa.string()), to_text(right).cast(pa.string())


def _as_multivalue(values: pa.Array) -> pa.Array:
    if pa.types.is_list(values.type):
        return values.cast(pa.list_(pa.string()))
    text = to_text(values).to_pylist()
    return pa.array([None if value is None else [value] for value in text], pa.list_(pa.string()))
