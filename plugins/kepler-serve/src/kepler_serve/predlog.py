"""The prediction log: every served prediction, through a sink, in the background, never in the
way.

A request hands its inputs, outputs and latency to :meth:`PredictionLog.submit`, which only puts
them on a bounded queue (``serve.log_queue`` predictions) and returns: it never blocks, never
raises, and when the queue is full it drops the batch and counts it. One thread takes what is
queued every ``serve.log_interval`` seconds (at most ``serve.log_batch`` predictions at a time),
shapes it as prediction events (:func:`kepler_serve.events.prediction_frame`) and writes it
through the sink named by ``serve.log_sink`` (``kepler.api.sink``; ``serve.log_to_splunk`` is
the ``splunk-hec`` shorthand, whose writer retries and spools to disk while Splunk is
unreachable). A sink that raises loses nothing: the batch stays queued (it still counts
against the bound) and is written again after a back-off. On shutdown, :meth:`close` sends what
is still queued, within a deadline.
"""

from __future__ import annotations

import datetime as _dt
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class LogStats:
    """Counters shown in ``/metadata`` (``prediction_log``)."""

    queued: int = 0
    sent: int = 0
    spooled: int = 0
    failed: int = 0
    dropped: int = 0
    writes: int = 0
    last_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"queued": self.queued, "sent": self.sent, "spooled": self.spooled,
                "failed": self.failed, "dropped": self.dropped, "writes": self.writes,
                "last_error": self.last_error, **self.extra}


#: Longest wait before writing again to a sink that raised (seconds).
MAX_BACKOFF = 30.0


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
                 batch: int = 5_000, interval: float = 1.0) -> None:
        self.model = model
        self.version = None if version is None else str(version)
        self.options = dict(options or {})
        self.capacity = capacity
        self.batch = batch
        self.interval = interval
        self.stats = LogStats()
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._pending = 0  # predictions queued, not yet taken (the capacity is counted in rows)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._writer = writer
        self._retry: list[_Item] = []  # taken, not yet written: the sink raised
        self._failures = 0
        self._next_try = 0.0
        self._thread = threading.Thread(target=self._run, name="kepler-prediction-log",
                                        daemon=True)
        self._thread.start()

    # --- the request side: never blocks, never raises -------------------------------------------

    def submit(self, rows: list[dict[str, Any]], predictions: list[Any],
               confidence: list[float] | None, latency_ms: float) -> bool:
        """Queue one request's predictions; False (and counted as dropped) when full."""
        count = len(predictions)
        with self._lock:
            if self._stop.is_set() or self._pending + count > self.capacity:
                self.stats.dropped += count
                return False
            self._pending += count
            self.stats.queued += count
        self._queue.put_nowait(_Item(rows, predictions, confidence, latency_ms, time.time(),
                                     uuid.uuid4().hex[:12]))
        return True

    # --- the writer thread ------------------------------------------------------------------

    def _take(self) -> list[_Item]:
        """The next batch: what a failed write left first, then the queue. The rows stay
        counted against the capacity until they are written (:meth:`_done`)."""
        items, self._retry = self._retry, []
        rows = sum(len(i.predictions) for i in items)
        while rows < self.batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            items.append(item)
            rows += len(item.predictions)
        return items

    def _done(self, items: list[_Item]) -> None:
        with self._lock:
            self._pending -= sum(len(i.predictions) for i in items)

    def _run(self) -> None:
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
            if deadline is None and self._queue.qsize() == 0:
                return

    def _write(self, items: list[_Item]) -> bool:
        """Write ``items`` through the sink; False (they are kept) when it raised."""
        count = sum(len(i.predictions) for i in items)
        try:
            report = self._writer(self._frame(items), **self.options)
        except Exception as exc:  # never let the log take the server down
            self._failures += 1
            self._next_try = time.monotonic() + min(MAX_BACKOFF,
                                                    self.interval * 2 ** self._failures)
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            self.stats.extra["retrying"] = count
            log.warning("prediction log: %d prediction(s) not written yet (will retry): %s",
                        count, self.stats.last_error)
            return False
        self._failures = 0
        self.stats.extra["retrying"] = 0
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
        import pandas as pd

        from .events import prediction_frame

        frames = []
        for item in items:
            rows = [{k: (v.isoformat() if isinstance(v, _dt.datetime) else v)
                     for k, v in row.items()} for row in item.rows]
            frames.append(prediction_frame(
                rows, item.predictions, model=self.model, version=self.version,
                latency_ms=item.latency_ms, probabilities=item.confidence,
                time=[item.time] * len(item.predictions), batch_id=item.batch_id))
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

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


def from_settings(settings: Any, model: Any, *, config: Any = None) -> PredictionLog | None:
    """The prediction log the ``serve`` settings ask for (``log_sink``, or the
    ``log_to_splunk`` shorthand), or None. The sink is looked up and built before the server
    starts, so a sink that is not installed stops it with the install hint."""
    chosen = settings.prediction_sink()
    if chosen is None:
        return None
    from kepler.api import load_config, sink

    name, options = chosen
    config = config if config is not None else load_config()
    target = sink(name, config=config)
    if settings.log_to_splunk:
        _check_hec_token(config, settings.connection)
    log.info("prediction log: sink %s", name)
    return PredictionLog(model=model.name, version=model.version, writer=target.write,
                         options=options, capacity=settings.log_queue,
                         batch=settings.log_batch, interval=settings.log_interval)


def _check_hec_token(config: Any, connection: str | None) -> None:
    """The Splunk shorthand fails at start, not at the first write, without a HEC token."""
    from kepler.api import ConfigError

    if config.section("splunk").connection(connection).hec_token is None:
        raise ConfigError("serve.log_to_splunk is on, but no HEC token is configured.",
                          hint="Set splunk.hec_token (kepler secrets set hec-token, then "
                          "hec_token: ${secret:hec-token}) or KEPLER_SPLUNK__HEC_TOKEN.")
