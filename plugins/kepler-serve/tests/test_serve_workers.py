"""``kepler serve --workers N``: worker processes share the port; each counts (and logs) what it
scored, and ``/metadata`` says which worker answered."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from serve_helpers import free_port, instance


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(p) for p in text)
    return found


def test_two_workers_answer_and_count_per_worker(artifacts, classifier):
    port = free_port()
    env = {**os.environ, "KEPLER_SERVE__ACCESS_LOG": "false"}
    server = subprocess.Popen(
        [sys.executable, "-m", "kepler", "serve", str(artifacts["classifier"]), "--port",
         str(port), "--workers", "2", "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("no worker became ready")
        rows = [instance(), instance(temperature=79.0)]
        expected = classifier.predict(rows).tolist()
        sent = 24
        for _ in range(sent):  # a fresh connection each time: any worker may take it
            reply = httpx.post(f"{url}/predict", json={"instances": rows}, timeout=10)
            assert reply.status_code == 200 and reply.json()["predictions"] == expected
        counts: dict[int, int] = {}
        for _ in range(20):
            serving = httpx.get(f"{url}/metadata", timeout=10).json()["serving"]
            assert serving["workers"] == 2
            counts[serving["worker"]] = max(counts.get(serving["worker"], 0),
                                            serving["requests"])
        workers = _children(server.pid)
        assert len(workers) >= 2, workers
        assert set(counts) <= workers  # the answers come from the workers, not the supervisor
        assert sum(counts.values()) <= sent
        if len(counts) == 2:  # both answered /metadata: their counts add up to what was sent
            assert sum(counts.values()) == sent
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "2 worker processes" in output
