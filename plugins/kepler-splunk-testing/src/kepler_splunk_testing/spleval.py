"""Evaluating SPL expressions column-wise over a result set (pandas, no per-row Python).

A value is a pandas Series (one entry per result row) or a Python scalar (a literal, ``now()``).
Splunk's typing rules, as its Search Reference states them: every field value is text that reads
as a number where it can; arithmetic converts both sides to numbers (``+`` concatenates two
non-numbers); a comparison is numeric when both sides are numbers, otherwise it compares text; a
null (missing field) makes arithmetic null and comparisons false. ``_time`` reads as epoch
seconds. A multivalue field counts as its first value, except in ``=``/``!=``, which test every
value, and in the ``mv*`` functions. Functions are in :mod:`kepler_splunk_testing.splfuncs`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from kepler_splunk_testing.splexpr import Binary, Call, ExprError, FieldRef, Literal, Node, Unary

__all__ = [
    "EvalContext",
    "as_series",
    "evaluate",
    "is_null",
    "to_bool",
    "to_number",
    "to_text",
]

Value = Any  # pd.Series or a scalar (float, str, bool, None)


@dataclass
class EvalContext:
    """Where field values come from: ``lookup(name)`` is None for a field no row has."""

    lookup: Callable[[str], pd.Series | None]
    length: int
    now: datetime


def evaluate(node: Node, ctx: EvalContext) -> Value:
    """The value of ``node`` for every row (a Series) or for all rows at once (a scalar)."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, FieldRef):
        return _field(node.name, ctx)
    if isinstance(node, Unary):
        operand = evaluate(node.operand, ctx)
        if node.op == "-":
            return _negate(to_number(operand))
        return _not(to_bool(operand))
    if isinstance(node, Binary):
        return _binary(node, ctx)
    if isinstance(node, Call):
        from kepler_splunk_testing.splfuncs import call

        return call(node, ctx)
    raise ExprError(f"Cannot evaluate {node!r}.")  # pragma: no cover - every node is handled


def _field(name: str, ctx: EvalContext) -> Value:
    series = ctx.lookup(name)
    if series is None:
        return None
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.astype("int64").where(series.notna()) / 1e9
    return series


def _negate(value: Value) -> Value:
    return -value if value is not None else None


def _not(value: Value) -> Value:
    return ~value if isinstance(value, pd.Series) else not value


def _binary(node: Binary, ctx: EvalContext) -> Value:
    op = node.op
    left = evaluate(node.left, ctx)
    right = evaluate(node.right, ctx)
    if op in ("and", "or", "xor"):
        a, b = to_bool(left), to_bool(right)
        if op == "and":
            return a & b
        if op == "or":
            return a | b
        return a ^ b
    if op in ("=", "!="):
        equal = _equal(left, right)
        return equal if op == "=" else _not(equal) & ~(is_null(left) | is_null(right))
    if op in ("<", ">", "<=", ">="):
        return _order(op, left, right)
    if op == "like":
        from kepler_splunk_testing.splfuncs import like

        return like(left, right)
    if op == ".":
        return _concat(to_text(left), to_text(right))
    return _arithmetic(op, left, right)


def _arithmetic(op: str, left: Value, right: Value) -> Value:
    a, b = to_number(left), to_number(right)
    if op == "+":
        return _plus(left, right, a + b)
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        with np.errstate(divide="ignore", invalid="ignore"):
            result = a / b
        return _finite(result)
    if op == "%":
        with np.errstate(divide="ignore", invalid="ignore"):
            result = a % b
        return _finite(result)
    raise ExprError(f"Unknown operator '{op}'.")


def _plus(left: Value, right: Value, total: Value) -> Value:
    """``+`` adds numbers and concatenates two values that are not numbers."""
    if not isinstance(total, pd.Series):
        if is_null(total) and not is_null(left) and not is_null(right):
            return _concat(to_text(left), to_text(right))
        return total
    n = len(total)
    both_text = (
        is_null(as_series(to_number(left), n))
        & is_null(as_series(to_number(right), n))
        & ~is_null(as_series(left, n))
        & ~is_null(as_series(right, n))
    )
    if not bool(both_text.any()):
        return total
    joined = as_series(_concat(to_text(left), to_text(right)), n)
    return total.astype(object).where(~both_text, joined)


def _finite(value: Value) -> Value:
    if isinstance(value, pd.Series):
        return value.where(np.isfinite(value))
    return value if value is not None and np.isfinite(value) else None


def _length(*values: Value) -> int:
    for value in values:
        if isinstance(value, pd.Series):
            return len(value)
    return 1


def _concat(left: Value, right: Value) -> Value:
    if isinstance(left, pd.Series) or isinstance(right, pd.Series):
        n = _length(left, right)
        a, b = as_series(left, n), as_series(right, n)
        joined = a.astype(object).fillna("").astype(str) + b.astype(object).fillna("").astype(str)
        return joined.where(a.notna() & b.notna())
    if left is None or right is None:
        return None
    return f"{left}{right}"


def _equal(left: Value, right: Value) -> Value:
    """``=``: numeric equality when both sides are numbers, else exact text; a multivalue side
    matches when any of its values does."""
    if _has_lists(left) or _has_lists(right):
        return _mv_equal(left, right)
    a, b = to_number(left), to_number(right)
    numeric = a == b
    text = _text_equal(to_text(left), to_text(right))
    both_numbers = ~is_null(a) & ~is_null(b)
    if isinstance(both_numbers, pd.Series):
        return pd.Series(np.where(both_numbers, numeric, text), index=both_numbers.index)
    return bool(numeric) if both_numbers else bool(text)


def _text_equal(a: Value, b: Value) -> Value:
    result = a == b
    if isinstance(result, pd.Series):
        return result.fillna(False).astype(bool) & ~is_null(a) & ~is_null(b)
    return bool(result) and a is not None and b is not None


def _mv_equal(left: Value, right: Value) -> Value:
    n = _length(left, right)
    lists, other = (left, right) if _has_lists(left) else (right, left)
    frame = pd.DataFrame({"v": as_series(lists, n), "o": as_series(other, n)})
    frame["v"] = frame["v"].map(lambda v: list(v) if _is_list(v) else [v])
    exploded = frame.explode("v")
    hits = _equal(exploded["v"], exploded["o"])
    return hits.groupby(level=0).any().reindex(range(n), fill_value=False)


def _order(op: str, left: Value, right: Value) -> Value:
    a, b = to_number(left), to_number(right)
    compare = {
        "<": lambda x, y: x < y,
        ">": lambda x, y: x > y,
        "<=": lambda x, y: x <= y,
        ">=": lambda x, y: x >= y,
    }[op]
    both_numbers = ~is_null(a) & ~is_null(b)
    numeric = compare(a, b) if not (a is None or b is None) else False
    text_a, text_b = to_text(left), to_text(right)
    present = ~is_null(text_a) & ~is_null(text_b)
    if isinstance(present, pd.Series) or isinstance(both_numbers, pd.Series):
        n = _length(present, both_numbers, a, b)
        ta = as_series(text_a, n).astype(object).fillna("").astype(str)
        tb = as_series(text_b, n).astype(object).fillna("").astype(str)
        text = compare(ta, tb) & as_series(present, n).astype(bool)
        numeric_s = as_series(numeric, n).fillna(False).astype(bool)
        return pd.Series(np.where(as_series(both_numbers, n), numeric_s, text))
    if both_numbers:
        return bool(numeric)
    return bool(present) and bool(compare(str(text_a), str(text_b)))


# -- conversions ------------------------------------------------------------------------------


def as_series(value: Value, length: int) -> pd.Series:
    if isinstance(value, pd.Series):
        return value
    return pd.Series([value] * length, dtype=object if not isinstance(value, float) else float)


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def _inferred(series: pd.Series) -> str:
    """pandas' reading of an object column ("string", "floating", "mixed", ...), in C."""
    return str(pd.api.types.infer_dtype(series, skipna=True))


def _has_lists(value: Value) -> bool:
    if isinstance(value, pd.Series):
        if value.dtype != object or _inferred(value) in ("string", "empty", "floating",
                                                         "integer", "mixed-integer-float"):
            return False
        return bool(value.map(_is_list).any())
    return _is_list(value)


def first_values(series: pd.Series) -> pd.Series:
    """A multivalue column as its first values (Splunk's reading outside ``mv*`` functions)."""
    if not _has_lists(series):
        return series
    return series.map(lambda v: (v[0] if len(v) else None) if _is_list(v) else v)


def is_null(value: Value) -> Value:
    if isinstance(value, pd.Series):
        return value.isna()
    return value is None or (isinstance(value, float) and np.isnan(value))


def to_number(value: Value) -> Value:
    """Numbers as float (NaN where the value is not a number); booleans are not numbers."""
    if isinstance(value, pd.Series):
        kind = value.dtype.kind
        if kind in "iuf":
            return value.astype(float)
        if kind == "b":
            return pd.Series(np.nan, index=value.index)
        if kind == "M":
            return value.astype("int64").where(value.notna()) / 1e9
        inferred = _inferred(value)
        if inferred in ("string", "empty", "floating", "integer", "mixed-integer-float"):
            return pd.to_numeric(value, errors="coerce").astype(float)
        return pd.to_numeric(first_values(value).map(_number_or_none), errors="coerce").astype(
            float
        )
    if isinstance(value, bool) or value is None:
        return np.nan
    if isinstance(value, (int, float)):
        return float(value)
    number = _number_or_none(value)
    return np.nan if number is None else float(number)


def _number_or_none(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def number_string(value: float) -> str:
    """A number as Splunk writes it: ``3``, ``2.5`` (never ``3.0`` or an exponent)."""
    if np.isfinite(value) and float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    text = repr(float(value))
    return np.format_float_positional(value, trim="-") if "e" in text else text


def _text_of(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else number_string(float(value))
    if _is_list(value):
        return _text_of(value[0]) if len(value) else None
    return str(value)


def to_text(value: Value) -> Value:
    """Values as Splunk text (null stays null)."""
    if isinstance(value, pd.Series):
        kind = value.dtype.kind
        if kind == "M":
            value, kind = to_number(value), "f"
        if kind in "iu":
            return value.astype(str).astype(object)
        if kind == "f":
            from kepler_splunk_testing.metricdata import number_text

            numbers = value.to_numpy(dtype=np.float64)
            text = number_text(numbers, ~np.isnan(numbers)).to_pandas()
            return pd.Series(text.to_numpy(dtype=object), index=value.index)
        if kind == "O" and _inferred(value) in ("string", "empty"):
            return value
        return value.astype(object).map(_text_of, na_action="ignore").astype(object)
    return _text_of(value)


def to_bool(value: Value) -> Value:
    """A boolean context (``where``, ``if``): a non-boolean value is true when present."""
    if isinstance(value, pd.Series):
        if value.dtype.kind == "b":
            return value
        return value.map(lambda v: bool(v) if isinstance(v, (bool, np.bool_)) else False)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return False
