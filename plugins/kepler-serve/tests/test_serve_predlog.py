"""Prediction logging to Splunk HEC: in the background, bounded, never failing or slowing a
request, spooled while Splunk is down and delivered once it is back."""

from __future__ import annotations

import threading
import time

import pytest
from serve_helpers import asgi_client, free_port, instance

INDEX = "ml_predictions"


@pytest.fixture
def hec(splunk_server, monkeypatch, tmp_path):
    """Kepler pointed at the test server's HEC, retrying quickly, spooling under tmp_path."""
    splunk_server.add_index(INDEX)
    for key, value in {"HOST": splunk_server.host, "PORT": str(splunk_server.port),
                       "SCHEME": splunk_server.scheme, "TOKEN": splunk_server.token,
                       "HEC_URL": splunk_server.hec_url, "HEC_TOKEN": splunk_server.hec_token,
                       "HEC_BACKOFF": "0.01", "HEC_MAX_RETRIES": "1",
                       "HEC_TIMEOUT": "2", "SPOOL_DIR": str(tmp_path / "spool")}.items():
        monkeypatch.setenv(f"KEPLER_SPLUNK__{key}", value)
    return splunk_server


def _client(model, **settings):
    from kepler_serve.app import create_app
    from kepler_serve.config import ServeSettings
    from kepler_serve.predlog import from_settings

    options = ServeSettings(log_to_splunk=True, index=INDEX, log_interval=0.05, **settings)
    log = from_settings(options, model)
    return asgi_client(create_app(model, options, prediction_log=log)), log


def test_every_prediction_reaches_hec_in_the_dashboard_shape(hec, classifier):
    client, log = _client(classifier)
    rows = [instance(), instance(temperature=81.0, vibration=1.1),
            instance(temperature=70.0, flow=None)]
    with client:
        for row in rows[:2]:
            assert client.post("/predict", json={"instances": [row]}).status_code == 200
        assert client.post("/predict", json={"instances": rows[2:]}).status_code == 200
        serving = client.get("/metadata").json()["serving"]
        assert serving["prediction_log"]["queued"] == 3
    # leaving the client shuts the app down: what was queued is sent
    events = hec.hec_events(index=INDEX)
    assert len(events) == 3
    by_temperature = {e["event"]["features"]["temperature"]: e["event"] for e in events}
    hot = by_temperature[81.0]
    assert hot["model"] == "pump-failure" and hot.get("model_version") is None
    assert hot["prediction"] in (0, 1) and 0 <= hot["probability"] <= 1
    assert hot["latency_ms"] >= 0 and hot["batch_id"]
    assert hot["features"]["pump"] == "pump-02"
    assert hot["features"]["_time"].startswith("2026-01-05T10:00:00")
    assert by_temperature[70.0]["features"].get("flow") is None
    assert events[0]["sourcetype"] == "_json" and events[0]["source"] == "kepler-serve"
    assert log.stats.sent == 3 and log.stats.dropped == 0


def test_a_failing_hec_spools_without_failing_or_slowing_requests(hec, classifier, tmp_path):
    import kepler as kp

    hec.hec_faults(busy_rate=1.0)  # every event request: 503 "Server is busy"
    client, log = _client(classifier)
    with client:
        started = time.perf_counter()
        for _ in range(5):
            assert client.post("/predict", json={"instances": [instance()]}).status_code == 200
        assert time.perf_counter() - started < 2.0
    assert hec.hec_events(index=INDEX) == []
    assert log.stats.spooled == 5 and log.stats.sent == 0
    assert "spooled" in (log.stats.last_error or "")
    assert list((tmp_path / "spool").glob("*.hec"))
    hec.hec_faults()  # Splunk is back: the spool goes out
    report = kp.results.flush(progress=False)
    assert report.sent == 5
    assert len(hec.hec_events(index=INDEX)) == 5


def test_a_stopped_hec_spools_too(hec, classifier, monkeypatch, tmp_path):
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_URL", f"http://127.0.0.1:{free_port()}")
    client, log = _client(classifier)
    with client:
        for _ in range(3):
            assert client.post("/predict", json={"instances": [instance()]}).status_code == 200
    assert log.stats.spooled == 3 and log.stats.failed == 0
    assert list((tmp_path / "spool").glob("*.hec"))


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


def test_logging_needs_a_hec_token(classifier, monkeypatch):
    from kepler.errors import ConfigError
    from kepler_serve.config import ServeSettings
    from kepler_serve.predlog import from_settings

    with pytest.raises(ConfigError, match="no HEC token"):
        from_settings(ServeSettings(log_to_splunk=True), classifier)
    assert from_settings(ServeSettings(), classifier) is None
