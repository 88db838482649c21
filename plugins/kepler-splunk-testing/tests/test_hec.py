"""The HTTP Event Collector, spoken to the way Splunk's HEC docs do: plain HTTP, gzip, channels."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

import httpx
import pandas as pd
import pytest
from kepler_splunk_testing import SplunkTestServer

EVENT = "/services/collector/event"


def curl(
    server: SplunkTestServer,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    token: str | None = "default",
) -> tuple[int, dict[str, Any]]:
    """What ``curl -H "Authorization: Splunk TOKEN" -d BODY URL`` does (urllib, no client)."""
    all_headers = dict(headers or {})
    if token is not None:
        all_headers.setdefault(
            "Authorization", f"Splunk {server.hec_token if token == 'default' else token}"
        )
    request = urllib.request.Request(server.hec_url + path, data=body, headers=all_headers)
    context = ssl.create_default_context(cafile=server.ca_file) if server.ca_file else None
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def search(server: SplunkTestServer, spl: str) -> list[dict[str, Any]]:
    """A oneshot search on the management port (urllib: cheaper than a new httpx client)."""
    form = {"search": spl, "exec_mode": "oneshot", "output_mode": "json", "count": 0}
    credentials = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
    request = urllib.request.Request(
        server.url + "/services/search/jobs",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Authorization": f"Basic {credentials}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["results"]


@pytest.fixture
def hec(splunk_server: SplunkTestServer) -> httpx.Client:
    with httpx.Client(
        base_url=splunk_server.hec_url,
        headers={"Authorization": f"Splunk {splunk_server.hec_token}"},
        timeout=10,
        verify=False,  # plain HTTP; skips loading a CA bundle, which costs 40 ms per client
    ) as client:
        yield client


# -- sending events ---------------------------------------------------------------------------


def test_curl_style_event_lands_in_main_and_in_the_log(splunk_server: SplunkTestServer) -> None:
    status, reply = curl(splunk_server, EVENT, b'{"event": "hello world"}')
    assert (status, reply) == (200, {"text": "Success", "code": 0})
    assert splunk_server.hec_events() == [
        {"event": "hello world", "index": "main", "_token": "kepler-default", "_channel": None}
    ]
    (row,) = search(splunk_server, "search index=main")
    assert row["_raw"] == "hello world"
    assert row["sourcetype"] == "httpevent" and row["source"] == "http:kepler-default"
    assert row["host"] == f"127.0.0.1:{splunk_server.hec_port}"  # the Host header, as splunkd
    info = splunk_server.connection_info()
    assert info["hec_url"] == splunk_server.hec_url and info["hec_token"] == splunk_server.hec_token


@pytest.mark.parametrize("path", ["/services/collector", "/services/collector/event/1.0"])
def test_event_endpoint_aliases(splunk_server: SplunkTestServer, path: str) -> None:
    assert curl(splunk_server, path, b'{"event": "x"}')[0] == 200
    assert len(splunk_server.hec_events()) == 1


def test_batches_gzip_and_json_flattened_into_fields(
    splunk_server: SplunkTestServer, hec: httpx.Client
) -> None:
    splunk_server.add_index("preds")
    events = [
        {
            "event": {
                "model": "pumps",
                "prediction": 1,
                "features": {"temp": 61.5},
                "tags": ["a", "b"],
            },
            "time": 1_700_000_000.25,
            "index": "preds",
            "host": "edge-1",
            "sourcetype": "kepler:prediction",
            "fields": {"run": "r1", "shard": [1, 2]},
        },
        {"event": "second", "time": "1700000001", "index": "preds"},
    ]
    body = json.dumps(events[0]) + json.dumps(events[1])  # concatenated, no separator
    reply = hec.post(
        EVENT, content=gzip.compress(body.encode()), headers={"Content-Encoding": "gzip"}
    )
    assert reply.status_code == 200 and reply.json() == {"text": "Success", "code": 0}
    newline = "\n".join(
        json.dumps({"event": f"n{i}", "index": "preds", "time": 1_700_000_002 + i})
        for i in range(3)
    )
    assert hec.post(EVENT, content=newline.encode()).status_code == 200

    rows = search(splunk_server, "search index=preds")
    assert [row["_raw"] for row in rows] == [
        "n2",
        "n1",
        "n0",
        "second",
        '{"model":"pumps","prediction":1,"features":{"temp":61.5},"tags":["a","b"]}',
    ]
    first = rows[-1]
    assert first["_time"] == "2023-11-14T22:13:20.250+00:00"
    assert first["model"] == "pumps" and first["prediction"] == "1"
    assert first["features.temp"] == "61.5" and first["tags{}"] == ["a", "b"]
    assert first["run"] == "r1" and first["shard"] == ["1", "2"]
    assert first["host"] == "edge-1" and first["sourcetype"] == "kepler:prediction"
    assert search(splunk_server, "search index=preds model=pumps")[0]["_raw"].startswith("{")
    recorded = splunk_server.hec_events("preds")
    assert recorded[0] == {**events[0], "_token": "kepler-default", "_channel": None}
    assert splunk_server.hec_stats.events_indexed == 5


def test_hec_rows_join_registered_data(splunk_server: SplunkTestServer, hec: httpx.Client) -> None:
    frame = pd.DataFrame({"_time": [1_700_000_000, 1_700_000_100], "status": [200, 404]})
    splunk_server.add_index("web", frame)
    event = {"event": {"status": "timeout"}, "index": "web", "time": 1_700_000_050}
    assert hec.post(EVENT, json=event).status_code == 200
    rows = search(splunk_server, "search index=web")
    assert [row["status"] for row in rows] == ["404", "timeout", "200"]
    assert rows[0]["host"] == "kepler-test-host" and "_raw" not in rows[0]  # registered rows
    assert rows[0]["_indextime"] == "1700000100"
    assert [r["status"] for r in search(splunk_server, "search index=web status=time*")] == [
        "timeout"
    ]


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("second", "code"),
    [
        ('{"time": 1}', 12),
        ('{"event": ""}', 13),
        ('{"event": "  "}', 13),
        ('{"event": {}}', 13),
        ('{"event": "x", "fields": {"f": {"nested": 1}}}', 15),
        ('{"event": "x", "fields": {"f": true}}', 15),
        ('{"event": "x", "fields": "f=1"}', 15),
        ('{"event": "x", "time": "yesterday"}', 6),
        ('{"event": "x", "time": 1700000000000}', 6),
        ('{"event": "x", "index": "nope"}', 7),
        ('{"event": "x"', 6),
        ('["x"]', 6),
    ],
)
def test_a_bad_event_stops_the_batch_after_indexing_the_ones_before(
    splunk_server: SplunkTestServer, second: str, code: int
) -> None:
    body = f'{{"event": "ok"}}\n{second}\n{{"event": "never"}}'.encode()
    status, reply = curl(splunk_server, EVENT, body)
    texts = {
        6: "Invalid data format",
        7: "Incorrect index",
        12: "Event field is required",
        13: "Event field cannot be blank",
        15: "Error in handling indexed fields",
    }
    assert status == 400
    assert reply == {"text": texts[code], "code": code, "invalid-event-number": 1}
    assert [event["event"] for event in splunk_server.hec_events()] == ["ok"]
    assert [row["_raw"] for row in search(splunk_server, "search index=main")] == ["ok"]
    assert splunk_server.hec_stats.events_rejected == 1


@pytest.mark.parametrize("body", [b"", b"  \n "])
def test_no_data(splunk_server: SplunkTestServer, body: bytes) -> None:
    assert curl(splunk_server, EVENT, body) == (400, {"text": "No data", "code": 5})


def test_authentication_forms_and_codes(splunk_server: SplunkTestServer) -> None:
    disabled = splunk_server.add_hec_token(name="off", disabled=True)
    query_ok = splunk_server.add_hec_token(name="qs", query_string_auth=True)
    body = b'{"event": "x"}'
    assert curl(splunk_server, EVENT, body, token=None) == (
        401,
        {"text": "Token is required", "code": 2},
    )
    assert curl(splunk_server, EVENT, body, headers={"Authorization": "Bearer abc"}) == (
        401,
        {"text": "Invalid authorization", "code": 3},
    )
    assert curl(splunk_server, EVENT, body, token=str(uuid.uuid4())) == (
        403,
        {"text": "Invalid token", "code": 4},
    )
    assert curl(splunk_server, EVENT, body, token=disabled) == (
        403,
        {"text": "Token disabled", "code": 1},
    )
    basic = base64.b64encode(f"x:{splunk_server.hec_token}".encode()).decode()
    assert curl(splunk_server, EVENT, body, headers={"Authorization": f"Basic {basic}"})[0] == 200
    default_in_query = f"{EVENT}?token={splunk_server.hec_token}"
    assert curl(splunk_server, default_in_query, body, token=None) == (
        400,
        {"text": "Query string authorization is not enabled", "code": 16},
    )
    assert curl(splunk_server, f"{EVENT}?token={query_ok}", body, token=None)[0] == 200
    assert [e["_token"] for e in splunk_server.hec_events()] == ["kepler-default", "qs"]
    logged = splunk_server.requests_to(r"^collector/event$")
    assert logged[-1].params["token"] == "********" and logged[-1].user == "qs"


def test_index_rules(splunk_server: SplunkTestServer) -> None:
    splunk_server.add_index("allowed")
    splunk_server.add_index("other")
    token = splunk_server.add_hec_token(name="narrow", index="allowed", indexes=["allowed"])
    assert curl(splunk_server, EVENT, b'{"event": "to default"}', token=token)[0] == 200
    assert curl(splunk_server, EVENT, b'{"event": "x", "index": "other"}', token=token) == (
        400,
        {"text": "Incorrect index", "code": 7, "invalid-event-number": 0},
    )
    assert curl(splunk_server, EVENT, b'{"event": "x", "index": "missing"}')[1]["code"] == 7
    assert curl(splunk_server, EVENT, b'{"event": "x", "index": "other"}')[0] == 200
    assert {e["event"]: e["index"] for e in splunk_server.hec_events()} == {
        "to default": "allowed",
        "x": "other",
    }


# -- acknowledgement --------------------------------------------------------------------------


def test_indexer_acknowledgement(splunk_server: SplunkTestServer) -> None:
    token = splunk_server.add_hec_token(name="acked", use_ack=True)
    channel, other = str(uuid.uuid4()), str(uuid.uuid4())
    body = b'{"event": "x"}'
    assert curl(splunk_server, EVENT, body, token=token) == (
        400,
        {"text": "Data channel is missing", "code": 10},
    )
    assert curl(splunk_server, EVENT, body, {"X-Splunk-Request-Channel": "nope"}, token) == (
        400,
        {"text": "Invalid data channel", "code": 11},
    )
    header = {"X-Splunk-Request-Channel": channel}
    assert curl(splunk_server, EVENT, body, header, token) == (
        200,
        {"text": "Success", "code": 0, "ackId": 0},
    )
    assert curl(splunk_server, EVENT, body, header, token)[1]["ackId"] == 1
    assert curl(splunk_server, f"{EVENT}?channel={other}", body, token=token)[1]["ackId"] == 0
    ack = gzip.compress(b'{"acks": [0, 1, 7]}')
    assert curl(
        splunk_server, "/services/collector/ack", ack, {**header, "Content-Encoding": "gzip"}, token
    ) == (200, {"acks": {"0": True, "1": True, "7": False}})
    again = curl(
        splunk_server, f"/services/collector/ack?channel={channel}", b'{"acks":[0]}', token=token
    )
    assert again == (200, {"acks": {"0": False}})  # answered true once, then forgotten
    assert curl(splunk_server, "/services/collector/ack", b'{"acks":[0]}', header) == (
        400,
        {"text": "ACK is disabled", "code": 14},
    )
    assert splunk_server.hec_events()[0]["_channel"] == channel
    assert splunk_server.hec_stats.acks_issued == 3


def test_raw_endpoint_takes_lines_and_query_metadata(splunk_server: SplunkTestServer) -> None:
    splunk_server.add_index("logs")
    path = "/services/collector/raw?index=logs&sourcetype=syslog&host=h1"
    body = b"index=main looks like a form field\n\nsecond line\n"
    assert curl(splunk_server, path, body) == (200, {"text": "Success", "code": 0})
    rows = search(splunk_server, "search index=logs")
    assert [r["_raw"] for r in rows] == ["index=main looks like a form field", "second line"]
    assert {(r["host"], r["sourcetype"]) for r in rows} == {("h1", "syslog")}
    assert splunk_server.hec_events("logs")[0] == {
        "event": "index=main looks like a form field",
        "host": "h1",
        "sourcetype": "syslog",
        "index": "logs",
        "_token": "kepler-default",
        "_channel": None,
    }
    assert curl(splunk_server, "/services/collector/raw", b"\n") == (
        400,
        {"text": "No data", "code": 5},
    )


def test_health(splunk_server: SplunkTestServer) -> None:
    for path in ("/services/collector/health", "/services/collector/health/1.0"):
        assert curl(splunk_server, path, token=None) == (
            200,
            {"text": "HEC is healthy", "code": 17},
        )
    splunk_server.hec_faults(unhealthy=True)
    assert curl(splunk_server, "/services/collector/health", token=None) == (
        503,
        {"text": "HEC is unhealthy, queues are full", "code": 18},
    )
    splunk_server.hec_faults()
    assert curl(splunk_server, "/services/collector/health", token=None)[0] == 200
    assert curl(splunk_server, "/services/collector/health", token=str(uuid.uuid4())) == (
        400,
        {"text": "Invalid token", "code": 21},
    )


def test_content_length_limit_counts_decompressed_bytes(splunk_server_factory: Any) -> None:
    server = splunk_server_factory(hec_max_content_length=200)
    small = json.dumps({"event": "x" * 100}).encode()
    assert curl(server, EVENT, small)[0] == 200
    big = json.dumps({"event": "x" * 300}).encode()
    assert curl(server, EVENT, big) == (413, {"text": "Content too large", "code": 413})
    compressed = gzip.compress(big)
    assert len(compressed) < 200
    assert curl(server, EVENT, compressed, {"Content-Encoding": "gzip"})[0] == 413
    assert curl(server, EVENT, b"\x1f\x8b garbage", {"Content-Encoding": "gzip"})[1]["code"] == 6
    assert len(server.hec_events()) == 1


# -- metrics ----------------------------------------------------------------------------------


def test_metric_events_become_data_points(
    splunk_server: SplunkTestServer, hec: httpx.Client
) -> None:
    splunk_server.add_index("pump_metrics", datatype="metric")
    events = [
        {
            "event": "metric",
            "time": 1_700_000_000,
            "index": "pump_metrics",
            "host": "p1",
            "fields": {"site": "north", "metric_name:temp": 61.5, "metric_name:rpm": "1450"},
        },
        {
            "event": "metric",
            "time": 1_700_000_060,
            "index": "pump_metrics",
            "fields": {"site": "south", "metric_name": "temp", "_value": 58},
        },
        {"event": "not a metric", "index": "pump_metrics"},
    ]
    body = "\n".join(json.dumps(event) for event in events)
    assert hec.post(EVENT, content=body.encode()).status_code == 200
    rows = search(splunk_server, "| mpreview index=pump_metrics")
    points = sorted((r["metric_name"], float(r["_value"]), r["site"]) for r in rows)
    assert points == [("rpm", 1450.0, "north"), ("temp", 58.0, "south"), ("temp", 61.5, "north")]
    assert search(splunk_server, "search index=pump_metrics") == []
    stats = splunk_server.hec_stats
    assert (stats.events_indexed, stats.unindexed_events) == (2, 1)
    assert len(splunk_server.hec_events("pump_metrics")) == 3


def test_metric_event_sent_to_an_event_index_is_an_event(
    splunk_server: SplunkTestServer, hec: httpx.Client
) -> None:
    event = {"event": "metric", "fields": {"metric_name:temp": 3.5}}
    assert hec.post(EVENT, json=event).status_code == 200
    (row,) = search(splunk_server, "search index=main")
    assert row["_raw"] == "metric" and row["metric_name:temp"] == "3.5"


# -- faults and transport ---------------------------------------------------------------------


def test_busy_and_drop_faults_index_nothing(
    splunk_server: SplunkTestServer, hec: httpx.Client
) -> None:
    splunk_server.hec_faults(busy_rate=1.0)
    reply = hec.post(EVENT, json={"event": "busy"})
    assert (reply.status_code, reply.json()) == (503, {"text": "Server is busy", "code": 9})
    splunk_server.hec_faults(drop_rate=1.0)
    with pytest.raises(httpx.TransportError):
        hec.post(EVENT, json={"event": "dropped"})
    splunk_server.hec_faults()
    assert hec.post(EVENT, json={"event": "fine"}).status_code == 200  # the pool reconnects
    assert [e["event"] for e in splunk_server.hec_events()] == ["fine"]
    stats = splunk_server.hec_stats
    assert (stats.busy_replies, stats.dropped, stats["events_indexed"]) == (1, 1, 1)


def test_fault_draws_repeat_with_the_seed(
    splunk_server: SplunkTestServer, hec: httpx.Client
) -> None:
    def pattern() -> list[int]:
        splunk_server.hec_faults(busy_rate=0.5, seed=7)
        return [hec.post(EVENT, json={"event": "x"}).status_code for _ in range(12)]

    first = pattern()
    assert first == pattern() and set(first) == {200, 503}


def test_withheld_acks_never_turn_true_but_events_stay(splunk_server: SplunkTestServer) -> None:
    token = splunk_server.add_hec_token(name="acked", use_ack=True)
    splunk_server.hec_faults(withhold_acks=1.0)
    header = {"X-Splunk-Request-Channel": str(uuid.uuid4())}
    assert curl(splunk_server, EVENT, b'{"event": "x"}', header, token)[1]["ackId"] == 0
    for _ in range(2):
        ack = curl(splunk_server, "/services/collector/ack", b'{"acks": [0]}', header, token)
        assert ack == (200, {"acks": {"0": False}})
    assert len(search(splunk_server, "search index=main")) == 1
    assert splunk_server.hec_stats.acks_withheld == 1


def test_keep_alive_serves_many_requests_on_one_connection(
    splunk_server: SplunkTestServer,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", splunk_server.hec_port, timeout=10)
    try:
        for i in range(5):
            connection.request(
                "POST",
                EVENT,
                body=json.dumps({"event": i}),
                headers={"Authorization": f"Splunk {splunk_server.hec_token}"},
            )
            response = connection.getresponse()
            assert response.status == 200 and response.getheader("Connection") is None
            response.read()
    finally:
        connection.close()
    assert len(splunk_server.hec_events()) == 5


def test_unknown_paths_and_methods(splunk_server: SplunkTestServer, hec: httpx.Client) -> None:
    reply = hec.post("/services/collector/nope", content=b"{}")
    assert reply.status_code == 404 and reply.json()["code"] == 404
    assert hec.get(EVENT).status_code == 405


def test_https_hec_uses_the_servers_ca(splunk_server_https: SplunkTestServer) -> None:
    assert splunk_server_https.hec_url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=splunk_server_https.ca_file)
    with httpx.Client(verify=context) as client:
        reply = client.post(
            splunk_server_https.hec_url + EVENT,
            json={"event": "secure"},
            headers={"Authorization": f"Splunk {splunk_server_https.hec_token}"},
        )
    assert reply.json() == {"text": "Success", "code": 0}
    assert curl(splunk_server_https, "/services/collector/health")[0] == 200
