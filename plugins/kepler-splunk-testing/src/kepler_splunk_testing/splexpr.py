"""SPL eval expressions (``eval``, ``where``, ``stats ... eval(...)``): tokens and a syntax tree.

The test server evaluates the expressions dashboards, alerts and README examples use, so it parses
them the way splunkd reads them: numbers, ``"strings"``, ``'quoted field names'``, bare field
names (dots allowed: ``features.temperature``), function calls, ``+ - * / %``, ``.``
(concatenation), comparisons (``= == != < > <= >=``, ``LIKE``) and ``AND``/``OR``/``XOR``/``NOT``.
Precedence, lowest first: OR, XOR, AND, NOT, comparison, ``+ - .``, ``* / %``, unary minus.
Evaluation is in :mod:`kepler_splunk_testing.spleval`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "Binary",
    "Call",
    "ExprError",
    "FieldRef",
    "Literal",
    "Node",
    "Token",
    "Unary",
    "parse_expression",
    "tokenize",
]


class ExprError(Exception):
    """An expression splunkd would refuse (the server answers HTTP 400 with ``message``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "string", "field" (quoted name), "word", "op", "punct"
    text: str  # for strings and quoted fields: the unescaped contents
    start: int  # offset in the source text (to slice what the user wrote)
    end: int


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<field>'(?:[^'\\]|\\.)*')
      | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?(?![\w.]))
      | (?P<op>==|!=|<=|>=|=|<|>|\+|-|\*|/|%|\.)
      | (?P<punct>[(),\[\]])
      | (?P<word>[A-Za-z_@$][\w.:@$]*(?<!\.)|\d+[A-Za-z_]\w*)
    )""",
    re.VERBOSE | re.DOTALL,
)


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text``; raises :class:`ExprError` on an unbalanced quote or stray character."""
    tokens: list[Token] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            rest = stripped[position:].strip()
            if rest[:1] in ('"', "'"):
                raise ExprError("Unbalanced quotes.")
            raise ExprError(f"The expression is malformed near {rest[:30]!r}.")
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind in ("string", "field"):
            value = re.sub(r"\\(.)", r"\1", value[1:-1], flags=re.DOTALL)
        tokens.append(Token(kind, value, match.start(kind), match.end()))
        position = match.end()
    return tokens


@dataclass(frozen=True)
class Literal:
    value: float | str | None


@dataclass(frozen=True)
class FieldRef:
    name: str


@dataclass(frozen=True)
class Call:
    name: str  # lower case
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str  # "or", "xor", "and", "=", "!=", "<", ">", "<=", ">=", "like", "+", "-", ".", ...
    left: Node
    right: Node


Node = Literal | FieldRef | Call | Unary | Binary

_COMPARISONS = {"=": "=", "==": "=", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}


class _Parser:
    """Precedence climbing over the tokens of one expression."""

    def __init__(self, tokens: list[Token], text: str) -> None:
        self.tokens = tokens
        self.position = 0
        self.text = text

    def peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise ExprError(f"The expression '{self.text.strip()}' is incomplete.")
        self.position += 1
        return token

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.lower() in words

    def at(self, kind: str, *texts: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == kind and token.text in texts

    def expect(self, kind: str, text: str) -> None:
        token = self.peek()
        if token is None or token.kind != kind or token.text != text:
            found = "the end" if token is None else repr(token.text)
            raise ExprError(f"Expected '{text}' in '{self.text.strip()}' but found {found}.")
        self.position += 1

    def expression(self) -> Node:
        return self.binary_words(("or", "xor", "and"))

    def binary_words(self, levels: tuple[str, ...]) -> Node:
        if not levels:
            return self.negation()
        word, lower = levels[0], levels[1:]
        node = self.binary_words(lower)
        while self.at_word(word):
            self.position += 1
            node = Binary(word, node, self.binary_words(lower))
        return node

    def negation(self) -> Node:
        if self.at_word("not"):
            self.position += 1
            return Unary("not", self.negation())
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        while True:
            token = self.peek()
            if token is not None and token.kind == "op" and token.text in _COMPARISONS:
                self.position += 1
                node = Binary(_COMPARISONS[token.text], node, self.additive())
            elif self.at_word("like"):
                self.position += 1
                node = Binary("like", node, self.additive())
            else:
                return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.at("op", "+", "-", "."):
            op = self.take().text
            node = Binary(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.at("op", "*", "/", "%"):
            op = self.take().text
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.at("op", "-"):
            self.position += 1
            return Unary("-", self.unary())
        if self.at("op", "+"):
            self.position += 1
            return self.unary()
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Literal(float(token.text))
        if token.kind == "string":
            return Literal(token.text)
        if token.kind == "field":
            return FieldRef(token.text)
        if token.kind == "punct" and token.text == "(":
            node = self.expression()
            self.expect("punct", ")")
            return node
        if token.kind == "word":
            if self.at("punct", "("):
                return self.call(token.text)
            return FieldRef(token.text)
        raise ExprError(f"Unexpected '{token.text}' in '{self.text.strip()}'.")

    def call(self, name: str) -> Node:
        self.expect("punct", "(")
        args: list[Node] = []
        if not self.at("punct", ")"):
            args.append(self.expression())
            while self.at("punct", ","):
                self.position += 1
                args.append(self.expression())
        self.expect("punct", ")")
        return Call(name.lower(), tuple(args))


def parse_expression(text: str, tokens: list[Token] | None = None) -> Node:
    """The tree of one whole expression; raises :class:`ExprError` for anything left over."""
    tokens = tokenize(text) if tokens is None else tokens
    if not tokens:
        raise ExprError("The expression is empty.")
    parser = _Parser(tokens, text)
    node = parser.expression()
    if parser.peek() is not None:
        extra = parser.peek()
        assert extra is not None
        raise ExprError(f"The expression '{text.strip()}' has unexpected '{extra.text}'.")
    return node


def parse_tokens(tokens: list[Token], text: str) -> tuple[Node, int]:
    """Parse one expression from the start of ``tokens``; returns it and the tokens used."""
    parser = _Parser(tokens, text)
    node = parser.expression()
    return node, parser.position
