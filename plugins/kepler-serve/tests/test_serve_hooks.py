"""Data in and out through the connector and sink hooks: batch scoring, pipelines and the
prediction log work with a connector and a sink no Kepler distribution provides (registered
in-process), with no Splunk anywhere."""

from __future__ import annotations

import json

import kepler as kp
import pytest
from serve_helpers import MemoryConnector, MemorySink, asgi_client, instance, memory_plugin


@pytest.fixture
def memory(kepler_plugin):
    return memory_plugin(kepler_plugin)


@pytest.fixture
def registered(project, artifacts, sensors, memory):
    kp.models.load(artifacts["classifier"]).save()
    rows = sensors.drop(columns=["failure"]).head(30).copy()
    rows["asset_id"] = [f"P-{i % 3}" for i in range(len(rows))]
    MemoryConnector.tables["pumps"] = rows
    return project


def test_batch_score_reads_through_a_connector_and_writes_through_a_sink(registered, memory,
                                                                         classifier):
    report = kp.deploy.batch_score("pump-failure", query="pumps", connector="memory",
                                   earliest="-1h", sink="memory", sink_options={"tag": "x"},
                                   keep=["asset_id"])
    assert MemoryConnector.calls == [("pumps", {"earliest": "-1h"})]
    [(frame, options)] = MemorySink.written
    assert options == {"tag": "x"}
    rows = MemoryConnector.tables["pumps"]
    assert frame["prediction"].tolist() == classifier.predict(rows).tolist()
    assert set(frame["model"]) == {"pump-failure"} and set(frame["model_version"]) == {"1"}
    assert frame["asset_id"].tolist() == rows["asset_id"].tolist()
    assert frame["features"][0]["temperature"] == rows["temperature"].iloc[0]
    assert ((frame["probability"] >= 0) & (frame["probability"] <= 1)).all()
    assert report.rows == 30 and report.destination == "sink:memory"
    assert report.written == {"rows": 30}
    [event] = memory.events
    assert event.model == "pump-failure" and event.rows == 30
    assert event.destination == "sink:memory"


def test_kepler_predict_connector_query_sink_and_sink_options(registered, kepler_cli):
    result = kepler_cli("predict", "pump-failure", "--connector", "memory", "--query", "pumps",
                        "--sink", "memory", "--sink-option", "index=scores",
                        "--sink-option", "limit=5", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["destination"] == "sink:memory"
    [(frame, options)] = MemorySink.written
    assert options == {"index": "scores", "limit": 5} and len(frame) == 30


def test_kepler_predict_refuses_options_that_mean_nothing(registered, kepler_cli):
    assert kepler_cli("predict", "pump-failure", "--query", "pumps", "--input",
                      "x.csv").code == 2
    assert kepler_cli("predict", "pump-failure", "--connector", "memory").code == 2
    assert kepler_cli("predict", "pump-failure", "--query", "pumps", "--connector", "memory",
                      "--sink-option", "a=1").code == 2
    assert kepler_cli("predict", "pump-failure", "--query", "pumps", "--connector", "memory",
                      "--sink", "memory", "--output", "out.csv").code == 2
    assert MemorySink.written == []


def test_an_unknown_sink_names_what_is_installed(registered):
    with pytest.raises(kp.KeplerError, match="sink 'nowhere'") as caught:
        kp.deploy.batch_score("pump-failure", query="pumps", connector="memory",
                              sink="nowhere")
    assert "memory" in (caught.value.hint or "")


def test_a_pipeline_with_a_connector_and_a_sink(registered, kepler_cli):
    with (registered / "kepler.yml").open("a") as handle:
        handle.write("pipelines:\n"
                     "  scores:\n"
                     "    model: pump-failure\n"
                     "    connector: memory\n"
                     "    query: pumps\n"
                     "    keep: [asset_id]\n"
                     "    destination: {sink: memory, options: {index: nightly}}\n")
    listed = kepler_cli("pipeline", "list")
    assert listed.code == 0, listed.err
    assert "memory: pumps" in listed.out and "sink:memory" in listed.out
    ran = kepler_cli("pipeline", "run", "scores", "--json")
    assert ran.code == 0, ran.err
    [(frame, options)] = MemorySink.written
    assert options == {"index": "nightly"} and "asset_id" in frame.columns


def test_a_pipeline_needs_one_source_and_sink_or_type(registered, kepler_cli):
    with (registered / "kepler.yml").open("a") as handle:
        handle.write("pipelines:\n  broken:\n    model: pump-failure\n    query: pumps\n"
                     "    spl: search x\n    destination: {sink: memory, type: file}\n")
    result = kepler_cli("pipeline", "run", "broken")
    assert result.code == 3 and "pipelines.broken" in result.err


def _served(model, **settings):
    from kepler_serve.app import create_app
    from kepler_serve.config import ServeSettings
    from kepler_serve.predlog import from_settings

    options = ServeSettings(log_sink="memory", log_interval=0.01, **settings)
    log = from_settings(options, model)
    return asgi_client(create_app(model, options, prediction_log=log)), log


def test_the_prediction_log_writes_through_any_sink(memory, classifier):
    client, log = _served(classifier, log_sink_options={"path": "preds.jsonl"})
    with client:
        for temperature in (60.0, 81.0):
            reply = client.post("/predict", json={"instances": [instance(
                temperature=temperature)]})
            assert reply.status_code == 200
    frames = [frame for frame, _ in MemorySink.written]
    assert {o["path"] for _, o in MemorySink.written} == {"preds.jsonl"}
    events = [row for frame in frames for row in frame.to_dict("records")]
    assert sorted(e["features"]["temperature"] for e in events) == [60.0, 81.0]
    assert {e["model"] for e in events} == {"pump-failure"}
    assert all(0 <= e["probability"] <= 1 and e["latency_ms"] >= 0 for e in events)
    assert log.stats.sent == 2 and log.stats.failed == 0


def test_a_sink_that_raises_loses_no_prediction(memory, classifier):
    MemorySink.failures = 2  # down for two writes, then back
    client, log = _served(classifier)
    with client:
        for _ in range(3):
            assert client.post("/predict", json={"instances": [instance()]}).status_code == 200
    written = sum(len(frame) for frame, _ in MemorySink.written)
    assert written == 3 and log.stats.sent == 3
    assert log.stats.failed == 0 and log.stats.dropped == 0
    assert "memory sink is down" in (log.stats.last_error or "")


def test_a_log_sink_that_is_not_installed_stops_the_server_before_it_starts(classifier):
    from kepler_serve.config import ServeSettings
    from kepler_serve.predlog import from_settings

    with pytest.raises(kp.KeplerError, match="sink 'nowhere'"):
        from_settings(ServeSettings(log_sink="nowhere"), classifier)
    assert from_settings(ServeSettings(), classifier) is None
