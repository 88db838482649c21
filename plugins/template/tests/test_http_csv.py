"""The ``http-csv`` connector against a real HTTP server on 127.0.0.1, used the way Kepler uses
it: by name, through ``kepler.api.read_data``, with the plugin found through its entry point."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from kepler.api import KeplerError, ServiceError, read_data

PUMPS = (
    "_time,pump,temperature,failure\n"
    "2026-01-05T10:00:00Z,pump-01,61.5,0\n"
    "2026-01-05T11:00:00+01:00,pump-02,80.25,1\n"
    "2026-01-05T12:00:00Z,pump-03,,0\n"
    "2026-01-06T00:00:00Z,pump-04,64.0,0\n"
)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/csv"
    delay: float = 0.0
    #: "user:password" this route insists on (basic auth), or None
    login: str | None = None


class CsvServer:
    """A tiny HTTP server whose routes are set by each test; every request is remembered."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.requests: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append({"path": self.path, **dict(self.headers.items())})
                reply = server.routes.get(self.path, Reply(404, b"not found", "text/plain"))
                if reply.login is not None:
                    expected = "Basic " + base64.b64encode(reply.login.encode()).decode()
                    if self.headers.get("Authorization") != expected:
                        reply = Reply(401, b"who are you?", "text/plain")
                time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test): nothing to answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, text: str | bytes, **reply: object) -> str:
        body = text.encode() if isinstance(text, str) else text
        self.routes[path] = Reply(body=body, **reply)  # type: ignore[arg-type]
        return self.url(path)


@pytest.fixture
def csv_server(kepler_home) -> Iterator[CsvServer]:
    server = CsvServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join(timeout=5)


def test_a_csv_url_becomes_a_dataframe_with_utc_times_and_its_origin(csv_server):
    url = csv_server.serve("/pumps.csv", PUMPS)
    frame = read_data(url, connector="http-csv")
    assert list(frame.columns) == ["_time", "pump", "temperature", "failure"]
    assert isinstance(frame["_time"].dtype, pd.DatetimeTZDtype)
    assert str(frame["_time"].dt.tz) == "UTC"
    assert frame["_time"][1] == pd.Timestamp("2026-01-05T10:00:00Z")  # +01:00 converted
    assert frame["temperature"].isna().tolist() == [False, False, True, False]
    assert frame.attrs["source"] == "http-csv" and frame.attrs["url"] == url
    assert frame.attrs["rows"] == 4
    [request] = csv_server.requests
    assert request["User-Agent"].startswith("kepler-audit/") and "text/csv" in request["Accept"]


def test_the_extract_is_audited_like_any_connector(csv_server, kepler_cli, tmp_path,
                                                   monkeypatch):
    assert kepler_cli("init", "plant").code == 0
    monkeypatch.chdir(tmp_path / "work" / "plant")
    read_data(csv_server.serve("/pumps.csv", PUMPS), connector="http-csv")
    url = csv_server.url("/pumps.csv")
    events = [json.loads(line) for line in kepler_cli("audit", "show", "--json").out.splitlines()]
    [event] = [e for e in events if e["event"] == "extract"]
    assert (event["connector"], event["query"], event["rows"]) == ("http-csv", url, 4)
    assert event["lineage"]["url"] == url and event["lineage"]["source"] == "http-csv"


def test_earliest_is_included_and_latest_excluded(csv_server):
    url = csv_server.serve("/pumps.csv", PUMPS)
    frame = read_data(url, connector="http-csv", earliest="2026-01-05T10:00:00Z",
                      latest="2026-01-05T12:00:00Z")
    assert frame["pump"].tolist() == ["pump-01", "pump-02"]
    assert frame.attrs["rows"] == 2
    # a time without a zone is UTC; an offset is honoured; a date is its midnight
    assert read_data(url, connector="http-csv", earliest="2026-01-05T11:30:00")[
        "pump"].tolist() == ["pump-03", "pump-04"]
    assert read_data(url, connector="http-csv", latest="2026-01-05T13:00:00+02:00")[
        "pump"].tolist() == ["pump-01", "pump-02"]
    assert read_data(url, connector="http-csv", earliest="2026-01-06")["pump"].tolist() == \
        ["pump-04"]


def test_epoch_seconds_in_a_time_column_are_times(csv_server):
    url = csv_server.serve("/epoch.csv", "time,value\n1767607200,1\n1767610800,2\n")
    frame = read_data(url, connector="http-csv", earliest="2026-01-05T10:30:00Z")
    assert frame["time"].tolist() == [pd.Timestamp("2026-01-05T11:00:00Z")]


def test_earliest_without_a_time_column_is_a_clear_error(csv_server):
    url = csv_server.serve("/plain.csv", "a,b\n1,2\n")
    assert len(read_data(url, connector="http-csv")) == 1
    with pytest.raises(KeplerError, match="time column") as caught:
        read_data(url, connector="http-csv", earliest="2026-01-01")
    assert "_time" in str(caught.value) and "earliest" in caught.value.hint


@pytest.mark.parametrize("value", ["-7d", "yesterday", "2026-13-45"])
def test_a_time_that_is_not_iso_8601_is_refused(csv_server, value):
    url = csv_server.serve("/pumps.csv", PUMPS)
    with pytest.raises(KeplerError, match="not an ISO 8601 time") as caught:
        read_data(url, connector="http-csv", latest=value)
    assert "2026-01-05T10:00:00Z" in caught.value.hint


@pytest.mark.parametrize(("status", "hint"), [(404, "check the path"), (403, "credentials"),
                                              (500, "try again later")])
def test_http_errors_say_what_the_server_answered(csv_server, status, hint):
    url = csv_server.serve("/x.csv", "no", status=status)
    with pytest.raises(ServiceError, match=f"answered HTTP {status}") as caught:
        read_data(url, connector="http-csv")
    assert hint in caught.value.hint and url in str(caught.value)


@pytest.mark.parametrize(("body", "message"), [
    ("a,b\n1,2\n3,4,5,6\n", "did not return a readable CSV: Error tokenizing data"),
    (b"a,b\n\xff\xfe,1\n", "did not return a readable CSV"),
    ("   \n", "empty body"),
    ("_time,v\nnot a time,1\n", "Column '_time' .* is not a time column"),
])
def test_a_body_that_is_not_a_csv_is_a_clear_error(csv_server, body, message):
    with pytest.raises(KeplerError, match=message) as caught:
        read_data(csv_server.serve("/bad.csv", body), connector="http-csv")
    assert caught.value.hint


def test_an_html_page_is_not_taken_for_a_csv(csv_server):
    url = csv_server.serve("/login", "<html><body>Sign in</body></html>",
                           content_type="text/html")
    with pytest.raises(KeplerError, match="HTML page, not a CSV"):
        read_data(url, connector="http-csv")


def test_a_slow_server_times_out_within_the_configured_seconds(csv_server, monkeypatch):
    url = csv_server.serve("/slow.csv", PUMPS, delay=2.0)
    started = time.monotonic()
    with pytest.raises(ServiceError, match=r"did not answer within 0.3 s") as caught:
        read_data(url, connector="http-csv", timeout=0.3)
    assert time.monotonic() - started < 1.5
    assert "audit.http_timeout" in caught.value.hint
    monkeypatch.setenv("KEPLER_AUDIT__HTTP_TIMEOUT", "0.3")
    with pytest.raises(ServiceError, match=r"within 0.3 s"):
        read_data(url, connector="http-csv")


def test_a_server_that_is_not_there_is_a_service_error(csv_server):
    url = csv_server.url("/pumps.csv")
    csv_server.httpd.shutdown()
    csv_server.httpd.server_close()
    with pytest.raises(ServiceError, match="Cannot read") as caught:
        read_data(url, connector="http-csv", timeout=2)
    assert "server is up" in caught.value.hint


def test_a_download_larger_than_the_limit_is_refused(csv_server, monkeypatch):
    url = csv_server.serve("/pumps.csv", PUMPS)
    monkeypatch.setenv("KEPLER_AUDIT__HTTP_MAX_BYTES", "40")
    with pytest.raises(KeplerError, match=r"larger than audit.http_max_bytes \(40 bytes\)"):
        read_data(url, connector="http-csv")


def test_credentials_in_the_url_are_sent_as_basic_auth_and_never_kept(csv_server):
    csv_server.serve("/private.csv", PUMPS, login="plant:s3cr3t")
    port = csv_server.port
    with pytest.raises(ServiceError, match="HTTP 401"):
        read_data(csv_server.url("/private.csv"), connector="http-csv")
    frame = read_data(f"http://plant:s3cr3t@127.0.0.1:{port}/private.csv", connector="http-csv")
    assert len(frame) == 4
    assert frame.attrs["url"] == f"http://127.0.0.1:{port}/private.csv"
    assert "s3cr3t" not in json.dumps(frame.attrs)


@pytest.mark.parametrize("query", ["pumps.csv", "file:///etc/passwd", "ftp://host/x.csv",
                                   "http:///x.csv"])
def test_only_http_urls_are_read(kepler_home, query):
    with pytest.raises(KeplerError, match="reads http:// or https:// URLs") as caught:
        read_data(query, connector="http-csv")
    assert "--data FILE" in caught.value.hint


def test_an_unknown_option_names_the_valid_ones(csv_server):
    with pytest.raises(KeplerError, match="no option 'connection'") as caught:
        read_data(csv_server.serve("/p.csv", PUMPS), connector="http-csv", connection="x")
    assert "earliest, latest" in caught.value.hint
