"""Delivering batches of events to HEC with nothing lost.

- Batches are gzip-compressed and sent over keep-alive connections (httpx), ``hec_concurrency``
  at a time from a thread pool; zlib and the socket release the GIL, so the threads overlap.
- 503, other 5xx, 429, timeouts and dropped connections are retried with exponential backoff and
  full jitter; after ``hec_max_retries`` the batch goes to the spool, and so does every later
  batch at once (the server is deemed unreachable for this write).
- Token and index errors stop the write: what is unsent is spooled, and the error says which
  HEC code Splunk gave and what to do. Data errors fail only the rows concerned; with
  ``invalid-event-number`` the events before it were indexed and the ones after it are resent.
- With indexer acknowledgement, every accepted request's ``ackId`` is polled on the writer's
  channel; a batch not acknowledged within ``hec_ack_timeout`` is sent again (at-least-once),
  which can duplicate it in Splunk: the report counts those rows as possible duplicates.
- Ack polls are a few bytes and go uncompressed (an ack endpoint that cannot read a gzip body
  answers 400 to every poll). When a poll is refused with a 4xx, acknowledgement is not
  answering: resending would only multiply events Splunk already accepted, so nothing is resent
  or spooled; the rows are counted as ``unacknowledged`` and the write raises :class:`HecError`
  saying so, with the report attached.
"""

from __future__ import annotations

import functools
import gzip
import logging
import random
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .config import SplunkConnection
from .errors import SplunkError
from .hec_codes import classify
from .hec_events import Batch

log = logging.getLogger(__name__)

GZIP_LEVEL = 1  # measured: events still shrink ~6x (~7x at level 3) for half the CPU


class HecError(SplunkError):
    """HEC refused the events in a way no retry can fix (token, index, ack settings)."""

    def __init__(self, message: str, hint: str | None = None, *, code: int | None = None,
                 status: int | None = None, report: WriteReport | None = None) -> None:
        super().__init__(message, hint, status=status)
        self.code = code
        self.report = report


@dataclass
class FailedRow:
    row: int
    code: int | None
    reason: str


@dataclass
class WriteReport:
    """What happened to every row of one write (or flush)."""

    rows: int = 0
    #: Events Splunk accepted (a resent batch counts again: this is what the server indexed).
    sent: int = 0
    #: Events whose indexing Splunk confirmed (indexer acknowledgement only).
    acknowledged: int = 0
    #: Events sent again after a 503, a timeout, a dropped connection or a missing ack.
    retried: int = 0
    #: Events sent again although Splunk had accepted them (ack timeout): possible duplicates,
    #: to be found by their ``kepler_row_id``.
    duplicates: int = 0
    failed: list[FailedRow] = field(default_factory=list)
    #: Events Splunk accepted whose indexing it could not confirm because acknowledgement did
    #: not answer (a 4xx to the ack poll): neither resent nor spooled.
    unacknowledged: int = 0
    #: Events waiting in the spool for the next write or ``kepler results flush``.
    spooled: int = 0
    #: Events delivered from the spool by this call.
    flushed: int = 0
    batches: int = 0
    bytes_sent: int = 0
    seconds: float = 0.0
    ack: bool = False
    write_id: str = ""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.spooled and not self.unacknowledged

    @property
    def events_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        parts = [f"{self.rows:,} rows", f"{self.sent:,} events accepted"]
        if self.ack:
            parts.append(f"{self.acknowledged:,} acknowledged")
        if self.unacknowledged:
            parts.append(f"{self.unacknowledged:,} accepted but unacknowledged")
        if self.retried:
            parts.append(f"{self.retried:,} resent")
        if self.duplicates:
            parts.append(f"{self.duplicates:,} possible duplicates")
        if self.failed:
            parts.append(f"{len(self.failed):,} failed")
        if self.spooled:
            parts.append(f"{self.spooled:,} spooled")
        if self.flushed:
            parts.append(f"{self.flushed:,} delivered from the spool")
        parts.append(f"{self.seconds:.1f} s")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"WriteReport({self.summary()})"

    def card(self) -> Any:
        """What a notebook shows for a write: sent, acknowledged, spooled, failed."""
        from kepler.api import Card

        card = Card(f"HEC write: {'ok' if self.ok else 'incomplete'}")
        card.add("rows", f"{self.rows:,}").add("sent", f"{self.sent:,}")
        if self.ack:
            card.add("acknowledged", f"{self.acknowledged:,}")
        for label, value in (("unacknowledged", self.unacknowledged), ("resent", self.retried),
                             ("possible duplicates", self.duplicates),
                             ("failed", len(self.failed)), ("spooled", self.spooled),
                             ("delivered from spool", self.flushed)):
            card.add(label, f"{value:,}" if value else None)
        card.add("time", f"{self.seconds:.1f} s ({self.events_per_second:,.0f} events/s)")
        card.add("write id", self.write_id)
        return card

    def _repr_html_(self) -> str:
        return str(self.card().html())


def _ssl_verify(conn: SplunkConnection) -> ssl.SSLContext | bool:
    verify = conn.verify if conn.hec_verify is None else conn.hec_verify
    if not verify:
        return False
    return _ssl_context(conn.hec_ca_file or conn.ca_file)


def hec_client(conn: SplunkConnection) -> Any:
    """An httpx client for ``conn``'s HEC endpoint: its token, TLS settings, timeout and a pool
    of ``hec_concurrency`` kept-alive connections."""
    import httpx

    if conn.hec_token is None:
        from kepler.api import ConfigError

        raise ConfigError(
            "No HEC token is configured.",
            hint="kepler secrets set splunk-hec-token, then hec_token: "
            "${secret:splunk-hec-token} under splunk: in kepler.yml (or "
            "KEPLER_SPLUNK__HEC_TOKEN).",
        )
    headers = {"Authorization": f"Splunk {conn.hec_token.get_secret_value()}",
               "Content-Type": "application/json"}
    return httpx.Client(
        base_url=conn.hec_base_url(), headers=headers, verify=_ssl_verify(conn),
        timeout=conn.hec_timeout,
        limits=httpx.Limits(max_connections=conn.hec_concurrency + 1,
                            max_keepalive_connections=conn.hec_concurrency + 1),
    )


@functools.lru_cache(maxsize=8)
def _ssl_context(cafile: str | None) -> ssl.SSLContext:
    """One context per CA file for the process: loading the system's certificates takes tens
    of milliseconds, holding the interpreter, and a server logging predictions writes every
    second."""
    return ssl.create_default_context(cafile=cafile)


@dataclass
class _Pending:
    batch: Batch
    sent_at: float
    attempt: int


class HecWriter:
    """Sends batches; ``on_undelivered(batch, reason)`` decides what happens to a batch that
    cannot be delivered now (spooled for a write, kept in place for a flush)."""

    def __init__(self, conn: SplunkConnection, *, ack: bool | None = None,
                 on_delivered: Callable[[Batch], None] | None = None,
                 on_undelivered: Callable[[Batch, str], None] | None = None,
                 on_progress: Callable[[int], None] | None = None,
                 client: Any = None) -> None:
        """``client``: an HTTP client from :func:`hec_client` that outlives this writer (its
        kept-alive connections serve consecutive writes); by default the writer opens its own
        and closes it with :meth:`close`."""
        self.conn = conn
        self.url = conn.hec_base_url()
        self.ack = conn.hec_ack if ack is None else ack
        self.channel = str(uuid.uuid4())
        #: Per request, so a shared client serves writers of different channels.
        self._headers = {"X-Splunk-Request-Channel": self.channel} if self.ack else {}
        self._own_client = client is None
        self.client = hec_client(conn) if client is None else client
        self.report = WriteReport(ack=self.ack)
        self._lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._unreachable: str | None = None
        self._stopped: HecError | None = None
        self._on_delivered = on_delivered or (lambda batch: None)
        self._on_undelivered = on_undelivered or (lambda batch, reason: None)
        self._on_progress = on_progress or (lambda rows: None)
        self._pool = ThreadPoolExecutor(max_workers=conn.hec_concurrency,
                                        thread_name_prefix="kepler-hec")
        self._futures: list[Future[None]] = []
        self._slots = threading.BoundedSemaphore(conn.hec_concurrency * 2)
        self._started = time.perf_counter()

    # --- public -------------------------------------------------------------------------------

    def submit(self, batch: Batch) -> None:
        """Queue one batch (blocks while too many are in flight, so memory stays bounded)."""
        self._slots.acquire()
        future = self._pool.submit(self._deliver, batch, 0)
        future.add_done_callback(lambda _: self._slots.release())
        self._futures.append(future)

    def close(self) -> WriteReport:
        """Wait for every batch and acknowledgement; return the report."""
        try:
            for future in self._futures:
                future.result()
            if self.ack:
                self._drain_acks()
            for future in self._futures:
                future.result()
        finally:
            self._pool.shutdown(wait=True)
            if self._own_client:
                self.client.close()
            self.report.seconds = time.perf_counter() - self._started
        if self._stopped is not None:
            self._stopped.report = self.report
            raise self._stopped
        return self.report

    # --- sending ------------------------------------------------------------------------------

    def _deliver(self, batch: Batch, attempt: int) -> None:
        while batch.rows:
            with self._lock:
                blocked = self._stopped.message if self._stopped else self._unreachable
            if blocked:
                self._undelivered(batch, blocked)
                return
            outcome = self._post(batch)
            if outcome is None:  # transport failure: retry
                reason = "connection failed"
            else:
                status, reply = outcome
                code = reply.get("code")
                if status == 200:
                    self._accepted(batch, reply, attempt)
                    return
                verdict = classify(status, code)
                text = str(reply.get("text") or verdict.meaning)
                if verdict.outcome == "split":
                    if len(batch.rows) == 1:
                        self._fail(batch, code, f"{text} (the event alone is larger than HEC's "
                                   "max_content_length)")
                        return
                    first, second = batch.split()
                    self._deliver(first, attempt)
                    batch = second
                    continue
                if verdict.outcome == "reject":
                    position = reply.get("invalid-event-number")
                    if isinstance(position, int) and 0 <= position < len(batch.rows):
                        self._count_sent(batch.rows[:position])
                        self._fail(batch.part(position, position + 1), code, text)
                        batch = batch.after(position + 1)
                        continue
                    self._fail(batch, code, text)
                    return
                if verdict.outcome == "stop":
                    error = HecError(
                        f"HEC at {self.url} refused the events: {text} (code {code}, HTTP "
                        f"{status}). Nothing was lost: unsent rows are spooled.",
                        hint=verdict.hint, code=code, status=status)
                    with self._lock:
                        if self._stopped is None:
                            self._stopped = error
                    self._undelivered(batch, error.message)
                    return
                reason = f"{text} (HTTP {status})"
            attempt += 1
            if attempt > self.conn.hec_max_retries:
                with self._lock:
                    self._unreachable = f"gave up after {attempt - 1} retries: {reason}"
                log.warning("HEC at %s unreachable (%s); spooling", self.url, reason)
                self._undelivered(batch, reason)
                return
            with self._lock:
                self.report.retried += len(batch.rows)
            delay = min(30.0, self.conn.hec_backoff * 2 ** (attempt - 1))
            time.sleep(random.uniform(0, delay))  # noqa: S311 - jitter, not security

    def _post(self, batch: Batch) -> tuple[int, dict[str, Any]] | None:
        import httpx
        import orjson

        body = gzip.compress(batch.body(), compresslevel=GZIP_LEVEL)
        try:
            response = self.client.post("/services/collector/event", content=body,
                                        headers={**self._headers, "Content-Encoding": "gzip"})
        except httpx.TransportError as exc:
            log.info("HEC request failed: %s", exc)
            return None
        with self._lock:
            self.report.bytes_sent += len(body)
            self.report.batches += 1
        try:
            reply = orjson.loads(response.content) if response.content else {}
        except orjson.JSONDecodeError:
            reply = {"text": response.text[:200]}
        return response.status_code, reply if isinstance(reply, dict) else {}

    def _accepted(self, batch: Batch, reply: dict[str, Any], attempt: int) -> None:
        self._count_sent(batch.rows)
        ack_id = reply.get("ackId")
        if self.ack and isinstance(ack_id, int):
            with self._lock:
                self._pending[ack_id] = _Pending(batch, time.monotonic(), attempt)
            return
        self._on_delivered(batch)
        if self.ack:  # indexed, but this token cannot confirm it: no later batch may rely on acks
            verdict = classify(400, 14)
            with self._lock:
                if self._stopped is None:
                    self._stopped = HecError(
                        f"HEC at {self.url} accepted events without an ackId: indexer "
                        "acknowledgement is disabled on this token (code 14). Rows not yet sent "
                        "are spooled.", hint=verdict.hint, code=14, status=200)

    def _count_sent(self, rows: Sequence[int]) -> None:
        with self._lock:
            self.report.sent += len(rows)
        self._on_progress(len(rows))

    def _fail(self, batch: Batch, code: int | None, reason: str) -> None:
        with self._lock:
            self.report.failed.extend(FailedRow(row, code, reason) for row in batch.rows)
        log.warning("HEC rejected %d row(s): %s", len(batch.rows), reason)

    def _undelivered(self, batch: Batch, reason: str) -> None:
        with self._lock:
            self.report.spooled += len(batch.rows)
        self._on_undelivered(batch, reason)

    # --- acknowledgement ----------------------------------------------------------------------

    def _drain_acks(self) -> None:
        """Poll until every accepted batch is acknowledged, resent or spooled, or until the ack
        endpoint refuses a poll (then :meth:`_ack_refused` ends the write)."""
        while True:
            with self._lock:
                pending = dict(self._pending)
            if not pending:
                return
            answers, refusal = self._poll(sorted(pending))
            if refusal is not None:
                self._ack_refused(*refusal)
                return
            now = time.monotonic()
            for ack_id, entry in pending.items():
                if answers.get(str(ack_id)) is True:
                    with self._lock:
                        self._pending.pop(ack_id, None)
                        self.report.acknowledged += len(entry.batch.rows)
                    self._on_delivered(entry.batch)
                elif now - entry.sent_at > self.conn.hec_ack_timeout:
                    self._resend_unacknowledged(ack_id, entry)
            time.sleep(self.conn.hec_ack_poll)

    def _poll(self, ids: list[int]) -> tuple[dict[str, Any], tuple[int, dict[str, Any]] | None]:
        """One ack poll, its body uncompressed: (answers, None), or ({}, (status, reply)) when
        the endpoint refuses it with a 4xx other than 408/429 (no retry can fix that)."""
        import httpx
        import orjson

        try:
            response = self.client.post(
                "/services/collector/ack", params={"channel": self.channel},
                content=orjson.dumps({"acks": ids}), headers=self._headers)
        except httpx.TransportError:
            return {}, None
        try:
            reply = orjson.loads(response.content) if response.content else {}
        except orjson.JSONDecodeError:
            reply = {"text": response.text[:200]}
        reply = reply if isinstance(reply, dict) else {}
        status = response.status_code
        if status == 200:
            answers = reply.get("acks")
            return (answers if isinstance(answers, dict) else {}), None
        if 400 <= status < 500 and status not in (408, 429):
            return {}, (status, reply)
        return {}, None  # 5xx, 408, 429: transient, poll again

    def _ack_refused(self, status: int, reply: dict[str, Any]) -> None:
        """Acknowledgement does not answer: keep the accepted rows out of the resend loop."""
        with self._lock:
            pending, self._pending = self._pending, {}
            rows = sum(len(entry.batch.rows) for entry in pending.values())
            self.report.unacknowledged += rows
            sent, acknowledged = self.report.sent, self.report.acknowledged
        code = reply.get("code")
        text = str(reply.get("text") or f"HTTP {status}")
        verdict = classify(status, code if isinstance(code, int) else None)
        hint = verdict.hint if code == 14 else (
            "Check that the HEC token has indexer acknowledgement enabled and that nothing "
            "between Kepler and Splunk (a proxy, a load balancer) refuses POST "
            "/services/collector/ack; or set splunk.hec_ack: false to write without it. Search "
            "the rows' kepler_row_id in Splunk to see which were indexed.")
        error = HecError(
            f"HEC at {self.url} accepted {sent:,} events, but its acknowledgement endpoint "
            f"refused the poll: {text} (code {code}, HTTP {status}). Acknowledgement is not "
            f"answering, so the {rows:,} accepted rows whose indexing is unconfirmed were "
            f"neither resent nor spooled ({acknowledged:,} were acknowledged before).",
            hint=hint, code=code if isinstance(code, int) else None, status=status)
        log.warning("%s", error.message)
        with self._lock:
            if self._stopped is None:
                self._stopped = error

    def _resend_unacknowledged(self, ack_id: int, entry: _Pending) -> None:
        with self._lock:
            self._pending.pop(ack_id, None)
            self.report.retried += len(entry.batch.rows)
            self.report.duplicates += len(entry.batch.rows)
        log.info("no ack for batch %d after %.0f s: sending it again", ack_id,
                 self.conn.hec_ack_timeout)
        if entry.attempt + 1 > self.conn.hec_max_retries:
            self._undelivered(entry.batch, "never acknowledged")
        else:
            future = self._pool.submit(self._deliver, entry.batch, entry.attempt + 1)
            self._futures.append(future)
            future.result()


def send_all(writer: HecWriter, batches: Iterable[Batch]) -> WriteReport:
    """Submit every batch, then wait for all of them (and their acks)."""
    try:
        for batch in batches:
            writer.submit(batch)
    except BaseException:
        writer.close()
        raise
    return writer.close()


__all__ = ["FailedRow", "HecError", "HecWriter", "WriteReport", "hec_client", "send_all"]
