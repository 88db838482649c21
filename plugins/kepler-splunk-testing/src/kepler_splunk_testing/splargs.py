"""Reading the arguments of the SPL commands the test server runs (Splunk Search Reference).

Each reader turns one command's argument text into a small query object, or raises
:class:`~kepler_splunk_testing.splexpr.ExprError` with a message in Splunk's style
(``Error in 'stats' command: ...``), which the server answers with HTTP 400.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kepler_splunk_testing.aggregates import AggTerm, function_of
from kepler_splunk_testing.splexpr import (
    ExprError,
    Node,
    Token,
    parse_expression,
    parse_tokens,
    tokenize,
)

__all__ = [
    "BinQuery",
    "DedupQuery",
    "SortKey",
    "StatsQuery",
    "parse_bin",
    "parse_dedup",
    "parse_eval",
    "parse_rename",
    "parse_sort",
    "parse_stats",
]


@dataclass
class StatsQuery:
    terms: list[AggTerm]
    by: list[str]
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool
    mode: str  # "auto", "num", "str", "ip"


@dataclass
class BinQuery:
    field: str
    alias: str | None
    options: dict[str, str]


@dataclass
class DedupQuery:
    fields: list[str]
    count: int
    keepempty: bool
    consecutive: bool
    sortby: list[SortKey]


class _Reader:
    def __init__(self, text: str, command: str) -> None:
        self.text = text
        self.command = command
        self.tokens = tokenize(text)
        self.position = 0

    def peek(self, ahead: int = 0) -> Token | None:
        index = self.position + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.error("is missing an argument")
        self.position += 1
        return token

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.lower() in words

    def at_punct(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "punct" and token.text == text

    def at_option(self) -> bool:
        token, after = self.peek(), self.peek(1)
        return (
            token is not None
            and token.kind == "word"
            and after is not None
            and after.kind == "op"
            and after.text == "="
        )

    def option(self) -> tuple[str, str]:
        name = self.take().text.lower()
        self.take()  # "="
        return name, self.value()

    def value(self) -> str:
        """A field name or value: a word, a quoted string or name, or a (signed) number."""
        token = self.take()
        if token.kind == "op" and token.text in ("-", "+"):
            following = self.take()
            return token.text + following.text
        if token.kind in ("word", "string", "field", "number"):
            return token.text
        raise self.error(f"has an unexpected '{token.text}'")

    def skip_comma(self) -> None:
        if self.at_punct(","):
            self.position += 1

    def error(self, what: str) -> ExprError:
        return ExprError(f"Error in '{self.command}' command: The argument list {what}.")


def parse_stats(text: str, command: str = "stats") -> StatsQuery:
    """``[options] func(field) [AS name] [,] ... [BY field [,] ...]``."""
    reader = _Reader(text, command)
    options: dict[str, str] = {}
    while reader.at_option():
        name, value = reader.option()
        options[name] = value
    terms: list[AggTerm] = []
    while reader.peek() is not None and not reader.at_word("by", "over"):
        if reader.at_option():
            name, value = reader.option()
            options[name] = value
            continue
        terms.append(_agg_term(reader))
        reader.skip_comma()
    if not terms:
        raise ExprError(f"Error in '{command}' command: This command requires at least one "
                        "aggregation such as count or avg(field).")
    by: list[str] = []
    if reader.at_word("by", "over"):
        reader.position += 1
        while reader.peek() is not None:
            if reader.at_option():
                name, value = reader.option()
                options[name] = value
                continue
            by.append(reader.value())
            reader.skip_comma()
        if not by:
            raise reader.error("needs a field after BY")
    return StatsQuery(terms, by, options)


def _agg_term(reader: _Reader) -> AggTerm:
    head = reader.take()
    if head.kind != "word":
        raise reader.error(f"has an unexpected '{head.text}'")
    func, percent, interpolation = function_of(head.text, reader.command)
    arg: str | None = None
    expr: Node | None = None
    if reader.at_punct("("):
        opening = reader.take()
        depth, closing = 1, None
        while depth:
            token = reader.take()
            if token.kind == "punct" and token.text == "(":
                depth += 1
            elif token.kind == "punct" and token.text == ")":
                depth -= 1
                closing = token
        assert closing is not None
        arg = reader.text[opening.end : closing.start].strip()
        if arg.lower().startswith("eval(") and arg.endswith(")"):
            expr = parse_expression(arg[5:-1])
        elif arg.startswith(("'", '"')) and arg.endswith(arg[0]) and len(arg) > 1:
            arg = arg[1:-1]
        if not arg:
            arg = None
    elif func != "count":
        raise reader.error(f"needs a field for '{head.text}'")
    alias = None
    if reader.at_word("as"):
        reader.position += 1
        alias = reader.value()
    return AggTerm(func, head.text, arg, alias, expr, percent, interpolation)


def parse_eval(text: str) -> list[tuple[str, Node]]:
    """``name=expression [, name=expression ...]``, evaluated left to right."""
    reader = _Reader(text, "eval")
    assignments: list[tuple[str, Node]] = []
    while reader.peek() is not None:
        target = reader.take()
        equals = reader.peek()
        if target.kind not in ("word", "field", "string") or equals is None or (
            equals.kind != "op" or equals.text != "="
        ):
            raise ExprError("Error in 'eval' command: The expression is malformed. "
                            "Expected name=expression.")
        reader.position += 1
        rest = reader.tokens[reader.position :]
        node, used = parse_tokens(rest, text)
        reader.position += used
        assignments.append((target.text, node))
        if reader.peek() is not None:
            if not reader.at_punct(","):
                extra = reader.peek()
                assert extra is not None
                raise ExprError(f"Error in 'eval' command: The expression is malformed near "
                                f"'{extra.text}'.")
            reader.position += 1
    if not assignments:
        raise ExprError("Error in 'eval' command: The expression is malformed.")
    return assignments


def parse_sort(text: str) -> tuple[int, list[SortKey]]:
    """``[N | limit=N] [+|-]field [, ...] [desc]``; the limit defaults to 10,000 (0: all)."""
    reader = _Reader(text, "sort")
    limit = 10_000
    token = reader.peek()
    if token is not None and token.kind == "number":
        limit = int(float(reader.take().text))
    elif reader.at_option() and reader.at_word("limit"):
        limit = int(float(reader.option()[1]))
    keys: list[SortKey] = []
    reverse = False
    while reader.peek() is not None:
        descending = False
        token = reader.peek()
        assert token is not None
        if token.kind == "op" and token.text in ("+", "-"):
            descending = token.text == "-"
            reader.position += 1
        if reader.at_word("desc", "d") and reader.peek(1) is None and keys:
            reverse = True
            reader.position += 1
            break
        mode = "auto"
        if reader.at_word("num", "str", "ip", "auto") and (
            reader.peek(1) is not None and reader.peek(1).text == "("  # type: ignore[union-attr]
        ):
            mode = reader.take().text.lower()
            reader.take()
            name = reader.value()
            if not reader.at_punct(")"):
                raise reader.error(f"has an unclosed '{mode}('")
            reader.position += 1
        else:
            name = reader.value()
        keys.append(SortKey(name, descending, mode))
        reader.skip_comma()
    if not keys:
        raise ExprError("Error in 'sort' command: The sort field list is empty.")
    if reverse:
        keys = [SortKey(k.field, not k.descending, k.mode) for k in keys]
    return (limit if limit > 0 else 0), keys


def parse_dedup(text: str) -> DedupQuery:
    reader = _Reader(text, "dedup")
    count = 1
    token = reader.peek()
    if token is not None and token.kind == "number":
        count = int(float(reader.take().text))
    fields: list[str] = []
    options: dict[str, str] = {}
    sortby: list[SortKey] = []
    while reader.peek() is not None:
        if reader.at_option():
            name, value = reader.option()
            options[name] = value.lower()
        elif reader.at_word("sortby"):
            reader.position += 1
            rest = reader.text[reader.tokens[reader.position].start :] if reader.peek() else ""
            sortby = parse_sort(rest)[1]
            break
        else:
            fields.append(reader.value())
            reader.skip_comma()
    if not fields:
        raise ExprError("Error in 'dedup' command: At least one field must be specified.")
    truthy = ("t", "true", "1", "yes")
    return DedupQuery(
        fields,
        max(1, count),
        options.get("keepempty", "false") in truthy,
        options.get("consecutive", "false") in truthy,
        sortby,
    )


def parse_bin(text: str, command: str = "bin") -> BinQuery:
    """``[span=... | bins=N | minspan= | start= | end=] field [AS name]``."""
    reader = _Reader(text, command)
    options: dict[str, str] = {}
    name: str | None = None
    alias: str | None = None
    while reader.peek() is not None:
        if reader.at_option():
            key, value = reader.option()
            options[key] = value
        elif reader.at_word("as") and name is not None:
            reader.position += 1
            alias = reader.value()
        else:
            name = reader.value()
    if name is None:
        raise ExprError(f"Error in '{command}' command: A field must be specified.")
    return BinQuery(name, alias, options)


def parse_rename(text: str) -> list[tuple[str, str]]:
    reader = _Reader(text, "rename")
    pairs: list[tuple[str, str]] = []
    while reader.peek() is not None:
        old = reader.value()
        if not reader.at_word("as"):
            raise ExprError("Error in 'rename' command: Usage: rename [old_name AS new_name]+")
        reader.position += 1
        pairs.append((old, reader.value()))
        reader.skip_comma()
    if not pairs:
        raise ExprError("Error in 'rename' command: Usage: rename [old_name AS new_name]+")
    return pairs


def parse_options(text: str, command: str) -> tuple[dict[str, str], list[str]]:
    """Leading/trailing ``name=value`` options and the remaining plain values (fillnull...)."""
    reader = _Reader(text, command)
    options: dict[str, str] = {}
    values: list[str] = []
    while reader.peek() is not None:
        if reader.at_option():
            key, value = reader.option()
            options[key] = value
        else:
            values.append(reader.value())
            reader.skip_comma()
    return options, values
