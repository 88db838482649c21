"""Results as a table the SPL commands work on: pandas columns, built only when a command asks.

An event search over a million rows hands ``| stats avg(temperature) by asset_id`` only the two
columns it reads: a :class:`Frame` keeps the dataset and the selected row numbers, and turns a
column into a pandas Series on first use. Splunk's internal event fields that are the same for
every row of an index (``host``, ``index``, ``sourcetype`` ...) are provided too, so ``by host``
works. :func:`to_results` turns a frame back into a :class:`ResultSet` for the renderers: while no
transforming command has run, the rows stay events (with ``_cd``, ``_serial`` ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa

from kepler_splunk_testing.datasets import Dataset, Index
from kepler_splunk_testing.metricdata import number_text
from kepler_splunk_testing.results import ResultSet
from kepler_splunk_testing.spleval import number_string

__all__ = ["Frame", "from_results", "series_to_arrow", "to_results"]


@dataclass
class Frame:
    """``length`` rows with fields ``order``; a column is in ``columns`` or still in ``source``."""

    length: int
    order: list[str]
    columns: dict[str, pd.Series] = field(default_factory=dict)
    source: Dataset | None = None
    positions: np.ndarray | None = None
    index: Index | None = None  # set while the rows are events of this index
    server_name: str = "kepler-splunk-test"

    @property
    def events(self) -> bool:
        return self.index is not None

    def column(self, name: str) -> pd.Series | None:
        """The values of ``name`` (None when no row can have it)."""
        found = self.columns.get(name)
        if found is not None:
            return found
        series = self._materialise(name)
        if series is not None:
            self.columns[name] = series
        return series

    def _materialise(self, name: str) -> pd.Series | None:
        if self.source is not None and name in self.source.table.column_names:
            assert self.positions is not None
            array = self.source.column(name).take(pa.array(self.positions, pa.int64()))
            series = array.to_pandas()
            return series if isinstance(series, pd.Series) else pd.Series(series)
        if self.index is not None:
            constants = {
                "host": self.index.host,
                "index": self.index.name,
                "source": self.index.source,
                "sourcetype": self.index.sourcetype,
                "splunk_server": self.server_name,
                "linecount": "1",
            }
            if name in constants:
                return pd.Series([constants[name]] * self.length, dtype=object)
        return None

    def take(self, rows: np.ndarray) -> Frame:
        """The rows at ``rows`` (positions in this frame, in the order given)."""
        rows = np.asarray(rows, dtype=np.int64)
        columns = {
            name: series.iloc[rows].reset_index(drop=True) for name, series in self.columns.items()
        }
        positions = None if self.positions is None else self.positions[rows]
        return replace(self, length=len(rows), columns=columns, positions=positions)

    def keep(self, mask: np.ndarray) -> Frame:
        return self.take(np.flatnonzero(np.asarray(mask, dtype=bool)))

    def assign(self, name: str, series: pd.Series) -> None:
        self.columns[name] = series.reset_index(drop=True)
        if name not in self.order:
            self.order.append(name)
            if self.events:
                self.order = _event_order(self.order)

    def present(self, name: str) -> bool:
        """Whether ``name`` is a field of these results (a column, or one of the source's)."""
        return name in self.columns or self._materialise_known(name)

    def _materialise_known(self, name: str) -> bool:
        if self.source is not None and name in self.source.table.column_names:
            return True
        return self.index is not None and name in (
            "host", "index", "source", "sourcetype", "splunk_server", "linecount"
        )


def _event_order(fields: list[str]) -> list[str]:
    """Splunk lists event fields alphabetically, internal (``_``) fields first."""
    return sorted(dict.fromkeys(fields), key=lambda name: (not name.startswith("_"), name))


def from_results(results: ResultSet) -> Frame:
    return Frame(
        len(results),
        list(results.fields),
        {},
        results.dataset,
        results.positions(),
        results.index,
        results.server_name,
    )


def table_frame(columns: dict[str, pd.Series], order: list[str], server_name: str) -> Frame:
    """Transformed results (``stats``, ``timechart``): plain rows, no longer events."""
    length = len(next(iter(columns.values()))) if columns else 0
    return Frame(
        length,
        list(order),
        {name: series.reset_index(drop=True) for name, series in columns.items()},
        None,
        None,
        None,
        server_name,
    )


def to_results(frame: Frame) -> ResultSet:
    """The frame as a result set the renderers page through."""
    arrays: dict[str, pa.Array] = {}
    wanted = list(frame.order)
    if frame.events and "_time" not in wanted:
        wanted.append("_time")  # _indextime is computed from it
    for name in wanted:
        if name in frame.columns:
            arrays[name] = series_to_arrow(frame.columns[name])
        elif frame.source is not None and name in frame.source.table.column_names:
            assert frame.positions is not None
            arrays[name] = frame.source.column(name).take(pa.array(frame.positions, pa.int64()))
    table = pa.table(arrays) if arrays else pa.table({})
    if table.num_columns:
        table = pa.table({name: table.column(name).combine_chunks() for name in arrays})
    times = None
    if "_time" in arrays and pa.types.is_timestamp(arrays["_time"].type):
        times = arrays["_time"].view(pa.int64()).to_numpy(zero_copy_only=False)
    dataset = Dataset(table, times)
    return ResultSet(
        dataset, slice(0, frame.length), tuple(frame.order), frame.index, frame.server_name
    )


def series_to_arrow(series: pd.Series) -> pa.Array:
    """A column in the dataset's types: times, int64, Splunk-formatted number text, text, or
    list<string> for multivalue values."""
    kind = series.dtype.kind
    if kind == "M":
        values = series.dt.tz_localize("UTC") if series.dt.tz is None else series
        return pa.array(values, from_pandas=True).cast(pa.timestamp("ns", tz="UTC"))
    if kind in "iu":
        return pa.array(series.astype(np.int64).to_numpy(), pa.int64())
    if kind == "f":
        values = series.to_numpy(dtype=np.float64)
        return number_text(values, ~np.isnan(values))
    if kind == "b":
        return pa.array(np.where(series.to_numpy(), "true", "false"), pa.string())
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series_to_arrow(series.astype(object))
    values = series.tolist()
    if any(isinstance(v, (list, tuple, np.ndarray)) for v in values):
        return pa.array(
            [_text_list(v) for v in values], pa.list_(pa.string())
        )
    return pa.array([_text(v) for v in values], pa.string())


def _text_list(value: object) -> list[str] | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    texts = [_text(item) for item in items]
    return [text for text in texts if text is not None]


def _text(value: object) -> str | None:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else number_string(float(value))
    if isinstance(value, pd.Timestamp):
        return number_string(value.timestamp())
    return str(value)
