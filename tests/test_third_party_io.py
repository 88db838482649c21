"""A third party's connector and sink, used by Kepler's own flows with no change to Kepler.

The plugin template (kepler-audit) provides the ``http-csv`` connector and the ``jsonl`` sink;
here they feed ``kepler train``, batch scoring (``kepler predict`` and
``kp.deploy.batch_score``) and the model server's prediction log (``serve.log_sink``), exactly as
a user with kepler-core, kepler-sklearn, kepler-serve and kepler-audit installed would use them.
Cross-distribution: this runs in the environment that has every distribution installed.
"""

from __future__ import annotations

import functools
import json
import threading
import warnings
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("kepler_audit")
pytest.importorskip("kepler_sklearn")
pytest.importorskip("kepler_serve")

FEATURES = ["pump", "temperature", "vibration", "flow"]


def pump_readings(rows: int, seed: int) -> pd.DataFrame:
    """Hourly readings of four pumps; a pump fails when hot and shaking."""
    rng = np.random.default_rng(seed)
    temperature = rng.normal(65, 8, rows).round(2)
    vibration = rng.gamma(2.0, 0.2, rows).round(3)
    return pd.DataFrame({
        "_time": pd.date_range("2026-01-01", periods=rows, freq="h", tz="UTC").strftime(
            "%Y-%m-%dT%H:%M:%SZ"),
        "pump": [f"pump-{i % 4 + 1:02d}" for i in range(rows)],
        "temperature": temperature,
        "vibration": vibration,
        "flow": rng.normal(95, 5, rows).round(1),
        "failure": ((temperature > 70) & (vibration > 0.4)).astype(int),
    })


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 publishing pumps.csv (training) and today.csv (to score);
    yields its base URL and is shut down after the test."""
    folder = tmp_path / "site"
    folder.mkdir()
    pump_readings(400, seed=1).to_csv(folder / "pumps.csv", index=False)
    pump_readings(24, seed=2).drop(columns=["failure"]).to_csv(folder / "today.csv",
                                                               index=False)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0),
                                functools.partial(_Quiet, directory=str(folder)))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def project(kepler_cli, tmp_path, monkeypatch) -> Path:
    assert kepler_cli("init", "plant").code == 0
    folder = tmp_path / "work" / "plant"
    monkeypatch.chdir(folder)
    return folder


def train(kepler_cli, url: str, *extra: str) -> dict:
    result = kepler_cli("train", "random_forest", "--connector", "http-csv", "--query",
                        f"{url}/pumps.csv", "--target", "failure", "--features",
                        ",".join(FEATURES), "--param", "n_estimators=15", "--name",
                        "pump-failure", "--json", *extra)
    assert result.code == 0, result.out + result.err
    return json.loads(result.out)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_kepler_train_reads_its_data_through_a_third_party_connector(project, site,
                                                                     kepler_cli):
    summary = train(kepler_cli, site, "--earliest", "2026-01-02T00:00:00Z")
    assert summary["name"] == "pump-failure"
    from kepler.api import load_model

    model = load_model("pump-failure")
    lineage = model.manifest.lineage
    assert lineage.source == "http-csv"
    assert lineage.details["url"] == f"{site}/pumps.csv"
    assert lineage.rows == 400 - 24  # the first day is before --earliest
    assert model.predict(pump_readings(5, seed=3)[FEATURES]).shape == (5,)


def test_a_connector_error_is_a_message_with_a_hint_not_a_traceback(project, site,
                                                                    kepler_cli):
    result = kepler_cli("train", "random_forest", "--connector", "http-csv", "--query",
                        f"{site}/missing.csv", "--target", "failure")
    assert result.code != 0
    text = result.out + result.err
    assert "answered HTTP 404" in text and "check the path" in text
    assert "Traceback" not in text


def test_kepler_predict_scores_a_connector_query_into_a_third_party_sink(project, site,
                                                                        kepler_cli):
    train(kepler_cli, site)
    out = project / "scores.jsonl"
    result = kepler_cli("predict", "pump-failure", "--connector", "http-csv", "--query",
                        f"{site}/today.csv", "--sink", "jsonl", "--sink-option",
                        f"path={out}", "--keep", "pump", "--json")
    assert result.code == 0, result.out + result.err
    summary = json.loads(result.out)
    assert summary["rows"] == 24 and str(out) in result.out  # any sink's report, as JSON
    events = read_jsonl(out)
    assert len(events) == 24
    today = pump_readings(24, seed=2)
    assert [e["features"]["temperature"] for e in events] == today["temperature"].tolist()
    assert {e["model"] for e in events} == {"pump-failure"}
    assert all(e["prediction"] in (0, 1) and 0 <= e["probability"] <= 1 for e in events)
    assert [e["pump"] for e in events] == today["pump"].tolist()
    # a second run appends: the sink never truncates what is there
    assert kepler_cli("predict", "pump-failure", "--connector", "http-csv", "--query",
                      f"{site}/today.csv", "--sink", "jsonl", "--sink-option",
                      f"path={out}").code == 0
    assert len(read_jsonl(out)) == 48


def test_batch_score_from_the_sdk_uses_the_same_connector_and_sink(project, site, kepler_cli):
    import kepler as kp

    train(kepler_cli, site)
    out = project / "sdk-scores.jsonl"
    report = kp.deploy.batch_score("pump-failure", query=f"{site}/today.csv",
                                   connector="http-csv", latest="2026-01-01T12:00:00Z",
                                   sink="jsonl", sink_options={"path": str(out)})
    assert report.rows == 12
    events = read_jsonl(out)
    assert len(events) == 12
    assert events[0]["features"]["pump"] == "pump-01"


def _client(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    return TestClient(app)


def test_the_model_servers_prediction_log_writes_through_a_third_party_sink(project, site,
                                                                           kepler_cli):
    from kepler_serve.server import build_app, load_model, settings_from_config

    train(kepler_cli, site)
    log = project / "predictions.jsonl"
    with (project / "kepler.yml").open("a", encoding="utf-8") as handle:
        handle.write(f"\nserve:\n  log_sink: jsonl\n  log_sink_options: {{path: {log}}}\n"
                     "  log_interval: 0.05\n")
    settings = settings_from_config()
    assert (settings.log_sink, settings.log_sink_options) == ("jsonl", {"path": str(log)})
    rows = pump_readings(5, seed=4)[FEATURES].to_dict("records")
    with _client(build_app(load_model("pump-failure"), settings)) as client:
        for row in rows[:2]:
            assert client.post("/predict", json={"instances": [row]}).status_code == 200
        answer = client.post("/predict", json={"instances": rows[2:]})
        assert answer.status_code == 200
    # leaving the client shuts the app down, which writes what is still queued
    events = read_jsonl(log)
    assert len(events) == 5
    assert [e["features"]["temperature"] for e in events] == [r["temperature"] for r in rows]
    assert [e["prediction"] for e in events[2:]] == answer.json()["predictions"]
    assert {e["model"] for e in events} == {"pump-failure"}


def test_the_prediction_log_sink_can_come_from_the_environment(project, site, kepler_cli,
                                                               monkeypatch):
    from kepler_serve.server import build_app, load_model, settings_from_config

    train(kepler_cli, site)
    log = project / "env-predictions.jsonl"
    monkeypatch.setenv("KEPLER_SERVE__LOG_SINK", "jsonl")
    monkeypatch.setenv("KEPLER_AUDIT__RESULTS_PATH", str(log))  # the sink's own default
    monkeypatch.setenv("KEPLER_SERVE__LOG_INTERVAL", "0.05")
    row = pump_readings(1, seed=5)[FEATURES].to_dict("records")[0]
    with _client(build_app(load_model("pump-failure"), settings_from_config())) as client:
        assert client.post("/predict", json={"instances": [row]}).status_code == 200
    [event] = read_jsonl(log)
    assert event["features"]["pump"] == row["pump"]
