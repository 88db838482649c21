"""Turns a search string into results: failure rules, canned searches, then native event searches.

Resolution order for every dispatched search:

1. The string must start with ``search`` or ``|`` (else 400 ``Unknown search command 'x'.``).
2. Failure rules (``fail_search``), newest first: fail now (400) or after dispatch (job FAILED).
3. Canned searches (``add_search``), newest first, matched with ``re.search``: their data is the
   result, as is; a later registration overrides an earlier one.
4. Every command must be a known Splunk command (else 400 ``Unknown search command 'x'.``).
5. Native searches: ``search index=NAME field=value ...`` over a registered index (newest first,
   ``earliest_time <= _time < latest_time``), ``| makeresults count=N``,
   ``| mpreview index=NAME`` / ``| msearch`` for metric indexes, and ``| mstats`` /
   ``| mcatalog`` over metric indexes (mstats.py, mcatalog.py); followed by any of ``| head N``,
   ``| fields [+|-] a, b``, ``| table a b``, ``| search field=value``. Any other command gets a
   400 that says to register the search with ``add_search``: silently ignoring ``| stats`` would
   hand tests results of the wrong shape.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from kepler_splunk_testing.datasets import Dataset, Index, text_matches, to_dataset
from kepler_splunk_testing.frame import from_results, to_results
from kepler_splunk_testing.metricspl import MetricsError
from kepler_splunk_testing.results import EVENT_FIELDS, Message, ResultSet
from kepler_splunk_testing.spl import Command, SplError, check_start, parse, split_terms
from kepler_splunk_testing.splexpr import ExprError
from kepler_splunk_testing.timemodifiers import resolve_time
from kepler_splunk_testing.transforms import (
    TRANSFORMING,
    Context,
    expand_fields,
    field_names,
    fields_command,
    run_commands,
)

if TYPE_CHECKING:
    from kepler_splunk_testing.mstats import MetricAnswer

__all__ = [
    "CannedSearch",
    "FailureRule",
    "Outcome",
    "SearchEngine",
    "SearchError",
    "SearchRequest",
]

TIME_SUBSTITUTED = "Your timerange was substituted based on your search string"


class SearchError(Exception):
    """A search refused at dispatch: HTTP ``status`` with one Splunk message."""

    def __init__(self, message: str, status: int = 400, type_: str = "FATAL") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type_


@dataclass(frozen=True)
class SearchRequest:
    """What a callable registered with ``add_search`` receives at dispatch."""

    spl: str
    earliest: datetime | None
    latest: datetime | None
    params: Mapping[str, str]
    match: re.Match[str]
    now: datetime


@dataclass(frozen=True)
class CannedSearch:
    pattern: re.Pattern[str]
    source: Any  # a Dataset, or a callable taking a SearchRequest
    messages: tuple[Message, ...]
    preview_sets: int | None


@dataclass(frozen=True)
class FailureRule:
    pattern: re.Pattern[str]
    message: str
    after_dispatch: bool


@dataclass(frozen=True)
class Outcome:
    """A dispatched search: its final results and how a job should present them."""

    results: ResultSet
    messages: tuple[Message, ...] = ()
    reporting: bool = False  # transformed results: export may stream preview sets first
    preview_sets: int = 0
    failure: str | None = None  # fatal message once the job has run
    scan_count: int = 0
    earliest: datetime | None = None
    latest: datetime | None = None


_ZERO_COPY = frozenset({"head", "fields", "table"})
_TERM = re.compile(r"([A-Za-z_][\w.\-]*?)(!=|::|=)(.*)", re.DOTALL)
_EMPTY = Dataset(pa.table({}), None)


def _empty_results(server_name: str) -> ResultSet:
    return ResultSet(_EMPTY, slice(0, 0), (), None, server_name)


def _splunk_order(fields: Sequence[str]) -> tuple[str, ...]:
    """Splunk lists event fields alphabetically, internal (``_``) fields first."""
    return tuple(sorted(set(fields), key=lambda name: (not name.startswith("_"), name)))


@dataclass
class SearchEngine:
    """The searchable state of a test server: indexes, canned searches, failure rules."""

    server_name: str = "kepler-splunk-test"
    extra_commands: frozenset[str] = frozenset()
    default_preview_sets: int = 1
    indexes: dict[str, Index] = field(default_factory=dict)
    _canned: list[CannedSearch] = field(default_factory=list)
    _failures: list[FailureRule] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _before_reads: list[Callable[[], None]] = field(default_factory=list)

    # -- registration -------------------------------------------------------------------------

    def add_index(self, index: Index) -> None:
        with self._lock:
            self.indexes[index.name.lower()] = index

    def before_reads(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` before any read of the indexes (HEC's buffered rows land then)."""
        self._before_reads.append(callback)

    def _settle(self) -> None:
        for callback in self._before_reads:
            callback()

    def index_list(self, settle: bool = True) -> list[Index]:
        """A snapshot of the indexes, sorted by name (safe while others register indexes).

        ``settle=False`` skips landing buffered HEC rows: enough to check which indexes exist.
        """
        if settle:
            self._settle()
        with self._lock:
            return sorted(self.indexes.values(), key=lambda index: index.name)

    def add_search(
        self,
        pattern: str | re.Pattern[str],
        source: Any,
        messages: Sequence[Message] = (),
        preview_sets: int | None = None,
    ) -> None:
        compiled = re.compile(pattern, re.IGNORECASE) if isinstance(pattern, str) else pattern
        if not callable(source):
            source = to_dataset(source, require_time=False)
        with self._lock:
            self._canned.append(CannedSearch(compiled, source, tuple(messages), preview_sets))

    def fail_search(
        self, pattern: str | re.Pattern[str], message: str, after_dispatch: bool
    ) -> None:
        compiled = re.compile(pattern, re.IGNORECASE) if isinstance(pattern, str) else pattern
        with self._lock:
            self._failures.append(FailureRule(compiled, message, after_dispatch))

    # -- dispatch -----------------------------------------------------------------------------

    def run(self, spl: str, params: Mapping[str, str], now: datetime) -> Outcome:
        """Resolve ``spl`` (see the module docstring); raises :class:`SearchError` on refusal."""
        earliest = self._time_param(params, "earliest_time", now)
        latest = self._time_param(params, "latest_time", now)
        try:
            check_start(spl)
        except SplError as error:
            raise SearchError(error.message) from None
        with self._lock:
            failures = list(reversed(self._failures))
            canned = list(reversed(self._canned))
        for rule in failures:
            if rule.pattern.search(spl):
                if not rule.after_dispatch:
                    raise SearchError(rule.message)
                return Outcome(
                    _empty_results(self.server_name),
                    failure=rule.message,
                    earliest=earliest,
                    latest=latest,
                )
        for search in canned:
            match = search.pattern.search(spl)
            if match is not None:
                return self._canned_outcome(search, spl, match, params, earliest, latest, now)
        try:
            parsed = parse(spl, self.extra_commands)
        except SplError as error:
            raise SearchError(error.message) from None
        return self._native(parsed.commands, earliest, latest, now)

    @staticmethod
    def _time_param(params: Mapping[str, str], name: str, now: datetime) -> datetime | None:
        try:
            return resolve_time(params.get(name) or None, now=now)
        except ValueError as error:
            raise SearchError(f"Invalid {name}: {error}") from None

    def _canned_outcome(
        self,
        search: CannedSearch,
        spl: str,
        match: re.Match[str],
        params: Mapping[str, str],
        earliest: datetime | None,
        latest: datetime | None,
        now: datetime,
    ) -> Outcome:
        source = search.source
        if callable(source):
            request = SearchRequest(spl, earliest, latest, dict(params), match, now)
            dataset = to_dataset(source(request), require_time=False)
        else:
            dataset = source
        results = ResultSet(
            dataset, slice(0, dataset.num_rows), tuple(dataset.fields), None, self.server_name
        )
        preview_sets = (
            search.preview_sets if search.preview_sets is not None else self.default_preview_sets
        )
        return Outcome(
            results,
            search.messages,
            reporting=True,
            preview_sets=preview_sets,
            scan_count=dataset.num_rows,
            earliest=earliest,
            latest=latest,
        )

    # -- native searches ----------------------------------------------------------------------

    def _native(
        self,
        commands: Sequence[Command],
        earliest: datetime | None,
        latest: datetime | None,
        now: datetime,
    ) -> Outcome:
        first, rest = commands[0], commands[1:]
        messages: list[Message] = []
        if first.name == "search":
            results, scan, earliest, latest, substituted = self._index_search(
                first.args, earliest, latest, now, metric=False
            )
            if substituted:
                messages.append(Message("INFO", TIME_SUBSTITUTED))
        elif first.name in ("mpreview", "msearch"):
            results, scan, earliest, latest, substituted = self._index_search(
                first.args, earliest, latest, now, metric=True
            )
        elif first.name in ("mstats", "mcatalog"):
            answer = self._metrics(first, earliest, latest, now)
            results, scan = answer.results, answer.scanned
            earliest, latest = answer.earliest, answer.latest
            if answer.substituted:
                messages.append(Message("INFO", TIME_SUBSTITUTED))
        elif first.name == "makeresults":
            results = self._makeresults(first.args, now)
            scan = 0
        else:
            raise SearchError(_not_implemented(first.name))
        streamed = 0
        while streamed < len(rest) and rest[streamed].name in _ZERO_COPY:
            results = self._apply(rest[streamed], results)  # no copy of the rows
            streamed += 1
        remaining = rest[streamed:]
        if remaining:
            results = self._transform(results, remaining, earliest, latest, now)
        return Outcome(
            results,
            tuple(messages),
            reporting=first.name in ("makeresults", "mstats", "mcatalog")
            or any(command.name in TRANSFORMING for command in remaining),
            scan_count=scan,
            earliest=earliest,
            latest=latest,
        )

    def _metrics(
        self, command: Command, earliest: datetime | None, latest: datetime | None, now: datetime
    ) -> MetricAnswer:
        """``| mstats`` / ``| mcatalog`` over the metric indexes (see mstats.py, mcatalog.py)."""
        from kepler_splunk_testing.mcatalog import run_mcatalog
        from kepler_splunk_testing.mstats import run_mstats

        run = run_mstats if command.name == "mstats" else run_mcatalog
        try:
            return run(command.args, self.index_list(), earliest, latest, now, self.server_name)
        except MetricsError as error:
            raise SearchError(error.message) from None

    def _index_search(
        self,
        args: str,
        earliest: datetime | None,
        latest: datetime | None,
        now: datetime,
        *,
        metric: bool,
    ) -> tuple[ResultSet, int, datetime | None, datetime | None, bool]:
        index_names: list[str] = []
        filters: list[tuple[str, str, str]] = []
        substituted = False
        for term in split_terms(args):
            if term == "*":
                continue
            match = _TERM.fullmatch(term)
            if match is None:
                raise SearchError(
                    f"The Kepler Splunk test server cannot evaluate the search term {term!r}: "
                    "it understands index=NAME, earliest=/latest= and field=value terms. "
                    "Register this search with SplunkTestServer.add_search()."
                )
            name, operator, value = match.groups()
            lowered = name.lower()
            if lowered == "index" and operator != "!=":
                index_names.append(value.lower())
            elif lowered in ("earliest", "latest") and operator == "=":
                try:
                    moment = resolve_time(value, now=now)
                except ValueError as error:
                    raise SearchError(f"Invalid value for time term '{lowered}': {error}") from None
                if lowered == "earliest":
                    earliest = moment
                else:
                    latest = moment
                substituted = True
            else:
                filters.append((name, "!=" if operator == "!=" else "=", value))
        if earliest is not None and latest is not None and earliest > latest:
            raise SearchError(
                f"Invalid time bounds in search: start={earliest.timestamp():.0f} > "
                f"end={latest.timestamp():.0f}."
            )
        if len(set(index_names)) > 1:
            raise SearchError(
                "The Kepler Splunk test server searches one index per search; "
                f"got {sorted(set(index_names))}."
            )
        name = index_names[0] if index_names else "main"
        self._settle()
        with self._lock:
            index = self.indexes.get(name)
        wanted = "metric" if metric else "event"
        if index is None or index.datatype != wanted or "*" in name:
            return _empty_results(self.server_name), 0, earliest, latest, substituted
        dataset = index.dataset
        window = dataset.time_slice(
            None if earliest is None else _ns(earliest), None if latest is None else _ns(latest)
        )
        fields = _splunk_order(
            [*dataset.fields, *(() if metric else EVENT_FIELDS), *(("index",) if metric else ())]
        )
        results = ResultSet(dataset, window, fields, index, self.server_name)
        scanned = len(results)
        for field_name, operator, value in filters:
            results = _filter(results, field_name, operator, value)
        return results, scanned, earliest, latest, substituted

    def _makeresults(self, args: str, now: datetime) -> ResultSet:
        count = 1
        for term in split_terms(args):
            key, _, value = term.partition("=")
            if key.lower() == "count":
                try:
                    count = int(value)
                except ValueError:
                    raise SearchError(f"Invalid argument: '{term}'") from None
        if count <= 0:
            return _empty_results(self.server_name)
        seconds = int(now.timestamp())
        dataset = to_dataset(pa.table({"_time": pa.array([seconds] * count)}), require_time=True)
        return ResultSet(dataset, slice(0, count), ("_time",), None, self.server_name)

    def _apply(self, command: Command, results: ResultSet) -> ResultSet:
        """``head``, ``fields`` and ``table`` straight on the result set (no copy)."""
        name = command.name
        if name == "head":
            return results.head(_head_count(command.args))
        if name == "fields":
            return results.with_fields(fields_command(command.args, results.fields))
        if name == "table":
            return results.with_fields(expand_fields(field_names(command.args), results.fields))
        raise SearchError(_not_implemented(name))  # pragma: no cover - only _ZERO_COPY comes here

    def _transform(
        self,
        results: ResultSet,
        commands: Sequence[Command],
        earliest: datetime | None,
        latest: datetime | None,
        now: datetime,
    ) -> ResultSet:
        """The rest of the pipeline (``stats``, ``eval``, ``where``, ...), see transforms.py."""
        frame = from_results(results)
        try:
            frame = run_commands(
                frame,
                [(command.name, command.args) for command in commands],
                Context(earliest, latest, now),
            )
        except ExprError as error:
            raise SearchError(error.message) from None
        return to_results(frame)


def _not_implemented(what: str) -> str:
    return (
        f"The Kepler Splunk test server does not implement '{what}'. Register this search "
        "with SplunkTestServer.add_search(pattern, data) to return canned results."
    )


def _ns(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000) * 1000


def _filter(results: ResultSet, field_name: str, operator: str, value: str) -> ResultSet:
    """Keep rows whose ``field_name`` matches ``value`` (``=``) or does not (``!=``)."""
    if len(results) == 0:
        return results
    page = results.page(0, len(results), (field_name,))  # only the column the term tests
    column = page.columns[0] if page.fields == (field_name,) else None
    if column is None:
        hits = np.zeros(len(results), dtype=bool)
        present = hits
    elif isinstance(column, (str, tuple)):
        values = (column,) if isinstance(column, str) else column
        wanted = re.compile(re.escape(value).replace(r"\*", ".*"), re.IGNORECASE | re.DOTALL)
        hits = np.full(len(results), any(wanted.fullmatch(v) for v in values))
        present = np.ones(len(results), dtype=bool)
    else:
        hits = text_matches(column, value).to_numpy(zero_copy_only=False)
        present = column.is_valid().to_numpy(zero_copy_only=False)
    keep = hits if operator == "=" else present & ~hits
    return ResultSet(
        results.dataset,
        results.positions()[keep],
        results.fields,
        results.index,
        results.server_name,
    )


def _head_count(args: str) -> int:
    text = args.strip()
    if not text:
        return 10
    key, _, value = text.partition("=")
    candidate = value if key.strip().lower() == "limit" else text.split()[0]
    try:
        return max(0, int(candidate))
    except ValueError:
        raise SearchError(_not_implemented(f"head {text}")) from None
