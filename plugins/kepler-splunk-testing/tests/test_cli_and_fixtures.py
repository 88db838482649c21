"""The subprocess CLI, the process helper and the pytest fixtures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kepler_splunk_testing import SplunkTestServer, SplunkTestServerProcess

SRC = str(Path(__file__).resolve().parents[1] / "src")


def spawn(*args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "kepler_splunk_testing", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def ready(process: subprocess.Popen[str]) -> dict:
    assert process.stdout is not None
    return json.loads(process.stdout.readline())


def test_cli_serves_data_and_stops_on_sigterm(tmp_path: Path, make_rest: Any) -> None:
    frame = pd.DataFrame({"_time": [1_700_000_000, 1_700_000_060], "v": [1, 2]})
    frame.to_parquet(tmp_path / "d.parquet")
    frame.to_csv(tmp_path / "d.csv", index=False)
    process = spawn(
        "--port",
        "0",
        "--data",
        f"pq={tmp_path / 'd.parquet'}",
        "--data",
        f"cs={tmp_path / 'd.csv'}",
        "--generate",
        "gen=100",
        "--max-seconds",
        "60",
    )
    try:
        info = ready(process)
        assert info["url"] == f"http://127.0.0.1:{info['port']}"
        assert info["username"] == "admin" and info["password"] == "changeme"
        assert info["indexes"] == ["cs", "gen", "pq"] and info["pid"] == process.pid
        rest = make_rest(_Remote(info))
        sid = rest.run_job("search index=cs")
        page = rest.post(f"/services/search/v2/jobs/{sid}/results", {"output_mode": "json"}).json()
        assert [row["v"] for row in page["results"]] == ["2", "1"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_cli_max_seconds_and_https() -> None:
    process = spawn("--https", "--max-seconds", "0.5")
    try:
        info = ready(process)
        assert info["scheme"] == "https" and Path(info["ca_file"]).exists()
        started = time.monotonic()
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        assert not Path(info["ca_file"]).exists()  # TLS files are cleaned up
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_cli_rejects_bad_arguments() -> None:
    process = spawn("--generate", "nope")
    _, errors = process.communicate(timeout=30)
    assert process.returncode == 2 and "expected NAME=VALUE" in errors


def test_process_helper(make_rest: Any) -> None:
    with SplunkTestServerProcess(generate={"pumps": 1_000}, dispatch_delay=0) as remote:
        assert remote.port > 0 and remote.url.startswith("http://127.0.0.1:")
        rest = make_rest(_Remote(remote.info))
        sid = rest.run_job("search index=pumps")
        body = rest.post(
            f"/services/search/v2/jobs/{sid}/results", {"output_mode": "json", "count": 0}
        )
        assert len(body.json()["results"]) == 1_000
        pid = remote.pid
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


class _Remote:
    """The attributes Rest reads, from the CLI's JSON line."""

    def __init__(self, info: dict) -> None:
        self.__dict__.update(info)


def test_fixture_defaults(splunk_server: SplunkTestServer) -> None:
    assert splunk_server.running and splunk_server.scheme == "http"
    assert splunk_server.version == "9.3.0"


@pytest.mark.splunk_server(version="8.2.0", max_result_rows=10)
def test_fixture_marker(splunk_server: SplunkTestServer) -> None:
    assert splunk_server.version == "8.2.0"
    assert splunk_server.settings.max_result_rows == 10


def test_https_fixture(splunk_server_https: SplunkTestServer) -> None:
    assert splunk_server_https.scheme == "https" and splunk_server_https.ca_file


def test_session_fixture_is_shared(splunk_server_session: SplunkTestServer) -> None:
    assert splunk_server_session.running


def test_factory_stops_servers(splunk_server_factory: object) -> None:
    server = splunk_server_factory(version="9.0.2")  # type: ignore[operator]
    assert server.settings.has_v2_search


def test_server_lifecycle() -> None:
    server = SplunkTestServer()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.port
    with server:
        port = server.port
        assert server.start() is server  # idempotent
    assert not server.running
    server.stop()  # idempotent
    import socket

    with socket.socket() as probe:  # the port is free again
        probe.bind(("127.0.0.1", port))


def test_argument_validation() -> None:
    with pytest.raises(ValueError, match="max_result_rows"):
        SplunkTestServer(max_result_rows=0)
    server = SplunkTestServer()
    with pytest.raises(ValueError, match="invalid index name"):
        server.add_index("Bad Name", [])
    with pytest.raises(ValueError, match="datatype"):
        server.add_index("ok", [{"_time": 1}], datatype="log")  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="no user"):
        server.add_token("t", "ghost")


def test_imports_stay_light() -> None:
    """pytest loads the fixtures module at every start; importing the package must stay cheap."""
    code = (
        "import sys, kepler_splunk_testing, kepler_splunk_testing.timemodifiers\n"
        "heavy = {'pandas', 'pyarrow', 'numpy', 'splunklib', 'cryptography', 'pytest'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]"
