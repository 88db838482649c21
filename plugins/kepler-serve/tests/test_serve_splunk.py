"""kepler-serve with Splunk: batch scoring from SPL to HEC, pipelines to Splunk, the prediction
log to HEC (spooled while Splunk is down), a container lock with kepler-splunk. These need
kepler-splunk and its test server (kepler-splunk-testing); kepler-serve alone skips them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import kepler as kp
import pandas as pd
import pytest
from serve_helpers import asgi_client, fake_wheels, free_port, instance

pytest.importorskip("kepler_splunk", reason="kepler-splunk is not installed")


@pytest.fixture
def registered(project, artifacts, sensors):
    kp.models.load(artifacts["classifier"]).save()
    rows = sensors.drop(columns=["failure"]).head(40).copy()
    rows["asset_id"] = [f"P-{i % 4}" for i in range(len(rows))]
    rows.to_parquet(project / "new.parquet")
    return project


@pytest.fixture
def splunk(splunk_server, monkeypatch, registered, sensors):
    """The test server with index pumps (the rows to score) and predictions; Kepler points at
    it through environment variables."""
    rows = pd.read_parquet(registered / "new.parquet")
    splunk_server.add_index("pumps", rows)
    splunk_server.add_index("predictions")
    for key, value in {"HOST": splunk_server.host, "PORT": str(splunk_server.port),
                       "SCHEME": splunk_server.scheme, "TOKEN": splunk_server.token,
                       "HEC_URL": splunk_server.hec_url, "HEC_TOKEN": splunk_server.hec_token,
                       "HEC_BACKOFF": "0.01"}.items():
        monkeypatch.setenv(f"KEPLER_SPLUNK__{key}", value)
    return splunk_server


def test_predict_spl_results_to_splunk(splunk, kepler_cli):
    result = kepler_cli("predict", "pump-failure:1", "--spl", "search index=pumps",
                        "--earliest", "2025-12-01T00:00:00Z", "--latest", "now", "--to-splunk",
                        "--index", "predictions", "--keep", "asset_id", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["rows"] == 40 and report["written"]["sent"] == 40
    assert report["destination"] == "splunk:predictions"
    events = splunk.hec_events(index="predictions")
    assert len(events) == 40
    event = events[0]["event"]
    assert event["model"] == "pump-failure" and event["model_version"] == "1"
    assert event["prediction"] in (0, 1) and 0 <= event["probability"] <= 1
    assert event["asset_id"].startswith("P-") and "temperature" in event["features"]
    assert events[0]["time"] >= pd.Timestamp("2026-01-01", tz="UTC").timestamp()


PIPELINES = """
pipelines:
  nightly-file:
    model: pump-failure
    input: new.parquet
    schedule: "30 2 * * *"
    destination: {type: file, path: out/nightly.csv}
  hourly-splunk:
    model: pump-failure:1
    spl: search index=pumps
    earliest: "2025-12-01T00:00:00Z"
    keep: [asset_id]
    schedule: "@hourly"
    destination: {type: splunk, index: predictions}
  adhoc:
    model: pump-failure
    input: new.parquet
    destination: {type: file, path: out/adhoc.jsonl}
"""


def test_pipelines_list_run_and_cron(splunk, registered, kepler_cli):
    with (registered / "kepler.yml").open("a") as handle:
        handle.write(PIPELINES)
    listed = kepler_cli("pipeline", "list")
    assert listed.code == 0, listed.err
    assert "nightly-file" in listed.out and "splunk:predictions" in listed.out
    ran = kepler_cli("pipeline", "run", "nightly-file")
    assert ran.code == 0, ran.err
    assert len(pd.read_csv(registered / "out" / "nightly.csv")) == 40
    ran = kepler_cli("pipeline", "run", "hourly-splunk", "--json")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["written"]["sent"] == 40
    assert len(splunk.hec_events(index="predictions")) == 40
    cron = kepler_cli("pipeline", "cron")
    lines = cron.out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("30 2 * * * cd ")
    assert "pipeline run hourly-splunk" in lines[1] and lines[1].startswith("@hourly ")
    missing = kepler_cli("pipeline", "run", "nightly")
    assert missing.code == 1 and "Did you mean 'nightly-file'" in missing.err


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


def test_every_prediction_reaches_hec_in_the_dashboard_shape(hec, timed_classifier):
    """(A model with a datetime feature, _time: logged as ISO 8601.)"""
    client, log = _client(timed_classifier)
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
    assert hot["model"] == "pump-failure-timed" and hot.get("model_version") is None
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


def test_logging_needs_a_hec_token(classifier, monkeypatch):
    from kepler.api import ConfigError
    from kepler_serve.config import ServeSettings
    from kepler_serve.predlog import from_settings

    with pytest.raises(ConfigError, match="no HEC token"):
        from_settings(ServeSettings(log_to_splunk=True), classifier)
    assert from_settings(ServeSettings(), classifier) is None


def test_kepler_serve_honours_port_and_stops_gracefully_sending_queued_predictions(
        artifacts, splunk_server, tmp_path):
    splunk_server.add_index("served")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "KEPLER_SERVE__LOG_TO_SPLUNK": "true",
           "KEPLER_SERVE__INDEX": "served", "KEPLER_SERVE__LOG_INTERVAL": "600",
           "KEPLER_SPLUNK__HEC_URL": splunk_server.hec_url,
           "KEPLER_SPLUNK__HEC_TOKEN": splunk_server.hec_token,
           "KEPLER_SPLUNK__SPOOL_DIR": str(tmp_path / "spool")}
    kepler = Path(sys.executable).parent / "kepler"
    process = subprocess.Popen([str(kepler), "serve", str(artifacts["classifier"])], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/ready", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        body = json.dumps({"instances": [instance(), instance(temperature=77.0)]}).encode()
        request = urllib.request.Request(f"{url}/predict", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert len(json.loads(reply.read())["predictions"]) == 2
        assert splunk_server.hec_events(index="served") == []  # queued, interval not reached
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 0, output
    assert f"at http://127.0.0.1:{port}" in output and "scoring path: fast" in output
    assert "Shutting down" in output
    events = splunk_server.hec_events(index="served")
    assert len(events) == 2 and {e["event"]["model"] for e in events} == {"pump-failure"}


def test_prediction_logging_adds_kepler_splunk_to_the_lock(registered, monkeypatch):
    fake_wheels(monkeypatch)
    context = kp.deploy.build("pump-failure", "ctx", target="local", splunk=True)
    lock = (context / "requirements.lock").read_text()
    assert "kepler_splunk-" in lock and "splunk-sdk==" in lock
