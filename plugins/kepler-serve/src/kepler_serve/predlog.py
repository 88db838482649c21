"""Prediction logging to Splunk: every served prediction, in the background, never in the way.

A request hands its inputs, outputs and latency to :meth:`PredictionLog.submit`, which only puts
them on a bounded queue (``serve.log_queue`` predictions) and returns: it never blocks, never
raises, and when the queue is full it drops the batch and counts it. One thread takes what is
queued every ``serve.log_interval`` seconds (at most ``serve.log_batch`` predictions at a time),
shapes it with kepler-splunk's :func:`~kepler_splunk.predictions.prediction_frame` (the events the
monitoring dashboard reads) and writes it with :func:`~kepler_splunk.results.to_splunk`, which
retries and, while Splunk is unreachable, spools to disk; the next write delivers the spool.
On shutdown, :meth:`close` sends what is still queued, within a deadline.
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


@dataclass
class _Item:
    rows: list[dict[str, Any]]
    predictions: list[Any]
    confidence: list[float] | None
    latency_ms: float
    time: float
    batch_id: str


class PredictionLog:
    """A background writer of prediction events to Splunk HEC."""

    def __init__(self, *, model: str, version: Any, index: str | None = None,
                 sourcetype: str = "_json", source: str = "kepler-serve",
                 connection: str | None = None, capacity: int = 50_000, batch: int = 5_000,
                 interval: float = 1.0, writer: Any = None) -> None:
        self.model = model
        self.version = None if version is None else str(version)
        self.index = index
        self.sourcetype = sourcetype
        self.source = source
        self.connection = connection
        self.capacity = capacity
        self.batch = batch
        self.interval = interval
        self.stats = LogStats()
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._pending = 0  # predictions queued, not yet taken (the capacity is counted in rows)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._writer = writer or self._to_splunk
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
        items: list[_Item] = []
        rows = 0
        while rows < self.batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            items.append(item)
            rows += len(item.predictions)
        with self._lock:
            self._pending -= rows
        return items

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._drain(deadline=None)

    def _drain(self, deadline: float | None) -> None:
        while deadline is None or time.monotonic() < deadline:
            items = self._take()
            if not items:
                return
            self._write(items)
            if deadline is None and self._queue.qsize() == 0:
                return

    def _write(self, items: list[_Item]) -> None:
        count = sum(len(i.predictions) for i in items)
        try:
            report = self._writer(self._frame(items))
        except Exception as exc:  # never let the log take the server down
            self.stats.failed += count
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("prediction log: %d prediction(s) not written: %s", count,
                        self.stats.last_error)
            return
        self.stats.writes += 1
        self.stats.sent += int(getattr(report, "sent", count))
        self.stats.spooled += int(getattr(report, "spooled", 0))
        failed = getattr(report, "failed", [])
        self.stats.failed += len(failed) if isinstance(failed, list) else int(failed or 0)
        if getattr(report, "spooled", 0):
            self.stats.last_error = "Splunk HEC unreachable: predictions spooled on disk"

    def _frame(self, items: list[_Item]) -> Any:
        import pandas as pd
        from kepler_splunk.predictions import prediction_frame

        frames = []
        for item in items:
            rows = [{k: (v.isoformat() if isinstance(v, _dt.datetime) else v)
                     for k, v in row.items()} for row in item.rows]
            frames.append(prediction_frame(
                rows, item.predictions, model=self.model, version=self.version,
                latency_ms=item.latency_ms, probabilities=item.confidence,
                time=[item.time] * len(item.predictions), batch_id=item.batch_id))
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def _to_splunk(self, frame: Any) -> Any:
        from kepler_splunk.results import to_splunk

        return to_splunk(frame, index=self.index, sourcetype=self.sourcetype, source=self.source,
                         connection=self.connection, progress=False)

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
        left = self._queue.qsize()
        if left:
            lost = sum(len(i.predictions) for i in self._take())
            self.stats.dropped += lost
            log.warning("prediction log: %d prediction(s) still queued at shutdown were dropped",
                        lost)


def from_settings(settings: Any, model: Any) -> PredictionLog | None:
    """The prediction log the ``serve`` settings ask for, or None; checks that kepler-splunk is
    installed and HEC is configured before the server starts."""
    if not settings.log_to_splunk:
        return None
    from kepler.errors import ConfigError

    try:
        import kepler_splunk.predictions
        import kepler_splunk.results  # noqa: F401
    except ImportError as exc:
        raise ConfigError("serve.log_to_splunk is on, but kepler-splunk is not installed.",
                          hint="pip install 'kepler-serve[splunk]' (or kepler-splunk), or set "
                          "serve.log_to_splunk: false") from exc
    from kepler.config import load

    connection = load().section("splunk").connection(settings.connection)
    if connection.hec_token is None:
        raise ConfigError("serve.log_to_splunk is on, but no HEC token is configured.",
                          hint="Set splunk.hec_token (kepler secrets set hec-token, then "
                          "hec_token: ${secret:hec-token}) or KEPLER_SPLUNK__HEC_TOKEN.")
    return PredictionLog(model=model.name, version=model.version, index=settings.index,
                         sourcetype=settings.sourcetype, source=settings.source,
                         connection=settings.connection, capacity=settings.log_queue,
                         batch=settings.log_batch, interval=settings.log_interval)
