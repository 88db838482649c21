"""The wire format, checked with plain http.client: envelopes, auth, output modes, paging."""

from __future__ import annotations

import csv
import http.client
import io
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from kepler_splunk_testing import SplunkTestServer

ATOM = "{http://www.w3.org/2005/Atom}"
S = "{http://dev.splunk.com/ns/rest}"
V2 = "/services/search/v2/jobs"
V1 = "/services/search/jobs"

NOW = datetime.now(UTC).replace(microsecond=0)
TRICKY = 'say "hi", then\nleave <&> ünïcode \\ tab\t'


def web_events() -> pd.DataFrame:
    """Five events, one hour apart, ending now; awkward values on purpose."""
    return pd.DataFrame(
        {
            "_time": [NOW - timedelta(hours=h) for h in range(5)],
            "status": [200, 404, 200, 500, 200],
            "message": [TRICKY, "plain", None, "x,y", 'quote"d'],
            "latency": [0.25, float("nan"), 1.5, 2.0, 3.125],
            "tags": [["a", "b"], ["solo"], None, [], ["c", "d", "e"]],
            "ok": [True, False, True, False, True],
        }
    )


@pytest.fixture
def web(splunk_server: SplunkTestServer) -> SplunkTestServer:
    splunk_server.add_index("web", web_events())
    return splunk_server


def results(rest: Any, sid: str, **params: Any) -> Any:
    return rest.post(f"{V2}/{sid}/results", params)


def dict_of(element: Any) -> dict[str, Any]:
    """An ``<s:dict>`` as a Python dict (nested dicts and lists included)."""
    out: dict[str, Any] = {}
    for key in element.findall(f"{S}key"):
        child = list(key)
        if not child:
            out[key.get("name")] = key.text or ""
        elif child[0].tag == f"{S}dict":
            out[key.get("name")] = dict_of(child[0])
        else:
            out[key.get("name")] = [item.text for item in child[0].findall(f"{S}item")]
    return out


# -- authentication ---------------------------------------------------------------------------


def test_login_envelope_and_cookie(splunk_server: SplunkTestServer, make_rest: Any) -> None:
    rest = make_rest(splunk_server, auth=None)
    reply = rest.post(
        "/services/auth/login", {"username": "admin", "password": "changeme", "cookie": "1"}
    )
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/xml")
    assert reply.text.startswith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<response>\n  <sessionKey>'
    )
    key = reply.xml().findtext("sessionKey")
    assert key and len(key) == 64
    assert reply.headers["Set-Cookie"].startswith(f"splunkd_{splunk_server.port}={key};")
    cookie = {"Cookie": f"splunkd_{splunk_server.port}={key}"}
    assert rest.get("/services/server/info", headers=cookie).status == 200
    assert (
        rest.get("/services/server/info", headers={"Authorization": f"Splunk {key}"}).status == 200
    )
    no_cookie = rest.post("/services/auth/login", {"username": "admin", "password": "changeme"})
    assert "Set-Cookie" not in no_cookie.headers


def test_login_json(splunk_server: SplunkTestServer, make_rest: Any) -> None:
    rest = make_rest(splunk_server, auth=None)
    reply = rest.post(
        "/services/auth/login",
        {"username": "admin", "password": "changeme", "output_mode": "json"},
    )
    assert len(reply.json()["sessionKey"]) == 64


def test_login_failed(splunk_server: SplunkTestServer, make_rest: Any) -> None:
    reply = make_rest(splunk_server, auth=None).post(
        "/services/auth/login", {"username": "admin", "password": "nope"}
    )
    assert reply.status == 401
    message = reply.xml().find("messages/msg")
    assert message is not None
    assert (message.get("type"), message.text) == ("WARN", "Login failed")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Splunk not-a-session"},
        {"Authorization": "Basic YWRtaW46d3Jvbmc="},  # admin:wrong
        {"Cookie": "splunkd_1=nothing"},
    ],
)
def test_unauthorized(
    splunk_server: SplunkTestServer, headers: dict[str, str], make_rest: Any
) -> None:
    rest = make_rest(splunk_server, auth=None)
    reply = rest.get("/services/server/info", headers=headers)
    assert reply.status == 401
    message = reply.xml().find("messages/msg")
    assert message is not None and (message.get("type"), message.text) == ("ERROR", "Unauthorized")
    as_json = rest.get("/services/search/v2/jobs", {"output_mode": "json"}, headers=headers)
    assert as_json.status == 401
    assert as_json.json() == {"messages": [{"type": "ERROR", "text": "Unauthorized"}]}


def test_bearer_token_and_added_tokens(splunk_server: SplunkTestServer, make_rest: Any) -> None:
    assert make_rest(splunk_server, auth="bearer").get("/services/server/info").status == 200
    splunk_server.add_user("alice", "pw")
    splunk_server.add_token("alice-token", "alice")
    reply = make_rest(splunk_server, auth=None).get(
        "/services/authentication/current-context",
        {"output_mode": "json"},
        headers={"Authorization": "Bearer alice-token"},
    )
    assert reply.json()["entry"][0]["content"]["username"] == "alice"
    splunk_server.revoke_token("alice-token")
    revoked = make_rest(splunk_server, auth=None).get(
        "/services/server/info", headers={"Authorization": "Bearer alice-token"}
    )
    assert revoked.status == 401


def test_missing_capabilities_give_403(splunk_server: SplunkTestServer, make_rest: Any) -> None:
    splunk_server.add_user("viewer", "pw", capabilities=["rest_properties_get"])
    splunk_server.add_user("analyst", "pw")  # the "user" role: searches, cannot list indexes
    viewer = make_rest(splunk_server, auth=None)
    basic = {"Authorization": "Basic dmlld2VyOnB3"}  # viewer:pw
    reply = viewer.post(V2, {"search": "search index=main"}, headers=basic)
    assert reply.status == 403
    text = reply.xml().findtext("messages/msg")
    assert text == (
        "You (user=viewer) do not have permission to perform this operation "
        "(requires capability: search)."
    )
    analyst = {"Authorization": "Basic YW5hbHlzdDpwdw=="}  # analyst:pw
    assert viewer.post(V2, {"search": "search index=main"}, headers=analyst).status == 201
    listing = viewer.get("/services/data/indexes", {"output_mode": "json"}, headers=analyst)
    assert listing.status == 403
    assert "requires capability: indexes_list_all" in listing.json()["messages"][0]["text"]


# -- server info, indexes, routing -------------------------------------------------------------


def test_server_info_atom(rest: Any) -> None:
    feed = rest.get("/services/server/info").xml()
    content = feed.find(f"{ATOM}entry/{ATOM}content/{S}dict")
    assert content is not None
    info = dict_of(content)
    assert info["version"] == "9.3.0"
    assert info["server_roles"] == ["indexer", "search_head", "kv_store"]


def test_indexes_json_and_datatype_filter(web: SplunkTestServer, rest: Any) -> None:
    web.add_index("pump_metrics", [{"_time": 0, "metric_name": "rpm", "_value": 1.0}], "metric")
    events = rest.get("/services/data/indexes", {"output_mode": "json", "count": 0}).json()
    by_name = {entry["name"]: entry["content"] for entry in events["entry"]}
    assert by_name["web"]["datatype"] == "event"
    assert by_name["web"]["totalEventCount"] == 5
    assert "pump_metrics" not in by_name
    metric = rest.get("/services/data/indexes", {"output_mode": "json", "datatype": "metric"})
    assert {entry["name"] for entry in metric.json()["entry"]} == {"_metrics", "pump_metrics"}
    every = rest.get("/services/data/indexes", {"datatype": "all", "count": "-1"}).xml()
    names = {entry.findtext(f"{ATOM}title") for entry in every.findall(f"{ATOM}entry")}
    assert {"web", "pump_metrics", "main", "_internal"} <= names
    single = rest.get("/servicesNS/nobody/system/data/indexes/web", {"output_mode": "json"})
    assert single.json()["entry"][0]["content"]["maxTime"].endswith("+00:00")
    assert rest.get("/services/data/indexes/nope").status == 404


def test_unknown_endpoint_is_404(rest: Any) -> None:
    reply = rest.get("/services/no/such/thing")
    assert reply.status == 404 and reply.xml().findtext("messages/msg") == "Not Found"
    assert rest.get("/nothing/here").status == 404


# -- jobs ---------------------------------------------------------------------------------------


def test_create_returns_201_with_sid(web: SplunkTestServer, rest: Any) -> None:
    reply = rest.post(V2, {"search": "search index=web"})
    assert reply.status == 201
    assert reply.text.endswith(
        "<response>\n  <sid>" + reply.xml().findtext("sid") + "</sid>\n</response>\n"
    )
    as_json = rest.post(V1, {"search": "search index=web", "output_mode": "json"})
    assert as_json.status == 201 and set(as_json.json()) == {"sid"}


def test_job_status_atom_entry(web: SplunkTestServer, rest: Any) -> None:
    sid = rest.run_job("search index=web earliest=-1d", version="v1")
    reply = rest.get(f"{V1}/{sid}")
    entry = reply.xml()
    assert entry.tag == f"{ATOM}entry"
    content = entry.find(f"{ATOM}content/{S}dict")
    assert content is not None
    status = dict_of(content)
    for key in (
        "isDone",
        "isFailed",
        "isPaused",
        "isFinalized",
        "dispatchState",
        "doneProgress",
        "resultCount",
        "eventCount",
        "scanCount",
        "runDuration",
        "ttl",
        "sid",
        "messages",
        "request",
        "earliestTime",
        "latestTime",
        "statusBuckets",
    ):
        assert key in status, key
    assert status["isDone"] == "1" and status["dispatchState"] == "DONE"
    assert status["doneProgress"] == "1.00000"
    assert status["resultCount"] == "5" and status["sid"] == sid
    assert status["request"]["search"] == "search index=web earliest=-1d"
    # the inline time range substitutes the request's and says so
    assert status["messages"] == {
        "info": ["Your timerange was substituted based on your search string"]
    }
    links = {link.get("rel"): link.get("href") for link in entry.findall(f"{ATOM}link")}
    assert links["results"] == f"/services/search/jobs/{sid}/results"


def test_job_status_json(web: SplunkTestServer, rest: Any) -> None:
    sid = rest.run_job("search index=web")
    content = rest.get(f"{V2}/{sid}", {"output_mode": "json"}).json()["entry"][0]["content"]
    assert content["isDone"] is True and content["isFailed"] is False
    assert content["resultCount"] == 5 and content["doneProgress"] == 1
    assert content["messages"] == []


def test_states_progress_and_results_wait_for_done(
    splunk_server_factory: Any, make_rest: Any
) -> None:
    server = splunk_server_factory(dispatch_delay=0.6)
    server.add_index("web", web_events())
    rest = make_rest(server)
    sid = rest.post(V2, {"search": "search index=web", "output_mode": "json"}).json()["sid"]
    assert rest.get(f"{V2}/{sid}").status == 204  # QUEUED right after creation
    states = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        reply = rest.get(f"{V2}/{sid}", {"output_mode": "json"})
        if reply.status == 200:
            content = reply.json()["entry"][0]["content"]
            states.append(content["dispatchState"])
            if content["isDone"]:
                break
            # The job may finish between the status above and the calls below: a final answer
            # is only allowed once the job is done.
            def done_now() -> bool:
                status = rest.get(f"{V2}/{sid}", {"output_mode": "json"}).json()
                return bool(status["entry"][0]["content"]["isDone"])

            early = results(rest, sid, output_mode="json").status
            assert early == 204 or (early == 200 and done_now())
            preview = rest.post(f"{V2}/{sid}/results_preview", {"output_mode": "json"}).json()
            assert preview["preview"] is True or done_now()
        time.sleep(0.03)
    assert states[-1] == "DONE"
    assert {"PARSING", "RUNNING"} & set(states)
    final = results(rest, sid, output_mode="json").json()
    assert final["preview"] is False and len(final["results"]) == 5


def test_blocking_mode_returns_when_done(web: SplunkTestServer, rest: Any) -> None:
    sid = (
        rest.post(V2, {"search": "search index=web", "exec_mode": "blocking"}).xml().findtext("sid")
    )
    status = rest.get(f"{V2}/{sid}", {"output_mode": "json"}).json()["entry"][0]["content"]
    assert status["isDone"] is True


def test_oneshot_returns_results(web: SplunkTestServer, rest: Any) -> None:
    reply = rest.post(
        V2, {"search": "search index=web | head 2", "exec_mode": "oneshot", "output_mode": "csv"}
    )
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(reply.text)))) == 2


def test_unknown_sid(rest: Any) -> None:
    for reply in (rest.get(f"{V2}/nope"), rest.post(f"{V1}/nope/results")):
        assert reply.status == 404
        message = reply.xml().find("messages/msg")
        assert message is not None and (message.get("type"), message.text) == (
            "FATAL",
            "Unknown sid.",
        )


def test_control_and_delete(web: SplunkTestServer, rest: Any) -> None:
    sid = rest.run_job("search index=web")
    for action in ("pause", "unpause", "touch", "finalize"):
        reply = rest.post(f"{V2}/{sid}/control", {"action": action})
        assert reply.status == 200 and reply.xml().find("messages/msg").get("type") == "INFO"
    assert rest.post(f"{V2}/{sid}/control", {"action": "setttl", "ttl": "99"}).status == 200
    content = rest.get(f"{V2}/{sid}", {"output_mode": "json"}).json()["entry"][0]["content"]
    assert content["ttl"] <= 99
    assert rest.post(f"{V2}/{sid}/control", {"action": "explode"}).status == 400
    cancelled = rest.post(f"{V2}/{sid}/control", {"action": "cancel"})
    assert cancelled.xml().findtext("messages/msg") == "Search job cancelled."
    assert rest.get(f"{V2}/{sid}").status == 404
    other = rest.run_job("search index=web")
    assert rest.delete(f"{V2}/{other}").status == 200
    assert other not in web.job_ids()


def test_expired_jobs_disappear(splunk_server: SplunkTestServer, rest: Any) -> None:
    sid = rest.run_job("search index=main", timeout="1")
    assert sid in splunk_server.job_ids()
    time.sleep(1.1)
    assert rest.get(f"{V2}/{sid}").status == 404


# -- output modes -------------------------------------------------------------------------------


def test_json_values_are_strings_and_multivalue_are_arrays(
    web: SplunkTestServer, rest: Any
) -> None:
    sid = rest.run_job("search index=web")
    body = results(rest, sid, output_mode="json")
    assert body.body.count(b"\n") == 0  # one line, as splunkd sends
    page = body.json()
    assert set(page) == {"preview", "init_offset", "messages", "fields", "results", "highlighted"}
    assert {"name": "_time"} in page["fields"]
    rows = page["results"]
    assert [row["status"] for row in rows] == ["200", "404", "200", "500", "200"]
    assert rows[0]["message"] == TRICKY
    assert rows[0]["tags"] == ["a", "b"]
    assert rows[1]["tags"] == "solo"  # one value: a plain string
    assert "tags" not in rows[2] and "tags" not in rows[3]  # absent or empty: no field
    assert "latency" not in rows[1]  # NaN is a missing value
    assert "message" not in rows[2]
    assert rows[0]["ok"] == "true" and rows[0]["latency"] == "0.25"
    assert rows[0]["_time"] == NOW.strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
    assert rows[0]["_si"] == ["kepler-splunk-test", "web"]
    assert all(isinstance(v, (str, list)) for row in rows for v in row.values())


def test_json_rows_and_json_cols(web: SplunkTestServer, rest: Any) -> None:
    sid = rest.run_job("search index=web | table _time status tags message")
    as_rows = results(rest, sid, output_mode="json_rows").json()
    assert as_rows["fields"] == ["_time", "status", "tags", "message"]
    assert as_rows["rows"][0][1:] == ["200", ["a", "b"], TRICKY]
    assert as_rows["rows"][2][2:] == [None, None]
    as_cols = results(rest, sid, output_mode="json_cols").json()
    assert as_cols["fields"] == as_rows["fields"]
    assert as_cols["columns"][1] == ["200", "404", "200", "500", "200"]
    assert as_cols["columns"][2] == [["a", "b"], "solo", None, None, ["c", "d", "e"]]


def test_csv(web: SplunkTestServer, rest: Any) -> None:
    sid = rest.run_job("search index=web | table status message tags")
    reply = results(rest, sid, output_mode="csv")
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert reply.text.splitlines()[0] == "status,message,tags"
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert rows[0] == {"status": "200", "message": TRICKY, "tags": "a\nb"}
    assert rows[2] == {"status": "200", "message": "", "tags": ""}
    assert rows[3]["message"] == "x,y" and rows[4]["message"] == 'quote"d'


def test_xml(web: SplunkTestServer, rest: Any) -> None:
    sid = rest.run_job("search index=web | table status message tags")
    document = results(rest, sid).xml()  # xml is the default output_mode
    assert document.tag == "results" and document.get("preview") == "0"
    assert [f.text for f in document.findall("meta/fieldOrder/field")] == [
        "status",
        "message",
        "tags",
    ]
    first = document.find("result")
    assert first is not None and first.get("offset") == "0"
    fields = {f.get("k"): [v.findtext("text") for v in f.findall("value")] for f in first}
    assert fields == {"status": ["200"], "message": [TRICKY], "tags": ["a", "b"]}


def test_empty_results(web: SplunkTestServer, rest: Any) -> None:
    sid = rest.run_job("search index=web status=999")
    assert results(rest, sid, output_mode="json").json()["results"] == []
    assert results(rest, sid).text.endswith("<results preview='0'/>\n")
    assert results(rest, sid, output_mode="csv").body == b""


def test_offset_count_and_field_list(splunk_server: SplunkTestServer, rest: Any) -> None:
    rows = [{"_time": 1_700_000_000 + i, "n": i, "other": "x"} for i in range(300)]
    splunk_server.add_index("seq", rows)
    sid = rest.run_job("search index=seq")
    default = results(rest, sid, output_mode="json").json()["results"]
    assert len(default) == 100 and default[0]["n"] == "299"
    page = results(rest, sid, output_mode="json", offset=250, count=100).json()
    assert page["init_offset"] == 250 and [r["n"] for r in page["results"]][:2] == ["49", "48"]
    assert len(page["results"]) == 50
    tail = results(rest, sid, output_mode="json", offset=-3, count=10).json()["results"]
    assert [r["n"] for r in tail] == ["2", "1", "0"]
    narrow = rest.post(
        f"{V2}/{sid}/results", [("output_mode", "json"), ("count", 1), ("f", "n"), ("f", "_time")]
    ).json()
    assert set(narrow["results"][0]) == {"n", "_time"}
    beyond = results(rest, sid, output_mode="json", offset=1000).json()
    assert beyond["results"] == []


def test_count_zero_caps_at_max_result_rows(splunk_server_factory: Any, make_rest: Any) -> None:
    server = splunk_server_factory(max_result_rows=120)
    server.add_index("seq", [{"_time": i, "n": i} for i in range(500)])
    rest = make_rest(server)
    sid = rest.run_job("search index=seq")
    assert len(results(rest, sid, output_mode="json", count=0).json()["results"]) == 120
    assert len(results(rest, sid, output_mode="json", count=10_000).json()["results"]) == 120
    count = rest.get(f"{V2}/{sid}", {"output_mode": "json"}).json()["entry"][0]["content"]
    assert count["resultCount"] == 500


# -- time ranges and SPL ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earliest", "latest"),
    [
        ("-90m", "now"),
        ("-5h@h", "-1h@h"),
        ("", ""),
        ("-7d@d", "+1d"),
        ((NOW - timedelta(hours=2)).isoformat(), str(int(NOW.timestamp()))),
    ],
)
def test_time_range_filtering(web: SplunkTestServer, rest: Any, earliest: str, latest: str) -> None:
    sid = rest.run_job("search index=web", earliest_time=earliest, latest_time=latest)
    rows = results(rest, sid, output_mode="json").json()["results"]
    lower = _resolve(earliest) if earliest else None
    upper = _resolve(latest) if latest else None
    expected = [
        (NOW - timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
        for h in range(5)
        if (lower is None or NOW - timedelta(hours=h) >= lower)
        and (upper is None or NOW - timedelta(hours=h) < upper)
    ]
    assert [row["_time"] for row in rows] == expected
    if earliest == "-90m":
        assert len(rows) == 2  # now and one hour ago


def _resolve(value: str) -> datetime:
    from kepler_splunk_testing.timemodifiers import resolve_time

    resolved = resolve_time(value)
    assert resolved is not None
    return resolved


def test_latest_is_exclusive(splunk_server: SplunkTestServer, rest: Any) -> None:
    splunk_server.add_index("seq", [{"_time": t, "n": t} for t in (100, 200, 300)])
    sid = rest.run_job("search index=seq", earliest_time="100", latest_time="300")
    assert [r["n"] for r in results(rest, sid, output_mode="json").json()["results"]] == [
        "200",
        "100",
    ]


def test_invalid_time_is_400(rest: Any) -> None:
    reply = rest.post(V2, {"search": "search index=main", "earliest_time": "yesterday"})
    assert reply.status == 400
    assert "Invalid earliest_time" in reply.xml().findtext("messages/msg")


def test_field_terms_head_fields_table(web: SplunkTestServer, rest: Any) -> None:
    sid = rest.run_job('search index="web" status=200 | head 2 | fields status, tags')
    rows = results(rest, sid, output_mode="json").json()["results"]
    assert len(rows) == 2 and all(row["status"] == "200" for row in rows)
    assert "message" not in rows[0] and "_time" in rows[0]
    sid = rest.run_job("search index=web status!=200 | fields - _* host source sourcetype")
    rows = results(rest, sid, output_mode="json").json()["results"]
    assert [row["status"] for row in rows] == ["404", "500"]
    assert not any(key.startswith("_") for key in rows[0])
    sid = rest.run_job("search index=web tags=c | table tags, status")
    page = results(rest, sid, output_mode="json").json()
    assert [f["name"] for f in page["fields"]] == ["tags", "status"]
    assert page["results"] == [{"tags": ["c", "d", "e"], "status": "200"}]
    sid = rest.run_job("search index=web message=QUOTE*")  # case-insensitive, wildcard
    assert len(results(rest, sid, output_mode="json").json()["results"]) == 1


def test_spl_errors(rest: Any) -> None:
    cases = {
        "index=web": "Unknown search command 'index'.",
        "stats count": "Unknown search command 'stats'.",
        "search index=web | nosuchcommand": "Unknown search command 'nosuchcommand'.",
        "search index=web |": "Missing a search command before '|'.",
        'search index="web': "Unbalanced quotes.",
        "": "Empty search.",
    }
    for spl, text in cases.items():
        reply = rest.post(V2, {"search": spl, "output_mode": "json"})
        assert reply.status == 400, spl
        assert reply.json() == {"messages": [{"type": "FATAL", "text": text}]}, spl
    unsupported = rest.post(V2, {"search": "search index=web | transpose"})
    assert unsupported.status == 400
    assert "add_search" in unsupported.xml().findtext("messages/msg")


def test_canned_searches_with_messages(splunk_server: SplunkTestServer, rest: Any) -> None:
    frame = pd.DataFrame({"_time": [0, 60], "metric_name": ["rpm", "rpm"], "avg": [1.5, 2.5]})
    splunk_server.add_search(
        r"^\|\s*mstats", frame, messages=[("WARN", "Some buckets were skipped")]
    )
    sid = rest.run_job("| mstats avg(_value) WHERE index=pump_metrics BY metric_name span=1m")
    page = results(rest, sid, output_mode="json").json()
    assert page["messages"] == [{"type": "WARN", "text": "Some buckets were skipped"}]
    assert [row["avg"] for row in page["results"]] == ["1.5", "2.5"]  # as given, in order
    status = rest.get(f"{V2}/{sid}").xml()
    content = status.find(f"{ATOM}content/{S}dict")
    assert dict_of(content)["messages"] == {"warn": ["Some buckets were skipped"]}
    events = rest.post(f"{V2}/{sid}/events", {"output_mode": "json"}).json()
    assert events["results"] == []  # a transforming search keeps no events


def test_canned_search_callable(splunk_server: SplunkTestServer, rest: Any) -> None:
    seen = []

    def answer(request: Any) -> list[dict[str, Any]]:
        seen.append(request)
        return [{"site": request.match.group(1), "earliest": str(request.earliest)}]

    splunk_server.add_search(r"\| tstats count where index=(\w+)", answer)
    sid = rest.run_job("| tstats count where index=pumps by site", earliest_time="-1h")
    row = results(rest, sid, output_mode="json").json()["results"][0]
    assert row["site"] == "pumps" and row["earliest"] != "None"
    assert seen[0].params["earliest_time"] == "-1h"


def test_makeresults_and_mpreview(splunk_server: SplunkTestServer, rest: Any) -> None:
    sid = rest.run_job("| makeresults count=3")
    rows = results(rest, sid, output_mode="json").json()["results"]
    assert len(rows) == 3 and set(rows[0]) == {"_time"}
    splunk_server.add_index(
        "pm", [{"_time": 10, "metric_name": "rpm", "_value": 1480}], datatype="metric"
    )
    assert (
        results(rest, rest.run_job("search index=pm"), output_mode="json").json()["results"] == []
    )
    rows = results(rest, rest.run_job("| mpreview index=pm"), output_mode="json").json()["results"]
    assert rows[0]["metric_name"] == "rpm" and rows[0]["_value"] == "1480"


def test_failed_after_dispatch(web: SplunkTestServer, rest: Any) -> None:
    web.fail_search(r"FAILME", "Error in 'search' command: exploded")
    sid = rest.post(V2, {"search": "search index=web FAILME", "output_mode": "json"}).json()["sid"]
    deadline = time.monotonic() + 5
    while True:
        reply = rest.get(f"{V2}/{sid}", {"output_mode": "json"})
        if reply.status == 200 and reply.json()["entry"][0]["content"]["isDone"]:
            break
        assert time.monotonic() < deadline
        time.sleep(0.01)
    content = reply.json()["entry"][0]["content"]
    assert content["isFailed"] is True and content["dispatchState"] == "FAILED"
    assert content["messages"] == [{"type": "FATAL", "text": "Error in 'search' command: exploded"}]
    page = results(rest, sid, output_mode="json").json()
    assert page["results"] == [] and page["messages"][0]["type"] == "FATAL"


def test_failed_before_dispatch(web: SplunkTestServer, rest: Any) -> None:
    web.fail_search("REFUSE", "Error in 'SearchParser': nope", after_dispatch=False)
    reply = rest.post(V2, {"search": "search index=web REFUSE"})
    assert reply.status == 400
    assert reply.xml().findtext("messages/msg") == "Error in 'SearchParser': nope"


# -- export -------------------------------------------------------------------------------------


def export(rest: Any, spl: str, **params: Any) -> Any:
    return rest.post("/services/search/v2/jobs/export", {"search": spl, **params})


def test_export_json_lines(web: SplunkTestServer, rest: Any) -> None:
    reply = export(rest, "search index=web", output_mode="json")
    assert reply.headers.get("Transfer-Encoding") == "chunked"  # streamed, not one page
    lines = [json.loads(line) for line in reply.text.splitlines()]
    assert [line["offset"] for line in lines] == [0, 1, 2, 3, 4]
    assert all(line["preview"] is False for line in lines)
    assert [("lastrow" in line) for line in lines] == [False] * 4 + [True]
    assert lines[0]["result"]["message"] == TRICKY


def test_export_previews_for_reporting_searches(splunk_server: SplunkTestServer, rest: Any) -> None:
    splunk_server.add_search("tstats", [{"n": str(i)} for i in range(10)], preview_sets=2)
    lines = [
        json.loads(line)
        for line in export(rest, "| tstats count", output_mode="json").text.splitlines()
    ]
    previews = [line for line in lines if line["preview"]]
    final = [line for line in lines if not line["preview"]]
    assert previews and len(final) == 10 and final[-1]["lastrow"] is True
    assert sum(1 for line in previews if line.get("lastrow")) == 2
    quiet = export(rest, "| tstats count", output_mode="json", preview="false").text.splitlines()
    assert len(quiet) == 10


def test_export_csv_xml_and_errors(web: SplunkTestServer, rest: Any) -> None:
    as_csv = export(rest, "search index=web | table status", output_mode="csv")
    assert as_csv.text == "status\n200\n404\n200\n500\n200\n"
    as_xml = export(rest, "search index=web | table status").xml()
    assert len(as_xml.findall("result")) == 5
    bad = export(rest, "search index=web | nosuchcommand", output_mode="json")
    assert bad.status == 400 and bad.json()["messages"][0]["text"].startswith("Unknown search")
    web.fail_search("EXPLODE", "Error in 'search' command: exploded")
    failed = export(rest, "search index=web EXPLODE", output_mode="json")
    assert failed.status == 200
    assert json.loads(failed.text.splitlines()[0])["messages"][0]["type"] == "FATAL"


def test_export_streams_large_results_in_chunks(splunk_server_factory: Any) -> None:
    server = splunk_server_factory(dispatch_delay=0)
    server.add_index("seq", [{"_time": i, "n": i} for i in range(25_000)])
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    connection.request(
        "POST",
        "/services/search/jobs/export",
        body="search=search+index%3Dseq&output_mode=json",
        headers={"Authorization": f"Bearer {server.token}"},
    )
    response = connection.getresponse()
    assert response.getheader("Transfer-Encoding") == "chunked"
    count = sum(1 for _ in response)
    connection.close()
    assert count == 25_000


# -- transport ----------------------------------------------------------------------------------


def test_keep_alive_and_connection_close(web: SplunkTestServer) -> None:
    connection = http.client.HTTPConnection(web.host, web.port, timeout=10)
    headers = {"Authorization": f"Bearer {web.token}"}
    for _ in range(3):  # several requests over one connection
        connection.request("GET", "/services/server/info", headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200 and response.getheader("Connection") is None
    connection.request("GET", "/services/server/info", headers={**headers, "Connection": "close"})
    response = connection.getresponse()
    response.read()
    assert response.getheader("Connection") == "Close"
    connection.close()


def test_concurrent_requests(web: SplunkTestServer, make_rest: Any) -> None:
    rest = make_rest(web)
    sid = rest.run_job("search index=web")
    failures: list[Any] = []

    def fetch() -> None:
        reply = results(rest, sid, output_mode="json")
        if reply.status != 200 or len(reply.json()["results"]) != 5:
            failures.append(reply.status)

    threads = [threading.Thread(target=fetch) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures


def test_servicesns_and_request_log(web: SplunkTestServer, rest: Any) -> None:
    web.clear_requests()
    sid = (
        rest.post("/servicesNS/admin/search/search/v2/jobs", {"search": "search index=web"})
        .xml()
        .findtext("sid")
    )
    assert rest.get(f"/servicesNS/-/-/search/v2/jobs/{sid}").status in (200, 204)
    logged = web.requests
    assert [entry.endpoint for entry in logged] == ["search/v2/jobs", f"search/v2/jobs/{sid}"]
    assert logged[0].params["search"] == "search index=web" and logged[0].user == "admin"
    assert logged[0].status == 201


def test_https_rest(splunk_server_https: SplunkTestServer, make_rest: Any) -> None:
    rest = make_rest(splunk_server_https)
    assert splunk_server_https.url.startswith("https://")
    assert rest.get("/services/server/info").status == 200
