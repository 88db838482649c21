"""``kepler serve --workers N``: worker processes share the port and a file of counter slots, so
``/metadata`` from any worker reports the totals (``per_worker`` by pid), and every prediction
is logged once, by the worker that scored it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from serve_helpers import free_port, instance


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(p) for p in text)
    return found


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("no worker became ready")


def _serve(artifact: Path, port: int, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kepler", "serve", str(artifact), "--port", str(port),
         "--workers", "2", "--log-level", "warning"],
        env={**os.environ, "KEPLER_SERVE__ACCESS_LOG": "false", **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _stop(server: subprocess.Popen[str]) -> str:
    server.terminate()
    output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    return output


def test_two_workers_report_totals_across_workers(artifacts, classifier):
    port = free_port()
    server = _serve(artifacts["classifier"], port)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url)
        rows = [instance(), instance(temperature=79.0)]
        expected = classifier.predict(rows).tolist()
        sent = 24
        for _ in range(sent):  # a fresh connection each time: any worker may take it
            reply = httpx.post(f"{url}/predict", json={"instances": rows}, timeout=10)
            assert reply.status_code == 200 and reply.json()["predictions"] == expected
        answered: set[int] = set()
        for _ in range(12):  # whichever worker answers, the counts are the totals
            serving = httpx.get(f"{url}/metadata", timeout=10).json()["serving"]
            assert serving["workers"] == 2
            assert serving["requests"] == sent and serving["rows"] == sent * len(rows)
            per_worker = serving["per_worker"]
            assert sum(w["requests"] for w in per_worker.values()) == sent
            assert sum(w["rows"] for w in per_worker.values()) == sent * len(rows)
            assert serving["prediction_log"] is None
            answered.add(serving["worker"])
        workers = _children(server.pid)
        assert len(workers) >= 2, workers
        assert answered <= workers  # the answers come from the workers, not the supervisor
        # each worker claimed its slots at start (the supervisor's other child, multiprocessing's
        # resource tracker, counts nothing)
        assert len(per_worker) == 2 and {int(pid) for pid in per_worker} <= workers
    finally:
        output = _stop(server)
    assert "2 worker processes" in output


def test_two_workers_log_every_prediction_once(artifacts, tmp_path):
    pytest.importorskip("kepler_audit", reason="the jsonl sink is kepler-audit's")
    port = free_port()
    logged = tmp_path / "predictions.jsonl"  # one file: each batch is one O_APPEND write
    server = _serve(artifacts["classifier"], port, KEPLER_SERVE__LOG_SINK="jsonl",
                    KEPLER_SERVE__LOG_SINK_OPTIONS__PATH=str(logged),
                    KEPLER_SERVE__LOG_INTERVAL="0.05")
    url = f"http://127.0.0.1:{port}"
    sent, per_request = 20, 3
    temperatures = [50.0 + request + row / 10 for request in range(sent)
                    for row in range(per_request)]
    try:
        _wait_ready(url)
        for request in range(sent):
            rows = [instance(temperature=t)
                    for t in temperatures[request * per_request:(request + 1) * per_request]]
            assert httpx.post(f"{url}/predict", json={"instances": rows},
                              timeout=10).status_code == 200
        deadline = time.monotonic() + 20
        while True:  # every worker's log writes in the background; the totals show it
            serving = httpx.get(f"{url}/metadata", timeout=10).json()["serving"]
            figures = serving["prediction_log"]
            if figures["sent"] == len(temperatures) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert figures["queued"] == figures["sent"] == len(temperatures), figures
        assert figures["dropped"] == figures["failed"] == 0
        assert sum(w["prediction_log"]["sent"] for w in serving["per_worker"].values()) \
            == len(temperatures)
    finally:
        _stop(server)
    lines = [json.loads(line) for line in logged.read_text().splitlines()]
    assert len(lines) == len(temperatures)
    seen = Counter(line["features"]["temperature"] for line in lines)
    assert seen == Counter(temperatures)  # each prediction exactly once, none lost or doubled
    batches = Counter(line["batch_id"] for line in lines)
    assert len(batches) == sent and set(batches.values()) == {per_request}


def test_counter_slots_add_up_and_a_dead_workers_slot_keeps_its_counts(tmp_path, monkeypatch):
    from kepler_serve import counters

    path = counters.create_board(tmp_path / "counters", slots=2)
    monkeypatch.setenv(counters.COUNTERS_ENV, str(path))
    counted = subprocess.run(  # a worker that counts 5 requests of 3 rows, then dies
        [sys.executable, "-c", "from kepler_serve import counters\n"
         "slot = counters.claim()\nslot.values[counters.REQUESTS] += 5\n"
         "slot.values[counters.ROWS] += 15\nprint(slot.values[counters.PID])"],
        capture_output=True, text=True, check=True)
    dead = int(counted.stdout)
    mine = counters.claim()  # the free slot
    mine.values[counters.REQUESTS] += 1
    assert mine.shared and len(mine.board.slots()) == 2
    total, by_pid = counters.totals(mine.board.slots())
    assert (total["requests"], total["rows"]) == (6, 15)
    assert by_pid[dead]["requests"] == 5 and by_pid[os.getpid()]["requests"] == 1
    restarted = counters.claim()  # no free slot: the dead worker's, its counts kept
    assert restarted.index != mine.index and restarted.values[counters.REQUESTS] == 5
    total, by_pid = counters.totals(mine.board.slots())
    assert total["requests"] == 6 and set(by_pid) == {os.getpid()}
    with pytest.raises(RuntimeError, match="live processes"):
        counters.claim()
    monkeypatch.delenv(counters.COUNTERS_ENV)
    alone = counters.claim()  # one process: its own memory, not the file
    assert not alone.shared and alone.values[counters.REQUESTS] == 0
