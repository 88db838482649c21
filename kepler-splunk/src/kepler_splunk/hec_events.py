"""DataFrame rows to HEC events (JSON, one object per line), fast.

Each row becomes ``{"time": <epoch>, "event": {column: value...}, "fields": {...}, "index":...}``.
Columns are converted once, vectorised (datetimes to ISO text or epoch seconds, missing values
left out of their row), then orjson writes each event. Every event carries ``kepler_row_id`` as
an indexed field, ``<write id>:<row number>``, stable across resends, so duplicates from
at-least-once delivery can be found downstream (``| stats count by kepler_row_id``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kepler.api import KeplerError

if TYPE_CHECKING:
    import pandas as pd

ROW_ID_FIELD = "kepler_row_id"
#: Rows encoded at once: large enough for Arrow's kernels to amortise, small enough that the
#: first batches go out quickly.
ENCODE_ROWS = 20_000


@dataclass(frozen=True)
class Metadata:
    index: str | None = None
    sourcetype: str | None = None
    source: str | None = None
    host: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("index", self.index), ("sourcetype", self.sourcetype),
                                  ("source", self.source), ("host", self.host)) if v}


def _epoch_seconds(series: pd.Series) -> list[float | None]:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = series.dt.tz_localize("UTC") if series.dt.tz is None else series
        values = (stamps.dt.as_unit("ns").astype("int64") / 1e9).round(6)
        return [None if missing else v for v, missing in zip(values.tolist(), series.isna(),
                                                             strict=True)]
    if pd.api.types.is_numeric_dtype(series):
        return [None if (v is None or (isinstance(v, float) and math.isnan(v))) else float(v)
                for v in series.tolist()]
    parsed = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
    if parsed.isna().any() and series.notna().any():
        bad = series[parsed.isna() & series.notna()].iloc[0]
        raise KeplerError(f"Time column {series.name!r} holds {bad!r}, which is not a time.",
                          hint="Use datetimes, epoch seconds or ISO-8601 text.")
    return _epoch_seconds(parsed)


def _plain(series: pd.Series) -> list[Any]:
    """Values JSON can carry: datetimes as ISO text, missing as None, numpy as Python."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series):
        text = series.dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z")
        return [None if m else t for t, m in zip(text.tolist(), series.isna(), strict=True)]
    values = series.tolist()
    if pd.api.types.is_float_dtype(series):
        return [None if v != v else v for v in values]  # NaN
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        return [None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else
                (list(v) if isinstance(v, (tuple, set)) or hasattr(v, "tolist") else v)
                for v in values]
    return [None if v is pd.NA else v for v in values]


def _resolve_columns(frame: pd.DataFrame, time_field: str | None,
                     needed: Sequence[str]) -> tuple[str | None, list[float | None] | None]:
    """The time column in use and its epoch seconds; checks every named column exists."""
    columns = list(frame.columns)
    time_column = time_field or ("_time" if "_time" in columns else None)
    if time_column is not None and time_column not in columns:
        raise KeplerError(f"time_field {time_column!r} is not a column.",
                          hint=f"Columns: {', '.join(map(str, columns))}.")
    missing = [c for c in needed if c not in columns]
    if missing:
        raise KeplerError(f"Column(s) {', '.join(map(repr, missing))} do not exist.",
                          hint=f"Columns: {', '.join(map(str, columns))}.")
    times = _epoch_seconds(frame[time_column]) if time_column else None
    return time_column, times


def event_batches(
    frame: pd.DataFrame, *, write_id: str, meta: Metadata, limit: int,
    time_field: str | None = None, fields: Sequence[str] | None = None,
) -> Iterator[Batch]:
    """Every row as one HEC event, in batches of at most ``limit`` bytes (built with Arrow)."""
    from .hec_json import event_lines

    indexed = list(fields or [])
    time_column, times = _resolve_columns(frame, time_field, indexed)
    body_columns = [c for c in frame.columns if c != time_column]
    # Encoded a slice at a time, so the first requests leave while later rows are encoded.
    for start in range(0, len(frame), ENCODE_ROWS):
        part = frame.iloc[start:start + ENCODE_ROWS]
        lines = event_lines(part, write_id=write_id, metadata=meta.as_dict(),
                            times=None if times is None else times[start:start + ENCODE_ROWS],
                            body_columns=body_columns, indexed=indexed, first_row=start)
        for batch in array_batches(lines, limit):
            batch.rows = range(batch.rows.start + start, batch.rows.stop + start)
            yield batch


def metric_batches(
    frame: pd.DataFrame, *, write_id: str, meta: Metadata, limit: int, metrics: Sequence[str],
    dimensions: Sequence[str] = (), time_field: str | None = None,
) -> Iterator[Batch]:
    """Every row as one metric data point (HEC's multiple-measurement format)."""
    _, times = _resolve_columns(frame, time_field, [*metrics, *dimensions])
    yield from batches(_metric_points(frame, metrics, dimensions, times, meta.as_dict(),
                                      write_id), limit)


def _metric_points(frame: pd.DataFrame, metrics: Sequence[str], dimensions: Sequence[str],
                   times: list[float | None] | None, header: dict[str, str],
                   write_id: str) -> Iterator[tuple[int, bytes]]:
    """HEC's multiple-measurement metric format: ``"metric_name:<name>": value`` in fields."""
    import orjson

    if not metrics:
        raise KeplerError("No metric columns given.", hint="Pass metrics=['temperature', ...].")
    metric_values = {m: _plain(frame[m]) for m in metrics}
    dim_values = {d: _plain(frame[d]) for d in dimensions}
    for name, column in metric_values.items():
        bad = next((v for v in column if v is not None and not isinstance(v, (int, float))), None)
        if bad is not None:
            raise KeplerError(f"Metric column {name!r} holds {bad!r}; metric values are numbers.",
                              hint="Pass text columns as dimensions=[...] instead.")
    for row in range(len(frame)):
        point: dict[str, Any] = {f"metric_name:{m}": v[row] for m, v in metric_values.items()
                                 if v[row] is not None}
        if not point:
            continue
        point.update({d: str(v[row]) for d, v in dim_values.items() if v[row] is not None})
        point[ROW_ID_FIELD] = f"{write_id}:{row}"
        record: dict[str, Any] = {"event": "metric", **header, "fields": point}
        if times is not None and times[row] is not None:
            record["time"] = times[row]
        yield row, orjson.dumps(record)


@dataclass
class Batch:
    """Events sent in one request: their row numbers and newline-terminated JSON lines, kept as
    one contiguous buffer (``data``) with each line's start (``starts``, plus the end), so a
    batch costs no per-event Python objects; ``tag`` travels with every part of the batch (the
    spool keeps the write id and target in it)."""

    rows: Sequence[int]
    data: bytes
    starts: Sequence[int]
    tag: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Sequence[int], lines: Sequence[bytes],
           tag: dict[str, Any] | None = None) -> Batch:
        starts = [0]
        for line in lines:
            starts.append(starts[-1] + len(line) + 1)
        return cls(list(rows), b"".join(line + b"\n" for line in lines), starts, tag or {})

    @property
    def lines(self) -> list[bytes]:
        return [self.data[a:b - 1] for a, b in zip(self.starts[:-1], self.starts[1:],
                                                   strict=True)]

    @property
    def size(self) -> int:
        return len(self.data)

    def body(self) -> bytes:
        return self.data

    def part(self, start: int, stop: int) -> Batch:
        begin, end = self.starts[start], self.starts[stop]
        return Batch(self.rows[start:stop], self.data[begin:end],
                     [x - begin for x in self.starts[start:stop + 1]], self.tag)

    def split(self) -> tuple[Batch, Batch]:
        half = len(self.rows) // 2
        return self.part(0, half), self.part(half, len(self.rows))

    def after(self, position: int) -> Batch:
        return self.part(position, len(self.rows))


def batches(lines: Iterator[tuple[int, bytes]], limit: int) -> Iterator[Batch]:
    """Group ``(row, line)`` pairs into batches of at most ``limit`` bytes (a larger single
    event travels alone and gets Splunk's 413, reported as a failed row)."""
    rows: list[int] = []
    chunk: list[bytes] = []
    size = 0
    for row, line in lines:
        if chunk and size + len(line) + 1 > limit:
            yield Batch.of(rows, chunk)
            rows, chunk, size = [], [], 0
        rows.append(row)
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        yield Batch.of(rows, chunk)


def array_batches(lines: Any, limit: int) -> Iterator[Batch]:
    """Cut an Arrow array of newline-terminated lines into batches of at most ``limit`` bytes,
    slicing its character buffer directly (no per-line objects)."""
    import numpy as np
    import pyarrow as pa

    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    count = len(lines)
    if not count:
        return
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset:
                                                                 lines.offset + count + 1]
    data = memoryview(lines.buffers()[2])
    start = 0
    while start < count:
        base = int(offsets[start])
        # the last line that still fits (at least one line per batch)
        stop = int(np.searchsorted(offsets, base + limit, side="right")) - 1
        stop = min(max(stop, start + 1), count)
        end = int(offsets[stop])
        yield Batch(range(start, stop), bytes(data[base:end]),
                    (offsets[start:stop + 1] - base).tolist())
        start = stop
