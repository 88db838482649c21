"""The HTTP Event Collector (HEC, port 8088 on a real Splunk): tokens, events, acks, faults.

``HecCollector.handle`` answers one request of the HEC port the way splunkd does: token checks
(``Authorization: Splunk TOKEN``, Basic with the token as password, ``?token=`` where the token
allows it), JSON events concatenated or one per line (``Content-Encoding: gzip`` accepted),
``/raw`` lines, indexer acknowledgement per channel, ``/health``. Every answer is
``{"text": ..., "code": N}`` with splunkd's texts and HTTP statuses; a per-event error adds
``"invalid-event-number"`` and the events before it are indexed (later ones are not).

Accepted events are kept as received (``SplunkTestServer.hec_events``) and appended to the target
index (``ingest.py``) so ``search index=NAME`` finds them: a JSON event is flattened to fields
the way Splunk's JSON extraction names them (``a.b`` for nested objects, ``a{}`` for arrays),
``fields`` become fields too, ``_raw`` holds the event text. Metric events (``"event": "metric"``
with ``metric_name:NAME`` fields, or ``metric_name`` + ``_value``) become data points of a
metric index.

So that a writer benchmark measures the writer, a request costs this server little: a large body
is checked column by column (pyarrow's JSON reader, ``_columnar_count``), anything that check
cannot vouch for is checked event by event (the exact path, which alone decides refusals), and
a body whose events are all accepted is kept as it is (``_Batch``), parsed again into events
only when a test reads them or a search needs the index.

Faults for client tests (``hec_faults``): a share of data requests answered 503 "Server is busy",
a share of connections closed without an answer (nothing indexed), a share of ackIds that never
turn true (their events stay indexed). Draws come from seeded generators, so a run is repeatable
as long as requests arrive in the same order.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import math
import random
import re
import threading
import time
import traceback
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from kepler_splunk_testing.protocol import Request, Response

__all__ = [
    "HEC_MESSAGES",
    "HecCollector",
    "HecFaults",
    "HecStats",
    "HecToken",
    "is_guid",
]

JSON_TYPE = "application/json; charset=UTF-8"

HEC_MESSAGES: dict[int, tuple[str, int]] = {
    0: ("Success", 200),
    1: ("Token disabled", 403),
    2: ("Token is required", 401),
    3: ("Invalid authorization", 401),
    4: ("Invalid token", 403),
    5: ("No data", 400),
    6: ("Invalid data format", 400),
    7: ("Incorrect index", 400),
    8: ("Internal server error", 500),
    9: ("Server is busy", 503),
    10: ("Data channel is missing", 400),
    11: ("Invalid data channel", 400),
    12: ("Event field is required", 400),
    13: ("Event field cannot be blank", 400),
    14: ("ACK is disabled", 400),
    15: ("Error in handling indexed fields", 400),
    16: ("Query string authorization is not enabled", 400),
    17: ("HEC is healthy", 200),
    18: ("HEC is unhealthy, queues are full", 503),
    21: ("Invalid token", 400),  # the health endpoint's answers about a token
    22: ("Token disabled", 400),
}
"""HEC status code -> (splunkd's text, HTTP status)."""

CONTENT_TOO_LARGE_CODE = 413
"""The ``code`` of the 413 answer to a body over ``max_content_length``. splunkd's own answer is
not a HEC code; 413 is outside HEC's code list (0-27), so clients classify it by the status."""

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PATHS = {
    "/services/collector": "event",
    "/services/collector/event": "event",
    "/services/collector/event/1.0": "event",
    "/services/collector/raw": "raw",
    "/services/collector/raw/1.0": "raw",
    "/services/collector/ack": "ack",
    "/services/collector/ack/1.0": "ack",
    "/services/collector/health": "health",
    "/services/collector/health/1.0": "health",
}
_MEASURE = "metric_name:"
_DROPPED_FIELDS = frozenset(
    {"index", "splunk_server", "_bkt", "_cd", "_si", "_serial", "_sourcetype", "linecount"}
)
_MAX_EPOCH = 9_000_000_000  # beyond this, epoch seconds overflow nanoseconds (and are a bug)
_MAX_GZIP_MEMBERS = 100_000
_COLUMNAR_MIN_BYTES = 32_768
"""Bodies from this size on are checked column by column first: pyarrow's reader costs about
0.1 ms per call whatever the size, more than it saves on fewer than ~100 events."""
_COLUMNAR_MAX_EPOCH = 8_999_999_999.0  # a margin below _MAX_EPOCH: no rounding question
_COLUMNAR_MAX_DEPTH = 32  # deeper documents take the exact path (and its recursion limits)
_STARTS_WITH_OBJECT = re.compile(rb"[ \t\r\n]*\{")
_PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Every character ``str.strip()`` removes (``str.isspace``), for the blank-event check."""


def is_guid(value: str) -> bool:
    return bool(_GUID.fullmatch(value))


@dataclass
class HecToken:
    """One HEC token (an ``[http://NAME]`` stanza of inputs.conf)."""

    name: str
    token: str
    index: str | None = None
    indexes: tuple[str, ...] = ()
    sourcetype: str | None = None
    source: str | None = None
    host: str | None = None
    use_ack: bool = False
    disabled: bool = False
    query_string_auth: bool = False
    description: str = ""
    app: str = "splunk_httpinput"
    created: float = field(default_factory=time.time)

    def allows(self, index: str) -> bool:
        return not self.indexes or index in self.indexes


@dataclass(frozen=True)
class HecFaults:
    busy_rate: float = 0.0
    drop_rate: float = 0.0
    withhold_acks: float = 0.0
    unhealthy: bool = False
    seed: int = 0
    reject_acks: bool = False  # every ack poll: 400 code 6
    reject_gzip_acks: bool = False  # gzip-encoded ack polls: 400 code 6


@dataclass(frozen=True)
class HecStats:
    """Counters of the HEC port since start (a snapshot; also readable as ``stats["requests"]``).

    ``requests``: every HTTP request; ``events_indexed``: events stored in an index;
    ``busy_replies``: 503 "Server is busy" answers (fault); ``dropped``: connections closed
    without an answer (fault); ``acks_withheld``: ackIds that will never turn true (fault);
    ``acks_issued``: ackIds handed out; ``events_rejected``: requests answered with a per-event
    error; ``unindexed_events``: events accepted but not stored because their index is a metric
    index and they are no valid metric data point (splunkd drops those too, logging "The metric
    event is not properly structured").
    """

    requests: int = 0
    events_indexed: int = 0
    busy_replies: int = 0
    dropped: int = 0
    acks_withheld: int = 0
    acks_issued: int = 0
    events_rejected: int = 0
    unindexed_events: int = 0
    ack_polls_rejected: int = 0

    def __getitem__(self, key: str) -> int:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return int(getattr(self, key))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class _Refusal(Exception):
    def __init__(self, code: int, event_number: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.event_number = event_number


@dataclass
class _Channel:
    next_id: int = 0
    pending: dict[int, bool] = field(default_factory=dict)  # ackId -> will it turn true


class _Accepted:
    """One accepted event: what the test sees (``record``) and what the index stores.

    Both are built on demand, not while the writer waits for its answer (HEC indexes
    asynchronously too): a writer benchmark must measure the writer, not this server.
    """

    __slots__ = (
        "arrival",
        "channel",
        "event",
        "host",
        "index",
        "indexed",
        "moment",
        "rows",
        "source",
        "sourcetype",
        "token",
    )

    def __init__(
        self,
        event: dict[str, Any],
        index: str,
        token: str,
        channel: str | None,
        rows: list[dict[str, Any]] | None = None,
    ) -> None:
        self.event = event
        self.index = index
        self.token = token
        self.channel = channel
        #: Rows already built (raw and metric events); None: an event row, built when it lands.
        self.rows = rows

    @property
    def record(self) -> dict[str, Any]:
        return {**self.event, "index": self.index, "_token": self.token, "_channel": self.channel}

    @property
    def indexable(self) -> bool:
        return self.rows is None or bool(self.rows)

    def stored_rows(self) -> list[dict[str, Any]]:
        if self.rows is not None:
            return self.rows
        payload = self.event["event"]
        fields: dict[str, Any] = {}
        if isinstance(payload, dict):
            _flatten(payload, "", fields)
        row = {name: _collapse(values) for name, values in fields.items()}
        row.update(self.indexed)
        for name in _DROPPED_FIELDS:
            row.pop(name, None)
        row.update(
            {
                "_time": _moment(self.moment),
                "host": self.host,
                "source": self.source,
                "sourcetype": self.sourcetype,
                "_raw": _raw_text(payload),
                "_indextime": int(self.arrival),
            }
        )
        return [row]


class _IndexMemo(dict):  # type: ignore[type-arg]
    """The server's indexes for one request, remembering each (name, token) resolution."""

    def __init__(self, indexes: Mapping[str, Any]) -> None:
        super().__init__(indexes)
        self._resolved: dict[tuple[str | None, str], Any] = {}

    def resolve(self, name: str | None, token: HecToken) -> Any:
        key = (name, token.name)
        try:
            return self._resolved[key]
        except KeyError:
            target = (name or token.index or "main").lower()
            index = self.get(target)
            found = index if index is not None and token.allows(target) else None
            self._resolved[key] = found
            return found

    def frozen(self) -> _Resolved:
        """The resolutions made so far, keeping only each index's name and type (a deferred
        batch must not keep old index objects, and their data, alive)."""
        return _Resolved(
            {
                key: None if index is None else _IndexRef(index.name, index.datatype)
                for key, index in self._resolved.items()
            }
        )


@dataclass(frozen=True)
class _IndexRef:
    name: str
    datatype: str


class _Resolved:
    """The index resolutions of one request, replayed when its deferred events are parsed."""

    __slots__ = ("_resolved",)

    def __init__(self, resolved: dict[tuple[str | None, str], _IndexRef | None]) -> None:
        self._resolved = resolved

    def resolve(self, name: str | None, token: HecToken) -> _IndexRef | None:
        return self._resolved.get((name, token.name))

    def names(self) -> frozenset[str]:
        return frozenset(ref.name for ref in self._resolved.values() if ref is not None)


class _Batch:
    """The events of one request, all accepted, kept as the request's body.

    Parsing them into per-event objects at request time, and keeping those, is what made this
    server slower than the writers it measures (the objects alone cost more garbage-collector
    time than the parse). The body is parsed again, by the same exact code that checks events
    one by one, only when a test reads the events (``hec_events``) or they land in an index.
    """

    __slots__ = ("_body", "_items", "_lock", "_replay", "count", "indexes")

    def __init__(
        self,
        body: bytes,
        count: int,
        indexes: frozenset[str],
        replay: Callable[[bytes], list[_Accepted]],
    ) -> None:
        self._body = body
        self._items: list[_Accepted] | None = None
        self._lock = threading.Lock()
        self._replay = replay
        self.count = count
        #: The names of the (event) indexes its events go to.
        self.indexes = indexes

    def __len__(self) -> int:
        return self.count

    def items(self) -> list[_Accepted]:
        with self._lock:
            if self._items is None:
                items = self._replay(self._body)
                if len(items) != self.count:  # pragma: no cover - a bug of the fast check
                    raise RuntimeError(
                        f"HEC batch replay gave {len(items)} events, {self.count} were accepted"
                    )
                self._items, self._body = items, b""
            return self._items


class HecCollector:
    """The HEC port's state and request handling (thread-safe)."""

    def __init__(
        self,
        engine: Any,
        *,
        server_name: str,
        max_content_length: int,
        record: Callable[[Request, Response | None, str | None], None] | None = None,
    ) -> None:
        if max_content_length < 1:
            raise ValueError(f"hec_max_content_length must be >= 1, got {max_content_length}")
        self.engine = engine
        self.server_name = server_name
        self.max_content_length = max_content_length
        self._record = record
        self._lock = threading.RLock()
        self._store_lock = threading.Lock()  # serialises appends to indexes
        self._buffered: dict[str, list[_Accepted | _Batch]] = {}
        self.engine.before_reads(self.land_buffered)
        self._tokens: dict[str, HecToken] = {}
        self._channels: dict[str, _Channel] = {}
        self._events: list[_Accepted | _Batch] = []
        self._counters = dict.fromkeys(HecStats.__dataclass_fields__, 0)
        self._faults = HecFaults()
        self._rngs: dict[str, random.Random] = {}
        self._names = itertools.count(1)
        self.set_faults(HecFaults())

    # -- tokens -------------------------------------------------------------------------------

    def add_token(
        self,
        token: str | None = None,
        *,
        name: str | None = None,
        index: str | None = None,
        indexes: Iterable[str] | None = None,
        sourcetype: str | None = None,
        source: str | None = None,
        host: str | None = None,
        use_ack: bool = False,
        disabled: bool = False,
        query_string_auth: bool = False,
        description: str = "",
        app: str = "splunk_httpinput",
    ) -> HecToken:
        """Register a token; ``token=None`` makes a GUID, ``name=None`` a unique name."""
        value = str(uuid.uuid4()) if token is None else token
        if not value or any(ch.isspace() for ch in value):
            raise ValueError(f"invalid HEC token value {value!r}")
        with self._lock:
            if name is None:
                name = f"token-{next(self._names)}"
                while name in self._tokens:
                    name = f"token-{next(self._names)}"
            name = name.removeprefix("http://")
            if not name or "/" in name:
                raise ValueError(f"invalid HEC token name {name!r}")
            if name in self._tokens:
                raise ValueError(f"a HEC token named {name!r} already exists")
            if any(existing.token == value for existing in self._tokens.values()):
                raise ValueError("a HEC token with that value already exists")
            created = HecToken(
                name=name,
                token=value,
                index=index.lower() if index else None,
                indexes=tuple(dict.fromkeys(i.lower() for i in (indexes or ()) if i)),
                sourcetype=sourcetype or None,
                source=source or None,
                host=host or None,
                use_ack=use_ack,
                disabled=disabled,
                query_string_auth=query_string_auth,
                description=description,
                app=app,
            )
            self._tokens[name] = created
            return replace(created)

    def tokens(self) -> list[HecToken]:
        """Copies of every token, sorted by name."""
        with self._lock:
            return [replace(self._tokens[name]) for name in sorted(self._tokens)]

    def token(self, name: str) -> HecToken | None:
        with self._lock:
            found = self._tokens.get(name.removeprefix("http://"))
            return replace(found) if found is not None else None

    def update_token(self, name: str, **changes: Any) -> HecToken:
        """Change a token's settings (the fields of :class:`HecToken`); KeyError if unknown."""
        with self._lock:
            current = self._tokens[name.removeprefix("http://")]
            if "token" in changes and changes["token"] != current.token:
                value = changes["token"]
                if any(other.token == value for other in self._tokens.values()):
                    raise ValueError("a HEC token with that value already exists")
            updated = replace(current, **changes)
            self._tokens[current.name] = updated
            return replace(updated)

    def remove_token(self, name: str) -> bool:
        with self._lock:
            return self._tokens.pop(name.removeprefix("http://"), None) is not None

    def _by_value(self, value: str) -> HecToken | None:
        with self._lock:
            for token in self._tokens.values():
                if token.token == value:
                    return replace(token)
        return None

    # -- faults and observation ---------------------------------------------------------------

    def set_faults(self, faults: HecFaults) -> None:
        for name in ("busy_rate", "drop_rate", "withhold_acks"):
            rate = getattr(faults, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
        with self._lock:
            self._faults = faults
            self._rngs = {
                kind: random.Random(f"{faults.seed}:{kind}")  # noqa: S311 - not security
                for kind in ("drop", "busy", "ack")
            }

    def _draw(self, kind: str, rate: float) -> bool:
        """True for ``rate`` of the calls (no draw at all when the rate is 0 or 1)."""
        if rate <= 0.0:
            return False
        if rate >= 1.0:
            return True
        with self._lock:
            return self._rngs[kind].random() < rate

    @property
    def stats(self) -> HecStats:
        with self._lock:
            return HecStats(**self._counters)

    def _count(self, **increments: int) -> None:
        with self._lock:
            for key, amount in increments.items():
                self._counters[key] += amount

    def events(self, index: str | None = None) -> list[dict[str, Any]]:
        wanted = None if index is None else index.lower()
        with self._lock:
            items = list(self._events)
        records: list[dict[str, Any]] = []
        for item in items:  # deferred batches are parsed outside the lock
            if isinstance(item, _Batch):
                if wanted is None or wanted in item.indexes:
                    records.extend(
                        one.record for one in item.items() if wanted is None or one.index == wanted
                    )
            elif wanted is None or item.index == wanted:
                records.append(item.record)
        return records

    # -- requests -----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response | None:
        """The answer to one request, or None: close the connection without answering."""
        self._count(requests=1)
        token_name: str | None = None
        try:
            response, token_name = self._route(request)
        except _Refusal as refusal:
            response = _reply(refusal.code, refusal.event_number)
        except Exception:  # a bug in the test server: answer as splunkd's internal error
            traceback.print_exc()
            response = _reply(8)
        if self._record is not None:
            self._record(request, response, token_name)
        return response

    def _route(self, request: Request) -> tuple[Response | None, str | None]:
        path = request.path.rstrip("/") or "/"
        kind = _PATHS.get(path)
        if kind is None:
            body = {"text": "The requested URL was not found on this server.", "code": 404}
            return _json(404, body), None
        if kind == "health":
            if request.method not in ("GET", "POST"):
                return _method_not_allowed(), None
            return self._health(request), None
        if request.method != "POST":
            return _method_not_allowed(), None
        token = self._authenticate(request)
        if kind == "ack":
            return self._ack(request, token), token.name
        faults = self._faults
        if self._draw("drop", faults.drop_rate):
            self._count(dropped=1)
            return None, token.name
        if self._draw("busy", faults.busy_rate):
            self._count(busy_replies=1)
            return _reply(9), token.name
        channel = self._channel(request, token)
        body = self._body(request)
        arrival = time.time()
        if kind == "event":
            accepted, refusal = self._parse_events(body, request, token, channel, arrival)
        else:
            accepted, refusal = self._parse_raw(body, request, token, channel, arrival)
        self._store(accepted)
        if refusal is not None:
            self._count(events_rejected=1)
            raise refusal
        extra: dict[str, Any] = {}
        if token.use_ack:
            assert channel is not None
            extra["ackId"] = self._issue_ack(channel)
        return _reply(0, extra=extra), token.name

    # -- checks -------------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> HecToken:
        header = request.header("Authorization")
        via_query = False
        if header is not None and header.strip():
            scheme, _, credential = header.strip().partition(" ")
            credential = credential.strip()
            scheme = scheme.lower()
            if scheme == "splunk" and credential:
                value = credential
            elif scheme == "basic" and credential:
                try:
                    decoded = base64.b64decode(credential, validate=True).decode("utf-8")
                except (binascii.Error, UnicodeDecodeError):
                    raise _Refusal(3) from None
                value = decoded.partition(":")[2]
                if not value:
                    raise _Refusal(3)
            else:
                raise _Refusal(3)
        else:
            query = request.params.get("token")
            if not query:
                raise _Refusal(2)
            value, via_query = query, True
        token = self._by_value(value)
        if token is None:
            raise _Refusal(4)
        if via_query and not token.query_string_auth:
            raise _Refusal(16)
        if token.disabled:
            raise _Refusal(1)
        return token

    @staticmethod
    def _channel(request: Request, token: HecToken) -> str | None:
        channel = request.header("X-Splunk-Request-Channel") or request.params.get("channel")
        if channel:
            if not is_guid(channel.strip()):
                raise _Refusal(11)
            return channel.strip().lower()
        if token.use_ack:
            raise _Refusal(10)
        return None

    def _body(self, request: Request) -> bytes:
        body = request.body
        encoding = (request.header("Content-Encoding") or "").strip().lower()
        if encoding == "gzip":
            body = _gunzip(body, self.max_content_length)
        elif encoding not in ("", "identity"):
            raise _Refusal(6)
        if len(body) > self.max_content_length:
            raise _Refusal(CONTENT_TOO_LARGE_CODE)
        return body

    def _indexes(self) -> dict[str, Any]:
        """The server's indexes by name (one snapshot per request)."""
        return {index.name: index for index in self.engine.index_list(settle=False)}

    @staticmethod
    def _index_for(name: str | None, token: HecToken, indexes: Mapping[str, Any]) -> Any:
        if isinstance(indexes, (_IndexMemo, _Resolved)):
            return indexes.resolve(name, token)
        target = (name or token.index or "main").lower()
        index = indexes.get(target)
        if index is None or not token.allows(target):
            return None
        return index

    # -- /event -------------------------------------------------------------------------------

    def _parse_events(
        self,
        body: bytes,
        request: Request,
        token: HecToken,
        channel: str | None,
        arrival: float,
    ) -> tuple[list[_Accepted] | _Batch, _Refusal | None]:
        """The events of a body: a deferred batch when all of them are accepted ordinary events
        (checked column by column, or one by one), else the accepted ones and the refusal."""
        default_host = _request_host(request, self.server_name)
        indexes = _IndexMemo(self._indexes())
        context = (token, channel, arrival, default_host)
        if len(body) >= _COLUMNAR_MIN_BYTES:
            count = _columnar_count(body, token, indexes)
            if count is not None:
                return self._deferred(body, count, context, indexes), None
        accepted, refusal = self._exact_events(body, *context, indexes)
        if refusal is None and all(item.rows is None for item in accepted):
            return self._deferred(body, len(accepted), context, indexes), None
        return accepted, refusal

    def _deferred(
        self,
        body: bytes,
        count: int,
        context: tuple[HecToken, str | None, float, str],
        indexes: _IndexMemo,
    ) -> _Batch:
        resolved = indexes.frozen()

        def replay(data: bytes) -> list[_Accepted]:
            accepted, refusal = self._exact_events(data, *context, resolved)
            if refusal is not None:  # pragma: no cover - a bug of the fast check
                raise RuntimeError(f"HEC batch replay refused event {refusal.event_number}")
            return accepted

        return _Batch(body, count, resolved.names(), replay)

    def _exact_events(
        self,
        body: bytes,
        token: HecToken,
        channel: str | None,
        arrival: float,
        default_host: str,
        indexes: Mapping[str, Any] | _Resolved,
    ) -> tuple[list[_Accepted], _Refusal | None]:
        """The exact path: every event parsed and checked one by one, in order, stopping at the
        first bad one (splunkd's ``invalid-event-number``)."""
        fast = _line_objects(body)
        if fast is not None:  # one JSON object per line: orjson, no stream decoding
            accepted: list[_Accepted] = []
            for number, event in enumerate(fast):
                if not isinstance(event, dict):
                    return accepted, _Refusal(6, number)
                try:
                    accepted.append(
                        self._event(event, token, channel, arrival, default_host, indexes)
                    )
                except _Refusal as refusal:
                    return accepted, _Refusal(refusal.code, number)
            return (accepted, None) if accepted else ([], _Refusal(5))
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return [], _Refusal(6, 0)
        decoder = json.JSONDecoder()
        accepted = []
        position, length = 0, len(text)
        while position < length:  # each turn consumes at least one character or stops
            while position < length and text[position].isspace():
                position += 1
            if position >= length:
                break
            number = len(accepted)
            try:
                event, end = decoder.raw_decode(text, position)
            except json.JSONDecodeError:
                return accepted, _Refusal(6, number)
            if not isinstance(event, dict):
                return accepted, _Refusal(6, number)
            try:
                accepted.append(self._event(event, token, channel, arrival, default_host, indexes))
            except _Refusal as refusal:
                return accepted, _Refusal(refusal.code, number)
            position = end
        if not accepted:
            return [], _Refusal(5)
        return accepted, None

    def _event(
        self,
        event: dict[str, Any],
        token: HecToken,
        channel: str | None,
        arrival: float,
        default_host: str,
        indexes: Mapping[str, Any],
    ) -> _Accepted:
        # The common case (a dict event, a numeric time, text metadata, text fields) takes the
        # short branches: this runs once per event while the writer waits.
        try:
            payload = event["event"]
        except KeyError:
            raise _Refusal(12) from None
        if payload is None or (type(payload) in (str, dict, list) and not _has_content(payload)):
            raise _Refusal(13)
        stamp = event.get("time")
        if type(stamp) is float or type(stamp) is int:
            if not math.isfinite(stamp) or abs(stamp) > _MAX_EPOCH:
                raise _Refusal(6)
            moment = float(stamp)
        else:
            moment = _event_time(stamp, arrival)
        metadata: dict[str, str] = {}
        for key in ("host", "source", "sourcetype"):
            value = event.get(key)
            if value is None or value == "":
                continue
            if type(value) is not str:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise _Refusal(6)
                value = str(value)
            metadata[key] = value
        index_name = event.get("index")
        if index_name is not None and type(index_name) is not str:
            raise _Refusal(7)
        fields = event.get("fields")
        if fields is None:
            indexed: dict[str, Any] = {}
        elif type(fields) is dict and all(type(v) is str and k for k, v in fields.items()):
            indexed = fields
        else:
            indexed = _indexed_fields(fields)
        index = self._index_for(index_name, token, indexes)
        if index is None:
            raise _Refusal(7)
        host = metadata.get("host") or token.host or default_host
        source = metadata.get("source") or token.source or f"http:{token.name}"
        sourcetype = metadata.get("sourcetype") or token.sourcetype or "httpevent"
        if index.datatype == "metric":
            common = {
                "_time": _moment(moment),
                "host": host,
                "source": source,
                "sourcetype": sourcetype,
            }
            return _Accepted(
                event,
                index.name,
                token.name,
                channel,
                rows=_metric_points(payload, indexed, common),
            )
        accepted = _Accepted(event, index.name, token.name, channel)
        accepted.indexed = indexed
        accepted.moment = moment
        accepted.arrival = arrival
        accepted.host = host
        accepted.source = source
        accepted.sourcetype = sourcetype
        return accepted

    # -- /raw ---------------------------------------------------------------------------------

    def _parse_raw(
        self,
        body: bytes,
        request: Request,
        token: HecToken,
        channel: str | None,
        arrival: float,
    ) -> tuple[list[_Accepted], _Refusal | None]:
        text = body.decode("utf-8", "replace")
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            return [], _Refusal(5)
        params = request.params
        index = self._index_for(params.get("index") or None, token, self._indexes())
        if index is None:
            return [], _Refusal(7)
        given = {
            key: params.get(key)
            for key in ("host", "source", "sourcetype")
            if params.get(key) not in (None, "")
        }
        common = {
            "_time": _moment(arrival),
            "host": given.get("host") or token.host or _request_host(request, self.server_name),
            "source": given.get("source") or token.source or f"http:{token.name}",
            "sourcetype": given.get("sourcetype") or token.sourcetype or "httpevent",
        }
        accepted = []
        for line in lines:
            rows: list[dict[str, Any]] = []
            if index.datatype == "event":
                rows = [{**common, "_raw": line, "_indextime": int(arrival)}]
            accepted.append(
                _Accepted({"event": line, **given}, index.name, token.name, channel, rows=rows)
            )
        return accepted, None

    # -- storing ------------------------------------------------------------------------------

    def _store(self, accepted: list[_Accepted] | _Batch) -> None:
        if not accepted:
            return
        if isinstance(accepted, _Batch):
            with self._store_lock:
                for name in accepted.indexes:
                    self._buffered.setdefault(name, []).append(accepted)
                with self._lock:
                    self._events.append(accepted)
            self._count(events_indexed=accepted.count)
            return

        by_index: dict[str, list[_Accepted]] = {}
        for item in accepted:
            if item.indexable:
                by_index.setdefault(item.index, []).append(item)
        unindexed = sum(1 for item in accepted if not item.indexable)
        with self._store_lock:
            # Rows wait in a buffer and land in the index at the next search (see
            # ``land_buffered``): copying the whole index on every request would make a writer
            # that sends many small requests look slow because of the server, not itself.
            for name, items in by_index.items():
                self._buffered.setdefault(name, []).extend(items)
            with self._lock:
                self._events.extend(accepted)
        self._count(events_indexed=len(accepted) - unindexed, unindexed_events=unindexed)

    def land_buffered(self) -> None:
        """Append the buffered HEC rows to their indexes (called before any index read)."""
        from kepler_splunk_testing.ingest import append_rows

        with self._store_lock:
            buffered, self._buffered = self._buffered, {}
            for name, items in buffered.items():
                rows = []
                for item in items:
                    if isinstance(item, _Batch):
                        for one in item.items():
                            if one.index == name:
                                rows.extend(one.stored_rows())
                    else:
                        rows.extend(item.stored_rows())
                try:
                    append_rows(self.engine, name, rows)
                except KeyError:  # the index was replaced or removed meanwhile
                    continue

    # -- acknowledgement ----------------------------------------------------------------------

    def _issue_ack(self, channel: str) -> int:
        withheld = self._draw("ack", self._faults.withhold_acks)
        with self._lock:
            state = self._channels.setdefault(channel, _Channel())
            ack_id = state.next_id
            state.next_id += 1
            state.pending[ack_id] = not withheld
        self._count(acks_issued=1, acks_withheld=int(withheld))
        return ack_id

    def _ack(self, request: Request, token: HecToken) -> Response:
        if not token.use_ack:
            raise _Refusal(14)
        channel = self._channel(request, token)
        assert channel is not None
        faults = self._faults
        encoding = (request.header("Content-Encoding") or "").strip().lower()
        if faults.reject_acks or (faults.reject_gzip_acks and encoding == "gzip"):
            self._count(ack_polls_rejected=1)
            raise _Refusal(6)  # what an ack endpoint that cannot read the poll answers
        body = self._body(request)
        try:
            document = json.loads(body.decode("utf-8")) if body.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _Refusal(6) from None
        if not isinstance(document, dict) or not isinstance(document.get("acks"), list):
            raise _Refusal(6)
        ids = document["acks"]
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise _Refusal(6)
        answers: dict[str, bool] = {}
        with self._lock:
            state = self._channels.get(channel, _Channel())
            for ack_id in ids:
                done = state.pending.get(ack_id) is True
                if done:
                    del state.pending[ack_id]  # an id answered true is forgotten
                answers[str(ack_id)] = done
        return _json(200, {"acks": answers})

    # -- /health ------------------------------------------------------------------------------

    def _health(self, request: Request) -> Response:
        if self._faults.unhealthy:
            return _reply(18)
        header = (request.header("Authorization") or "").strip()
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "splunk" and credential.strip():
            token = self._by_value(credential.strip())
            if token is None:
                return _reply(21)
            if token.disabled:
                return _reply(22)
        return _reply(17)


# -- replies ----------------------------------------------------------------------------------


def _json(status: int, document: Mapping[str, Any]) -> Response:
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(status, body, JSON_TYPE)


def _reply(
    code: int, event_number: int | None = None, extra: Mapping[str, Any] | None = None
) -> Response:
    if code == CONTENT_TOO_LARGE_CODE:
        return _json(413, {"text": "Content too large", "code": code})
    text, status = HEC_MESSAGES[code]
    document: dict[str, Any] = {"text": text, "code": code}
    if event_number is not None:
        document["invalid-event-number"] = event_number
    document.update(extra or {})
    return _json(status, document)


def _method_not_allowed() -> Response:
    return _json(405, {"text": "Method Not Allowed", "code": 405})


# -- event helpers ----------------------------------------------------------------------------


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress a gzip body (all members), refusing more than ``limit`` bytes of output."""
    out = bytearray()
    remaining = data
    for _ in range(_MAX_GZIP_MEMBERS):
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += decompressor.decompress(remaining, limit + 1 - len(out))
        except zlib.error:
            raise _Refusal(6) from None
        if len(out) > limit or decompressor.unconsumed_tail:
            raise _Refusal(CONTENT_TOO_LARGE_CODE)
        if not decompressor.eof:
            raise _Refusal(6)  # truncated
        remaining = decompressor.unused_data
        if not remaining.strip(b"\x00"):
            return bytes(out)
    raise _Refusal(6)


def _line_objects(body: bytes) -> list[Any] | None:
    """Every line of a newline-separated body parsed with orjson, or None when any line is not a
    whole JSON value (concatenated objects, invalid JSON): the exact stream decoder then finds
    where the bad event starts."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson ships with kepler-splunk
        return None
    stripped = body.strip()
    if not stripped:
        return []
    try:
        # JSON text never holds a raw newline, so between objects it is a separator: one parse
        # of the whole body as an array. A newline inside a pretty-printed object makes this
        # invalid JSON, never a different valid one, so such bodies take the per-line path.
        parsed = orjson.loads(b"[" + stripped.replace(b"\n", b",") + b"]")
        return parsed if isinstance(parsed, list) else None
    except orjson.JSONDecodeError:
        pass
    try:
        return [orjson.loads(line) for line in body.split(b"\n") if line.strip()]
    except orjson.JSONDecodeError:
        return None


def _columnar_count(body: bytes, token: HecToken, indexes: _IndexMemo) -> int | None:
    """The number of events in ``body`` when a column-by-column check shows that the exact path
    would accept every one of them as an ordinary event; None when it cannot tell.

    pyarrow's JSON reader (C++) parses the whole body into columns, which are checked the way
    ``HecCollector._event`` checks one event: ``event`` present and not blank, ``time`` a finite
    number in range, ``host``/``source``/``sourcetype``/``index`` text, ``fields`` values text or
    numbers (or arrays of them), every index resolvable for the token and an event index.
    Anything else (a refusal to come, a metric index, a shape the columns cannot decide,
    something pyarrow reads more leniently than JSON allows) gives None, and the exact path
    decides: so answers, ``invalid-event-number`` included, are the same either way.
    """
    if not _STARTS_WITH_OBJECT.match(body):
        return None  # (pyarrow 26 crashes on a body that is only ``null``)
    if not body.isascii():
        try:  # pyarrow keeps invalid UTF-8 in strings as it is; the exact path refuses it
            body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.json as pj
    except ImportError:  # pragma: no cover - pyarrow ships with kepler-splunk
        return None
    text = pa.string()
    schema = pa.schema(
        [
            ("time", pa.float64()),
            ("index", text),
            ("host", text),
            ("source", text),
            ("sourcetype", text),
        ]
    )
    try:
        table = pj.read_json(
            pa.BufferReader(body),
            read_options=pj.ReadOptions(use_threads=False, block_size=len(body) + 1),
            parse_options=pj.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="infer"
            ),
        )
        if table.num_rows == 0 or "event" not in table.column_names:
            return None
        table = table.combine_chunks()
        columns = {name: table.column(name).chunk(0) for name in table.column_names}
        if not all(_columnar_plain(column, 0) for column in columns.values()):
            return None
        if not _columnar_events(columns["event"], pa, pc):
            return None
        fields = columns.get("fields")
        if fields is not None and not _columnar_fields(fields, pa):
            return None
        bounds = pc.min_max(columns["time"]).as_py()
        if any(v is not None and abs(v) > _COLUMNAR_MAX_EPOCH for v in bounds.values()):
            return None
        given = columns["index"]
        names = pc.unique(given.drop_null()).to_pylist() + ([None] if given.null_count else [])
    except Exception:  # whatever pyarrow makes of the body, the exact path decides
        return None
    for name in names:
        index = indexes.resolve(name, token)
        if index is None or index.datatype != "event":
            return None
    return int(table.num_rows)


def _columnar_plain(array: Any, depth: int) -> bool:
    """Only the types pyarrow's JSON reader infers, nested at most ``_COLUMNAR_MAX_DEPTH`` deep,
    and no NaN or infinity (which pyarrow reads, as ``NaN``, ``Inf``, ..., and JSON has not)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if depth > _COLUMNAR_MAX_DEPTH:
        return False
    if pa.types.is_floating(kind):
        # a NaN or an infinity makes the sum one (so may a huge sum: then the exact path decides)
        total = pc.sum(array).as_py()
        return total is None or math.isfinite(total)
    if pa.types.is_struct(kind):
        return all(_columnar_plain(child, depth + 1) for child in array.flatten())
    if pa.types.is_list(kind):
        return _columnar_plain(array.flatten(), depth + 1)
    return (
        pa.types.is_null(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_string(kind)
        or pa.types.is_timestamp(kind)
    )


def _columnar_events(events: Any, pa: Any, pc: Any) -> bool:
    """Every ``event`` present and not blank (code 12, 13): a non-empty string, object or
    array, or a number or boolean."""
    if events.null_count:  # missing or null
        return False
    kind = events.type
    if pa.types.is_struct(kind):
        # an object with at least one key: some child present in every row ({"a": null} reads
        # like {}, so it takes the exact path)
        children = events.flatten()
        if any(child.null_count == 0 for child in children):
            return True
        present = None
        for child in children:
            valid = child.is_valid()
            present = valid if present is None else pc.or_(present, valid)
        return present is not None and bool(pc.all(present, min_count=0).as_py())
    if pa.types.is_string(kind):
        trimmed = pc.utf8_trim(events, characters=_PY_WHITESPACE)
        return bool(pc.all(pc.greater(pc.utf8_length(trimmed), 0), min_count=0).as_py())
    if pa.types.is_list(kind):
        return bool(pc.all(pc.greater(pc.list_value_length(events), 0), min_count=0).as_py())
    # an ISO date string (inferred as a timestamp) is never blank
    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_timestamp(kind)
    )


def _columnar_fields(fields: Any, pa: Any) -> bool:
    """``fields`` absent, null or an object of non-empty names whose values are strings,
    numbers or arrays of those (code 15); a null value reads like a missing key, so any null
    inside takes the exact path."""
    kind = fields.type
    if pa.types.is_null(kind):
        return True
    if not pa.types.is_struct(kind):
        return False
    for number, child in enumerate(fields.flatten()):
        if not kind.field(number).name or child.null_count != fields.null_count:
            return False
        value = child.type
        if pa.types.is_list(value):
            items = child.flatten()
            if items.null_count or not (len(items) == 0 or _columnar_scalar(items.type, pa)):
                return False
        elif not _columnar_scalar(value, pa):
            return False
    return True


def _columnar_scalar(kind: Any, pa: Any) -> bool:
    return (
        pa.types.is_string(kind)
        or pa.types.is_timestamp(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
    )


def _has_content(value: str | dict[str, Any] | list[Any]) -> bool:
    return bool(value.strip()) if isinstance(value, str) else bool(value)


def _event_time(value: Any, arrival: float) -> float:
    if value is None or value == "":
        return arrival
    if isinstance(value, bool):
        raise _Refusal(6)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _Refusal(6) from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Refusal(6)
    if abs(value) > _MAX_EPOCH:
        raise _Refusal(6)  # milliseconds sent as seconds, most likely
    return float(value)


def _indexed_fields(fields: Any) -> dict[str, Any]:
    """``fields``: values must be strings or numbers, or arrays of those (else code 15)."""
    if fields is None:
        return {}
    if not isinstance(fields, dict):
        raise _Refusal(15)
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if not name:
            raise _Refusal(15)
        if isinstance(value, list):
            if not all(_indexable(item) for item in value):
                raise _Refusal(15)
            out[name] = [str(item) if isinstance(item, str) else item for item in value]
        elif _indexable(value):
            out[name] = value
        else:
            raise _Refusal(15)
    return out


def _indexable(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, (int, float)) and not isinstance(value, bool)
    )


def _flatten(value: Any, prefix: str, out: dict[str, list[Any]]) -> None:
    """Splunk's JSON field names: ``a.b`` for nested objects, ``a{}`` for array elements."""
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list):
        for item in value:
            _flatten(item, f"{prefix}{{}}", out)
    elif value is not None and prefix:
        out.setdefault(prefix, []).append(value)


def _collapse(values: list[Any]) -> Any:
    if len(values) == 1:
        return values[0]
    return [_text(value) for value in values]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _raw_text(payload: Any) -> str:
    if isinstance(payload, str):
        return payload
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _metric_points(
    payload: Any, indexed: dict[str, Any], common: dict[str, Any]
) -> list[dict[str, Any]]:
    """Data points of a metric event (none if it is not one: splunkd drops such events)."""
    if payload != "metric":
        return []
    measures: list[tuple[str, Any]] = []
    dimensions: dict[str, Any] = {}
    for name, value in indexed.items():
        if name.startswith(_MEASURE):
            measures.append((name[len(_MEASURE) :], value))
        elif name not in ("metric_name", "_value"):
            dimensions[name] = value
    if "metric_name" in indexed:
        measures.append((str(indexed["metric_name"]), indexed.get("_value")))
    points = []
    for metric, raw in measures:
        number = _number(raw)
        if metric and number is not None:
            points.append({**dimensions, **common, "metric_name": metric, "_value": number})
    return points


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _moment(epoch: float) -> datetime:
    """Epoch seconds as a UTC datetime: exact to the microsecond, where a float of
    nanoseconds would not be (1700000000.25 s must stay .250)."""
    return datetime.fromtimestamp(epoch, UTC)


def _request_host(request: Request, fallback: str) -> str:
    """splunkd's default ``host`` for HEC events: the Host header the client sent."""
    return (request.header("Host") or "").strip() or fallback
