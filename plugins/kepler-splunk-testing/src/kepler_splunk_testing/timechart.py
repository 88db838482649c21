"""``timechart`` and ``bin``/``bucket``: time buckets (and numeric ranges) as Splunk forms them.

From Splunk's Search Reference: buckets start at multiples of the span (UTC here); without
``span=`` the span is the smallest of 1s, 5s, 10s, 30s, 1m, 5m, 10m, 30m, 1h, 1d, 1mon that gives
at most ``bins`` (default 100) buckets over the time range (so the last 24 hours give 30m, the
last 7 days 1d). ``timechart`` fills every bucket of the search's time range (``fixedrange``,
``cont``): ``count``/``dc`` are 0 in an empty bucket, other functions empty. With ``BY field``
each value becomes a column (with several functions: ``avg(x): value``, ``sep=`` to change
``": "``); the ``limit`` (default 10) values with the largest totals are kept and the rest summed
into ``OTHER`` (``useother=f`` drops them), rows without the field go to ``NULL``
(``usenull=f`` drops them). Results carry ``_time`` and ``_span`` (seconds).
Numeric ``bin``: ``span=10`` or ``bins=N`` (a power of ten wide), values become ``"10-20"``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from kepler_splunk_testing.aggregates import AggTerm, Grouped, compute
from kepler_splunk_testing.frame import Frame, table_frame
from kepler_splunk_testing.metricspl import MetricsError, Span, parse_span
from kepler_splunk_testing.mstats import bucket_starts
from kepler_splunk_testing.splargs import parse_bin, parse_stats
from kepler_splunk_testing.spleval import first_values, number_string, to_number, to_text
from kepler_splunk_testing.splexpr import ExprError
from kepler_splunk_testing.transforms import Context, term_values

__all__ = ["auto_span", "bin_command", "timechart"]

_AUTO_SECONDS = (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 86_400)
_MAX_BUCKETS = 100_000
_FALSE = ("f", "false", "0", "no")
_ZERO_FILLED = frozenset({"count", "dc", "estdc"})


def auto_span(range_ns: int, bins: int = 100) -> Span:
    """The smallest of Splunk's spans giving at most ``bins`` buckets over ``range_ns``."""
    seconds = max(range_ns, 0) / 1e9
    for width in _AUTO_SECONDS:
        if seconds / width <= bins:
            return Span(f"{width}s", seconds=width)
    return Span("1mon", months=1)


def _span(options: dict[str, str], range_ns: int, command: str) -> Span:
    try:
        if "span" in options:
            return parse_span(options["span"], command)
        return auto_span(range_ns, int(options.get("bins", "100")))
    except MetricsError as error:
        raise ExprError(error.message) from None
    except ValueError:
        bins = options["bins"]
        raise ExprError(f"Error in '{command}' command: Invalid bins '{bins}'.") from None


def _all_buckets(first_ns: int, end_ns: int, span: Span) -> np.ndarray:
    """Bucket starts from the one holding ``first_ns`` up to (not including) ``end_ns``."""
    if span.months:
        start = bucket_starts(np.array([first_ns]), span)[0]
        months = np.arange(
            np.datetime64(int(start), "ns").astype("datetime64[M]"),
            np.datetime64(int(end_ns), "ns").astype("datetime64[M]") + 1,
            span.months,
        )
        starts = months.astype("datetime64[ns]").astype(np.int64)
        return starts[starts < end_ns]
    width = span.seconds * 1_000_000_000
    start = (first_ns // width) * width
    count = max(0, -(-(end_ns - start) // width))
    if count > _MAX_BUCKETS:
        raise ExprError(
            f"Error in 'timechart' command: span={span.text} gives {count:,} buckets over the "
            f"time range; the Kepler Splunk test server fills at most {_MAX_BUCKETS:,}."
        )
    return start + width * np.arange(count, dtype=np.int64)


def _ns(moment: object) -> int | None:
    """Epoch nanoseconds of a bound; ``earliest=0`` means all time, as in Splunk."""
    if moment is None or moment.timestamp() <= 0:  # type: ignore[attr-defined]
        return None
    return round(moment.timestamp() * 1_000_000) * 1000  # type: ignore[attr-defined]


def timechart(frame: Frame, args: str, ctx: Context) -> Frame:
    query = parse_stats(args, "timechart")
    options = {key.lower(): value for key, value in query.options.items()}
    if len(query.by) > 1:
        raise ExprError("Error in 'timechart' command: The timechart command takes at most one "
                        "split-by field.")
    times = frame.column("_time")
    times_ns = (
        times.astype("int64").to_numpy() if times is not None and times.dtype.kind == "M"
        else np.zeros(0, dtype=np.int64)
    )
    if times is None or times.dtype.kind != "M":
        frame = frame.take(np.zeros(0, dtype=np.int64))
    fixed = options.get("fixedrange", "t").lower() not in _FALSE
    first = _ns(ctx.earliest) if fixed else None
    end = _ns(ctx.latest) if fixed else None
    if first is None:
        first = int(times_ns.min()) if len(times_ns) else None
    if end is None:
        end = int(times_ns.max()) + 1 if len(times_ns) else None
    if first is None or end is None or end <= first:
        columns = {"_time": pd.Series([], dtype="datetime64[ns, UTC]")}
        return table_frame(columns, ["_time"], frame.server_name)
    span = _span(options, end - first, "timechart")
    buckets = _all_buckets(first, end, span)
    row_bucket = np.searchsorted(buckets, bucket_starts(times_ns, span))
    inside = (row_bucket < len(buckets)) & (
        buckets[np.minimum(row_bucket, len(buckets) - 1)] == bucket_starts(times_ns, span)
    )
    columns, names = _series_columns(frame, query.terms, query.by, options, ctx, row_bucket,
                                     inside, len(buckets))
    out = {"_time": pd.Series(pd.to_datetime(buckets, utc=True)), **columns}
    order = ["_time", *names]
    if span.seconds:
        out["_span"] = pd.Series(np.full(len(buckets), span.seconds, dtype=np.int64))
        order.append("_span")
    result = table_frame(out, order, frame.server_name)
    if options.get("cont", "t").lower() in _FALSE:
        occupied = np.bincount(row_bucket[inside], minlength=len(buckets)) > 0
        result = result.keep(occupied)
    return result


def _series_columns(
    frame: Frame,
    terms: list[AggTerm],
    by: list[str],
    options: dict[str, str],
    ctx: Context,
    row_bucket: np.ndarray,
    inside: np.ndarray,
    bucket_count: int,
) -> tuple[dict[str, pd.Series], list[str]]:
    """One column per function (no BY) or per function and split value."""
    rows = np.flatnonzero(inside)
    times = frame.column("_time")
    inputs = [term_values(frame, term, ctx) for term in terms]
    if not by:
        grouped = Grouped(rows, row_bucket[rows].astype(np.int64), bucket_count)
        columns = {
            term.column: _filled(term, compute(term, values, times, grouped))
            for term, values in zip(terms, inputs, strict=True)
        }
        return columns, list(columns)
    labels = _split_labels(frame, by[0], options)
    present = rows[labels.iloc[rows].notna().to_numpy()]
    names = _kept_series(terms[0], inputs[0], times, labels, present, row_bucket, bucket_count,
                         options)
    mapping = {name: position for position, name in enumerate(names)}
    other = options.get("otherstr", "OTHER")
    codes = labels.iloc[present].map(lambda v: mapping.get(v, mapping.get(other, -1)))
    codes = codes.to_numpy(dtype=np.int64)
    chosen = present[codes >= 0]
    ids = row_bucket[chosen] * len(names) + codes[codes >= 0]
    grouped = Grouped(chosen, ids.astype(np.int64), bucket_count * len(names))
    sep = options.get("sep", ": ")
    columns: dict[str, pd.Series] = {}
    for term, values in zip(terms, inputs, strict=True):
        grid = _filled(term, compute(term, values, times, grouped)).to_numpy()
        grid = grid.reshape(bucket_count, len(names)) if len(names) else grid.reshape(
            bucket_count, 0
        )
        for position, name in enumerate(names):
            column = name if len(terms) == 1 else f"{term.column}{sep}{name}"
            columns[column] = pd.Series(grid[:, position])
    ordered = [
        (name if len(terms) == 1 else f"{term.column}{sep}{name}")
        for name in names
        for term in terms
    ]
    return columns, ordered


def _split_labels(frame: Frame, field: str, options: dict[str, str]) -> pd.Series:
    series = frame.column(field)
    if series is None:
        series = pd.Series([None] * frame.length, dtype=object)
    labels = to_text(first_values(series)).astype(object)
    if options.get("usenull", "t").lower() not in _FALSE:
        labels = labels.where(labels.notna(), options.get("nullstr", "NULL"))
    return labels.reset_index(drop=True)


def _kept_series(
    term: AggTerm,
    values: pd.Series | None,
    times: pd.Series | None,
    labels: pd.Series,
    present: np.ndarray,
    row_bucket: np.ndarray,
    bucket_count: int,
    options: dict[str, str],
) -> list[str]:
    """The split values that get a column: the ``limit`` largest totals, then NULL, OTHER."""
    distinct = sorted(set(labels.iloc[present]))
    if not distinct:
        return []
    limit_text = options.get("limit", "10").lower().removeprefix("top")
    limit = int(limit_text) if limit_text.strip().isdigit() else 10
    null_name = options.get("nullstr", "NULL")
    named = [name for name in distinct if name != null_name]
    if limit == 0 or len(named) <= limit:
        kept = named
    else:
        codes = labels.iloc[present].map({n: i for i, n in enumerate(distinct)}).to_numpy()
        ids = row_bucket[present] * len(distinct) + codes
        grouped = Grouped(present, ids.astype(np.int64), bucket_count * len(distinct))
        grid = to_number(compute(term, values, times, grouped)).to_numpy()
        totals = np.nansum(grid.reshape(bucket_count, len(distinct)), axis=0)
        ranking = sorted(
            (name for name in named), key=lambda n: (-totals[distinct.index(n)], n)
        )
        kept = sorted(ranking[:limit])
    out = list(kept)
    if null_name in distinct:
        out.append(null_name)
    if len(kept) < len(named) and options.get("useother", "t").lower() not in _FALSE:
        out.append(options.get("otherstr", "OTHER"))
    return out


def _filled(term: AggTerm, values: pd.Series) -> pd.Series:
    if term.func in _ZERO_FILLED and values.dtype.kind in "iuf":
        return values.fillna(0)
    return values


def bin_command(frame: Frame, args: str, ctx: Context) -> Frame:
    query = parse_bin(args)
    options = {key.lower(): value for key, value in query.options.items()}
    series = frame.column(query.field)
    if series is None:
        return frame
    target = query.alias or query.field
    if series.dtype.kind == "M":
        values = series.astype("int64").to_numpy()
        range_ns = int(values.max() - values.min()) if len(values) else 0
        span = _span(options, range_ns, "bin")
        starts = bucket_starts(values, span)
        frame.assign(target, pd.Series(pd.to_datetime(starts, utc=True)).where(series.notna()))
        return frame
    frame.assign(target, _numeric_bins(to_number(series), options))
    return frame


def _numeric_bins(numbers: pd.Series, options: dict[str, str]) -> pd.Series:
    if "span" in options:
        try:
            width = float(options["span"])
        except ValueError:
            raise ExprError(
                f"Error in 'bin' command: The test server bins numbers with a numeric span; "
                f"got span={options['span']}."
            ) from None
    else:
        present = numbers.dropna()
        spread = float(present.max() - present.min()) if len(present) else 0.0
        bins = int(options.get("bins", "100"))
        raw = spread / max(bins, 1)
        width = 10.0 ** math.ceil(math.log10(raw)) if raw > 0 else 1.0
    if width <= 0:
        raise ExprError("Error in 'bin' command: The span must be positive.")
    low = (np.floor(numbers / width) * width).to_numpy(dtype=np.float64)
    present = ~np.isnan(low)
    starts, inverse = np.unique(low[present], return_inverse=True)
    labels = np.array(
        [f"{number_string(round(lo, 10))}-{number_string(round(lo + width, 10))}" for lo in starts],
        dtype=object,
    )
    out = np.full(len(low), None, dtype=object)
    out[present] = labels[inverse] if len(starts) else []
    return pd.Series(out, dtype=object)
