"""``stats`` functions over groups of rows, column-wise with pandas.

Semantics follow Splunk's Search Reference (Statistical and charting functions): ``count`` counts
rows (``count(x)`` rows that have ``x``); ``avg``/``mean``, ``sum``, ``stdev``, ``var``,
``median``, ``perc<N>`` read numbers and ignore values that are not; ``median`` of an even count
is the higher middle value; ``perc<N>``/``p<N>``/``exactperc<N>`` interpolate between the closest
ranks (``upperperc<N>`` takes the higher one); ``min``/``max`` are numeric when the values are
numbers, else lexicographic; ``values`` is the distinct values in lexicographic order, ``list``
the first 100 values as they come; ``first``/``last`` are in result order (events come newest
first, so ``first`` is usually the latest); ``earliest``/``latest`` go by ``_time``. A multivalue
field contributes each of its values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kepler_splunk_testing.splexpr import ExprError, Node

__all__ = ["FUNCTION_NAMES", "AggTerm", "Grouped", "compute", "function_of"]


@dataclass(frozen=True)
class AggTerm:
    """``func(arg) AS alias``; ``arg`` is a field name, ``expr`` an ``eval(...)`` argument."""

    func: str  # canonical lower-case name ("perc" for every percentile form)
    written: str  # the function as written, for the default column name
    arg: str | None
    alias: str | None
    expr: Node | None = None
    percent: float | None = None
    interpolation: str = "linear"

    @property
    def column(self) -> str:
        if self.alias:
            return self.alias
        return self.written if self.arg is None else f"{self.written}({self.arg})"


@dataclass
class Grouped:
    """Rows numbered by group: ``ids[i]`` is the group of row ``rows[i]`` of the frame."""

    rows: np.ndarray
    ids: np.ndarray
    count: int


_ALIASES = {"c": "count", "distinct_count": "dc", "mean": "avg"}
_PERCENTILE = re.compile(r"(p|perc|exactperc|upperperc)(\d+(?:\.\d+)?)", re.IGNORECASE)
FUNCTION_NAMES = frozenset(
    {
        "count", "dc", "estdc", "sum", "sumsq", "avg", "min", "max", "range", "median", "mode",
        "stdev", "stdevp", "var", "varp", "values", "list", "first", "last", "earliest",
        "latest", "earliest_time", "latest_time",
    }
)


def function_of(written: str, command: str) -> tuple[str, float | None, str]:
    """(canonical name, percent, interpolation) of a function as written; refuses unknown ones."""
    lowered = written.lower()
    percentile = _PERCENTILE.fullmatch(lowered)
    if percentile is not None:
        percent = float(percentile.group(2))
        if not 0 <= percent <= 100:
            raise ExprError(f"Error in '{command}' command: Invalid percentile '{written}'.")
        interpolation = "higher" if percentile.group(1) == "upperperc" else "linear"
        return "perc", percent, interpolation
    canonical = _ALIASES.get(lowered, lowered)
    if canonical not in FUNCTION_NAMES:
        raise ExprError(f"Error in '{command}' command: Unknown function '{written}'.")
    return canonical, None, "linear"


def _exploded(values: pd.Series, grouped: Grouped) -> tuple[pd.Series, np.ndarray]:
    """The present values with their group ids; a multivalue cell gives one entry per value."""
    taken = values.iloc[grouped.rows].reset_index(drop=True)
    ids = grouped.ids
    if taken.dtype == object and bool(taken.map(_is_list).any()):
        frame = pd.DataFrame({"v": taken, "g": ids}).explode("v")
        taken, ids = frame["v"].reset_index(drop=True), frame["g"].to_numpy(dtype=np.int64)
    present = taken.notna().to_numpy()
    return taken[present].reset_index(drop=True), ids[present]


def _is_list(value: object) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def compute(
    term: AggTerm, values: pd.Series | None, times: pd.Series | None, grouped: Grouped
) -> pd.Series:
    """One value per group (index 0..count-1) for ``term`` over ``values``."""
    from kepler_splunk_testing.spleval import to_number, to_text

    size = grouped.count
    func = term.func
    if func == "count" and term.arg is None and term.expr is None:
        return pd.Series(np.bincount(grouped.ids, minlength=size).astype(np.int64))
    if values is None:
        if func in ("count", "dc", "estdc"):
            return pd.Series(np.zeros(size, dtype=np.int64))
        return pd.Series([None] * size, dtype=object)
    taken, ids = _exploded(values, grouped)
    if func == "count":
        return pd.Series(np.bincount(ids, minlength=size).astype(np.int64))
    if func in ("dc", "estdc"):
        text = to_text(taken)
        unique = pd.DataFrame({"g": ids, "v": text}).drop_duplicates()
        return pd.Series(np.bincount(unique["g"].to_numpy(), minlength=size).astype(np.int64))
    if func in _NUMERIC:
        numbers = to_number(taken)
        return _NUMERIC[func](numbers, ids, term).reindex(range(size)).reset_index(drop=True)
    if func in ("min", "max"):
        return _extreme(func, taken, ids, size)
    if func in ("values", "list", "mode"):
        return _text_aggregate(func, to_text(taken), ids, size)
    if func in ("first", "last"):
        grouped_values = taken.groupby(ids)
        picked = grouped_values.first() if func == "first" else grouped_values.last()
        return picked.reindex(range(size)).reset_index(drop=True)
    return _by_time(func, values, times, grouped)


def _numeric_groups(numbers: pd.Series, ids: np.ndarray) -> pd.core.groupby.SeriesGroupBy:
    present = numbers.notna().to_numpy()
    return numbers[present].groupby(ids[present])


def _spread(method: str, ddof: int) -> Callable[[pd.Series, np.ndarray, AggTerm], pd.Series]:
    def apply(numbers: pd.Series, ids: np.ndarray, term: AggTerm) -> pd.Series:
        groups = _numeric_groups(numbers, ids)
        result = getattr(groups, method)(ddof=ddof)
        return result.fillna(0.0)  # one value: no spread (Splunk shows 0)

    return apply


def _percentile(numbers: pd.Series, ids: np.ndarray, term: AggTerm) -> pd.Series:
    groups = _numeric_groups(numbers, ids)
    assert term.percent is not None
    return groups.quantile(term.percent / 100, interpolation=term.interpolation)


_NUMERIC: dict[str, Callable[[pd.Series, np.ndarray, AggTerm], pd.Series]] = {
    "sum": lambda n, i, t: _numeric_groups(n, i).sum(),
    "sumsq": lambda n, i, t: _numeric_groups(n * n, i).sum(),
    "avg": lambda n, i, t: _numeric_groups(n, i).mean(),
    "range": lambda n, i, t: _numeric_groups(n, i).max() - _numeric_groups(n, i).min(),
    "median": lambda n, i, t: _numeric_groups(n, i).quantile(0.5, interpolation="higher"),
    "perc": _percentile,
    "stdev": _spread("std", 1),
    "stdevp": _spread("std", 0),
    "var": _spread("var", 1),
    "varp": _spread("var", 0),
}


def _extreme(func: str, taken: pd.Series, ids: np.ndarray, size: int) -> pd.Series:
    from kepler_splunk_testing.spleval import to_number, to_text

    numbers = to_number(taken)
    numeric = _numeric_groups(numbers, ids)
    picked = (numeric.min() if func == "min" else numeric.max()).reindex(range(size))
    text = to_text(taken)
    text_groups = text.groupby(ids)
    textual = (text_groups.min() if func == "min" else text_groups.max()).reindex(range(size))
    if picked.notna().all():
        return picked.reset_index(drop=True)
    return picked.astype(object).where(picked.notna(), textual).reset_index(drop=True)


def _text_aggregate(func: str, text: pd.Series, ids: np.ndarray, size: int) -> pd.Series:
    groups = text.groupby(ids)
    if func == "values":
        result = groups.agg(lambda v: sorted(set(v)))
    elif func == "list":
        result = groups.agg(lambda v: list(v)[:100])
    else:  # mode: the most frequent value; on a tie, the first seen
        result = groups.agg(lambda v: v.value_counts(sort=True).index[0])
    result = result.reindex(range(size)).reset_index(drop=True)
    if func in ("values", "list"):
        result = result.map(lambda v: v if isinstance(v, list) else None)
    return result


def _by_time(
    func: str, values: pd.Series, times: pd.Series | None, grouped: Grouped
) -> pd.Series:
    """earliest/latest (the value at the extreme ``_time``) and earliest_time/latest_time."""
    size = grouped.count
    if times is None:
        return pd.Series([None] * size, dtype=object)
    taken = values.iloc[grouped.rows].reset_index(drop=True)
    moments = times.iloc[grouped.rows].reset_index(drop=True)
    if moments.dtype.kind == "M":
        moments = moments.astype("int64") / 1e9
    frame = pd.DataFrame({"g": grouped.ids, "t": moments, "v": taken})
    frame = frame[frame["v"].notna() & frame["t"].notna()]
    if func in ("earliest_time", "latest_time"):
        by_group = frame.groupby("g")["t"]
        picked = by_group.min() if func == "earliest_time" else by_group.max()
        return picked.reindex(range(size)).reset_index(drop=True)
    by_group = frame.groupby("g")["t"]
    where = by_group.idxmax() if func == "latest" else by_group.idxmin()
    picked = frame.loc[where.to_numpy(), "v"]
    picked.index = where.index
    return picked.reindex(range(size)).reset_index(drop=True)
