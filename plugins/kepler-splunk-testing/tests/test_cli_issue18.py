"""The CLI as a person meets it (issue 18): data that ends now, --start/--end, fixed HEC port and
token with a ready-to-paste export block, and empty indexes (--index, a header-only --data)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kepler_splunk_testing.__main__ import main

SRC = str(Path(__file__).resolve().parents[1] / "src")
HEC_TOKEN = "0b9cb4a2-8c3e-4f5e-9d43-54d1a0c2e7f1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(*args: str) -> tuple[dict[str, Any], str]:
    """Start the CLI, read its JSON line, stop it; returns (info, what it told the person)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get(
        "PYTHONPATH")]))}
    process = subprocess.Popen(
        [sys.executable, "-m", "kepler_splunk_testing", "--max-seconds", "30", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)
    assert line, stderr
    return json.loads(line), stderr


def search(info: dict[str, Any], spl: str, **params: str) -> list[dict[str, Any]]:
    import httpx

    reply = httpx.post(
        f"{info['url']}/services/search/v2/jobs",
        data={"search": spl, "exec_mode": "oneshot", "output_mode": "json", "count": "0",
              **params},
        headers={"Authorization": f"Bearer {info['token']}"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["results"]


def test_generated_data_ends_now_and_readme_spl_answers(tmp_path: Path) -> None:
    from kepler_splunk_testing import SplunkTestServer
    from kepler_splunk_testing.__main__ import _build_server, build_parser

    server: SplunkTestServer = _build_server(build_parser().parse_args(["--generate",
                                                                        "pumps=600"]))
    with server:
        info = server.connection_info()
        (row,) = search(info, "search index=pumps | stats count max(_time) AS newest",
                        earliest_time="-7d")
        assert row["count"] == "600"
        assert abs(float(row["newest"]) - time.time()) < 60
        by_asset = search(info, "search index=pumps | stats avg(temperature) by asset_id",
                          earliest_time="-7d")
        assert len(by_asset) == 12 and "avg(temperature)" in by_asset[0]


def test_start_and_end_spread_the_rows() -> None:
    from kepler_splunk_testing.__main__ import _generated, build_parser

    args = build_parser().parse_args(["--start", "2024-03-01T00:00:00Z", "--end",
                                      "2024-03-08T00:00:00Z"])
    frame = _generated(169, args)
    assert str(frame["_time"].iloc[0]) == "2024-03-01 00:00:00+00:00"
    assert str(frame["_time"].iloc[-1]) == "2024-03-08 00:00:00+00:00"
    relative = _generated(10, build_parser().parse_args(["--end=-1d@d"]))
    assert relative["_time"].iloc[-1].hour == 0 and relative["_time"].iloc[-1].second == 0
    start_only = _generated(3, build_parser().parse_args(["--start", "2024-01-01"]))
    assert str(start_only["_time"].iloc[2]) == "2024-01-01 00:00:02+00:00"


def test_hec_port_token_and_the_export_block(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("_time,model,prediction\n")
    port = free_port()
    info, told = serve("--hec-port", str(port), "--hec-token", HEC_TOKEN, "--index",
                       "ml_predictions", "--data", f"scores={empty}")
    assert info["hec_port"] == port and info["hec_token"] == HEC_TOKEN
    assert info["hec_url"] == f"http://127.0.0.1:{port}"
    assert {"ml_predictions", "scores"} <= set(info["indexes"])
    for line in (
        f"export KEPLER_SPLUNK__HOST={info['host']}",
        f"export KEPLER_SPLUNK__PORT={info['port']}",
        "export KEPLER_SPLUNK__SCHEME=http",
        f"export KEPLER_SPLUNK__TOKEN={info['token']}",
        f"export KEPLER_SPLUNK__HEC_URL=http://127.0.0.1:{port}",
        f"export KEPLER_SPLUNK__HEC_TOKEN={HEC_TOKEN}",
    ):
        assert line in told.splitlines(), told
    assert "Traceback" not in told


def test_the_export_block_names_only_settings_kepler_splunk_has() -> None:
    from kepler_splunk_testing import SplunkTestServer
    from kepler_splunk_testing.__main__ import describe

    with SplunkTestServer(https=True) as server:
        told = describe(server)
    names = [line.split("=")[0].removeprefix("export KEPLER_SPLUNK__").lower()
             for line in told.splitlines() if line.startswith("export ")]
    assert "ca_file" in names
    try:
        from kepler_splunk.config import SplunkConnection
    except ImportError:  # the connector is not installed here: nothing to hold the names to
        return
    assert set(names) <= set(SplunkConnection.model_fields)


def test_bad_files_are_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    import pytest

    no_time = tmp_path / "no_time.csv"
    no_time.write_text("a,b\n1,2\n")
    for argv, text in (
        (["--data", f"x={no_time}"], "--data x="),
        (["--index", "Bad Name"], "invalid index name"),
        (["--generate", "p=10", "--start", "yesterday-ish"], "--start/--end"),
    ):
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--max-seconds", "0"])
        assert text in str(exit_.value.code), exit_.value.code


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_background_prints_exports_and_leaves_a_server_that_answers():
    """``eval "$(python -m kepler_splunk_testing ... --background)"``: the command returns once
    the server answers; its stdout is shell that sets the KEPLER_SPLUNK__ variables and the pid."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get(
        "PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "kepler_splunk_testing", "--generate", "pumps=50", "--background",
         "--max-seconds", "30", "--hec-token", HEC_TOKEN],
        capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    exported = dict(line.removeprefix("export ").split("=", 1)
                    for line in done.stdout.splitlines())
    pid = int(exported["KEPLER_SPLUNK_TEST_PID"])
    try:
        assert exported["KEPLER_SPLUNK__HEC_TOKEN"] == HEC_TOKEN
        assert "kill $KEPLER_SPLUNK_TEST_PID" in done.stderr
        url = (f"{exported['KEPLER_SPLUNK__SCHEME']}://{exported['KEPLER_SPLUNK__HOST']}:"
               f"{exported['KEPLER_SPLUNK__PORT']}/services/server/info?output_mode=json")
        import urllib.request

        request = urllib.request.Request(
            url, headers={"Authorization": f"Bearer {exported['KEPLER_SPLUNK__TOKEN']}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.load(answer)["entry"][0]["content"]["version"]
    finally:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


def test_background_reports_a_server_that_cannot_start():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "kepler_splunk_testing", "--background",
             "--port", str(busy.getsockname()[1])],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONPATH": SRC})
    finally:
        busy.close()
    assert done.returncode != 0
    assert "did not start" in done.stderr and "cannot listen" in done.stderr
    assert done.stdout == ""
