"""``parallel=N``: one long time range as N contiguous slices, searched as N concurrent jobs.

Splunk spreads one job over its indexers, but a single job still scans its range in one pass and
its results are read by one client; N jobs over N slices of ``[earliest, latest)`` let the search
head work on them at once. Slices are half-open like Splunk's own range (``earliest`` inclusive,
``latest`` exclusive) and meet at whole seconds, so an event on a boundary second belongs to
exactly one slice. The frame is assembled newest slice first, the order one job returns events
in, so ``parallel=4`` gives the same rows in the same order as ``parallel=1``.

Only a plain event stream can be cut this way: a transforming command (``stats``, ``timechart``)
or one that looks across events (``dedup``, ``head``, ``sort``, ``eventstats``) would give one
answer per slice instead of one for the range, and an ``earliest=``/``latest=`` inside the SPL
would override every slice's range. Such searches are refused unless marked splittable.
"""

from __future__ import annotations

import itertools
import math
import re
from datetime import UTC, datetime

from kepler.api import KeplerError

from .timerange import TimeRange, _epoch

#: Commands that act on each event alone: a search made only of these can be cut by time.
STREAMING_COMMANDS = frozenset(
    {
        "search", "where", "eval", "fields", "table", "rename", "rex", "regex", "spath",
        "lookup", "fillnull", "convert", "extract", "kv", "makemv", "mvexpand", "nomv",
        "replace", "strcat", "tags", "typer", "iplocation", "rangemap", "bin", "bucket",
        "xmlkv", "multikv", "setfields", "reltime",
    }
)
_TIME_TERM = re.compile(r"(?<![\w.])(earliest|latest|starttime|endtime)\s*=", re.IGNORECASE)


class NotSplittableError(KeplerError):
    """A search whose result would change if its time range were cut into slices."""


def _commands(spl: str) -> list[str]:
    """The command of each pipeline stage (``|`` outside quotes and ``[...]`` subsearches)."""
    stages, depth, quote, start = [], 0, False, 0
    for position, char in enumerate(spl):
        if char == '"' and (position == 0 or spl[position - 1] != "\\"):
            quote = not quote
        elif not quote and char == "[":
            depth += 1
        elif not quote and char == "]":
            depth = max(0, depth - 1)
        elif not quote and depth == 0 and char == "|":
            stages.append(spl[start:position])
            start = position + 1
    stages.append(spl[start:])
    return [stage.split(None, 1)[0].lower() if stage.strip() else "" for stage in stages]


def check_splittable(spl: str) -> None:
    """Raise :class:`NotSplittableError` unless ``spl`` is a plain event stream."""
    commands = _commands(spl)
    hint = ("Run it with parallel=1, or pass splittable=True if you know its result is the "
            "union of its results over sub-ranges (e.g. a streaming custom command).")
    if commands and commands[0] == "":
        raise NotSplittableError(
            f"parallel= cannot split a search that starts with a generating command "
            f"({spl.split(None, 2)[:2]!r}): its rows do not come from a time range.", hint=hint)
    for command in commands:
        if command not in STREAMING_COMMANDS:
            raise NotSplittableError(
                f"parallel= cannot split a search using '{command}': its result over the whole "
                "range is not the union of its results over time slices.", hint=hint)
    if _TIME_TERM.search(_without_quotes(spl)):
        raise NotSplittableError(
            "parallel= cannot split a search with earliest=/latest= in its SPL: they override "
            "every slice's time range, so each slice would return the same events.",
            hint="Pass the range as earliest=/latest= arguments instead of inside the SPL.")


def _without_quotes(spl: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', spl)


def slice_ranges(trange: TimeRange, parts: int) -> list[TimeRange]:
    """``parts`` contiguous half-open slices of ``trange``, newest first.

    Boundaries inside the range are whole seconds; the outer ends are the range's own. Fewer
    slices come back when the range is shorter than ``parts`` seconds.
    """
    if trange.earliest_at is None:
        raise KeplerError(
            "parallel= needs an earliest time to cut the range into slices.",
            hint="Pass earliest= (e.g. earliest='-30d'); 'all time' cannot be split.",
        )
    latest_at = trange.latest_at or datetime.now(UTC)
    start, stop = trange.earliest_at.timestamp(), latest_at.timestamp()
    inner = sorted({math.floor(start + (stop - start) * k / parts) for k in range(1, parts)})
    cuts = [start, *(c for c in inner if start < c < stop), stop]
    ranges = []
    for low, high in itertools.pairwise(cuts):
        low_at = datetime.fromtimestamp(low, UTC)
        high_at = datetime.fromtimestamp(high, UTC)
        ranges.append(TimeRange(_epoch(low_at), _epoch(high_at), low_at, high_at))
    return ranges[::-1]
