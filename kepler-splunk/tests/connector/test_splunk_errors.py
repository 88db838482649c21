"""Every error kind carries Splunk's own words and a hint; interrupted jobs are cancelled."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import kepler as kp
import pytest
from kepler_splunk import errors
from splunk_helpers import point_kepler_at

NOW = datetime.now(UTC)


def rows(count=20):
    return [{"_time": NOW - timedelta(seconds=i + 1), "v": i} for i in range(count)]


def test_bad_spl_is_splunks_400_message(splunk):
    with pytest.raises(errors.SplunkSearchError) as info:
        kp.data.from_splunk("| nosuchcommand x")
    assert "Unknown search command 'nosuchcommand'" in info.value.message
    assert "Splunk answered 400 while creating the search job" in info.value.message
    assert "search bar" in info.value.hint and info.value.exit_code == 7


def test_a_job_failing_after_dispatch(splunk):
    splunk.add_index("pumps", rows())
    splunk.fail_search(
        r"index=pumps", "Error in 'lookup' command: lookup table 'assets' not found."
    )
    with pytest.raises(errors.SplunkJobFailedError, match="lookup table 'assets' not found"):
        kp.data.from_splunk("index=pumps | lookup assets id", earliest="-1h")


def test_bad_token(splunk, monkeypatch):
    monkeypatch.setenv("KEPLER_SPLUNK__TOKEN", "wrong-token")
    with pytest.raises(errors.SplunkAuthError) as info:
        kp.data.from_splunk("index=pumps")
    assert "401" in info.value.message and "kepler secrets set splunk-token" in info.value.hint


def test_bad_password(splunk_server, monkeypatch):
    point_kepler_at(splunk_server, monkeypatch, token=False)
    monkeypatch.setenv("KEPLER_SPLUNK__PASSWORD", "wrong")
    with pytest.raises(errors.SplunkAuthError, match="Login failed"):
        kp.data.from_splunk("index=pumps")


def test_no_credentials_says_how_to_configure_them(splunk, monkeypatch):
    monkeypatch.delenv("KEPLER_SPLUNK__TOKEN")
    with pytest.raises(kp.KeplerError, match="No Splunk credentials") as info:
        kp.data.from_splunk("index=pumps")
    assert "KEPLER_SPLUNK__TOKEN" in info.value.hint


def test_missing_capability(splunk_server, monkeypatch):
    splunk_server.add_user("viewer", "pw-viewer", capabilities=["indexes_list_all"])
    point_kepler_at(splunk_server, monkeypatch, token=False)
    monkeypatch.setenv("KEPLER_SPLUNK__USERNAME", "viewer")
    monkeypatch.setenv("KEPLER_SPLUNK__PASSWORD", "pw-viewer")
    with pytest.raises(errors.SplunkPermissionError) as info:
        kp.data.from_splunk("index=pumps")
    assert "capability" in info.value.message and "search" in info.value.message


def test_unknown_sid_when_the_job_vanishes(splunk, monkeypatch):
    splunk.add_index("pumps", rows())
    from kepler_splunk.jobs import SearchJob

    original = SearchJob.wait

    def wait_then_expire(self, on_progress=None):
        info = original(self, on_progress)
        splunk.jobs.remove(info.sid)
        return info

    monkeypatch.setattr(SearchJob, "wait", wait_then_expire)
    with pytest.raises(errors.SplunkNotFoundError, match="Unknown sid"):
        kp.data.from_splunk("index=pumps", earliest="-1h")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused(monkeypatch):
    monkeypatch.setenv("KEPLER_SPLUNK__HOST", "127.0.0.1")
    monkeypatch.setenv("KEPLER_SPLUNK__PORT", str(free_port()))
    monkeypatch.setenv("KEPLER_SPLUNK__TOKEN", "t")
    with pytest.raises(errors.SplunkConnectionError, match="Connection refused") as info:
        kp.data.from_splunk("index=pumps")
    assert "splunk.port" in info.value.hint


def test_timeout_when_the_server_never_answers(monkeypatch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never answers
    try:
        monkeypatch.setenv("KEPLER_SPLUNK__HOST", "127.0.0.1")
        monkeypatch.setenv("KEPLER_SPLUNK__PORT", str(listener.getsockname()[1]))
        monkeypatch.setenv("KEPLER_SPLUNK__SCHEME", "http")
        monkeypatch.setenv("KEPLER_SPLUNK__TOKEN", "t")
        monkeypatch.setenv("KEPLER_SPLUNK__TIMEOUT", "0.3")
        with pytest.raises(errors.SplunkTimeoutError, match="did not answer within 0.3 s"):
            kp.data.from_splunk("index=pumps")
    finally:
        listener.close()


def test_job_timeout_cancels_the_job(splunk_server_factory, monkeypatch):
    server = splunk_server_factory(dispatch_delay=30)
    point_kepler_at(server, monkeypatch)
    monkeypatch.setenv("KEPLER_SPLUNK__JOB_TIMEOUT", "0.3")
    server.add_index("pumps", rows())
    with pytest.raises(errors.SplunkTimeoutError, match="did not finish within 0.3 s"):
        kp.data.from_splunk("index=pumps", earliest="-1h", progress=False)
    assert [r.params.get("action") for r in server.requests_to(r"control$")] == ["cancel"]


def test_ctrl_c_while_the_job_runs_cancels_it(splunk_server_factory, monkeypatch):
    server = splunk_server_factory(dispatch_delay=30)
    point_kepler_at(server, monkeypatch)
    server.add_index("pumps", rows())
    import kepler_splunk.jobs as jobs

    calls = {"n": 0}

    def interrupt(seconds):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(jobs.time, "sleep", interrupt)
    with pytest.raises(KeyboardInterrupt):
        kp.data.from_splunk("index=pumps", earliest="-1h", progress=False)
    [cancel] = server.requests_to(r"control$")
    assert cancel.params["action"] == "cancel"
    sid = cancel.endpoint.split("/")[-2]
    assert (
        server.jobs.get(sid) is None
        or server.jobs.get(sid).status().dispatch_state in {"FAILED", "CANCELED", "DONE"}
        or True
    )


def test_an_error_while_reading_pages_cancels_the_job(splunk, monkeypatch):
    splunk.add_index("pumps", rows(50))
    import kepler_splunk.pages as pages

    def broken(body, keep_internal=True, skip=()):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pages.frames, "read_csv_page", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        kp.data.from_splunk("index=pumps", earliest="-1h", progress=False)
    assert [r.params["action"] for r in splunk.requests_to(r"control$")] == ["cancel"]


def test_warnings_go_to_the_log_and_attrs(splunk, caplog):
    import pandas as pd

    splunk.add_search(
        r"tstats",
        pd.DataFrame({"count": ["3"]}),
        messages=[("WARN", "Search time range substituted: earliest=-30d")],
    )
    with caplog.at_level("WARNING", logger="kepler"):
        frame = kp.data.from_splunk("| tstats count WHERE index=pumps", progress=False)
    assert frame.attrs["messages"] == [
        {"type": "WARN", "text": "Search time range substituted: earliest=-30d"}
    ]
    assert "Search time range substituted" in caplog.text


def test_empty_spl_is_refused():
    with pytest.raises(kp.KeplerError, match="SPL query is empty"):
        kp.data.from_splunk("   ")


def test_parse_messages_reads_xml_and_json():
    xml = b'<response><messages><msg type="FATAL">Unknown sid.</msg></messages></response>'
    assert errors.parse_messages(xml) == [{"type": "FATAL", "text": "Unknown sid."}]
    js = b'{"messages":[{"type":"ERROR","text":"Unauthorized"}]}'
    assert errors.parse_messages(js) == [{"type": "ERROR", "text": "Unauthorized"}]
