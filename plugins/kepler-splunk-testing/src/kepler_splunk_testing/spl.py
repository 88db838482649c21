"""Just enough SPL parsing to reject what Splunk rejects and to read simple event searches.

The test server does not implement SPL. It needs three things from a search string: is it
well-formed the way splunkd checks before dispatch (starts with ``search`` or ``|``, names only
known commands, balanced quotes), what are its pipeline stages, and what are the terms of a plain
``search`` stage (``index=pumps asset_id=P-7``). Anything richer is answered by canned searches
registered with ``SplunkTestServer.add_search``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "KNOWN_COMMANDS",
    "Command",
    "ParsedSearch",
    "SplError",
    "check_start",
    "parse",
    "split_pipes",
    "split_terms",
]

KNOWN_COMMANDS = frozenset(
    [
        "abstract",
        "accum",
        "addcoltotals",
        "addinfo",
        "addtotals",
        "analyzefields",
        "anomalies",
        "anomalousvalue",
        "anomalydetection",
        "append",
        "appendcols",
        "appendpipe",
        "arules",
        "associate",
        "audit",
        "autoregress",
        "bin",
        "bucket",
        "bucketdir",
        "chart",
        "cluster",
        "cofilter",
        "collect",
        "concurrency",
        "contingency",
        "convert",
        "correlate",
        "ctable",
        "datamodel",
        "dbinspect",
        "dedup",
        "delete",
        "delta",
        "diff",
        "erex",
        "eval",
        "eventcount",
        "eventstats",
        "extract",
        "fieldformat",
        "fields",
        "fieldsummary",
        "filldown",
        "fillnull",
        "findtypes",
        "folderize",
        "foreach",
        "format",
        "from",
        "fromjson",
        "gauge",
        "gentimes",
        "geom",
        "geomfilter",
        "geostats",
        "head",
        "highlight",
        "history",
        "iconify",
        "inputcsv",
        "inputlookup",
        "iplocation",
        "join",
        "kmeans",
        "kv",
        "kvform",
        "loadjob",
        "localize",
        "localop",
        "lookup",
        "makecontinuous",
        "makemv",
        "makeresults",
        "map",
        "mcatalog",
        "mcollect",
        "metadata",
        "metasearch",
        "meventcollect",
        "mpreview",
        "msearch",
        "mstats",
        "multikv",
        "multisearch",
        "mvcombine",
        "mvexpand",
        "nomv",
        "outlier",
        "outputcsv",
        "outputlookup",
        "outputtext",
        "overlap",
        "pivot",
        "predict",
        "rangemap",
        "rare",
        "redistribute",
        "regex",
        "reltime",
        "rename",
        "replace",
        "require",
        "rest",
        "return",
        "reverse",
        "rex",
        "rtorder",
        "savedsearch",
        "script",
        "scrub",
        "search",
        "searchtxn",
        "selfjoin",
        "sendalert",
        "sendemail",
        "set",
        "setfields",
        "sichart",
        "sirare",
        "sistats",
        "sitimechart",
        "sitop",
        "sort",
        "spath",
        "stats",
        "strcat",
        "streamstats",
        "table",
        "tags",
        "tail",
        "timechart",
        "timewrap",
        "tojson",
        "top",
        "transaction",
        "transpose",
        "trendline",
        "tscollect",
        "tstats",
        "typeahead",
        "typelearner",
        "typer",
        "union",
        "uniq",
        "untable",
        "walklex",
        "where",
        "x11",
        "xmlkv",
        "xmlunescape",
        "xpath",
        "xyseries",
    ]
)
"""Splunk Enterprise's built-in search commands (Search Reference). App commands such as MLTK's
``fit`` are unknown unless added with ``SplunkTestServer(extra_commands=...)``."""


class SplError(Exception):
    """A search splunkd would refuse before dispatch (HTTP 400, message type FATAL)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Command:
    """One pipeline stage: the command name (lower case) and its argument text."""

    name: str
    args: str


@dataclass(frozen=True)
class ParsedSearch:
    text: str
    commands: tuple[Command, ...]


_WORD = re.compile(r"[A-Za-z0-9_\-.:]+")
_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")


def check_start(spl: str) -> str:
    """The pipeline text after a leading ``|``; refuses searches not starting with a command.

    splunkd's REST API (unlike the search bar) does not prepend ``search``: ``index=main`` is
    refused with ``Unknown search command 'index'.``
    """
    text = spl.strip()
    if not text:
        raise SplError("Empty search.")
    if text.startswith("|"):
        return text[1:]
    if re.match(r"search(\s|$)", text, re.IGNORECASE):
        return text
    first = _WORD.match(text)
    name = first.group(0).split("=")[0] if first else text.split()[0]
    raise SplError(f"Unknown search command '{name}'.")


def parse(spl: str, extra_commands: Iterable[str] = ()) -> ParsedSearch:
    """Split ``spl`` into commands, raising :class:`SplError` with splunkd's wording."""
    text = spl.strip()
    body = check_start(text)
    known = KNOWN_COMMANDS | {name.lower() for name in extra_commands}
    commands = []
    for stage in split_pipes(body):
        match = _NAME.match(stage)
        if match is None:
            raise SplError("Missing a search command before '|'.")
        name = match.group(1).lower()
        if name not in known:
            raise SplError(f"Unknown search command '{name}'.")
        commands.append(Command(name, stage[match.end() :].strip()))
    return ParsedSearch(text, tuple(commands))


def split_pipes(body: str) -> list[str]:
    """Split on ``|`` outside quotes and subsearch brackets."""
    stages: list[str] = []
    current: list[str] = []
    quote: str | None = None
    depth = 0
    escaped = False
    for char in body:
        if escaped:
            current.append(char)
            escaped = False
            continue
        if char == "\\":
            escaped = True
            current.append(char)
            continue
        if quote:
            if char == quote:
                quote = None
        elif char == '"':
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        elif char == "|" and depth == 0:
            stages.append("".join(current))
            current = []
            continue
        current.append(char)
    if quote:
        raise SplError("Unbalanced quotes.")
    stages.append("".join(current))
    return stages


def split_terms(args: str) -> list[str]:
    """Tokens of a command's arguments, quotes removed (``index="a b"`` -> ``index=a b``)."""
    try:
        return shlex.split(args, posix=True)
    except ValueError:
        raise SplError("Unbalanced quotes.") from None
