"""kp.results.to_splunk / metrics_to_splunk / flush against the test server's HEC."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import kepler as kp
import numpy as np
import pandas as pd
import pytest
from kepler_splunk.hec_writer import HecError
from splunk_helpers import point_kepler_at

NOW = datetime.now(UTC).replace(microsecond=0)


def predictions(count: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "_time": [NOW - timedelta(seconds=count - i) for i in range(count)],
        "asset_id": [f"P-{i % 5}" for i in range(count)],
        "temperature": rng.normal(60, 5, count).round(2),
        "prediction": rng.integers(0, 2, count),
        "probability": rng.random(count).round(3),
        "status": ["running"] * count,
    })


def spooled_files():
    from kepler_splunk.spool import spool_dir

    return list(spool_dir().glob("*.hec"))


def row_ids(events):
    return [e["fields"]["kepler_row_id"] for e in events]


@pytest.fixture
def hec(splunk, monkeypatch):
    splunk.add_index("ml_predictions")
    return splunk


def test_rows_become_events_with_time_fields_and_row_ids(hec):
    frame = predictions(50)
    frame.loc[3, "temperature"] = np.nan
    report = kp.results.to_splunk(frame, index="ml_predictions", fields=["asset_id"],
                                  progress=False)
    assert report.ok and report.rows == report.sent == 50 and not report.failed
    events = hec.hec_events(index="ml_predictions")
    assert len(events) == 50 and len(set(row_ids(events))) == 50
    first = next(e for e in events if e["fields"]["kepler_row_id"].endswith(":0"))
    assert first["time"] == pytest.approx(frame["_time"][0].timestamp())
    assert first["event"]["asset_id"] == "P-0" and first["fields"]["asset_id"] == "P-0"
    assert first["sourcetype"] == "_json" and first["index"] == "ml_predictions"
    fourth = next(e for e in events if e["fields"]["kepler_row_id"].endswith(":3"))
    assert "temperature" not in fourth["event"]  # missing values are left out
    assert "_time" not in first["event"]


def test_time_field_and_metadata(hec):
    frame = pd.DataFrame({"ts": ["2024-05-01T10:00:00Z", "2024-05-01T10:00:01Z"], "v": [1, 2]})
    kp.results.to_splunk(frame, index="ml_predictions", time_field="ts", sourcetype="pump:score",
                         source="batch", host="scorer-1", progress=False)
    events = sorted(hec.hec_events(index="ml_predictions"), key=lambda e: e["time"])
    assert [e["time"] for e in events] == [1714557600.0, 1714557601.0]
    assert {(e["sourcetype"], e["source"], e["host"]) for e in events} == {
        ("pump:score", "batch", "scorer-1")}


def test_requests_are_gzipped_batches_below_the_byte_limit(hec, monkeypatch):
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_BATCH_BYTES", "20000")
    report = kp.results.to_splunk(predictions(2_000), index="ml_predictions", progress=False)
    assert report.batches >= 10 and report.sent == 2_000
    assert report.bytes_sent < 2_000 * 100  # compressed well below the JSON's size
    assert hec.hec_stats["requests"] == report.batches


def test_metrics_go_out_as_metric_data_points(hec):
    hec.add_index("plant_metrics", datatype="metric")
    frame = predictions(10)
    report = kp.results.metrics_to_splunk(frame, metrics=["temperature", "probability"],
                                          dimensions=["asset_id"], index="plant_metrics",
                                          progress=False)
    assert report.sent == 10
    [point, *_] = hec.hec_events(index="plant_metrics")
    assert point["event"] == "metric"
    assert set(point["fields"]) >= {"metric_name:temperature", "metric_name:probability",
                                    "asset_id", "kepler_row_id"}
    with pytest.raises(kp.KeplerError, match="metric values are numbers"):
        kp.results.metrics_to_splunk(frame, metrics=["status"], index="plant_metrics")


def test_an_invalid_token_stops_spools_and_flush_delivers_after_the_fix(hec, monkeypatch,
                                                                        kepler_cli):
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_TOKEN", "00000000-0000-0000-0000-000000000000")
    with pytest.raises(HecError) as info:
        kp.results.to_splunk(predictions(30), index="ml_predictions", progress=False)
    assert info.value.code == 4 and "Invalid token" in info.value.message
    assert "hec_token" in info.value.hint and info.value.report.spooled == 30
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_TOKEN", hec.hec_token)
    result = kepler_cli("results", "flush")
    assert result.code == 0, result.err
    assert "30 events accepted" in result.out
    assert len(set(row_ids(hec.hec_events(index="ml_predictions")))) == 30
    assert kepler_cli("results", "flush").out.strip() == "The spool is empty."


def test_an_incorrect_index_can_be_flushed_elsewhere(hec):
    with pytest.raises(HecError, match="Incorrect index") as info:
        kp.results.to_splunk(predictions(5), index="no_such_index", progress=False)
    assert info.value.code == 7
    report = kp.results.flush(index="ml_predictions")
    assert report.sent == 5 and len(hec.hec_events(index="ml_predictions")) == 5


def test_an_event_larger_than_the_server_limit_fails_alone(hec, monkeypatch):
    frame = predictions(20)
    frame["note"] = ""
    frame.loc[7, "note"] = "x" * 1_200_000  # above the server's max_content_length
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_BATCH_BYTES", "2000000")
    report = kp.results.to_splunk(frame, index="ml_predictions", progress=False)
    assert [f.row for f in report.failed] == [7]
    assert "max_content_length" in report.failed[0].reason
    assert report.sent == 19 and not report.ok


def test_a_per_event_error_names_the_row_and_the_rest_is_sent(hec):
    from kepler_splunk.connection import settings
    from kepler_splunk.hec_events import Batch
    from kepler_splunk.hec_writer import HecWriter, send_all

    good = [json.dumps({"event": {"n": i}, "index": "ml_predictions"}).encode()
            for i in range(6)]
    bad = json.dumps({"index": "ml_predictions", "fields": {"a": "b"}}).encode()  # no event
    lines = [*good[:3], bad, *good[3:]]
    report = send_all(HecWriter(settings()), [Batch.of(range(10, 17), lines)])
    assert [(f.row, f.code) for f in report.failed] == [(13, 12)]
    assert report.sent == 6
    assert sorted(e["event"]["n"] for e in hec.hec_events(index="ml_predictions")) == list(
        range(6))


def test_nothing_is_lost_with_503s_and_dropped_connections(hec, monkeypatch):
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_BATCH_BYTES", "100000")
    hec.hec_faults(busy_rate=0.10, drop_rate=0.03, seed=7)
    report = kp.results.to_splunk(predictions(100_000), index="ml_predictions", progress=False)
    events = hec.hec_events(index="ml_predictions")
    ids = row_ids(events)
    assert len(set(ids)) == 100_000  # every row arrived
    assert report.ok and report.rows == 100_000
    assert report.sent == len(ids) == hec.hec_stats["events_indexed"]  # counts match the server
    assert report.retried > 0 and hec.hec_stats["busy_replies"] > 0 and hec.hec_stats["dropped"]
    assert report.duplicates == len(ids) - len(set(ids))


def test_with_ack_withheld_acks_are_resent_and_duplicates_counted(hec, monkeypatch):
    token = hec.add_hec_token(name="acked", use_ack=True)
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_TOKEN", token)
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_ACK", "true")
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_ACK_TIMEOUT", "0.3")
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_ACK_POLL", "0.05")
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_BATCH_BYTES", "20000")
    hec.hec_faults(withhold_acks=0.3, seed=3)
    report = kp.results.to_splunk(predictions(3_000), index="ml_predictions", progress=False)
    ids = row_ids(hec.hec_events(index="ml_predictions"))
    assert set(ids) == {f"{report.write_id}:{i}" for i in range(3_000)}
    assert report.ack and report.acknowledged == 3_000 and not report.spooled
    assert report.retried > 0 and report.duplicates > 0
    assert report.sent == len(ids) == hec.hec_stats["events_indexed"]
    assert report.duplicates == len(ids) - 3_000
    channels = {e["_channel"] for e in hec.hec_events(index="ml_predictions")}
    assert len(channels) == 1 and None not in channels


def test_ack_requested_on_a_token_without_it_says_what_to_change(hec, monkeypatch):
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_ACK", "true")
    with pytest.raises(HecError) as info:
        kp.results.to_splunk(predictions(3), index="ml_predictions", progress=False)
    assert info.value.code == 14 and "hec_ack: false" in info.value.hint


def test_unreachable_splunk_spools_and_the_next_write_delivers(hec, monkeypatch, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_URL", f"http://127.0.0.1:{dead}")
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_MAX_RETRIES", "2")
    report = kp.results.to_splunk(predictions(500), index="ml_predictions", progress=False)
    assert report.spooled == 500 and report.sent == 0 and not report.ok
    assert spooled_files()  # on disk, waiting
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_URL", hec.hec_url)
    again = kp.results.to_splunk(predictions(10), index="ml_predictions", progress=False)
    assert again.flushed == 500 and again.sent == 10 and again.ok
    assert not spooled_files()
    assert len(hec.hec_events(index="ml_predictions")) == 510


def test_a_crash_mid_write_keeps_what_was_spooled(hec, monkeypatch):
    import socket

    from kepler_splunk import hec_events

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_URL", f"http://127.0.0.1:{dead}")
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_MAX_RETRIES", "0")
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_BATCH_BYTES", "5000")
    real_batches = hec_events.event_batches

    def crash_after_some(*args, **kwargs):
        for number, batch in enumerate(real_batches(*args, **kwargs)):
            if number == 6:
                raise KeyboardInterrupt
            yield batch

    monkeypatch.setattr("kepler_splunk.results.event_batches", crash_after_some)
    with pytest.raises(KeyboardInterrupt):
        kp.results.to_splunk(predictions(1_000), index="ml_predictions", progress=False)
    monkeypatch.setattr("kepler_splunk.results.event_batches", real_batches)
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_URL", hec.hec_url)
    report = kp.results.flush()
    assert report.sent > 0 and not report.spooled
    delivered = row_ids(hec.hec_events(index="ml_predictions"))
    assert len(delivered) == report.sent == len(set(delivered))


def test_cli_to_splunk_and_flush(hec, kepler_cli, tmp_path):
    path = tmp_path / "scores.parquet"
    predictions(40).to_parquet(path)
    result = kepler_cli("results", "to-splunk", str(path), "--index", "ml_predictions",
                        "--fields", "asset_id")
    assert result.code == 0, result.err
    assert "40 rows, 40 events accepted" in result.out
    csv = tmp_path / "scores.csv"
    predictions(5).to_csv(csv, index=False)
    assert kepler_cli("results", "to-splunk", str(csv), "--index", "ml_predictions").code == 0
    assert len(hec.hec_events(index="ml_predictions")) == 45
    bad = kepler_cli("results", "to-splunk", str(csv), "--index", "nope")
    assert bad.code == 7 and "Incorrect index" in bad.err and "Hint:" in bad.err


def test_no_hec_token_is_a_clear_config_error(splunk, monkeypatch):
    monkeypatch.delenv("KEPLER_SPLUNK__HEC_TOKEN")
    with pytest.raises(kp.KeplerError, match="No HEC token") as info:
        kp.results.to_splunk(predictions(1), index="main")
    assert "KEPLER_SPLUNK__HEC_TOKEN" in info.value.hint


def test_https_hec_with_the_servers_ca(splunk_server_https, monkeypatch):
    point_kepler_at(splunk_server_https, monkeypatch)
    splunk_server_https.add_index("ml_predictions")
    report = kp.results.to_splunk(predictions(20), index="ml_predictions", progress=False)
    assert report.sent == 20


def test_the_connectors_batches_take_the_test_servers_columnar_check():
    """The benchmark's HEC numbers assume the server counts Kepler's bodies column by column (its
    fast path); a change to the event layout that sends them the slow way must show up here."""
    from kepler_splunk.hec_events import Metadata, event_batches
    from kepler_splunk_testing import SplunkTestServer
    from kepler_splunk_testing import hec as server_hec

    frame = pd.DataFrame({
        "_time": pd.date_range("2024-06-01", periods=5_000, freq="s", tz="UTC"),
        "asset": [f"P-{i % 7}" for i in range(5_000)],
        "value": [i / 3 for i in range(5_000)],
        "flag": [i % 2 for i in range(5_000)],
    })
    batches = list(event_batches(frame, write_id="w", meta=Metadata(index="main"),
                                 limit=800_000, fields=["asset"]))
    server = SplunkTestServer()
    token = server.hec._by_value(server.hec_token)
    indexes = server_hec._IndexMemo(server.hec._indexes())
    counts = [server_hec._columnar_count(batch.body(), token, indexes) for batch in batches]
    assert counts == [len(batch.rows) for batch in batches]
