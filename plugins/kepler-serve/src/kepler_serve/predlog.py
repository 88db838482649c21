"""The prediction log: every served prediction, through a sink, in the background, never in the
way.

A request hands its inputs, outputs and latency to :meth:`PredictionLog.submit`, which only puts
them on a bounded queue (``serve.log_queue`` predictions) and returns: it never blocks, never
raises, and when the queue is full it drops the batch and counts it. One thread takes what is
queued every ``serve.log_interval`` seconds (at most ``serve.log_batch`` predictions at a time),
shapes it as prediction events (:func:`event_frame`, the columns of
:func:`kepler_serve.events.prediction_frame`) and writes it through the sink named by
``serve.log_sink`` (``kepler.api.sink``; ``serve.log_to_splunk`` is the ``splunk-hec``
shorthand, whose writer retries and spools to disk while Splunk is unreachable); an installed
sink is written from a child process (:mod:`kepler_serve.logproc`). A sink that raises loses
nothing: the batch stays queued (it still counts
against the bound) and is written again after a back-off. On shutdown, :meth:`close` sends what
is still queued, within a deadline.
"""

from __future__ import annotations

import collections
import datetime as _dt
import itertools
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from . import counters
from .logproc import ProcessWriter, WriterProcessError

log = logging.getLogger(__name__)


def _figure(index: int) -> Any:
    """A LogStats number stored in its counters slot (see :mod:`kepler_serve.counters`)."""

    def get(self: LogStats) -> int:
        return int(self.slot.values[index])

    def put(self: LogStats, value: int) -> None:
        self.slot.values[index] = value

    return property(get, put)


class LogStats:
    """Counters shown in ``/metadata`` (``prediction_log``). The numbers live in a counters
    slot, so that with ``serve.workers`` > 1 every worker's figures add up in ``/metadata``;
    each one is written only by this log (the request side under its lock, the rest by its
    writer thread)."""

    queued = _figure(counters.LOG_QUEUED)
    sent = _figure(counters.LOG_SENT)
    spooled = _figure(counters.LOG_SPOOLED)
    failed = _figure(counters.LOG_FAILED)
    dropped = _figure(counters.LOG_DROPPED)
    writes = _figure(counters.LOG_WRITES)
    retrying = _figure(counters.LOG_RETRYING)

    def __init__(self, slot: counters.Slot | None = None) -> None:
        self.slot = slot if slot is not None else counters.claim()
        self.last_error: str | None = None
        self.extra: dict[str, Any] = {}

    def as_dict(self) -> dict[str, Any]:
        return {"queued": self.queued, "sent": self.sent, "spooled": self.spooled,
                "failed": self.failed, "dropped": self.dropped, "writes": self.writes,
                "retrying": self.retrying, "last_error": self.last_error, **self.extra}


#: Longest wait before writing again to a sink that raised (seconds).
MAX_BACKOFF = 30.0


def _event_value(value: Any) -> Any:
    """A feature's value as an event carries it: datetimes as ISO text, NaN as missing."""
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    return value


@dataclass
class _Item:
    rows: list[dict[str, Any]]
    predictions: list[Any]
    confidence: list[float] | None
    latency_ms: float
    time: float
    batch_id: str


class PredictionLog:
    """A background writer of prediction events through a sink.

    ``writer`` is what takes each frame of events: a :class:`kepler.api.Sink`'s ``write`` with
    ``options`` (what :func:`from_settings` passes), or any callable taking the frame.
    """

    def __init__(self, *, model: str, version: Any, writer: Any,
                 options: dict[str, Any] | None = None, capacity: int = 50_000,
                 batch: int = 5_000, interval: float = 1.0, plain_rows: bool = False) -> None:
        """``plain_rows``: the submitted rows hold only JSON values (no datetimes, no NaN), as
        the server's validated requests of a model without datetime features do, so events
        take them as they are."""
        self.model = model
        self._plain_rows = plain_rows
        self.version = None if version is None else str(version)
        self.options = dict(options or {})
        self.capacity = capacity
        self.batch = batch
        self.interval = interval
        self.stats = LogStats()
        #: Appended by requests, popped by the writer: deque's ends are thread-safe, so a
        #: request pays one append (a queue.Queue adds a lock and a condition per put).
        self._queue: collections.deque[_Item] = collections.deque()
        self._pending = 0  # predictions queued, not yet taken (the capacity is counted in rows)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._writer = writer
        self._retry: list[_Item] = []  # taken, not yet written: the sink raised
        self._failures = 0
        self._next_try = 0.0
        #: Batch ids: a random prefix per process, then a counter (12 hex digits, unique
        #: across workers and restarts without a system call per request).
        self._batch_prefix = uuid.uuid4().hex[:6]
        self._batch_count = itertools.count(1)  # next() on a count is atomic: any thread
        self._thread = threading.Thread(target=self._run, name="kepler-prediction-log",
                                        daemon=True)
        self._thread.start()

    # --- the request side: never blocks, never raises -------------------------------------------

    def submit(self, rows: list[dict[str, Any]], predictions: list[Any],
               confidence: list[float] | None, latency_ms: float) -> bool:
        """Queue one request's predictions; False (and counted as dropped) when full."""
        count = len(predictions)
        figures = self.stats.slot.values  # straight into the slot: no property on this path
        with self._lock:
            if self._stop.is_set() or self._pending + count > self.capacity:
                figures[counters.LOG_DROPPED] += count
                return False
            self._pending += count
            figures[counters.LOG_QUEUED] += count
        self._queue.append(_Item(rows, predictions, confidence, latency_ms, time.time(),
                                 f"{self._batch_prefix}{next(self._batch_count):06x}"))
        return True

    # --- the writer thread ------------------------------------------------------------------

    def _take(self) -> list[_Item]:
        """The next batch: what a failed write left first, then the queue. The rows stay
        counted against the capacity until they are written (:meth:`_done`)."""
        items, self._retry = self._retry, []
        rows = sum(len(i.predictions) for i in items)
        while rows < self.batch:
            try:
                item = self._queue.popleft()
            except IndexError:
                break
            items.append(item)
            rows += len(item.predictions)
        return items

    def _done(self, items: list[_Item]) -> None:
        with self._lock:
            self._pending -= sum(len(i.predictions) for i in items)

    def _run(self) -> None:
        if not isinstance(self._writer, ProcessWriter):  # else the child shapes the events
            self._frame([])  # pandas imported now, not under the first load of predictions
        while not self._stop.wait(self.interval):
            self._drain(deadline=None)

    def _drain(self, deadline: float | None) -> None:
        """Write what is queued: one pass on the writer thread's tick (None), or until the
        queue is empty or ``deadline`` at shutdown, where a raising sink gets three more tries
        a moment apart."""
        tries = 3
        while deadline is None or time.monotonic() < deadline:
            if deadline is None and time.monotonic() < self._next_try:
                return  # backing off a sink that raised
            items = self._take()
            if not items:
                return
            if not self._write(items):
                self._retry = items
                tries -= 1
                if deadline is None or tries <= 0:
                    return
                time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
                continue
            if deadline is None and sum(len(i.predictions) for i in items) < self.batch:
                return  # caught up: the next tick takes what arrives meanwhile, in one write

    def _write(self, items: list[_Item]) -> bool:
        """Write ``items`` through the sink; False (they are kept) when it raised."""
        count = sum(len(i.predictions) for i in items)
        try:
            if isinstance(self._writer, ProcessWriter):
                report = self._writer.write_items(items)
            else:
                report = self._writer(self._frame(items), **self.options)
        except Exception as exc:  # never let the log take the server down
            self._failures += 1
            self._next_try = time.monotonic() + min(MAX_BACKOFF,
                                                    self.interval * 2 ** self._failures)
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            self.stats.retrying = count
            log.warning("prediction log: %d prediction(s) not written yet (will retry): %s",
                        count, self.stats.last_error)
            return False
        self._failures = 0
        self.stats.retrying = 0
        self._done(items)
        self.stats.writes += 1
        self.stats.sent += int(getattr(report, "sent", count))
        self.stats.spooled += int(getattr(report, "spooled", 0))
        failed = getattr(report, "failed", [])
        self.stats.failed += len(failed) if isinstance(failed, list) else int(failed or 0)
        if getattr(report, "spooled", 0):
            self.stats.last_error = "the sink's destination is unreachable: predictions " \
                "spooled on disk by the sink"
        return True

    def _frame(self, items: list[_Item]) -> Any:
        return event_frame(items, model=self.model, version=self.version,
                           plain_rows=self._plain_rows)

    # --- shutdown ---------------------------------------------------------------------------

    def close(self, timeout: float = 10.0) -> None:
        """Stop taking predictions and send what is queued, for at most ``timeout`` seconds;
        what is left after it is counted as dropped."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout)
        deadline = time.monotonic() + max(0.0, timeout)
        self._drain(deadline=deadline)
        unwritten = self._retry
        self._retry = []
        failed = sum(len(i.predictions) for i in unwritten)
        if failed:
            self.stats.failed += failed
            self._done(unwritten)
            log.warning("prediction log: the sink still refused %d prediction(s) at shutdown: "
                        "%s", failed, self.stats.last_error)
        left = self._take()
        if left:
            lost = sum(len(i.predictions) for i in left)
            self._done(left)
            self.stats.dropped += lost
            log.warning("prediction log: %d prediction(s) still queued at shutdown were dropped",
                        lost)
        if isinstance(self._writer, ProcessWriter):
            self._writer.close()


def event_frame(items: list[_Item], *, model: str, version: str | None,
            plain_rows: bool) -> Any:
    """The events of ``items`` as one frame (the columns of
    :func:`kepler_serve.events.prediction_frame`), built from plain lists in one pass: a
    frame per request (then a concat) cost more than scoring them."""
    import pandas as pd

    features: list[dict[str, Any]] = []
    predictions: list[Any] = []
    confidence: list[float | None] = []
    latency: list[float] = []
    times: list[float] = []
    batch_ids: list[str] = []
    for item in items:
        count = len(item.predictions)
        if plain_rows:  # validated JSON: already what an event carries
            features.extend(item.rows)
        else:
            features.extend({k: _event_value(v) for k, v in row.items()}
                            for row in item.rows)
        predictions.extend(p.item() if hasattr(p, "item") else p for p in item.predictions)
        if item.confidence is None:
            confidence.extend([None] * count)
        else:
            confidence.extend(float(p) for p in item.confidence)
        latency.extend([float(item.latency_ms)] * count)
        times.extend([item.time] * count)
        batch_ids.extend([item.batch_id] * count)
    columns: dict[str, Any] = {
        "model": [model] * len(predictions),
        "model_version": [version] * len(predictions),
        "prediction": predictions, "features": features, "batch_id": batch_ids}
    if any(p is not None for p in confidence):
        columns["probability"] = confidence
    columns["latency_ms"] = latency
    columns["_time"] = times
    return pd.DataFrame(columns)


def from_settings(settings: Any, model: Any, *, config: Any = None) -> PredictionLog | None:
    """The prediction log the ``serve`` settings ask for (``log_sink``, or the
    ``log_to_splunk`` shorthand), or None. The sink is looked up and built before the server
    starts, so a sink that is not installed stops it with the install hint."""
    chosen = settings.prediction_sink()
    if chosen is None:
        return None
    from kepler.api import load_config, sink

    name, options = chosen
    given = config is not None
    config = config if given else load_config()
    target = sink(name, config=config)
    if settings.log_to_splunk:
        _check_hec_token(config, settings.connection)
    plain_rows = all(f.kind != "datetime" for f in model.schema)
    writer: Any = target.write
    if settings.log_writer == "process" and not given:
        writer = _process_writer(name, options, model, plain_rows) or writer
    log.info("prediction log: sink %s, written from %s", name,
             "a process of its own" if isinstance(writer, ProcessWriter) else "a thread")
    return PredictionLog(model=model.name, version=model.version, writer=writer,
                         options=options, capacity=settings.log_queue,
                         batch=settings.log_batch, interval=settings.log_interval,
                         plain_rows=plain_rows)


def _process_writer(name: str, options: dict[str, Any], model: Any,
                    plain_rows: bool) -> ProcessWriter | None:
    """The sink in a child process, when the child can build it: an installed plugin's sink
    (one registered at run time exists only here); else None, and a thread writes."""
    from kepler.api import SinkSpec, find_record

    record = find_record(SinkSpec, name)
    if record is None or not record.distribution:
        return None
    try:
        return ProcessWriter(name, options, model=model.name,
                             version=None if model.version is None else str(model.version),
                             plain_rows=plain_rows)
    except WriterProcessError as exc:
        log.warning("prediction log: writing from a thread, as the writer process could not "
                    "start: %s", exc)
        return None


def _check_hec_token(config: Any, connection: str | None) -> None:
    """The Splunk shorthand fails at start, not at the first write, without a HEC token."""
    from kepler.api import ConfigError

    if config.section("splunk").connection(connection).hec_token is None:
        raise ConfigError("serve.log_to_splunk is on, but no HEC token is configured.",
                          hint="Set splunk.hec_token (kepler secrets set hec-token, then "
                          "hec_token: ${secret:hec-token}) or KEPLER_SPLUNK__HEC_TOKEN.")
