"""What a search produced: a row selection over a dataset, cut into pages on demand.

A :class:`ResultSet` never copies rows. It is a dataset, a selection (a slice when only the time
range filtered, an index array otherwise) and the list of output fields; :meth:`ResultSet.page`
turns ``offset``/``count`` into text columns for one page, computing Splunk's internal fields
(``_serial``, ``_cd``, ``_si`` ...) for exactly those rows.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kepler_splunk_testing.arrowtext import Constant, TextColumn
from kepler_splunk_testing.datasets import Dataset, Index

__all__ = ["EVENT_FIELDS", "Message", "Page", "ResultSet", "select_fields"]

EVENT_FIELDS = (
    "_bkt",
    "_cd",
    "_indextime",
    "_serial",
    "_si",
    "_sourcetype",
    "_time",
    "host",
    "index",
    "linecount",
    "source",
    "sourcetype",
    "splunk_server",
)
"""Fields every event from an index carries in real Splunk results (``_raw`` aside)."""


@dataclass(frozen=True)
class Message:
    """A Splunk search message; ``type`` is DEBUG, INFO, WARN, ERROR or FATAL."""

    type: str
    text: str


@dataclass(frozen=True)
class Page:
    """One page of results as text columns, parallel to ``fields``."""

    fields: tuple[str, ...]
    columns: tuple[TextColumn, ...]
    offset: int
    num_rows: int
    plain: tuple[bool, ...] = ()
    """Per column: True when its text cannot need escaping (numbers, times), so renderers skip
    the escaping scan."""

    def is_plain(self, position: int) -> bool:
        return bool(self.plain) and self.plain[position]


Selection = slice | np.ndarray


@dataclass(frozen=True)
class ResultSet:
    """Rows ``rows`` of ``dataset`` (in result order) with output ``fields``.

    ``index`` is set for event searches: it supplies the internal fields Splunk adds to events.
    """

    dataset: Dataset
    rows: Selection
    fields: tuple[str, ...]
    index: Index | None = None
    server_name: str = "kepler-splunk-test"
    _length: int = field(init=False, repr=False, default=0)

    def __post_init__(self) -> None:
        if isinstance(self.rows, slice):
            start, stop, _ = self.rows.indices(self.dataset.num_rows)
            length = max(0, stop - start)
        else:
            length = len(self.rows)
        object.__setattr__(self, "_length", length)

    def __len__(self) -> int:
        return self._length

    def head(self, count: int) -> ResultSet:
        """The first ``count`` rows (``| head``, finalized jobs, preview sets)."""
        return ResultSet(
            self.dataset, self._sub_selection(0, count), self.fields, self.index, self.server_name
        )

    def with_fields(self, fields: Sequence[str]) -> ResultSet:
        return ResultSet(self.dataset, self.rows, tuple(fields), self.index, self.server_name)

    def positions(self) -> np.ndarray:
        """Dataset row numbers of every result, in result order."""
        if isinstance(self.rows, slice):
            start, _, _ = self.rows.indices(self.dataset.num_rows)
            return np.arange(start, start + len(self), dtype=np.int64)
        return self.rows

    def page(self, offset: int, count: int, field_list: Sequence[str] = ()) -> Page:
        """Rows ``[offset, offset + count)`` as text; ``field_list`` narrows the fields (``f=``)."""
        offset = max(0, min(offset, len(self)))
        count = max(0, min(count, len(self) - offset))
        selection = self._sub_selection(offset, count)
        fields = select_fields(self.fields, field_list) if field_list else self.fields
        columns = tuple(self._text_column(name, selection, offset, count) for name in fields)
        plain = tuple(self._is_plain(name) for name in fields)
        return Page(tuple(fields), columns, offset, count, plain)

    def _is_plain(self, name: str) -> bool:
        if name in self.dataset.table.column_names:
            kind = self.dataset.table.schema.field(name).type
            return (
                pa.types.is_integer(kind)
                or pa.types.is_floating(kind)
                or pa.types.is_boolean(kind)
                or pa.types.is_timestamp(kind)
            )
        return self.index is not None and name in ("_cd", "_indextime", "_serial")

    def _sub_selection(self, offset: int, count: int) -> Selection:
        count = max(0, min(count, len(self) - offset))
        if isinstance(self.rows, slice):
            start, _, _ = self.rows.indices(self.dataset.num_rows)
            return slice(start + offset, start + offset + count)
        return self.rows[offset : offset + count]

    def _linecount(self, selection: Selection) -> pa.Array:
        return _lines(self._take("_raw", selection, text=True))

    def _take(self, name: str, selection: Selection, text: bool = False) -> pa.Array:
        column = self.dataset.text_column(name) if text else self.dataset.column(name)
        if isinstance(selection, slice):
            return column.slice(selection.start, selection.stop - selection.start)
        return column.take(pa.array(selection, pa.int64()))

    def _text_column(self, name: str, selection: Selection, offset: int, count: int) -> TextColumn:
        if name in self.dataset.table.column_names:
            return self._take(name, selection, text=True)
        if self.index is None:
            return pa.nulls(count, pa.string())
        return self._event_field(name, selection, offset, count)

    def _event_field(self, name: str, selection: Selection, offset: int, count: int) -> TextColumn:
        """Splunk's internal event fields, for the rows of one page."""
        index = self.index
        assert index is not None
        if name == "linecount" and "_raw" in self.dataset.table.column_names:
            return self._linecount(selection)
        constants: dict[str, Constant] = {
            "_bkt": f"{index.name}{index.bucket}",
            "_si": (self.server_name, index.name),
            "host": index.host,
            "index": index.name,
            "linecount": "1",
            "source": index.source,
            "sourcetype": index.sourcetype,
            "splunk_server": self.server_name,
        }
        if name in constants:
            return constants[name]
        if name == "_sourcetype":
            if "sourcetype" in self.dataset.table.column_names:
                return self._take("sourcetype", selection, text=True)
            return index.sourcetype
        if name == "_serial":
            return pc.cast(pa.array(np.arange(offset, offset + count, dtype=np.int64)), pa.string())
        if name == "_cd":
            rows = (
                np.arange(selection.start, selection.stop, dtype=np.int64)
                if isinstance(selection, slice)
                else np.asarray(selection, dtype=np.int64)
            )
            return pc.binary_join_element_wise(
                pa.scalar("0:"), pc.cast(pa.array(rows), pa.string()), ""
            )
        if name == "_indextime":
            times = self._take("_time", selection).view(pa.int64())
            return pc.cast(pc.divide(times, 1_000_000_000), pa.string())
        return pa.nulls(count, pa.string())


def _lines(raw: pa.Array) -> pa.Array:
    """``linecount`` as Splunk documents it: the number of lines of the event's ``_raw``
    (https://docs.splunk.com/Documentation/Splunk/latest/Data/Aboutdefaultfields)."""
    if pa.types.is_list(raw.type):  # a multivalue _raw made by the data: its first value's
        raw = pc.list_element(raw, 0)
    lines = pc.add(pc.count_substring(pc.fill_null(raw, ""), "\n"), 1)
    return pc.cast(lines, pa.string())


def select_fields(fields: Sequence[str], wanted: Sequence[str]) -> tuple[str, ...]:
    """Fields named by ``f=``/``field_list`` (``*`` wildcards allowed), in result order."""
    patterns = [name.strip() for item in wanted for name in item.split(",") if name.strip()]
    return tuple(name for name in fields if any(fnmatch.fnmatchcase(name, p) for p in patterns))
