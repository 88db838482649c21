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




def _wait_for(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_writer_process_logs_each_prediction_once_and_outlives_its_child(classifier,
                                                                              tmp_path):
    """An installed sink is written from a process of its own; a child killed mid-way is
    replaced, and what it had not written is written by the next one."""
    import json
    import os
    import signal

    import pytest

    pytest.importorskip("kepler_audit", reason="the jsonl sink (kepler-audit) is missing")
    from kepler_serve.config import ServeSettings
    from kepler_serve.logproc import ProcessWriter
    from kepler_serve.predlog import from_settings

    path = tmp_path / "predictions.jsonl"
    settings = ServeSettings(log_sink="jsonl", log_sink_options={"path": str(path)},
                             log_interval=0.05)
    log = from_settings(settings, classifier)
    try:
        assert isinstance(log._writer, ProcessWriter)
        for i in range(5):
            log.submit([{"temperature": float(i)}], [i % 2], [0.75], 1.0)
        _wait_for(lambda: log.stats.sent == 5)
        os.kill(log._writer._process.pid, signal.SIGKILL)
        log._writer._process.join(10)
        for i in range(5, 9):
            log.submit([{"temperature": float(i)}, {"temperature": i + 0.5}], [1, 0],
                       [0.6, 0.9], 2.0)
        _wait_for(lambda: log.stats.sent == 13)
        assert log._writer.restarts == 1
    finally:
        log.close(timeout=10)
    events = [json.loads(line) for line in path.read_text().splitlines()]
    temperatures = sorted(e["features"]["temperature"] for e in events)
    assert temperatures == sorted([float(i) for i in range(9)] + [i + 0.5 for i in range(5, 9)])
    assert {e["model"] for e in events} == {classifier.name}
    assert log.stats.as_dict()["dropped"] == 0 and not log._writer._process.is_alive()


def test_log_writer_thread_keeps_the_sink_in_the_server(classifier, tmp_path):
    import pytest

    pytest.importorskip("kepler_audit", reason="the jsonl sink (kepler-audit) is missing")
    from kepler_serve.config import ServeSettings
    from kepler_serve.logproc import ProcessWriter
    from kepler_serve.predlog import from_settings

    settings = ServeSettings(log_sink="jsonl", log_writer="thread",
                             log_sink_options={"path": str(tmp_path / "p.jsonl")})
    log = from_settings(settings, classifier)
    try:
        assert not isinstance(log._writer, ProcessWriter)
    finally:
        log.close(timeout=5)
