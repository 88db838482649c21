"""The validated type of each feature of a model, strict or as lenient as the model itself.

==========  ====================================  ============================================
kind        strict (``serve.strict_inputs``)      lenient (the default) adds
==========  ====================================  ============================================
number      a finite number within float32's      a numeric string (``"71.5"``), read as the
            range (what tree models compare)      number it spells
integer     a whole number (``3`` or ``3.0``)     a numeric string of a whole number (``"3"``)
boolean     ``true`` / ``false``                  (nothing)
category    one of the categories seen in         any string: an unseen one is scored as the
            training (an ``enum``)                fitted encoder scores it, and counted
datetime    an RFC 3339 string, 1678 to 2261      (nothing)
text        a string of at most 10,000 chars      (nothing)
==========  ====================================  ============================================

Null is accepted where the feature schema marks a feature optional, and, in lenient mode, where
the model was shown to impute it (:mod:`kepler_serve.tolerance`). A coerced value reaches the
scorer with the feature's own type (a float, an int): the fast path and the model's own path see
exactly what they would have seen had the client sent a number.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, Strict, WithJsonSchema
from pydantic_core import core_schema as cs

#: Largest magnitude accepted for numbers: float32's, since tree models compare in float32.
FLOAT32_MAX = 3.4028234663852886e38
TEXT_MAX = 10_000
#: pandas' timestamp range (nanoseconds): beyond it the model's own path reads no time at all.
EARLIEST = _dt.datetime(1678, 1, 1, tzinfo=_dt.UTC)
LATEST = _dt.datetime(2261, 12, 31, 23, 59, 59, tzinfo=_dt.UTC)
#: A number written as a string, as the OpenAPI document states it (ASCII digits only).
NUMBER_PATTERN = r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$"
INTEGER_PATTERN = r"^\s*[+-]?[0-9]+\s*$"
_NUMBER = re.compile(NUMBER_PATTERN, re.ASCII)
_INTEGER = re.compile(INTEGER_PATTERN, re.ASCII)


def _whole(value: Any) -> Any:
    """Integers: JSON integers, or numbers with nothing after the point (3.0 from pandas)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _number_text(value: Any) -> Any:
    """``"71.5"`` -> 71.5; anything else unchanged (and judged by the strict float after)."""
    if type(value) is str and _NUMBER.match(value):
        return float(value)
    return value


def _whole_text(value: Any) -> Any:
    """``"3"`` -> 3 and ``"3.0"`` -> 3; then as :func:`_whole`."""
    if type(value) is str:
        if _INTEGER.match(value):
            return int(value)
        value = _number_text(value)
    return _whole(value)


def _in_range(value: _dt.datetime) -> _dt.datetime:
    moment = value if value.tzinfo is not None else value.replace(tzinfo=_dt.UTC)
    if not EARLIEST <= moment <= LATEST:
        raise ValueError("must lie between 1678-01-01 and 2261-12-31 (UTC)")
    return value


_NUMBER_RANGE = Field(ge=-FLOAT32_MAX, le=FLOAT32_MAX, allow_inf_nan=False)
_INTEGER_RANGE = Field(ge=-int(FLOAT32_MAX), le=int(FLOAT32_MAX))

Number = Annotated[float, Strict(), _NUMBER_RANGE]
Integer = Annotated[int, BeforeValidator(_whole), Strict(), _INTEGER_RANGE]
Boolean = Annotated[bool, Strict()]
Text = Annotated[str, Strict(), Field(max_length=TEXT_MAX)]
Moment = Annotated[_dt.datetime, Strict(), AfterValidator(_in_range)]

class _Core:
    """An ``Annotated`` marker holding a ready pydantic-core schema.

    The lenient types are built from core schemas so that a value of the right JSON type never
    reaches Python: a left-to-right union tries the native check first, and only a string (or a
    float for an integer) goes through the conversion function; the strict check with its range
    then runs natively on the result, so errors keep their precise types (``float_type``,
    ``less_than_equal``...)."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return self.schema


def _lenient(native: Any, convert: Callable[[Any], Any], checked: Any) -> _Core:
    """``native`` as it comes, else ``convert(value)``; then ``checked`` (strict, ranged)."""
    return _Core(cs.chain_schema([
        cs.union_schema([native, cs.no_info_plain_validator_function(convert)],
                        mode="left_to_right"),
        checked]))


LenientNumber = Annotated[float, _lenient(
    cs.float_schema(strict=True), _number_text,
    cs.float_schema(strict=True, allow_inf_nan=False, ge=-FLOAT32_MAX, le=FLOAT32_MAX)),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": -FLOAT32_MAX,
                               "maximum": FLOAT32_MAX},
                              {"type": "string", "pattern": NUMBER_PATTERN}]})]
LenientInteger = Annotated[int, _lenient(
    cs.int_schema(strict=True), _whole_text,
    cs.int_schema(strict=True, ge=-int(FLOAT32_MAX), le=int(FLOAT32_MAX))),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": -int(FLOAT32_MAX),
                               "maximum": int(FLOAT32_MAX)},
                              {"type": "string", "pattern": INTEGER_PATTERN}]})]


def open_category(name: str, categories: list[str], unseen: Callable[[str], None]) -> Any:
    """A category that takes any string; ``unseen(name)`` is called for each value not seen in
    training (the server counts them), which the model then scores as its encoder does. A
    category seen in training is matched natively, without a Python call."""

    def count(value: str) -> str:
        unseen(name)
        return value

    return Annotated[str, _Core(cs.chain_schema([
        cs.str_schema(strict=True, max_length=TEXT_MAX),
        cs.union_schema([cs.literal_schema(list(categories)),
                         cs.no_info_plain_validator_function(count)], mode="left_to_right")])),
        WithJsonSchema({"anyOf": [{"enum": list(categories)},
                                  {"type": "string", "maxLength": TEXT_MAX}],
                        "description": "Seen in training: the enum; any other string is "
                        "scored as an unseen category."})]


def feature_type(feature: Any, *, strict: bool = True, open_categories: bool = False,
                 unseen: Callable[[str], None] | None = None) -> Any:
    """The validated type of one :class:`kepler.schema.Feature` (without null)."""
    kind = feature.kind
    if kind == "number":
        return Number if strict else LenientNumber
    if kind == "integer":
        return Integer if strict else LenientInteger
    if kind == "boolean":
        return Boolean
    if kind == "datetime":
        return Moment
    if kind == "category" and feature.categories:
        if strict or not open_categories:
            return Literal[tuple(feature.categories)]
        return open_category(feature.name, feature.categories, unseen or (lambda name: None))
    return Text
