"""The data behind the test server: columnar tables normalised once, searched many times.

Splunk hands every value back as a string, but turning a million rows into strings up front would
cost seconds and hundreds of megabytes before the first search. So a :class:`Dataset` keeps each
column in its natural Arrow type (int64, float64, string, list<string> for multivalue fields,
timestamp for times) and the renderers turn only the requested page into text. An event index is
sorted newest-first once, at registration, so a time range is two binary searches and a page is a
zero-copy slice.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Dataset",
    "DatasetError",
    "Index",
    "empty_time_dataset",
    "text_matches",
    "to_dataset",
]

Datatype = Literal["event", "metric"]

TIME_FIELD = "_time"


class DatasetError(ValueError):
    """Data handed to the test server cannot be turned into Splunk results."""


@dataclass(frozen=True)
class Dataset:
    """An immutable Arrow table plus its ``_time`` column as int64 epoch nanoseconds.

    ``times_ns`` is None when the data has no ``_time`` column (allowed for canned searches such
    as ``| inputlookup``, not for indexes).
    """

    table: pa.Table
    times_ns: np.ndarray | None
    _text: dict[str, pa.Array] = field(default_factory=dict, repr=False, compare=False)

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    @property
    def fields(self) -> list[str]:
        return list(self.table.column_names)

    def column(self, name: str) -> pa.Array:
        """The typed column (one chunk), for renderers and filters."""
        return self.table.column(name).chunk(0)

    def text_column(self, name: str) -> pa.Array:
        """The column as Splunk text, converted once for all rows on first use.

        Formatting floats and times is the costliest step of rendering a page, and benchmarks
        read every row, so it is paid once per dataset instead of once per page. (Two threads
        may race to fill the cache; both compute the same array, so the race is harmless.)
        """
        cached = self._text.get(name)
        if cached is None:
            from kepler_splunk_testing.arrowtext import to_text

            cached = to_text(self.column(name))
            self._text[name] = cached
        return cached

    def newest_first(self) -> Dataset:
        """The same rows ordered by ``_time`` descending (stable), as Splunk returns events."""
        if self.times_ns is None:
            raise DatasetError("an index needs a _time column to order its events by")
        order = np.argsort(-self.times_ns, kind="stable")
        if np.all(order[1:] > order[:-1]):
            return self
        return Dataset(_single_chunk(self.table.take(pa.array(order))), self.times_ns[order])

    def time_slice(self, earliest_ns: int | None, latest_ns: int | None) -> slice:
        """Rows with earliest <= _time < latest, for a dataset sorted newest-first."""
        if self.times_ns is None:
            return slice(0, self.num_rows)
        ascending_negated = -self.times_ns  # ascending, so np.searchsorted applies
        start = 0
        stop = self.num_rows
        if latest_ns is not None:
            start = int(np.searchsorted(ascending_negated, -latest_ns, side="right"))
        if earliest_ns is not None:
            stop = int(np.searchsorted(ascending_negated, -earliest_ns, side="right"))
        return slice(start, max(start, stop))


@dataclass
class Index:
    """A registered index: its data plus what ``/services/data/indexes`` reports about it."""

    name: str
    datatype: Datatype
    dataset: Dataset
    host: str = "kepler-test-host"
    source: str = "kepler-test"
    sourcetype: str = "kepler:test"
    bucket: str = field(default_factory=lambda: f"~0~{uuid.uuid4()}".upper())

    @property
    def total_event_count(self) -> int:
        return self.dataset.num_rows

    def time_bounds(self) -> tuple[int | None, int | None]:
        """(oldest, newest) _time in epoch seconds, or (None, None) for an empty index."""
        times = self.dataset.times_ns
        if times is None or times.size == 0:
            return None, None
        return int(times.min() // 1_000_000_000), int(times.max() // 1_000_000_000)


def empty_time_dataset() -> Dataset:
    """An index with no events yet."""
    times = np.zeros(0, dtype=np.int64)
    return Dataset(pa.table({TIME_FIELD: pa.array(times, pa.timestamp("ns", tz="UTC"))}), times)


def to_dataset(data: Any, *, require_time: bool) -> Dataset:
    """Normalise a DataFrame, an Arrow table or an iterable of dicts into a :class:`Dataset`.

    Values become one of: string, int64, float64, bool, timestamp[ns, UTC] or list<string>
    (multivalue; lists, tuples, sets and arrays in a cell all count). ``_time`` may be datetimes
    (naive = UTC), epoch seconds or ISO strings.
    """
    table = _as_arrow_table(data)
    columns: dict[str, pa.Array] = {}
    times_ns: np.ndarray | None = None
    for name in table.column_names:
        column = table.column(name)
        if name == TIME_FIELD:
            times_ns = _time_column_ns(column, name)
            columns[name] = pa.array(times_ns, pa.timestamp("ns", tz="UTC"))
        else:
            columns[name] = _normalise(column, name)
    if require_time and times_ns is None:
        raise DatasetError(
            f"index data needs a {TIME_FIELD!r} column (datetimes or epoch seconds); "
            f"got columns {table.column_names}"
        )
    normalised = pa.table(columns) if columns else pa.table({})
    return Dataset(_single_chunk(normalised), times_ns)


def _as_arrow_table(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    module = type(data).__module__
    if module.startswith("pandas"):
        return _table_from_pandas(data)
    if isinstance(data, (Mapping, str, bytes)):
        raise DatasetError(
            "expected a pandas DataFrame, a pyarrow Table or a list of dicts, "
            f"got {type(data).__name__}"
        )
    if isinstance(data, Iterable):
        rows = list(data)
        if not all(isinstance(row, Mapping) for row in rows):
            raise DatasetError("a list of rows must hold only dicts (field name -> value)")
        names: dict[str, None] = {}
        for row in rows:
            names.update(dict.fromkeys(row))
        return pa.table({name: _python_column([row.get(name) for row in rows]) for name in names})
    raise DatasetError(
        "expected a pandas DataFrame, a pyarrow Table or a list of dicts, "
        f"got {type(data).__name__}"
    )


def _table_from_pandas(frame: pd.DataFrame) -> pa.Table:
    columns: dict[str, pa.Array] = {}
    for name in frame.columns:
        series = frame[name]
        try:
            columns[str(name)] = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            columns[str(name)] = _python_column(series.tolist())
    return pa.table(columns)


def _python_column(values: Sequence[Any]) -> pa.Array:
    """Build a column from Python values Arrow cannot type on its own (mixed lists/scalars)."""
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    if any(_is_multivalue(value) for value in values):
        return pa.array([_multivalue_strings(value) for value in values], pa.list_(pa.string()))
    return pa.array([None if _is_missing(value) else _scalar_text(value) for value in values])


def _is_multivalue(value: Any) -> bool:
    return isinstance(value, (list, tuple, set, frozenset, np.ndarray))


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _multivalue_strings(value: Any) -> list[str] | None:
    if _is_missing(value):
        return None
    items = list(value) if _is_multivalue(value) else [value]
    return [_scalar_text(item) for item in items if not _is_missing(item)]


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _normalise(column: pa.ChunkedArray | pa.Array, name: str) -> pa.Array:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = array.type
    if pa.types.is_dictionary(kind):
        return _normalise(array.dictionary_decode(), name)
    if pa.types.is_string(kind):
        return array
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return array.cast(pa.string())
    if pa.types.is_integer(kind):
        return array.cast(pa.int64()) if not pa.types.is_uint64(kind) else array.cast(pa.string())
    if pa.types.is_floating(kind):
        return array.cast(pa.float64())
    if pa.types.is_boolean(kind):
        return array
    if pa.types.is_timestamp(kind):
        return pa.array(_timestamps_to_ns(array), pa.timestamp("ns", tz="UTC"))
    if pa.types.is_null(kind):
        return pa.nulls(len(array), pa.string())
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        try:
            return array.cast(pa.list_(pa.string()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return _python_column(array.to_pylist())
    try:
        return array.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array(
            [None if value is None else _scalar_text(value) for value in array.to_pylist()],
            pa.string(),
        )


def _timestamps_to_ns(array: pa.Array) -> np.ndarray:
    """Epoch nanoseconds of a timestamp array; naive timestamps are read as UTC."""
    unit_ns = array.cast(pa.timestamp("ns", tz=array.type.tz))
    return unit_ns.view(pa.int64()).to_numpy(zero_copy_only=False)


def _time_column_ns(column: pa.ChunkedArray | pa.Array, name: str) -> np.ndarray:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if array.null_count:
        raise DatasetError(f"every row needs a {name!r} value; {array.null_count} rows have none")
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.dictionary_decode()
        kind = array.type
    if pa.types.is_timestamp(kind):
        return _timestamps_to_ns(array)
    if pa.types.is_integer(kind):
        return array.cast(pa.int64()).to_numpy() * 1_000_000_000
    if pa.types.is_floating(kind):
        seconds = array.cast(pa.float64()).to_numpy()
        if np.isnan(seconds).any():
            raise DatasetError(f"every row needs a {name!r} value; some are NaN")
        return np.round(seconds * 1e9).astype(np.int64)
    if pa.types.is_date(kind):
        return _timestamps_to_ns(array.cast(pa.timestamp("s")))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        import pandas as pd

        try:
            parsed = pd.to_datetime(pd.Series(array.to_pylist()), utc=True, format="ISO8601")
        except (ValueError, TypeError) as error:
            raise DatasetError(f"cannot read {name!r} as times: {error}") from None
        return parsed.dt.as_unit("ns").astype("int64").to_numpy()
    raise DatasetError(f"{name!r} must hold datetimes, epoch seconds or ISO strings, not {kind}")


def _single_chunk(table: pa.Table) -> pa.Table:
    """One chunk per column, so ``Dataset.column`` can hand out plain arrays."""
    if table.num_columns == 0:
        return table
    return pa.table(
        {
            name: table.column(name).combine_chunks()
            if table.column(name).num_chunks != 1
            else table.column(name).chunk(0)
            for name in table.column_names
        }
    )


def text_matches(values: pa.Array, pattern: str) -> pa.Array:
    """Splunk's ``field=value`` test on a text column: case-insensitive, ``*`` is a wildcard.

    A multivalue cell matches when any of its values does.
    """
    like = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
    if pa.types.is_list(values.type):
        lengths = pc.fill_null(pc.list_value_length(values), 0)
        flat_hits = pc.match_like(pc.list_flatten(values), like, ignore_case=True)
        parents = pc.list_parent_indices(values)
        hits = np.zeros(len(values), dtype=bool)
        flagged = parents.to_numpy()[flat_hits.to_numpy(zero_copy_only=False)]
        hits[flagged] = True
        hits &= lengths.to_numpy() > 0
        return pa.array(hits)
    return pc.fill_null(pc.match_like(values, like, ignore_case=True), False)
