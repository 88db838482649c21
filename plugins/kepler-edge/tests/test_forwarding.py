"""Store-and-forward to Splunk HEC: every row id arrives, in order, across HEC outages and a
killed runner; the spool's byte bound and its drop policies."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from edge_helpers import InProcess, free_port, http, start_runner, wait_ready


def hec_env(server: Any, spool: Path, token: str | None = None, **extra: str) -> dict[str, str]:
    return {"KEPLER_SPLUNK__HEC_URL": server.hec_url,
            "KEPLER_SPLUNK__HEC_TOKEN": token or server.hec_token,
            "KEPLER_EDGE__SPOOL_DIR": str(spool), "KEPLER_EDGE__HEC_BACKOFF": "0.1", **extra}


def arrived(server: Any) -> list[str]:
    return [e["event"]["row_id"] for e in server.hec_events()]


def wait_for(server: Any, ids: list[str], timeout: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = arrived(server)
        if set(ids) <= set(got):
            return got
        time.sleep(0.1)
    raise AssertionError(f"{len(set(ids) - set(arrived(server)))} row id(s) never arrived")


def predict(url: str, rows: list[dict[str, Any]], times: int) -> list[str]:
    ids: list[str] = []
    for _ in range(times):
        status, body = http("POST", f"{url}/predict", {"instances": rows})
        assert status == 200, body
        ids += body["row_ids"]
    return ids


def test_hec_down_spool_then_replay_in_order(bundle: Path, splunk_server: Any, tmp_path: Path,
                                             rows: list[dict[str, Any]]) -> None:
    splunk_server.hec_faults(busy_rate=1.0)  # HEC answers 503 "server is busy"
    with InProcess(bundle, hec_env(splunk_server, tmp_path / "spool")) as served:
        ids = predict(served.url, rows, 4)
        assert len(ids) == len(set(ids)) == 4 * len(rows)
        time.sleep(0.3)
        assert arrived(splunk_server) == []
        assert len(list((tmp_path / "spool").glob("*.json"))) == 4
        splunk_server.hec_faults()  # HEC is back
        got = wait_for(splunk_server, ids)
        assert got == ids  # replayed oldest first, each row once
        event = splunk_server.hec_events()[0]
        assert event["sourcetype"] == "kepler:prediction"
        assert event["event"]["prediction"] in (0, 1) and "temperature" in event["event"]["features"]
        deadline = time.monotonic() + 5
        while list((tmp_path / "spool").glob("*.json")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not list((tmp_path / "spool").glob("*.json"))


def test_indexer_acknowledgement(bundle: Path, splunk_server: Any, tmp_path: Path,
                                 rows: list[dict[str, Any]]) -> None:
    token = splunk_server.add_hec_token(use_ack=True)
    env = hec_env(splunk_server, tmp_path / "spool", token, KEPLER_SPLUNK__HEC_ACK="true",
                  KEPLER_SPLUNK__HEC_ACK_TIMEOUT="0.5")
    splunk_server.hec_faults(withhold_acks=1.0)  # indexed, but never acknowledged
    with InProcess(bundle, env) as served:
        forwarder = served.runner.forwarder
        ids = predict(served.url, rows, 2)
        wait_for(splunk_server, ids[:len(rows)])  # in order: the second waits for the first
        time.sleep(0.8)
        assert forwarder.sent_events == 0  # unacknowledged: kept, sent again
        assert list((tmp_path / "spool").glob("*.json"))
        splunk_server.hec_faults()
        deadline = time.monotonic() + 10
        while forwarder.sent_events < len(ids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert forwarder.sent_events == len(ids)  # acknowledged, then removed
    assert splunk_server.hec_stats["acks_issued"] >= 2
    got = arrived(splunk_server)
    assert set(got) == set(ids) and len(got) > len(ids)  # at-least-once: duplicates by row id


def test_runner_killed_and_restarted_loses_nothing(bundle: Path, splunk_server: Any,
                                                   tmp_path: Path,
                                                   rows: list[dict[str, Any]]) -> None:
    splunk_server.hec_faults(busy_rate=1.0)
    env = hec_env(splunk_server, tmp_path / "spool")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    first = start_runner(bundle, port, env)
    try:
        wait_ready(url, first)
        ids = predict(url, rows, 3)
    finally:
        first.kill()  # SIGKILL: no chance to flush anything
        first.wait(10)
    assert arrived(splunk_server) == []
    splunk_server.hec_faults()
    second = start_runner(bundle, free_port(), env)
    try:
        got = wait_for(splunk_server, ids)
    finally:
        second.terminate()
        second.wait(10)
    assert sorted(set(got)) == sorted(ids)
    assert [i for i in got if i in set(ids)][:len(ids)] == ids


def _events(n: int, size: int = 100) -> list[dict[str, Any]]:
    return [{"event": {"row_id": f"r{i}", "pad": "x" * size}} for i in range(n)]


def test_spool_bound_drop_oldest(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from kepler_edge.runner import Spool

    batch = len(json.dumps(_events(2), separators=(",", ":")))
    spool = Spool(tmp_path, max_bytes=3 * batch + 10, policy="drop-oldest", fsync=False)
    with caplog.at_level(logging.WARNING, logger="kepler-edge"):
        for _ in range(5):
            assert spool.put(_events(2))
    assert spool.size() <= spool.max_bytes
    assert [int(p.stem) for p in spool.files()] == [3, 4, 5]  # the newest three kept
    assert spool.dropped_events == 4 and "dropped the 2 oldest" in caplog.text


def test_spool_bound_drop_newest_and_restart(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    from kepler_edge.runner import Spool

    batch = len(json.dumps(_events(2), separators=(",", ":")))
    spool = Spool(tmp_path, max_bytes=2 * batch, policy="drop-newest", fsync=False)
    with caplog.at_level(logging.WARNING, logger="kepler-edge"):
        assert spool.put(_events(2)) and spool.put(_events(2))
        assert not spool.put(_events(2))
    assert spool.dropped_events == 2 and "dropped 2 new" in caplog.text
    (tmp_path / "000000000009.tmp").write_text("[half")  # a write cut short by a crash
    again = Spool(tmp_path, max_bytes=10 * batch, fsync=False)
    assert [int(p.stem) for p in again.files()] == [1, 2]
    assert not list(tmp_path.glob("*.tmp"))
    assert again.put(_events(1)) and again.files()[-1].stem.endswith("3")
    with pytest.raises(ValueError, match="drop-oldest or drop-newest"):
        Spool(tmp_path, 100, policy="keep-all")


def test_malformed_batch_is_set_aside_not_blocking(bundle: Path, splunk_server: Any,
                                                   tmp_path: Path,
                                                   rows: list[dict[str, Any]]) -> None:
    spool = tmp_path / "spool"
    env = hec_env(splunk_server, spool, KEPLER_SPLUNK__HEC_INDEX="no-such-index")
    with InProcess(bundle, env) as served:
        predict(served.url, rows, 1)
        deadline = time.monotonic() + 10
        while not list((spool / "rejected").glob("*.json")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list((spool / "rejected").glob("*.json"))) == 1
        served.runner.events.index = None  # fixed: the next batches go through
        ids = predict(served.url, rows, 1)
        wait_for(splunk_server, ids)
        status, text = http("GET", f"{served.url}/metrics")
        assert status == 200
        assert "kepler_edge_hec_rejected_batches_total 1" in text
