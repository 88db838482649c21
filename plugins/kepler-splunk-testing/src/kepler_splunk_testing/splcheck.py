"""SPL validation without running it: what ``GET /services/search/parser`` answers.

The search engine runs only a few SPL forms, but a dashboard or an alert holds SPL nobody runs
in a test (``timechart``, ``eval``, ``where``...). This checks such SPL the way splunkd's parser
does before dispatch: the search starts with a command (``search`` or ``|``), every command after
a pipe is a Splunk command (``spl.KNOWN_COMMANDS`` plus the server's ``extra_commands``), quotes,
parentheses and square brackets balance, and subsearches (``[...]``) obey the same rules. It says
nothing about a command's arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kepler_splunk_testing.spl import KNOWN_COMMANDS, SplError, parse

__all__ = ["CheckedCommand", "CheckedSearch", "check_spl"]

GENERATING = frozenset(
    {
        "datamodel",
        "dbinspect",
        "eventcount",
        "from",
        "gentimes",
        "inputcsv",
        "inputlookup",
        "loadjob",
        "makeresults",
        "mcatalog",
        "metadata",
        "metasearch",
        "mpreview",
        "msearch",
        "mstats",
        "multisearch",
        "pivot",
        "rest",
        "savedsearch",
        "search",
        "tstats",
        "walklex",
    }
)
"""Commands that produce results themselves (allowed first in a pipeline)."""

TRANSFORMING = frozenset(
    {
        "chart",
        "contingency",
        "geostats",
        "mcatalog",
        "mstats",
        "rare",
        "sichart",
        "sirare",
        "sistats",
        "sitimechart",
        "sitop",
        "stats",
        "timechart",
        "top",
        "tstats",
        "xyseries",
    }
)
"""Commands that turn events into a report (the search's ``reportsSearch`` starts there)."""

_MAX_DEPTH = 20


@dataclass(frozen=True)
class CheckedCommand:
    command: str
    rawargs: str
    is_generating: bool
    transforming: bool
    subsearches: tuple[CheckedSearch, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "rawargs": self.rawargs,
            "pipeline": "report" if self.transforming else "streaming",
            "isGenerating": self.is_generating,
            "subsearches": [search.as_dict() for search in self.subsearches],
        }


@dataclass(frozen=True)
class CheckedSearch:
    text: str
    commands: tuple[CheckedCommand, ...]

    def as_dict(self) -> dict[str, Any]:
        """The shape of splunkd's parser answer (its main keys; see README.md)."""
        split = next(
            (i for i, command in enumerate(self.commands) if command.transforming),
            len(self.commands),
        )
        events = " | ".join(_stage(c) for c in self.commands[:split])
        reports = " | ".join(_stage(c) for c in self.commands[split:])
        return {
            "remoteSearch": events,
            "remoteTimeOrdered": True,
            "eventsSearch": events,
            "eventsTimeOrdered": True,
            "eventsStreaming": True,
            "reportsSearch": reports,
            "canSummarize": False,
            "commands": [command.as_dict() for command in self.commands],
        }


def _stage(command: CheckedCommand) -> str:
    return f"{command.command} {command.rawargs}".strip()


def check_spl(spl: str, extra_commands: Iterable[str] = ()) -> CheckedSearch:
    """The commands of ``spl``, or :class:`SplError` with splunkd's message."""
    extra = frozenset(name.lower() for name in extra_commands)
    return _check(spl, extra, 0)


def _check(spl: str, extra: frozenset[str], depth: int) -> CheckedSearch:
    if depth > _MAX_DEPTH:
        raise SplError("Error in 'SearchParser': Subsearches are nested too deeply.")
    _check_balance(spl)
    parsed = parse(spl, extra)
    commands = []
    for position, command in enumerate(parsed.commands):
        subsearches = tuple(
            _check(_subsearch_spl(text, extra), extra, depth + 1)
            for text in _subsearch_texts(command.args)
        )
        commands.append(
            CheckedCommand(
                command=command.name,
                rawargs=command.args,
                is_generating=position == 0 and command.name in GENERATING,
                transforming=command.name in TRANSFORMING,
                subsearches=subsearches,
            )
        )
    return CheckedSearch(parsed.text, tuple(commands))


def _subsearch_spl(text: str, extra: frozenset[str]) -> str:
    """A subsearch not starting with ``|`` or a command is an implicit ``search``."""
    stripped = text.strip()
    if not stripped:
        raise SplError("Error in 'SearchParser': Empty subsearch.")
    if stripped.startswith("|"):
        return stripped
    first = stripped.split(None, 1)[0].lower()
    if first in KNOWN_COMMANDS or first in extra:
        return stripped if first == "search" else "| " + stripped
    return "search " + stripped


def _unquoted(spl: str) -> tuple[list[tuple[int, str]], bool]:
    """(position, character) outside double quotes (escapes honoured), and whether a quote
    is left open."""
    out: list[tuple[int, str]] = []
    quoted = False
    escaped = False
    for position, char in enumerate(spl):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted:
            out.append((position, char))
    return out, quoted


def _check_balance(spl: str) -> None:
    characters, open_quote = _unquoted(spl)
    if open_quote:
        raise SplError("Unbalanced quotes.")
    parens = 0
    brackets = 0
    for _, char in characters:
        if char == "(":
            parens += 1
        elif char == ")":
            parens -= 1
            if parens < 0:
                raise SplError("Error in 'SearchParser': Mismatched ')'.")
        elif char == "[":
            brackets += 1
        elif char == "]":
            brackets -= 1
            if brackets < 0:
                raise SplError("Error in 'SearchParser': Mismatched ']'.")
    if parens:
        raise SplError("Error in 'SearchParser': Missing a closing ')'.")
    if brackets:
        raise SplError("Error in 'SearchParser': Missing a closing ']' for a subsearch.")


def _subsearch_texts(args: str) -> list[str]:
    """The outermost ``[...]`` of a command's arguments (outside quotes)."""
    found: list[str] = []
    depth = 0
    start = 0
    for position, char in _unquoted(args)[0]:
        if char == "[":
            if depth == 0:
                start = position + 1
            depth += 1
        elif char == "]" and depth > 0:
            depth -= 1
            if depth == 0:
                found.append(args[start:position])
    return found
