"""Parsing the arguments of ``| mstats`` and ``| mcatalog`` into small query objects.

Only a well-defined subset is read: aggregation terms, a ``WHERE`` clause that is a conjunction
of ``field=value``, ``field!=value`` and ``field IN (a, b)`` terms (``AND`` and parentheses
allowed), ``BY``/``GROUPBY`` fields and ``span=``. Anything else raises :class:`MetricsError`
naming what is not understood: the test server answers it with HTTP 400 rather than guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "AggTerm",
    "CatalogQuery",
    "Condition",
    "MetricsError",
    "MstatsQuery",
    "Span",
    "parse_mcatalog",
    "parse_mstats",
    "parse_span",
]

MSTATS_FUNCTIONS = frozenset(
    {
        "avg",
        "count",
        "dc",
        "earliest",
        "estdc",
        "latest",
        "max",
        "mean",
        "median",
        "min",
        "mode",
        "range",
        "stdev",
        "stdevp",
        "sum",
        "sumsq",
        "var",
        "varp",
    }
)
"""The mstats functions the test server computes (plus the percentiles, see ``_PERCENTILE``)."""

SPLUNK_ONLY_FUNCTIONS = frozenset(
    {"earliest_time", "estdc_error", "latest_time", "rate", "rate_avg", "rate_sum"}
)
"""mstats functions Splunk has but the test server does not compute (a 400 says so)."""

_PERCENTILE = re.compile(r"(p|perc|exactperc|upperperc)(\d+(?:\.\d+)?)", re.IGNORECASE)
_TOKEN = re.compile(
    r'\s*(?:(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<op>!=|<=|>=|==|=|<|>)|(?P<punct>[(),])'
    r'|(?P<word>[^\s"(),=!<>]+))',
    re.DOTALL,
)
_SPAN = re.compile(
    r"(\d+)(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours"
    r"|d|day|days|w|week|weeks|mon|month|months)?",
    re.IGNORECASE,
)
_SPAN_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_CLAUSE_WORDS = frozenset({"where", "by", "groupby"})


class MetricsError(Exception):
    """A metrics search splunkd would refuse, or one the test server cannot answer (HTTP 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "quoted", "op", "punct"
    text: str  # quoted: the unescaped contents

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


@dataclass(frozen=True)
class Span:
    """A ``span=`` bucket length: ``seconds`` for fixed units, or ``months``."""

    text: str
    seconds: int = 0
    months: int = 0


@dataclass(frozen=True)
class Condition:
    """``field=value`` (``op`` "="), ``field!=value`` ("!=") or ``field IN (...)`` ("in")."""

    field: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class AggTerm:
    """``func(metric) AS alias``; ``percent`` is set for the percentile functions."""

    func: str  # lower case: "avg", ..., or "perc" for every percentile form
    written: str  # the function as written, for the default column name
    metric: str
    alias: str | None
    percent: float | None = None

    @property
    def column(self) -> str:
        return self.alias or f"{self.written}({self.metric})"


@dataclass
class Where:
    conditions: list[Condition] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)  # index patterns (lower case)
    excluded: list[str] = field(default_factory=list)  # index!=pattern
    earliest: str | None = None
    latest: str | None = None


@dataclass
class MstatsQuery:
    terms: list[AggTerm]
    where: Where
    by: list[str]
    span: Span | None


@dataclass
class CatalogQuery:
    terms: list[AggTerm]  # func is always "values"
    where: Where
    by: list[str]


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise MetricsError(f"Unbalanced quotes or unexpected text near {text[position:]!r}.")
        position = match.end()
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "quoted":
            value = re.sub(r"\\(.)", r"\1", value[1:-1], flags=re.DOTALL)
        tokens.append(Token(kind, value))
    return tokens


class _Reader:
    def __init__(self, command: str, tokens: list[Token]) -> None:
        self.command = command
        self.tokens = tokens
        self.position = 0

    def peek(self, ahead: int = 0) -> Token | None:
        index = self.position + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.error("Unexpected end of search.")
        self.position += 1
        return token

    def expect(self, kind: str, text: str | None = None) -> Token:
        token = self.take()
        if token.kind != kind or (text is not None and token.text != text):
            wanted = text or kind
            raise self.error(f"Expected '{wanted}' but found '{token.text}'.")
        return token

    def value(self) -> str:
        token = self.take()
        if token.kind not in ("word", "quoted"):
            raise self.error(f"Expected a value but found '{token.text}'.")
        return token.text

    def at_assignment(self, name: str) -> bool:
        token, after = self.peek(), self.peek(1)
        return (
            token is not None
            and token.is_word(name)
            and after is not None
            and after.kind == "op"
            and after.text == "="
        )

    def error(self, text: str) -> MetricsError:
        return MetricsError(f"Error in '{self.command}' command: {text}")

    def unsupported(self, what: str) -> MetricsError:
        return self.error(
            f"The Kepler Splunk test server does not implement {what}. Register this search with "
            "SplunkTestServer.add_search(pattern, data) to return canned results."
        )


def parse_span(text: str, command: str = "mstats") -> Span:
    """``30s``, ``1m``, ``5min``, ``2h``, ``1d``, ``1w``, ``1mon`` (a bare number is seconds)."""
    match = _SPAN.fullmatch(text.strip())
    if match is None or int(match.group(1)) <= 0:
        raise MetricsError(
            f"Error in '{command}' command: Invalid span '{text}'. Use a positive number of "
            "s, m, h, d, w or mon (for example span=1m)."
        )
    amount = int(match.group(1))
    unit = (match.group(2) or "s").lower()
    if unit.startswith("mon"):
        return Span(text, months=amount)
    key = "m" if unit.startswith("mi") or unit == "m" else unit[0]
    return Span(text, seconds=amount * _SPAN_SECONDS[key])


def _options(reader: _Reader, command: str) -> None:
    """Leading ``name=value`` options; only their default values are accepted."""
    while True:
        token, after = reader.peek(), reader.peek(1)
        if token is None or token.kind != "word" or after is None or after.text != "=":
            return
        name = token.text.lower()
        reader.position += 2
        value = reader.value().lower()
        if name in ("prestats", "append") and value in ("f", "false", "0", "no"):
            continue
        raise reader.unsupported(f"the '{command}' option '{token.text}={value}'")


def _agg_terms(reader: _Reader, command: str) -> list[AggTerm]:
    terms: list[AggTerm] = []
    while True:
        token, after = reader.peek(), reader.peek(1)
        if token is None or token.kind != "word" or after is None or after.text != "(":
            break
        if token.is_word(*_CLAUSE_WORDS):
            break
        reader.position += 2
        metric = reader.value()
        reader.expect("punct", ")")
        alias = None
        following = reader.peek()
        if following is not None and following.is_word("as"):
            reader.position += 1
            alias = reader.value()
        terms.append(_agg_term(reader, command, token.text, metric, alias))
        following = reader.peek()
        if following is not None and following.kind == "punct" and following.text == ",":
            reader.position += 1
    if not terms:
        found = reader.peek()
        raise reader.error(
            "Expected an aggregation such as avg(metric_name)"
            + (f" but found '{found.text}'." if found else ".")
        )
    return terms


def _agg_term(
    reader: _Reader, command: str, written: str, metric: str, alias: str | None
) -> AggTerm:
    func = written.lower()
    if command == "mcatalog":
        if func != "values":
            raise reader.error(f"Unsupported function '{written}': mcatalog supports values().")
        return AggTerm("values", written, metric, alias)
    percentile = _PERCENTILE.fullmatch(written)
    if percentile is not None:
        percent = float(percentile.group(2))
        if not 0 <= percent <= 100:
            raise reader.error(f"Invalid percentile '{written}': use a number from 0 to 100.")
        return AggTerm("perc", written, metric, alias, percent)
    if func in MSTATS_FUNCTIONS:
        return AggTerm(func, written, metric, alias)
    if func in SPLUNK_ONLY_FUNCTIONS:
        raise reader.unsupported(f"the mstats function '{written}()'")
    raise reader.error(f"Unknown aggregation function '{written}'.")


def _where(reader: _Reader, where: Where) -> None:
    """A conjunction of terms up to BY/GROUPBY or span= (at parenthesis depth 0) or the end."""
    depth = 0
    while True:
        token = reader.peek()
        if token is None:
            break
        if depth == 0 and (token.is_word("by", "groupby") or reader.at_assignment("span")):
            break
        if token.kind == "punct" and token.text == "(":
            depth += 1
            reader.position += 1
            continue
        if token.kind == "punct" and token.text == ")":
            if depth == 0:
                raise reader.error("Unbalanced parentheses in the WHERE clause.")
            depth -= 1
            reader.position += 1
            continue
        if token.is_word("and"):
            reader.position += 1
            continue
        if token.is_word("or", "not", "xor"):
            raise reader.unsupported(f"'{token.text.upper()}' in a WHERE clause (only AND)")
        _where_term(reader, where)
    if depth:
        raise reader.error("Unbalanced parentheses in the WHERE clause.")


def _where_term(reader: _Reader, where: Where) -> None:
    name_token = reader.take()
    if name_token.kind != "word":
        raise reader.unsupported(f"the WHERE term '{name_token.text}'")
    name = name_token.text
    operator = reader.peek()
    if operator is not None and operator.is_word("in"):
        reader.position += 1
        reader.expect("punct", "(")
        values = [reader.value()]
        while True:
            token = reader.take()
            if token.kind == "punct" and token.text == ")":
                break
            if not (token.kind == "punct" and token.text == ","):
                reader.position -= 1
            values.append(reader.value())
        _add_condition(reader, where, Condition(name, "in", tuple(values)))
        return
    if operator is None or operator.kind != "op":
        raise reader.unsupported(f"the WHERE term '{name}' (use field=value)")
    if operator.text not in ("=", "!=", "=="):
        raise reader.unsupported(f"the comparison '{name}{operator.text}' in a WHERE clause")
    reader.position += 1
    op = "!=" if operator.text == "!=" else "="
    _add_condition(reader, where, Condition(name, op, (reader.value(),)))


def _add_condition(reader: _Reader, where: Where, condition: Condition) -> None:
    lowered = condition.field.lower()
    if lowered == "index":
        target = where.excluded if condition.op == "!=" else where.indexes
        target.extend(value.lower() for value in condition.values)
    elif lowered in ("earliest", "latest") and condition.op == "=":
        setattr(where, lowered, condition.values[0])
    elif lowered in ("earliest", "latest"):
        raise reader.unsupported(f"'{condition.field}' with '{condition.op}'")
    else:
        where.conditions.append(condition)


def _by_fields(reader: _Reader) -> list[str]:
    fields: list[str] = []
    while True:
        token = reader.peek()
        if token is None or reader.at_assignment("span") or token.is_word("where"):
            break
        if token.kind == "punct" and token.text == ",":
            reader.position += 1
            continue
        if token.kind not in ("word", "quoted"):
            raise reader.error(f"Unexpected '{token.text}' in the BY clause.")
        fields.append(token.text)
        reader.position += 1
    if not fields:
        raise reader.error("The BY clause names no field.")
    return fields


def _clauses(
    reader: _Reader, command: str, allow_span: bool
) -> tuple[Where, list[str], Span | None]:
    where = Where()
    by: list[str] = []
    span: Span | None = None
    while reader.peek() is not None:
        token = reader.peek()
        assert token is not None
        if token.is_word("where"):
            reader.position += 1
            _where(reader, where)
        elif token.is_word("by", "groupby"):
            reader.position += 1
            by.extend(_by_fields(reader))
        elif allow_span and reader.at_assignment("span"):
            reader.position += 2
            span = parse_span(reader.value(), command)
        else:
            raise reader.unsupported(f"'{token.text}' in {command} (expected WHERE, BY or span=)")
    return where, by, span


def parse_mstats(args: str) -> MstatsQuery:
    reader = _Reader("mstats", tokenize(args))
    _options(reader, "mstats")
    terms = _agg_terms(reader, "mstats")
    where, by, span = _clauses(reader, "mstats", allow_span=True)
    return MstatsQuery(terms, where, by, span)


def parse_mcatalog(args: str) -> CatalogQuery:
    reader = _Reader("mcatalog", tokenize(args))
    _options(reader, "mcatalog")
    terms = _agg_terms(reader, "mcatalog")
    where, by, _ = _clauses(reader, "mcatalog", allow_span=False)
    return CatalogQuery(terms, where, by)
