"""``kp.results``: send what a model predicted back into Splunk, where people already look.

Example::

    import kepler as kp
    report = kp.results.to_splunk(predictions, index="ml_predictions", sourcetype="_json",
                                  fields=["asset_id"])
    report.sent, report.failed, report.spooled

    kp.results.metrics_to_splunk(df, metrics=["temperature", "vibration"],
                                 dimensions=["asset_id"], index="plant_metrics")
    kp.results.flush()          # deliver what was spooled while Splunk was unreachable
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from typing import Any

from .config import SplunkConnection
from .hec_events import Batch, Metadata, event_batches, metric_batches
from .hec_writer import HecError, HecWriter, WriteReport, hec_client, send_all
from .spool import Spool, spool_dir

log = logging.getLogger(__name__)


def _settings(connection: str | None) -> tuple[SplunkConnection, Spool]:
    from kepler.api import load_config as load

    section = load().section("splunk")
    return section.connection(connection), Spool(spool_dir(section.spool_dir))


def _spooler(spool: Spool, meta: dict[str, Any]) -> Any:
    """Spool an undelivered batch with its write id and target, so a flush can resend it."""

    def put(batch: Batch, reason: str) -> None:
        spool.put(batch.lines, {**meta, **batch.tag, "rows": len(batch.rows),
                                "row_numbers": list(batch.rows), "reason": reason})
    return put


def _progress(enabled: bool | None, total: int) -> Any:
    from .progress import Progress

    bar = Progress(enabled, label="hec")
    bar.fetching(total)
    return bar


class HecSession:
    """What consecutive writes to one Splunk connection share: its settings and spool, read
    from the configuration once, and one HTTP client whose kept-alive connections (TLS
    handshake included) serve every write. A long-lived sink, such as a model server's
    prediction log writing every second, holds one; ``to_splunk`` alone opens and closes its
    own each time. Thread-safe; :meth:`close` ends the client."""

    def __init__(self, connection: str | None = None) -> None:
        self.connection = connection
        self._lock = threading.Lock()
        self._state: tuple[SplunkConnection, Spool, Any] | None = None

    def resolve(self) -> tuple[SplunkConnection, Spool, Any]:
        """The connection settings, the spool and the shared client (made on first use)."""
        with self._lock:
            if self._state is None:
                conn, spool = _settings(self.connection)
                self._state = (conn, spool, hec_client(conn))
            return self._state

    def close(self) -> None:
        with self._lock:
            state, self._state = self._state, None
        if state is not None:
            state[2].close()


def _write(frame: Any, *, connection: str | None, ack: bool | None, progress: bool | None,
           meta: Metadata, metrics: Sequence[str] | None = None,
           session: HecSession | None = None, **encode: Any) -> WriteReport:
    if session is not None:
        conn, spool, client = session.resolve()
        connection = session.connection
    else:
        (conn, spool), client = _settings(connection), None
    flushed = flush(connection=connection, progress=False) if spool.files() else None
    write_id = uuid.uuid4().hex[:12]
    bar = _progress(progress, len(frame))
    writer = HecWriter(conn, ack=ack,
                       on_undelivered=_spooler(spool, {"write_id": write_id, **meta.as_dict()}),
                       on_progress=bar.advance, client=client)
    try:
        if metrics is not None:
            parts = metric_batches(frame, write_id=write_id, meta=meta,
                                   limit=conn.hec_batch_bytes, metrics=metrics, **encode)
        else:
            parts = event_batches(frame, write_id=write_id, meta=meta,
                                  limit=conn.hec_batch_bytes, **encode)
        report = send_all(writer, parts)
    finally:
        bar.close()
    report.rows = len(frame)
    report.write_id = write_id
    if flushed is not None:
        report.flushed = flushed.sent
    if report.spooled:
        log.warning("%d row(s) spooled in %s; they go out with the next write or 'kepler "
                    "results flush'", report.spooled, spool.folder)
    return report


def to_splunk(
    df: Any,
    index: str | None = None,
    sourcetype: str | None = "_json",
    source: str | None = "kepler",
    host: str | None = None,
    time_field: str | None = None,
    fields: Sequence[str] | None = None,
    ack: bool | None = None,
    *,
    connection: str | None = None,
    progress: bool | None = None,
    session: HecSession | None = None,
) -> WriteReport:
    """Write each row of ``df`` as one HEC event; return what happened to every row.

    ``time_field`` (or a ``_time`` column) sets each event's time; ``fields`` become indexed
    fields (searchable as ``field::value`` and with ``tstats``). ``ack=True`` uses indexer
    acknowledgement (default: ``splunk.hec_ack``). Every event carries ``kepler_row_id``.
    Rows Splunk cannot take now are spooled on disk and delivered by the next write or
    :func:`flush`; rows it can never take are listed in ``report.failed`` with its reason.
    ``session`` (a :class:`HecSession`, whose connection then applies) keeps the settings and
    the HTTP connections from one write to the next.
    """
    meta = Metadata(index=index, sourcetype=sourcetype, source=source, host=host)
    return _write(df, connection=connection, ack=ack, progress=progress, meta=meta,
                  time_field=time_field, fields=fields, session=session)


def metrics_to_splunk(
    df: Any,
    metrics: Sequence[str],
    dimensions: Sequence[str] = (),
    index: str | None = None,
    time_field: str | None = None,
    *,
    sourcetype: str | None = None,
    source: str | None = "kepler",
    host: str | None = None,
    ack: bool | None = None,
    connection: str | None = None,
    progress: bool | None = None,
    session: HecSession | None = None,
) -> WriteReport:
    """Write metric data points (HEC's multiple-measurement format) to a metrics index: one
    point per row with every column of ``metrics`` as a measurement and ``dimensions`` as its
    dimensions. ``session``: as for :func:`to_splunk`."""
    meta = Metadata(index=index, sourcetype=sourcetype, source=source, host=host)
    return _write(df, connection=connection, ack=ack, progress=progress, meta=meta,
                  time_field=time_field, metrics=list(metrics), dimensions=list(dimensions),
                  session=session)


def flush(connection: str | None = None, index: str | None = None,
          progress: bool | None = None) -> WriteReport:
    """Deliver the spooled batches, oldest first. What Splunk still cannot take is spooled again;
    the files read are removed only after that, so a crash mid-flush loses nothing (at worst
    some rows are delivered twice, each with its ``kepler_row_id``). ``index`` sends them to
    another index (after an 'incorrect index' error)."""
    import orjson

    conn, spool = _settings(connection)
    report = WriteReport(ack=conn.hec_ack)
    with spool.locked():
        files = spool.files()
        if not files:
            return report
        spooled = [spool.read(path) for path in files]
        total = sum(len(s.lines) for s in spooled)
        to_send = []
        for item in spooled:
            lines = item.lines
            if index is not None:
                lines = [orjson.dumps({**orjson.loads(line), "index": index}) for line in lines]
            tag = {k: v for k, v in item.meta.items() if k in {"write_id", "index", "sourcetype",
                                                               "source", "host"}}
            if index is not None:
                tag["index"] = index
            numbers = item.meta.get("row_numbers")
            if not isinstance(numbers, list) or len(numbers) != len(lines):
                numbers = list(range(len(lines)))
            to_send.append(Batch.of(numbers, lines, tag))
        bar = _progress(progress, total)
        writer = HecWriter(conn, on_undelivered=_spooler(spool, {}), on_progress=bar.advance)
        try:
            report = send_all(writer, to_send)
        except HecError:
            _forget(spooled)  # every batch went out, failed, or was spooled anew
            raise
        finally:
            bar.close()
        _forget(spooled)
        report.rows = total
        report.flushed = report.sent
    if report.spooled:
        log.warning("%d row(s) still spooled: Splunk is not taking them yet", report.spooled)
    return report


def _forget(spooled: list[Any]) -> None:
    for item in spooled:
        item.path.unlink(missing_ok=True)


def spooled_rows(connection: str | None = None) -> int:
    """Rows waiting in the spool."""
    return _settings(connection)[1].rows()
