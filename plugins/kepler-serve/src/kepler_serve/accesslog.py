"""The access log's handler: one JSON line per request on stderr, written in batches.

Under load, ``logging``'s stream handler costs a request more than its scoring on the compiled
path: a record object, a formatter pass, a lock and a ``write`` + ``flush`` system call per
line. :class:`AccessLogHandler` keeps ``kepler_serve.access`` a normal logger (other handlers,
levels and filters still work), but when it is the logger's only handler the server hands it
the encoded line straight away (:meth:`AccessLogHandler.write_line`). Under light traffic each
line is written at once; under load lines reach the stream together, within ``interval``
(0.2 s, a timer thread writes what waits), and all of them at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
from typing import Any, TextIO

#: Seconds a line may wait for the lines after it.
INTERVAL = 0.2
#: Lines an interval written one by one (light traffic) before batching starts.
IMMEDIATE = 20
#: Lines written together at most.
MAX_LINES = 512


class AccessLogHandler(logging.Handler):
    """Access lines to ``stream``, batched (see the module's docstring)."""

    def __init__(self, stream: TextIO, interval: float = INTERVAL,
                 max_lines: int = MAX_LINES) -> None:
        super().__init__()
        self.stream = stream
        self.interval = interval
        self.max_lines = max_lines
        self._lines: list[bytes] = []
        self._last = self._window = time.monotonic()
        self._count = 0  # lines since the window started
        self._buffer = threading.Lock()
        self._timer = threading.Thread(target=self._tick, name="kepler-access-log",
                                       daemon=True)
        self._timer.start()
        atexit.register(self.flush)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write_line(self.format(record).encode())
        except Exception:
            self.handleError(record)

    def write_line(self, line: bytes) -> None:
        """Queue one encoded line (no newline); write the queue when it is due: at once while
        traffic is light (up to ``IMMEDIATE`` lines an interval), so ``kepler deploy logs``
        shows a request as soon as it is answered; batched beyond."""
        now = time.monotonic()
        with self._buffer:
            self._lines.append(line)
            if now - self._window >= self.interval:
                self._window, self._count = now, 0
            self._count += 1
            due = self._count <= IMMEDIATE or len(self._lines) >= self.max_lines or \
                now - self._last >= self.interval
        if due:
            self.flush()

    def flush(self) -> None:
        with self._buffer:
            lines, self._lines = self._lines, []
            self._last = time.monotonic()
        if not lines:
            return
        data = b"\n".join(lines) + b"\n"
        # a closed or broken stderr must not fail a request (the lines are lost, as logging's
        # own handlers lose them)
        with contextlib.suppress(OSError, ValueError):
            buffer: Any = getattr(self.stream, "buffer", None)
            if buffer is not None:
                buffer.write(data)
            else:
                self.stream.write(data.decode())
            self.stream.flush()

    def _tick(self) -> None:
        while True:
            time.sleep(self.interval)
            if self._lines:
                self.flush()


def fast_handler(logger: logging.Logger) -> AccessLogHandler | None:
    """The handler to give lines straight to, when ``logger`` logs INFO through nothing but
    one :class:`AccessLogHandler` (no filters, no propagation); else None (then the server
    logs through ``logger`` as usual)."""
    handlers = logger.handlers
    if len(handlers) != 1 or not isinstance(handlers[0], AccessLogHandler) or \
            logger.filters or handlers[0].filters or logger.propagate or \
            not logger.isEnabledFor(logging.INFO):
        return None
    return handlers[0]
