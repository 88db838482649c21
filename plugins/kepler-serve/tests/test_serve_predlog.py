"""The prediction log's queue: in the background, bounded, never failing or slowing a
request; a writer that raises keeps its batch and tries again (Splunk HEC: test_serve_splunk)."""

from __future__ import annotations

import threading
import time


def test_the_queue_is_bounded_and_never_blocks():
    from kepler_serve.predlog import PredictionLog

    release = threading.Event()
    written = []

    def slow_writer(frame):
        release.wait(10)
        written.append(len(frame))
        return type("Report", (), {"sent": len(frame), "spooled": 0, "failed": []})()

    log = PredictionLog(model="m", version=1, capacity=3, interval=0.01, writer=slow_writer)
    try:
        accepted = []
        started = time.perf_counter()
        for _ in range(4):
            accepted.append(log.submit([{"x": 1.0}], [1], [0.9], 1.0))
        time.sleep(0.05)  # the writer takes what is queued, and blocks on Splunk
        for _ in range(6):
            accepted.append(log.submit([{"x": 1.0}], [1], [0.9], 1.0))
        assert time.perf_counter() - started < 0.5
        assert log.stats.dropped >= 3 and accepted.count(True) <= 7
    finally:
        release.set()
        log.close(timeout=5)
    assert sum(written) == log.stats.sent == log.stats.queued
    assert log.stats.queued + log.stats.dropped == 10


def test_a_writer_that_raises_is_counted_not_fatal():
    from kepler_serve.predlog import PredictionLog

    def broken(frame):
        raise RuntimeError("boom")

    log = PredictionLog(model="m", version=None, interval=0.01, writer=broken)
    assert log.submit([{"x": 1.0}], [0], None, 0.5)
    log.close(timeout=2)
    assert log.stats.failed == 1 and "boom" in log.stats.last_error


