"""Arguments of the query magics, parsed the way SPL writes them: ``key=value``.

argparse reads ``earliest=-1h``'s leading dash as an option and chokes; SPL users write
``earliest=-1h latest=now``, so that is the syntax. ``$name`` is replaced by the value of
``name`` in the notebook's namespace (``$$`` is a literal ``$``; ``$token$``, a dashboard token
or ``map`` variable, is left alone). IPython's own ``{expr}`` expansion is switched off for these
magics because SPL uses braces (``rex "\\d{3}"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import KeplerError

#: Options a one-line ``%spl`` recognises before its query (``index=main`` is SPL, not an option);
#: put ``--`` between options and query to pass any other option (``parallel=4 -- index=main``).
LINE_OPTIONS = frozenset({"out", "cache", "chunks", "earliest", "latest", "connection"})

_OPTION = re.compile(r"""\s*([A-Za-z_]\w*)=("[^"]*"|'[^']*'|\S*)""")
_VARIABLE = re.compile(r"\$(\$|\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*)(\$?))")


@dataclass
class MagicArgs:
    """What a query magic was asked: the query and its options (``out`` taken apart)."""

    query: str
    out: str = "df"
    options: dict[str, Any] = field(default_factory=dict)


def substitute(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace ``$name`` / ``${name}`` with ``str(namespace[name])``; unknown names are an error
    naming them (a typo must not silently reach the server)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1) == "$":
            return "$"
        name = match.group(2) or match.group(3)
        if match.group(4):  # $token$: SPL's own syntax
            return match.group(0)
        if name not in namespace:
            raise KeplerError(f"${name} is not defined in the notebook.",
                              hint=f"Assign it first ({name} = ...) or write $$ for a literal $.")
        return str(namespace[name])

    return _VARIABLE.sub(replace, text)


def coerce(value: str) -> Any:
    """``true``/``false`` to booleans, unsigned integers to int, quotes removed; everything
    else (``-1h``, ``@d``, ``now``) stays a string for the connector to read."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    lowered = value.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    return int(value) if value.isdigit() else value


def parse_options(text: str) -> dict[str, Any]:
    """Every token of ``text`` must be ``key=value`` (the first line of a ``%%spl`` cell)."""
    options: dict[str, Any] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        match = _OPTION.match(text, position)
        if match is None or match.end() == position:
            bad = text[position:].split()[0]
            raise KeplerError(f"Cannot read {bad!r}: options are key=value.",
                              hint="For example: earliest=-24h latest=now out=df cache=true")
        options[match.group(1)] = coerce(match.group(2))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return options


def split_line(line: str) -> tuple[dict[str, Any], str]:
    """A one-line magic: leading known options, then the query (or ``options -- query``)."""
    head, separator, tail = line.partition(" -- ")
    if separator or line.strip().startswith("-- "):
        if not separator:
            head, tail = "", line.strip()[3:]
        return parse_options(head), tail.strip()
    options: dict[str, Any] = {}
    position = 0
    while True:
        match = _OPTION.match(line, position)
        if match is None or match.group(1) not in LINE_OPTIONS:
            break
        options[match.group(1)] = coerce(match.group(2))
        position = match.end()
    return options, line[position:].strip()


def parse(line: str, cell: str | None, namespace: Mapping[str, Any]) -> MagicArgs:
    """``%spl`` (``cell`` None) or ``%%spl``: substitute variables, split options and query,
    and check ``out`` is a name the notebook can use."""
    line = substitute(line, namespace)
    if cell is None:
        options, query = split_line(line)
    else:
        options, query = parse_options(line), substitute(cell, namespace).strip()
    if not query:
        raise KeplerError("The query is empty.",
                          hint="Write it after the options (%spl) or in the cell (%%spl).")
    out = str(options.pop("out", "df"))
    if not out.isidentifier():
        raise KeplerError(f"out={out!r} is not a Python name.", hint="For example: out=pumps")
    return MagicArgs(query=query, out=out, options=options)


__all__ = ["LINE_OPTIONS", "MagicArgs", "coerce", "parse", "parse_options", "split_line",
           "substitute"]
