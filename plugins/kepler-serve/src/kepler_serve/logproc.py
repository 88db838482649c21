"""The prediction log's sink, written from a process of its own.

A writer thread in the server shares the interpreter with the requests: under load, every
millisecond it spends shaping events and encoding them for the sink is a millisecond a request
waits for the interpreter, and the waits bunch up (measured: p99 from 3 ms to 60-200 ms at a
few thousand predictions per second). :class:`ProcessWriter` moves that work out: the server's
writer thread encodes a batch once (one ``orjson.dumps``, in C) and sends the bytes through a
pipe; a child process builds the event frame and calls the sink, and answers with what the
sink reported. The parent keeps the batch until the answer comes, so a sink that raises (or a
child that dies) loses nothing: the batch is retried as with a writer in the server.

The child builds its sink from the sink's name and options with its own configuration (the
same environment and working folder), so this mode is for sinks installed as plugins; the
server falls back to a writer thread for anything else.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

#: How long the server waits for the child to build its sink before giving up on this mode.
START_TIMEOUT = 120.0
#: How long one batch may take in the child (sinks retry and spool on their own).
WRITE_TIMEOUT = 600.0


class WriterProcessError(RuntimeError):
    """The child could not write a batch (its sink raised, or the child is gone)."""


@dataclass
class ChildReport:
    """What the child's sink reported for one batch (the fields the prediction log counts)."""

    sent: int
    spooled: int
    failed: int


class ProcessWriter:
    """A sink's ``write`` running in a child process, for :class:`PredictionLog`."""

    def __init__(self, sink: str, options: dict[str, Any], *, model: str,
                 version: str | None, plain_rows: bool) -> None:
        self._args = (sink, options, model, version, plain_rows)
        self._lock = threading.Lock()
        self.restarts = 0
        self._start()

    def _start(self) -> None:
        """Start the child and wait until its sink is built (raises when it cannot be)."""
        context = multiprocessing.get_context("spawn")  # no fork of a threaded server
        self._conn, child = context.Pipe()
        self._process = context.Process(target=child_main, args=(child, *self._args),
                                        name="kepler-prediction-log-writer", daemon=True)
        self._process.start()
        child.close()
        if not self._conn.poll(START_TIMEOUT):
            self.close()
            raise WriterProcessError("the prediction log's writer process did not start")
        answer = self._answer()
        if "error" in answer:
            self.close()
            raise WriterProcessError(answer["error"])

    def _answer(self) -> dict[str, Any]:
        import orjson

        try:
            answer: dict[str, Any] = orjson.loads(self._conn.recv_bytes())
        except (EOFError, OSError) as exc:
            raise WriterProcessError(f"the writer process is gone ({exc})") from exc
        return answer

    def write_items(self, items: list[Any]) -> ChildReport:
        """Send one batch and wait for the child's report (raises when it failed)."""
        import orjson

        blob = orjson.dumps([[i.rows, i.predictions, i.confidence, i.latency_ms, i.time,
                              i.batch_id] for i in items],
                            option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NAIVE_UTC,
                            default=str)
        with self._lock:
            if not self._process.is_alive():  # killed, or out of memory: a new one
                log.warning("prediction log: the writer process ended (exit code %s); "
                            "starting another", self._process.exitcode)
                self._conn.close()
                self.restarts += 1
                self._start()
            self._conn.send_bytes(blob)
            if not self._conn.poll(WRITE_TIMEOUT):
                raise WriterProcessError(f"no answer from the writer in {WRITE_TIMEOUT:.0f} s")
            answer = self._answer()
        if "error" in answer:
            raise WriterProcessError(answer["error"])
        return ChildReport(answer["sent"], answer["spooled"], answer["failed"])

    def close(self) -> None:
        """End the child: closing the pipe is its signal to exit."""
        self._conn.close()
        self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)


def child_main(conn: Any, sink_name: str, options: dict[str, Any], model: str,
               version: str | None, plain_rows: bool) -> None:
    """The child: build the sink, then write each batch the pipe brings until it closes."""
    import os

    import orjson

    # a session of its own: Ctrl-C or a SIGTERM sent to the server's process group must not
    # end the child before the server has handed over what is still queued
    os.setsid()

    try:
        from kepler.api import load_config, sink

        target = sink(sink_name, config=load_config())
        from .predlog import _Item, event_frame

        # pandas imported now, before the server answers, not under the first load of
        # predictions (over half a second of CPU on this machine, taken from the workers)
        event_frame([], model=model, version=version, plain_rows=plain_rows)
    except Exception as exc:  # the parent says why and writes from a thread instead
        conn.send_bytes(orjson.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return
    conn.send_bytes(b'{"ready":true}')
    while True:
        try:
            blob = conn.recv_bytes()
        except (EOFError, OSError):
            return  # the server is gone or closed the log
        items = [_Item(*fields) for fields in orjson.loads(blob)]
        try:
            report = target.write(event_frame(items, model=model, version=version,
                                              plain_rows=plain_rows), **options)
            failed = getattr(report, "failed", [])
            answer = {"sent": int(getattr(report, "sent", sum(len(i.predictions)
                                                                 for i in items))),
                      "spooled": int(getattr(report, "spooled", 0)),
                      "failed": len(failed) if isinstance(failed, list) else int(failed or 0)}
        except Exception as exc:  # the parent keeps the batch and retries
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        conn.send_bytes(orjson.dumps(answer))
