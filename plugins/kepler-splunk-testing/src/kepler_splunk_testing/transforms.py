"""The SPL commands the test server runs after the first pipeline stage, over a :class:`Frame`.

Streaming commands keep events events (``eval``, ``where``, ``search``, ``fields``, ``table``,
``head``, ``tail``, ``reverse``, ``sort``, ``dedup``, ``bin``/``bucket``, ``rename``,
``fillnull``); ``stats`` and ``timechart`` (in :mod:`kepler_splunk_testing.timechart`) turn them
into a table. Every command works on whole columns (pandas/numpy). A Splunk command this module
does not run is refused with a 400 that says so, never ignored: ignoring it would hand a test
results of the wrong shape.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from kepler_splunk_testing.aggregates import Grouped, compute
from kepler_splunk_testing.frame import Frame, table_frame
from kepler_splunk_testing.splargs import (
    SortKey,
    parse_dedup,
    parse_eval,
    parse_options,
    parse_rename,
    parse_sort,
    parse_stats,
)
from kepler_splunk_testing.spleval import (
    EvalContext,
    as_series,
    evaluate,
    to_bool,
    to_number,
    to_text,
)
from kepler_splunk_testing.splexpr import ExprError, parse_expression

__all__ = [
    "COMMANDS",
    "TRANSFORMING",
    "Context",
    "expand_fields",
    "fields_command",
    "group_rows",
    "not_implemented",
    "run_commands",
]

TRANSFORMING = frozenset({"stats", "timechart"})


@dataclass(frozen=True)
class Context:
    """The search's time range (``timechart`` fills its buckets over it) and its clock."""

    earliest: datetime | None
    latest: datetime | None
    now: datetime


def not_implemented(what: str) -> str:
    return (
        f"The Kepler Splunk test server does not implement '{what}'. Register this search "
        "with SplunkTestServer.add_search(pattern, data) to return canned results."
    )


def run_commands(frame: Frame, commands: Sequence[tuple[str, str]], ctx: Context) -> Frame:
    """Apply ``(name, args)`` stages in order; raises ExprError with Splunk-style messages."""
    for name, args in commands:
        handler = COMMANDS.get(name)
        if handler is None:
            raise ExprError(not_implemented(name))
        frame = handler(frame, args, ctx)
    return frame


def _eval_context(frame: Frame, ctx: Context) -> EvalContext:
    return EvalContext(frame.column, frame.length, ctx.now)


# -- eval / where / search -------------------------------------------------------------------


def _eval(frame: Frame, args: str, ctx: Context) -> Frame:
    for name, node in parse_eval(args):
        value = evaluate(node, _eval_context(frame, ctx))
        series = as_series(value, frame.length)
        if series.dtype.kind == "b" or isinstance(value, bool) or _all_bool(series):
            raise ExprError(
                "Error in 'eval' command: Fields cannot be assigned a boolean result. Instead, "
                "try if([bool expr], [expr], [expr])."
            )
        if name == "_time":
            seconds = to_number(series)
            series = pd.to_datetime(seconds, unit="s", utc=True)
        frame.assign(name, series)
    return frame


def _all_bool(series: pd.Series) -> bool:
    if series.dtype != object:
        return False
    present = series.dropna()
    return bool(len(present)) and bool(present.map(lambda v: isinstance(v, (bool, np.bool_))).all())


def _where(frame: Frame, args: str, ctx: Context) -> Frame:
    try:
        node = parse_expression(args)
    except ExprError as error:
        raise ExprError(f"Error in 'where' command: {error.message}") from None
    verdict = to_bool(evaluate(node, _eval_context(frame, ctx)))
    if not isinstance(verdict, pd.Series):
        return frame if verdict else frame.take(np.zeros(0, dtype=np.int64))
    return frame.keep(verdict.to_numpy(dtype=bool))


_SEARCH_TERM = re.compile(r"([A-Za-z_][\w.:]*)\s*(!=|<=|>=|=|<|>)\s*(.*)", re.DOTALL)


def _search(frame: Frame, args: str, ctx: Context) -> Frame:
    """``| search field=value ...``: wildcards and case-insensitive text, or number ranges."""
    from kepler_splunk_testing.spl import split_terms

    mask = np.ones(frame.length, dtype=bool)
    for term in split_terms(args):
        match = _SEARCH_TERM.fullmatch(term)
        if match is None:
            raise ExprError(not_implemented(f"search {term}"))
        name, op, value = match.groups()
        mask &= _search_term(frame.column(name), op, value, frame.length)
    return frame.keep(mask)


def _search_term(series: pd.Series | None, op: str, value: str, length: int) -> np.ndarray:
    if series is None:
        return np.zeros(length, dtype=bool)
    if op in ("=", "!="):
        pattern = re.compile(
            re.escape(value).replace(r"\*", ".*"), re.IGNORECASE | re.DOTALL
        )
        text = to_text(series)
        hits = text.map(lambda v: pattern.fullmatch(v) is not None, na_action="ignore")
        hits = hits.fillna(False).astype(bool).to_numpy()
        return hits if op == "=" else (~hits & series.notna().to_numpy())
    numbers = to_number(series)
    bound = float(value) if _is_number(value) else None
    if bound is None:
        text = to_text(series).fillna("")
        compare = {"<": text < value, ">": text > value, "<=": text <= value, ">=": text >= value}
        return compare[op].to_numpy() & series.notna().to_numpy()
    compare = {"<": numbers < bound, ">": numbers > bound, "<=": numbers <= bound,
               ">=": numbers >= bound}
    return compare[op].fillna(False).to_numpy(dtype=bool)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- fields / table / rename / fillnull --------------------------------------------------------


def expand_fields(patterns: Sequence[str], fields: Sequence[str]) -> list[str]:
    """Field names in the order given, wildcards expanded in result order."""
    out: list[str] = []
    for pattern in patterns:
        matches = (
            [name for name in fields if fnmatch.fnmatchcase(name, pattern)]
            if "*" in pattern
            else [pattern]
        )
        out.extend(name for name in matches if name not in out)
    return out


def field_names(args: str) -> list[str]:
    return [
        name.strip('"')
        for name in re.findall(r'"[^"]*"|[^\s,]+', args.strip())
        if name.strip('"')
    ]


def fields_command(args: str, fields: Sequence[str]) -> list[str]:
    """``fields [+|-] a, b*``: internal (``_``) fields stay unless removed by name."""
    names = field_names(args)
    if names and names[0] == "-":
        drop = set(expand_fields(names[1:], fields))
        return [name for name in fields if name not in drop]
    if names and names[0] == "+":
        names = names[1:]
    keep = set(expand_fields(names, fields))
    return [name for name in fields if name in keep or name.startswith("_")] + [
        name for name in names if "*" not in name and name not in fields
    ]


def _fields(frame: Frame, args: str, ctx: Context) -> Frame:
    frame.order = fields_command(args, frame.order)
    return frame


def _table(frame: Frame, args: str, ctx: Context) -> Frame:
    frame.order = expand_fields(field_names(args), frame.order)
    return frame


def _rename(frame: Frame, args: str, ctx: Context) -> Frame:
    for old, new in parse_rename(args):
        series = frame.column(old)
        if series is None:
            continue
        frame.columns[new] = series
        frame.columns[old] = pd.Series([None] * frame.length, dtype=object)  # gone
        order = list(dict.fromkeys(new if name == old else name for name in frame.order))
        if new not in order:
            order.append(new)
        frame.order = sorted(order, key=lambda n: (not n.startswith("_"), n)) if frame.events \
            else order
    return frame


def _fillnull(frame: Frame, args: str, ctx: Context) -> Frame:
    options, names = parse_options(args, "fillnull")
    value = options.get("value", "0")
    targets = names or [name for name in frame.order if not name.startswith("_")]
    for name in targets:
        series = frame.column(name)
        if series is None:
            series = pd.Series([None] * frame.length, dtype=object)
        if series.dtype.kind in "iuf" and _is_number(value):
            frame.assign(name, series.fillna(float(value)))
        else:
            frame.assign(name, series.astype(object).where(series.notna(), value))
    return frame


# -- head / tail / reverse / sort / dedup ------------------------------------------------------


def _count_argument(args: str, command: str, default: int) -> int:
    text = args.strip()
    if not text:
        return default
    key, _, value = text.partition("=")
    candidate = value if key.strip().lower() == "limit" else text.split()[0]
    try:
        return max(0, int(candidate))
    except ValueError:
        raise ExprError(not_implemented(f"{command} {text}")) from None


def _head(frame: Frame, args: str, ctx: Context) -> Frame:
    return frame.take(np.arange(min(_count_argument(args, "head", 10), frame.length)))


def _tail(frame: Frame, args: str, ctx: Context) -> Frame:
    count = min(_count_argument(args, "tail", 10), frame.length)
    return frame.take(np.arange(frame.length - 1, frame.length - 1 - count, -1))


def _reverse(frame: Frame, args: str, ctx: Context) -> Frame:
    return frame.take(np.arange(frame.length - 1, -1, -1))


def sort_order(frame: Frame, keys: Sequence[SortKey]) -> np.ndarray:
    """Row order for ``keys``: numbers numerically, text lexicographically, missing last."""
    columns: dict[str, pd.Series] = {}
    for position, key in enumerate(keys):
        series = frame.column(key.field)
        if series is None:
            series = pd.Series([None] * frame.length, dtype=object)
        numbers = to_number(series)
        numeric = key.mode == "num" or (
            key.mode == "auto" and int(numbers.notna().sum()) == int(series.notna().sum())
        )
        columns[f"k{position}"] = numbers if numeric else to_text(series)
    table = pd.DataFrame(columns)
    ordered = table.sort_values(
        by=list(columns), ascending=[not key.descending for key in keys],
        kind="stable", na_position="last",
    )
    return ordered.index.to_numpy()


def _sort(frame: Frame, args: str, ctx: Context) -> Frame:
    limit, keys = parse_sort(args)
    order = sort_order(frame, keys)
    return frame.take(order[:limit] if limit else order)


def _dedup(frame: Frame, args: str, ctx: Context) -> Frame:
    query = parse_dedup(args)
    keys = {}
    for position, name in enumerate(query.fields):
        series = frame.column(name)
        keys[f"k{position}"] = (
            to_text(series) if series is not None
            else pd.Series([None] * frame.length, dtype=object)
        )
    table = pd.DataFrame(keys)
    complete = table.notna().all(axis=1).to_numpy()
    if query.consecutive:
        same = (table.fillna("\0") == table.fillna("\0").shift()).all(axis=1).to_numpy()
        keep = ~same
    else:
        rank = table.fillna("\0").groupby(list(keys), sort=False).cumcount().to_numpy()
        keep = rank < query.count
    keep = np.where(complete, keep, query.keepempty)
    frame = frame.keep(keep)
    if query.sortby:
        frame = frame.take(sort_order(frame, query.sortby))
    return frame


# -- stats ------------------------------------------------------------------------------------


def group_rows(frame: Frame, by: Sequence[str]) -> tuple[Grouped, dict[str, pd.Series]]:
    """Groups of ``frame`` by the ``by`` fields, in sorted key order, and each group's keys.

    Rows missing a BY field are in no group; a multivalue BY field puts its row in the group of
    each of its values (as Splunk does).
    """
    if not by:
        rows = np.arange(frame.length)
        return Grouped(rows, np.zeros(frame.length, dtype=np.int64), 1), {}
    data: dict[str, pd.Series] = {"__row": pd.Series(np.arange(frame.length))}
    for position, name in enumerate(by):
        series = frame.column(name)
        if series is None:
            empty = np.zeros(0, dtype=np.int64)
            return Grouped(empty, empty, 0), {n: pd.Series([], dtype=object) for n in by}
        data[f"k{position}"] = series
    table = pd.DataFrame(data)
    for position in range(len(by)):
        column = table[f"k{position}"]
        if column.dtype == object and bool(column.map(_is_list).any()):
            table = table.explode(f"k{position}")
            column = table[f"k{position}"]
        if column.dtype.kind not in "iufM":
            table[f"k{position}"] = to_text(column)
    key_names = [f"k{position}" for position in range(len(by))]
    table = table.dropna(subset=key_names)
    grouped = table.groupby(key_names, sort=True)
    ids = grouped.ngroup().to_numpy(dtype=np.int64)
    keys = grouped.size().reset_index()
    out = {name: keys[f"k{position}"].reset_index(drop=True) for position, name in enumerate(by)}
    return (
        Grouped(table["__row"].to_numpy(dtype=np.int64), ids, len(keys)),
        out,
    )


def _is_list(value: object) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def term_values(frame: Frame, term: object, ctx: Context) -> pd.Series | None:
    """The input of one aggregation: a field, or an ``eval(...)`` whose false counts as null."""
    from kepler_splunk_testing.aggregates import AggTerm

    assert isinstance(term, AggTerm)
    if term.expr is not None:
        value = as_series(evaluate(term.expr, _eval_context(frame, ctx)), frame.length)
        if value.dtype.kind == "b" or _all_bool(value):
            return value.astype(object).where(value.astype(bool), None)
        return value
    if term.arg is None:
        return None
    if "*" in term.arg:
        raise ExprError(not_implemented(f"wildcard field '{term.arg}' in {term.written}()"))
    return frame.column(term.arg)


def _stats(frame: Frame, args: str, ctx: Context) -> Frame:
    query = parse_stats(args, "stats")
    grouped, keys = group_rows(frame, query.by)
    columns: dict[str, pd.Series] = dict(keys)
    times = frame.column("_time")
    for term in query.terms:
        values = term_values(frame, term, ctx)
        columns[term.column] = compute(term, values, times, grouped)
    order = list(dict.fromkeys([*query.by, *(term.column for term in query.terms)]))
    return table_frame(columns, order, frame.server_name)


def _timechart(frame: Frame, args: str, ctx: Context) -> Frame:
    from kepler_splunk_testing.timechart import timechart

    return timechart(frame, args, ctx)


def _bin(frame: Frame, args: str, ctx: Context) -> Frame:
    from kepler_splunk_testing.timechart import bin_command

    return bin_command(frame, args, ctx)


COMMANDS: dict[str, Callable[[Frame, str, Context], Frame]] = {
    "bin": _bin,
    "bucket": _bin,
    "dedup": _dedup,
    "eval": _eval,
    "fields": _fields,
    "fillnull": _fillnull,
    "head": _head,
    "rename": _rename,
    "reverse": _reverse,
    "search": _search,
    "sort": _sort,
    "stats": _stats,
    "table": _table,
    "tail": _tail,
    "timechart": _timechart,
    "where": _where,
}
