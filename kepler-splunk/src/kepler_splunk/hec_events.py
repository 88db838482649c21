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

from kepler.errors import KeplerError

if TYPE_CHECKING:
    import pandas as pd

ROW_ID_FIELD = "kepler_row_id"


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


def encode_events(
    frame: pd.DataFrame, *, write_id: str, meta: Metadata, time_field: str | None = None,
    fields: Sequence[str] | None = None, metrics: Sequence[str] | None = None,
    dimensions: Sequence[str] | None = None,
) -> Iterator[tuple[int, bytes]]:
    """``(row number, JSON line)`` per row: events, or metric data points when ``metrics``."""
    import orjson

    columns = list(frame.columns)
    time_column = time_field or ("_time" if "_time" in columns else None)
    if time_column is not None and time_column not in columns:
        raise KeplerError(f"time_field {time_column!r} is not a column.",
                          hint=f"Columns: {', '.join(map(str, columns))}.")
    indexed = list(fields or [])
    missing = [c for c in [*indexed, *(metrics or []), *(dimensions or [])] if c not in columns]
    if missing:
        raise KeplerError(f"Column(s) {', '.join(map(repr, missing))} do not exist.",
                          hint=f"Columns: {', '.join(map(str, columns))}.")
    times = _epoch_seconds(frame[time_column]) if time_column else None
    header = meta.as_dict()
    if metrics is not None:
        yield from _metric_points(frame, metrics, dimensions or [], times, header, write_id)
        return
    body_columns = [c for c in columns if c != time_column]
    values = {c: _plain(frame[c]) for c in body_columns}
    indexed_values = {c: values[c] for c in indexed}
    dumps = orjson.dumps
    for row in range(len(frame)):
        event = {c: v[row] for c, v in values.items() if v[row] is not None}
        record: dict[str, Any] = {"event": event, **header}
        if times is not None and times[row] is not None:
            record["time"] = times[row]
        extra = {c: _field_value(v[row]) for c, v in indexed_values.items() if v[row] is not None}
        record["fields"] = {**extra, ROW_ID_FIELD: f"{write_id}:{row}"}
        yield row, dumps(record)


def _field_value(value: Any) -> Any:
    if isinstance(value, list):
        return [str(v) for v in value]
    return value if isinstance(value, str) else str(value)


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
    """Events sent in one request: their row numbers and the JSON lines; ``tag`` travels with
    every part of the batch (the spool keeps the write id and target in it)."""

    rows: list[int]
    lines: list[bytes]
    tag: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(len(line) + 1 for line in self.lines)

    def body(self) -> bytes:
        return b"\n".join(self.lines)

    def split(self) -> tuple[Batch, Batch]:
        half = len(self.rows) // 2
        return (Batch(self.rows[:half], self.lines[:half], self.tag),
                Batch(self.rows[half:], self.lines[half:], self.tag))

    def after(self, position: int) -> Batch:
        return Batch(self.rows[position:], self.lines[position:], self.tag)

    def part(self, start: int, stop: int) -> Batch:
        return Batch(self.rows[start:stop], self.lines[start:stop], self.tag)


def batches(lines: Iterator[tuple[int, bytes]], limit: int) -> Iterator[Batch]:
    """Group ``(row, line)`` pairs into batches of at most ``limit`` bytes (a larger single
    event travels alone and gets Splunk's 413, reported as a failed row)."""
    rows: list[int] = []
    chunk: list[bytes] = []
    size = 0
    for row, line in lines:
        if chunk and size + len(line) + 1 > limit:
            yield Batch(rows, chunk)
            rows, chunk, size = [], [], 0
        rows.append(row)
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        yield Batch(rows, chunk)
