"""The eval functions the test server computes, column-wise (Splunk's Search Reference names).

Conditional: ``if``, ``case``, ``coalesce``, ``null``, ``true``, ``false``, ``isnull``,
``isnotnull``, ``isnum``, ``isstr``, ``typeof``, ``like``, ``match``, ``in``, ``validate``.
Numbers: ``abs``, ``round``, ``floor``, ``ceil``/``ceiling``, ``sqrt``, ``pow``, ``exp``, ``ln``,
``log``, ``min``, ``max``, ``pi``, ``random``, ``exact``. Text: ``lower``, ``upper``, ``len``,
``substr``, ``replace``, ``trim``/``ltrim``/``rtrim``, ``tostring``, ``tonumber``, ``split``,
``urldecode``. Time: ``now``, ``time``, ``strftime``, ``strptime``, ``relative_time``.
Multivalue: ``mvcount``, ``mvindex``, ``mvjoin``. Anything else is refused with Splunk's
``The 'x' function is unsupported or undefined.``
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import numpy as np
import pandas as pd

from kepler_splunk_testing.spleval import (
    EvalContext,
    Value,
    as_series,
    evaluate,
    is_null,
    to_bool,
    to_number,
    to_text,
)
from kepler_splunk_testing.splexpr import Call, ExprError, Node

__all__ = ["FUNCTIONS", "call", "like"]


def call(node: Call, ctx: EvalContext) -> Value:
    function = FUNCTIONS.get(node.name)
    if function is None:
        raise ExprError(f"The '{node.name}' function is unsupported or undefined.")
    low, high = _ARITY.get(node.name, (1, 1))
    if not low <= len(node.args) <= high:
        raise ExprError(f"The arguments to the '{node.name}' function are invalid.")
    return function(node.args, ctx)


def _args(args: tuple[Node, ...], ctx: EvalContext) -> list[Value]:
    return [evaluate(arg, ctx) for arg in args]


def _length(values: list[Value], ctx: EvalContext) -> int | None:
    return ctx.length if any(isinstance(v, pd.Series) for v in values) else None


def _choose(condition: Value, yes: Value, no: Value, ctx: EvalContext) -> Value:
    if not any(isinstance(v, pd.Series) for v in (condition, yes, no)):
        return yes if condition else no
    n = ctx.length
    chosen = as_series(yes, n).astype(object).where(
        as_series(to_bool(condition), n).astype(bool), as_series(no, n).astype(object)
    )
    return _tidy(chosen)


def _tidy(series: pd.Series) -> pd.Series:
    """Back to float when every value is a number, so later arithmetic stays vectorised."""
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred in ("floating", "integer", "mixed-integer-float"):
        return series.astype(float)
    return series


def _if(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    condition, yes, no = _args(args, ctx)
    return _choose(condition, yes, no, ctx)


def _case(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    if len(args) % 2:
        raise ExprError("The arguments to the 'case' function are invalid.")
    values = _args(args, ctx)
    result: Value = None
    for position in range(len(values) - 2, -1, -2):  # the first true condition wins
        result = _choose(values[position], values[position + 1], result, ctx)
    return result


def _coalesce(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    values = _args(args, ctx)
    result: Value = None
    for value in reversed(values):
        result = _choose(~is_null(value) if isinstance(value, pd.Series) else not is_null(value),
                         value, result, ctx)
    return result


def _numeric(function: Callable[..., Any]) -> Callable[[tuple[Node, ...], EvalContext], Value]:
    def apply(args: tuple[Node, ...], ctx: EvalContext) -> Value:
        numbers = [to_number(v) for v in _args(args, ctx)]
        with np.errstate(all="ignore"):
            result = function(*numbers)
        if isinstance(result, pd.Series):
            return result.where(np.isfinite(result))
        return result if result is not None and np.isfinite(result) else None

    return apply


def _round(x: Value, digits: Value = 0.0) -> Value:
    """Half away from zero, as Splunk rounds (``round(2.5)`` is 3)."""
    places = 0 if is_null(digits) else int(digits if not isinstance(digits, pd.Series) else 0)
    scale = 10.0**places
    return np.sign(x) * np.floor(np.abs(x) * scale + 0.5) / scale


def _log(x: Value, base: Value = 10.0) -> Value:
    return np.log(x) / np.log(base)


def _extreme(pick: str) -> Callable[[tuple[Node, ...], EvalContext], Value]:
    def apply(args: tuple[Node, ...], ctx: EvalContext) -> Value:
        values = _args(args, ctx)
        n = _length(values, ctx) or 1
        numbers = pd.concat([as_series(to_number(v), n) for v in values], axis=1)
        result = numbers.max(axis=1) if pick == "max" else numbers.min(axis=1)
        return result if _length(values, ctx) else result.iloc[0]

    return apply


def _text_function(function: Callable[[pd.Series], pd.Series]) -> Callable[..., Value]:
    def apply(args: tuple[Node, ...], ctx: EvalContext) -> Value:
        (value,) = _args(args, ctx)
        text = as_series(to_text(value), ctx.length if isinstance(value, pd.Series) else 1)
        result = function(text.astype(object).where(text.notna(), None))
        return result if isinstance(value, pd.Series) else result.iloc[0]

    return apply


def _len(text: pd.Series) -> pd.Series:
    return text.str.len().astype(float)


def _substr(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    values = _args(args, ctx)
    text = as_series(to_text(values[0]), ctx.length)
    start = int(to_number(values[1]))
    length = int(to_number(values[2])) if len(values) > 2 else None
    begin = start - 1 if start > 0 else start  # 1-based; negative counts from the end
    end = None if length is None else (begin + length if begin >= 0 or begin + length < 0 else None)
    result = text.str.slice(begin, end)
    return result if isinstance(values[0], pd.Series) else result.iloc[0]


def _replace(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    value, pattern, replacement = _args(args, ctx)
    text = as_series(to_text(value), ctx.length)
    repl = re.sub(r"\\(\d)", r"\\g<\1>", str(replacement))
    result = text.str.replace(str(pattern), repl, regex=True)
    return result if isinstance(value, pd.Series) else result.iloc[0]


def _trim(side: str) -> Callable[[tuple[Node, ...], EvalContext], Value]:
    def apply(args: tuple[Node, ...], ctx: EvalContext) -> Value:
        values = _args(args, ctx)
        text = as_series(to_text(values[0]), ctx.length)
        chars = str(values[1]) if len(values) > 1 else " \t"
        method = {"both": text.str.strip, "left": text.str.lstrip, "right": text.str.rstrip}[side]
        result = method(chars)
        return result if isinstance(values[0], pd.Series) else result.iloc[0]

    return apply


def _tostring(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    values = _args(args, ctx)
    if len(values) == 1:
        return to_text(values[0])
    mode = str(values[1]).lower()
    numbers = as_series(to_number(values[0]), ctx.length)
    if mode == "commas":
        result = numbers.map(lambda v: f"{round(v, 2):,}".removesuffix(".0"), na_action="ignore")
    elif mode == "hex":
        result = numbers.map(lambda v: hex(int(v)), na_action="ignore")
    elif mode == "duration":
        result = numbers.map(_duration, na_action="ignore")
    else:
        raise ExprError("The arguments to the 'tostring' function are invalid.")
    return result if isinstance(values[0], pd.Series) else result.iloc[0]


def _duration(seconds: float) -> str:
    whole = int(seconds)
    days, rest = divmod(whole, 86_400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}+{text}" if days else text


def _tonumber(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    values = _args(args, ctx)
    base = int(to_number(values[1])) if len(values) > 1 else 10
    if base == 10:
        return to_number(values[0])
    text = as_series(to_text(values[0]), ctx.length)
    result = text.map(lambda v: _parse_int(v, base), na_action="ignore").astype(float)
    return result if isinstance(values[0], pd.Series) else result.iloc[0]


def _parse_int(text: str, base: int) -> float:
    try:
        return float(int(text.strip(), base))
    except ValueError:
        return np.nan


def like(value: Value, pattern: Value) -> Value:
    """SQL LIKE: ``%`` any text, ``_`` one character; case-sensitive, as in Splunk."""
    regex = "".join(
        ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in str(pattern)
    )
    text = to_text(value)
    if isinstance(text, pd.Series):
        return text.str.fullmatch(regex, flags=re.DOTALL).fillna(False).astype(bool)
    return text is not None and re.fullmatch(regex, text, re.DOTALL) is not None


def _like(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    value, pattern = _args(args, ctx)
    return like(value, pattern)


def _match(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    value, pattern = _args(args, ctx)
    text = to_text(value)
    if isinstance(text, pd.Series):
        return text.str.contains(str(pattern), regex=True).fillna(False).astype(bool)
    return text is not None and re.search(str(pattern), text) is not None


def _in(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    from kepler_splunk_testing.spleval import _equal

    values = _args(args, ctx)
    result: Value = False
    for candidate in values[1:]:
        result = result | _equal(values[0], candidate)
    return result


def _isnull(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    (value,) = _args(args, ctx)
    return is_null(value)


def _isnotnull(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    (value,) = _args(args, ctx)
    null = is_null(value)
    return ~null if isinstance(null, pd.Series) else not null


def _isnum(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    (value,) = _args(args, ctx)
    if isinstance(value, pd.Series) and value.dtype.kind in "iuf":
        return value.notna()
    if isinstance(value, pd.Series):
        return value.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _isstr(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    (value,) = _args(args, ctx)
    if isinstance(value, pd.Series):
        return value.map(lambda v: isinstance(v, str))
    return isinstance(value, str)


def _typeof(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    (value,) = _args(args, ctx)

    def kind(v: Any) -> str:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "Invalid"
        if isinstance(v, (bool, np.bool_)):
            return "Boolean"
        if isinstance(v, (int, float, np.number)):
            return "Number"
        return "String"

    if isinstance(value, pd.Series):
        return value.astype(object).map(kind)
    return kind(value)


def _validate(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    values = _args(args, ctx)
    result: Value = None
    for position in range(len(values) - 2, -1, -2):  # the first false condition's message
        condition = to_bool(values[position])
        failed = ~condition if isinstance(condition, pd.Series) else not condition
        result = _choose(failed, values[position + 1], result, ctx)
    return result


def _strftime(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    value, layout = _args(args, ctx)
    seconds = as_series(to_number(value), ctx.length)
    moments = pd.to_datetime(seconds, unit="s", utc=True)
    parts = re.split(r"%(\d*)N|%Q", str(layout))
    pieces: list[pd.Series] = []
    for position, part in enumerate(parts):
        if position % 2 == 0:
            if part:
                pieces.append(moments.dt.strftime(part.replace("%e", "%-d")))
        else:
            digits = int(part) if part else 3
            fraction = (seconds - np.floor(seconds)).round(9)
            scaled = np.floor(fraction * 10**digits).astype("Int64").astype(str)
            pieces.append(scaled.str.zfill(digits))
    result = pieces[0] if pieces else pd.Series([""] * len(seconds))
    for piece in pieces[1:]:
        result = result + piece
    result = result.where(seconds.notna())
    return result if isinstance(value, pd.Series) else result.iloc[0]


def _strptime(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    value, layout = _args(args, ctx)
    text = as_series(to_text(value), ctx.length)
    parsed = pd.to_datetime(text, format=str(layout), utc=True, errors="coerce")
    seconds = parsed.astype("int64").where(parsed.notna()) / 1e9
    return seconds if isinstance(value, pd.Series) else seconds.iloc[0]


def _relative_time(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    from datetime import UTC, datetime

    from kepler_splunk_testing.timemodifiers import resolve_time

    value, modifier = _args(args, ctx)
    seconds = as_series(to_number(value), ctx.length)

    def shift(epoch: float) -> float:
        anchor = datetime.fromtimestamp(epoch, UTC)
        try:
            moment = resolve_time(str(modifier), now=anchor)
        except ValueError:
            return np.nan
        return np.nan if moment is None else moment.timestamp()

    unique = {v: shift(v) for v in seconds.dropna().unique()}
    result = seconds.map(unique).astype(float)
    return result if isinstance(value, pd.Series) else result.iloc[0]


def _now(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    return float(int(ctx.now.timestamp()))


def _time(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    return time.time()


def _mvcount(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    (value,) = _args(args, ctx)
    if isinstance(value, pd.Series):
        return value.map(
            lambda v: float(len(v)) if isinstance(v, (list, tuple, np.ndarray)) else 1.0,
            na_action="ignore",
        ).astype(float)
    return None if value is None else 1.0


def _mvindex(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    values = _args(args, ctx)
    start = int(to_number(values[1]))
    stop = int(to_number(values[2])) if len(values) > 2 else None
    series = as_series(values[0], ctx.length)

    def pick(v: Any) -> Any:
        items = list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v]
        if stop is None:
            return items[start] if -len(items) <= start < len(items) else None
        chosen = items[start : (stop + 1) or None]
        return chosen if len(chosen) > 1 else (chosen[0] if chosen else None)

    return series.map(pick, na_action="ignore")


def _mvjoin(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    value, delimiter = _args(args, ctx)
    series = as_series(value, ctx.length)
    return series.map(
        lambda v: str(delimiter).join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray))
        else str(v),
        na_action="ignore",
    )


def _split(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    value, delimiter = _args(args, ctx)
    text = as_series(to_text(value), ctx.length)
    return text.map(lambda v: v.split(str(delimiter)) if str(delimiter) else list(v),
                    na_action="ignore")


def _urldecode(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    (value,) = _args(args, ctx)
    text = to_text(value)
    if isinstance(text, pd.Series):
        return text.map(unquote_plus, na_action="ignore")
    return None if text is None else unquote_plus(text)


def _constant(value: Any) -> Callable[[tuple[Node, ...], EvalContext], Value]:
    return lambda args, ctx: value


def _random(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    rng = np.random.default_rng()
    return pd.Series(rng.integers(0, 2**31 - 1, ctx.length).astype(float))


def _exact(args: tuple[Node, ...], ctx: EvalContext) -> Value:
    (value,) = _args(args, ctx)
    return value


def _upper(text: pd.Series) -> pd.Series:
    return text.str.upper()


def _lower(text: pd.Series) -> pd.Series:
    return text.str.lower()


FUNCTIONS: dict[str, Callable[[tuple[Node, ...], EvalContext], Value]] = {
    "if": _if,
    "case": _case,
    "coalesce": _coalesce,
    "validate": _validate,
    "null": _constant(None),
    "true": _constant(True),
    "false": _constant(False),
    "isnull": _isnull,
    "isnotnull": _isnotnull,
    "isnum": _isnum,
    "isstr": _isstr,
    "typeof": _typeof,
    "like": _like,
    "match": _match,
    "in": _in,
    "abs": _numeric(np.abs),
    "round": _numeric(_round),
    "floor": _numeric(np.floor),
    "ceil": _numeric(np.ceil),
    "ceiling": _numeric(np.ceil),
    "sqrt": _numeric(np.sqrt),
    "pow": _numeric(np.power),
    "exp": _numeric(np.exp),
    "ln": _numeric(np.log),
    "log": _numeric(_log),
    "pi": _constant(float(np.pi)),
    "random": _random,
    "exact": _exact,
    "min": _extreme("min"),
    "max": _extreme("max"),
    "lower": _text_function(_lower),
    "upper": _text_function(_upper),
    "len": _text_function(_len),
    "substr": _substr,
    "replace": _replace,
    "trim": _trim("both"),
    "ltrim": _trim("left"),
    "rtrim": _trim("right"),
    "tostring": _tostring,
    "tonumber": _tonumber,
    "split": _split,
    "urldecode": _urldecode,
    "now": _now,
    "time": _time,
    "strftime": _strftime,
    "strptime": _strptime,
    "relative_time": _relative_time,
    "mvcount": _mvcount,
    "mvindex": _mvindex,
    "mvjoin": _mvjoin,
}

_MANY = 1_000
_ARITY: dict[str, tuple[int, int]] = {
    "if": (3, 3),
    "case": (2, _MANY),
    "coalesce": (1, _MANY),
    "validate": (2, _MANY),
    "null": (0, 0),
    "true": (0, 0),
    "false": (0, 0),
    "pi": (0, 0),
    "random": (0, 0),
    "now": (0, 0),
    "time": (0, 0),
    "like": (2, 2),
    "match": (2, 2),
    "in": (2, _MANY),
    "round": (1, 2),
    "pow": (2, 2),
    "log": (1, 2),
    "min": (1, _MANY),
    "max": (1, _MANY),
    "substr": (2, 3),
    "replace": (3, 3),
    "trim": (1, 2),
    "ltrim": (1, 2),
    "rtrim": (1, 2),
    "tostring": (1, 2),
    "tonumber": (1, 2),
    "split": (2, 2),
    "strftime": (2, 2),
    "strptime": (2, 2),
    "relative_time": (2, 2),
    "mvindex": (2, 3),
    "mvjoin": (2, 2),
}
