"""``| mstats`` over metric indexes: group data points, aggregate, render numbers as Splunk does.

Rows are grouped by ``_time`` bucket (``span=``, floored in UTC) and the BY fields; each group is
one result row, sorted by ``_time`` then the BY fields. Every step is a whole-array operation:
group ids come from Arrow's hash encoding, sums and counts from ``np.bincount``, order statistics
(median, percentiles, dc, mode) from one sort per metric. A million points take well under a
second (see ``tests/testing/test_metrics.py``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kepler_splunk_testing.datasets import Dataset, Index, to_dataset
from kepler_splunk_testing.metricdata import (
    MetricRows,
    factorize,
    matching_indexes,
    number_text,
    select_rows,
)
from kepler_splunk_testing.metricspl import (
    AggTerm,
    MetricsError,
    Span,
    Where,
    parse_mstats,
)
from kepler_splunk_testing.results import ResultSet
from kepler_splunk_testing.timemodifiers import resolve_time

__all__ = [
    "Groups",
    "MetricAnswer",
    "group_rows",
    "ns",
    "resolve_window",
    "results_of",
    "run_mstats",
]

_ORDER_FUNCTIONS = frozenset({"median", "perc", "dc", "estdc", "mode"})


@dataclass
class MetricAnswer:
    """What a metrics command produced, for the engine's :class:`Outcome`."""

    results: ResultSet
    scanned: int
    earliest: datetime | None
    latest: datetime | None
    substituted: bool


@dataclass
class Groups:
    """Result groups: ``ids[i]`` is the group of selected row ``rows[i]`` (sorted group order)."""

    rows: np.ndarray  # positions of the rows that belong to a group
    ids: np.ndarray
    count: int
    keys: dict[str, pa.Array]  # the value of each key field per group ("_time" first if any)


def resolve_window(
    where: Where, earliest: datetime | None, latest: datetime | None, now: datetime, command: str
) -> tuple[datetime | None, datetime | None, bool]:
    """The request's time range, overridden by ``earliest=``/``latest=`` in the WHERE clause."""
    substituted = False
    for name in ("earliest", "latest"):
        text = getattr(where, name)
        if text is None:
            continue
        try:
            moment = resolve_time(text, now=now)
        except ValueError as error:
            raise MetricsError(
                f"Error in '{command}' command: Invalid value for time term '{name}': {error}"
            ) from None
        if name == "earliest":
            earliest = moment
        else:
            latest = moment
        substituted = True
    return earliest, latest, substituted


def ns(moment: datetime | None) -> int | None:
    return None if moment is None else round(moment.timestamp() * 1_000_000) * 1000


def run_mstats(
    args: str,
    indexes: Sequence[Index],
    earliest: datetime | None,
    latest: datetime | None,
    now: datetime,
    server_name: str,
) -> MetricAnswer:
    query = parse_mstats(args)
    earliest, latest, substituted = resolve_window(query.where, earliest, latest, now, "mstats")
    raw_value = [term for term in query.terms if term.metric == "_value"]
    if raw_value and len(raw_value) != len(query.terms):
        raise MetricsError(
            "Error in 'mstats' command: Cannot mix _value aggregations with aggregations of "
            "named metrics."
        )
    if raw_value and not (
        "metric_name" in query.by
        or any(c.field == "metric_name" and c.op != "!=" for c in query.where.conditions)
    ):
        raise MetricsError(
            "Error in 'mstats' command: An aggregation of _value needs a metric_name filter in "
            'the WHERE clause (metric_name="cpu.user") or BY metric_name.'
        )
    for name in query.by:
        if name.startswith("_"):
            raise MetricsError(
                f"Error in 'mstats' command: Cannot group BY '{name}'"
                + ("; use span= to bucket _time." if name == "_time" else ".")
            )
    chosen = matching_indexes(indexes, query.where.indexes, query.where.excluded)
    rows = select_rows(chosen, ns(earliest), ns(latest), query.where.conditions, _unique(query.by))
    terms, rows = _metric_terms(query.terms, rows, bool(raw_value))
    columns = [term.column for term in terms]
    if len(set(columns)) != len(columns):
        duplicate = next(name for name in columns if columns.count(name) > 1)
        raise MetricsError(f"Error in 'mstats' command: The output field '{duplicate}' repeats.")
    groups = group_rows(rows, query.by, query.span, "mstats")
    fields = [*groups.keys, *columns]
    table_columns: dict[str, pa.Array] = dict(groups.keys)
    names = (np.zeros(0, np.int64), pa.array([], pa.string()))
    if not raw_value and len(terms) > 1:
        names = factorize(rows.names)  # one pass, then a code comparison per metric
    cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for term in terms:
        table_columns[term.column] = _aggregate(term, rows, groups, names, cache)
    return MetricAnswer(
        results_of(table_columns, fields, groups.count, server_name),
        rows.scanned,
        earliest,
        latest,
        substituted,
    )


def _unique(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _metric_terms(
    terms: list[AggTerm], rows: MetricRows, raw_value: bool
) -> tuple[list[AggTerm], MetricRows]:
    """Expand ``avg(cpu.*)`` to one term per metric; keep only the rows of named metrics."""
    if raw_value:
        return terms, rows
    expanded: list[AggTerm] = []
    names: list[str] | None = None
    for term in terms:
        if "*" not in term.metric:
            expanded.append(term)
            continue
        if term.alias is not None:
            raise MetricsError(
                "Error in 'mstats' command: The Kepler Splunk test server does not implement "
                f"AS with a wildcard metric ('{term.written}({term.metric}) AS {term.alias}')."
            )
        if names is None:
            names = sorted(rows.names.unique().drop_null().to_pylist()) if len(rows) else []
        for name in names:
            if fnmatch.fnmatchcase(name, term.metric):
                expanded.append(AggTerm(term.func, term.written, name, None, term.percent))
    if not len(rows):
        return expanded, rows
    wanted = pa.array(sorted({term.metric for term in expanded}), pa.string())
    mask = pc.fill_null(pc.is_in(rows.names, value_set=wanted), False)
    keep = mask.to_numpy(zero_copy_only=False)
    return expanded, rows if keep.all() else rows.take(keep)


def bucket_starts(times_ns: np.ndarray, span: Span) -> np.ndarray:
    """Each time floored to its ``span`` bucket (UTC; months by the calendar)."""
    if span.months:
        months = times_ns.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
        months = (months // span.months) * span.months
        return months.astype("datetime64[M]").astype("datetime64[ns]").astype(np.int64)
    width = span.seconds * 1_000_000_000
    return (times_ns // width) * width


def group_rows(rows: MetricRows, by: Sequence[str], span: Span | None, command: str) -> Groups:
    """Number the groups of ``rows`` by (_time bucket, BY fields...) in sorted order.

    Rows lacking a BY field belong to no group (as with ``stats``).
    """
    count = len(rows)
    keys: list[tuple[str, np.ndarray, pa.Array]] = []
    if span is not None:
        codes, values = factorize(pa.array(bucket_starts(rows.times_ns, span)))
        keys.append(("_time", codes, values.cast(pa.timestamp("ns", tz="UTC"))))
    for name in _unique(by):
        column = rows.names if name == "metric_name" else rows.fields[name]
        if pa.types.is_list(column.type):
            raise MetricsError(
                f"Error in '{command}' command: The Kepler Splunk test server cannot group BY "
                f"the multivalue field '{name}'."
            )
        codes, values = factorize(column)
        keys.append((name, codes, values))
    if not keys:
        ids = np.zeros(count, np.int64)
        return Groups(np.arange(count), ids, 1 if count else 0, {})
    valid = np.ones(count, dtype=bool)
    for _, codes, _ in keys:
        valid &= codes >= 0
    if len(keys) == 1:  # the codes already number the groups in sorted order
        name, codes, values = keys[0]
        positions = np.flatnonzero(valid)
        return Groups(positions, codes[positions], len(values), {name: values})
    combined = np.zeros(count, np.int64)
    cardinality = 1
    for _, codes, values in keys:
        size = max(1, len(values))
        if cardinality * size >= 2**62:  # keep the mixed-radix key inside int64
            combined, _ = factorize(pa.array(np.where(valid, combined, 0)))
            cardinality = int(combined.max()) + 1 if count else 1
        combined = combined * size + np.maximum(codes, 0)
        cardinality *= size
    positions = np.flatnonzero(valid)
    ids, _ = factorize(pa.array(combined[positions]))
    groups = int(ids.max()) + 1 if len(ids) else 0
    representative = np.zeros(groups, np.int64)
    representative[ids] = positions
    out = {name: values.take(pa.array(codes[representative])) for name, codes, values in keys}
    return Groups(positions, ids, groups, out)


def _aggregate(
    term: AggTerm,
    rows: MetricRows,
    groups: Groups,
    names: tuple[np.ndarray, pa.Array],
    cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> pa.Array:
    """One aggregation per group, as Splunk text (missing where the group has no points)."""
    size = groups.count
    chosen, ids = groups.rows, groups.ids
    if term.metric != "_value" and len(names[1]):
        known = names[1].to_pylist()
        code = known.index(term.metric) if term.metric in known else -1
        of_metric = names[0][chosen] == code
        chosen, ids = chosen[of_metric], ids[of_metric]
    # with one named metric (or _value), every selected row is a point of that metric
    values = rows.values[chosen]
    count = np.bincount(ids, minlength=size)
    present = count > 0
    func = term.func
    if func == "count":
        return number_text(count)
    if func in ("avg", "mean"):
        return number_text(_sum(ids, values, size) / np.maximum(count, 1), present)
    if func == "sum":
        return number_text(_sum(ids, values, size), present)
    if func == "sumsq":
        return number_text(_sum(ids, values * values, size), present)
    if func in ("min", "max", "range"):
        low = np.full(size, np.inf)
        high = np.full(size, -np.inf)
        np.minimum.at(low, ids, values)
        np.maximum.at(high, ids, values)
        result = {"min": low, "max": high, "range": high - low}[func]
        return number_text(np.where(present, result, 0.0), present)
    if func in ("var", "varp", "stdev", "stdevp"):
        mean = _sum(ids, values, size) / np.maximum(count, 1)
        deviation = values - mean[ids]
        squares = _sum(ids, deviation * deviation, size)
        sample = func in ("var", "stdev")
        divisor = np.maximum(count - 1, 1) if sample else np.maximum(count, 1)
        variance = np.where(count > (1 if sample else 0), squares / divisor, 0.0)
        result = np.sqrt(variance) if func.startswith("stdev") else variance
        return number_text(result, present)
    if func in ("latest", "earliest"):
        return number_text(
            _at_extreme_time(rows.times_ns[chosen], ids, values, size, func), present
        )
    if func in _ORDER_FUNCTIONS:
        key = term.metric
        if key not in cache:
            # (group, value) order from one sort of a unique int64 key: group x n + value rank
            rank = np.empty(len(values), np.int64)
            rank[np.argsort(values)] = np.arange(len(values), dtype=np.int64)
            order = np.argsort(ids * max(len(values), 1) + rank)
            cache[key] = (ids[order], values[order], np.cumsum(count) - count)
        sorted_ids, sorted_values, starts = cache[key]
        return _order_statistic(term, sorted_ids, sorted_values, starts, count, present)
    raise MetricsError(f"Error in 'mstats' command: Unknown aggregation function '{func}'.")


def _at_extreme_time(
    times: np.ndarray, ids: np.ndarray, values: np.ndarray, size: int, func: str
) -> np.ndarray:
    """The value at each group's latest (or earliest) time; on a tie, the first such row."""
    extreme = np.full(size, np.iinfo(np.int64).min if func == "latest" else np.iinfo(np.int64).max)
    (np.maximum if func == "latest" else np.minimum).at(extreme, ids, times)
    at_extreme = times == extreme[ids]
    first = np.full(size, len(values), np.int64)
    np.minimum.at(first, ids[at_extreme], np.flatnonzero(at_extreme))
    return np.where(first < len(values), values[np.minimum(first, max(len(values) - 1, 0))], 0.0)


def _sum(ids: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(ids, weights=values, minlength=size)


def _order_statistic(
    term: AggTerm,
    ids: np.ndarray,
    values: np.ndarray,
    starts: np.ndarray,
    count: np.ndarray,
    present: np.ndarray,
) -> pa.Array:
    last = max(len(values) - 1, 0)
    if not len(values):
        return number_text(np.zeros(len(count)), present)
    if term.func == "median":  # Splunk: with an even count, the higher of the two middle values
        return number_text(values[np.clip(starts + count // 2, 0, last)], present)
    if term.func == "perc":  # linear interpolation between closest ranks (Splunk's examples)
        assert term.percent is not None
        scaled = term.percent * np.maximum(count - 1, 0)  # rank x 100, exact for whole percents
        low = np.floor(scaled / 100).astype(np.int64)
        high = np.ceil(scaled / 100).astype(np.int64)
        below = values[np.clip(starts + low, 0, last)]
        above = values[np.clip(starts + high, 0, last)]
        fraction = (scaled - 100 * low) / 100
        result = np.where(fraction > 0, below + (above - below) * fraction, below)
        return number_text(result, present)
    new_run = np.ones(len(values), dtype=bool)
    new_run[1:] = (ids[1:] != ids[:-1]) | (values[1:] != values[:-1])
    if term.func in ("dc", "estdc"):
        return number_text(np.bincount(ids[new_run], minlength=len(count)))
    run_starts = np.flatnonzero(new_run)  # mode: the most frequent value, the smallest on ties
    lengths = np.diff(np.append(run_starts, len(values)))
    run_ids = ids[run_starts]
    order = np.lexsort((-lengths, run_ids))
    first = np.ones(len(order), dtype=bool)
    first[1:] = run_ids[order][1:] != run_ids[order][:-1]
    mode = np.zeros(len(count))
    mode[run_ids[order][first]] = values[run_starts[order][first]]
    return number_text(mode, present)


def results_of(
    columns: dict[str, pa.Array], fields: list[str], rows: int, server_name: str
) -> ResultSet:
    table = pa.table({name: columns[name] for name in fields}) if fields else pa.table({})
    dataset: Dataset = to_dataset(table, require_time=False) if fields else Dataset(table, None)
    return ResultSet(dataset, slice(0, rows), tuple(fields), None, server_name)
