"""The access log's batched handler: every line arrives, at once under light traffic, within
the interval under load; the server bypasses logging only when nothing else listens."""

from __future__ import annotations

import io
import logging
import time

from kepler_serve.accesslog import IMMEDIATE, AccessLogHandler, fast_handler


class Stream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_light_traffic_is_written_at_once_a_burst_in_batches():
    stream = Stream()
    handler = AccessLogHandler(stream, interval=0.2)
    for i in range(IMMEDIATE):
        handler.write_line(b'{"n":%d}' % i)
    assert stream.getvalue().count("\n") == IMMEDIATE and stream.writes == IMMEDIATE
    for i in range(IMMEDIATE, 1000):
        handler.write_line(b'{"n":%d}' % i)
    assert stream.writes < 100  # batched
    time.sleep(0.5)  # the timer writes what waits
    lines = stream.getvalue().splitlines()
    assert lines == [f'{{"n":{i}}}' for i in range(1000)]


def test_the_server_writes_straight_only_to_its_own_sole_handler():
    logger = logging.getLogger("kepler_serve.access.test")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = AccessLogHandler(Stream())
    logger.addHandler(handler)
    try:
        assert fast_handler(logger) is handler
        extra = logging.StreamHandler(io.StringIO())
        logger.addHandler(extra)
        assert fast_handler(logger) is None  # someone else listens: log records
        logger.removeHandler(extra)
        logger.setLevel(logging.WARNING)
        assert fast_handler(logger) is None
    finally:
        logger.removeHandler(handler)
