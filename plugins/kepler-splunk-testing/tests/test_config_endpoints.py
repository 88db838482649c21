"""HEC tokens, dashboards, saved searches and SPL validation over the REST API (splunklib and
plain HTTP)."""

from __future__ import annotations

import json
import time
import uuid
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from kepler_splunk_testing import SplunkTestServer

client = pytest.importorskip("splunklib.client")
binding = pytest.importorskip("splunklib.binding")
results_module = pytest.importorskip("splunklib.results")

HTTP_INPUTS = "/servicesNS/nobody/splunk_httpinput/data/inputs/http"
NS = {"owner": "nobody", "app": "search"}


def connect(server: SplunkTestServer) -> Any:
    return client.connect(
        host=server.host,
        port=server.port,
        scheme=server.scheme,
        username=server.username,
        password=server.password,
        autologin=True,
    )


def send_event(server: SplunkTestServer, token: str, **headers: str) -> tuple[int, Any]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.hec_port, timeout=10)
    try:
        connection.request(
            "POST",
            "/services/collector/event",
            body=b'{"event": "rest-made token"}',
            headers={"Authorization": f"Splunk {token}", **headers},
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def studio(definition: dict[str, Any] | str) -> str:
    body = definition if isinstance(definition, str) else json.dumps(definition, indent=2)
    return (
        '<dashboard version="2" theme="light">\n  <label>Model monitor</label>\n'
        f"  <definition><![CDATA[\n{body}\n]]></definition>\n</dashboard>\n"
    )


DEFINITION = {
    "title": "Model monitor",
    "dataSources": {
        "ds_volume": {
            "type": "ds.search",
            "options": {"query": "search index=preds | timechart count AS predictions"},
        },
        "ds_latency": {
            "type": "ds.search",
            "options": {"query": 'search index=preds model="pumps" | stats avg(latency_ms)'},
        },
    },
    "visualizations": {
        "viz_volume": {"type": "splunk.line", "dataSources": {"primary": "ds_volume"}},
        "viz_latency": {"type": "splunk.singlevalue", "dataSources": {"primary": "ds_latency"}},
    },
    "layout": {
        "type": "absolute",
        "structure": [
            {
                "item": "viz_volume",
                "type": "block",
                "position": {"x": 0, "y": 0, "w": 600, "h": 300},
            },
            {
                "item": "viz_latency",
                "type": "block",
                "position": {"x": 600, "y": 0, "w": 600, "h": 300},
            },
        ],
    },
}


# -- HEC tokens -------------------------------------------------------------------------------


def test_token_lifecycle_over_rest(splunk_server: SplunkTestServer, rest: Any) -> None:
    splunk_server.add_index("preds")
    listing = rest.get(HTTP_INPUTS, {"output_mode": "json", "count": 0}).json()
    names = [entry["name"] for entry in listing["entry"]]
    assert names == ["http", "http://kepler-default"]
    default = listing["entry"][1]["content"]
    assert default["token"] == splunk_server.hec_token
    assert default["disabled"] is False and default["useACK"] is False

    created = rest.post(
        HTTP_INPUTS,
        {
            "name": "kepler-2",
            "index": "preds",
            "indexes": "preds,main",
            "sourcetype": "kepler:prediction",
            "useACK": "1",
            "description": "made over REST",
            "output_mode": "json",
        },
    )
    assert created.status == 201, created.body
    entry = created.json()["entry"][0]
    assert entry["name"] == "http://kepler-2"
    content = entry["content"]
    token = content["token"]
    assert str(uuid.UUID(token)) == token
    assert content["index"] == "preds" and content["indexes"] == ["preds", "main"]
    assert content["useACK"] is True and content["sourcetype"] == "kepler:prediction"
    assert content["description"] == "made over REST"

    channel = str(uuid.uuid4())
    assert send_event(splunk_server, token, **{"X-Splunk-Request-Channel": channel}) == (
        200,
        {"text": "Success", "code": 0, "ackId": 0},
    )
    assert splunk_server.hec_events("preds")[0]["_token"] == "kepler-2"

    by_encoded_name = rest.get(f"{HTTP_INPUTS}/{quote('http://kepler-2', safe='')}")
    assert by_encoded_name.status == 200 and "kepler-2" in by_encoded_name.text
    updated = rest.post(
        f"{HTTP_INPUTS}/kepler-2", {"description": "rotated out", "output_mode": "json"}
    )
    assert updated.json()["entry"][0]["content"]["description"] == "rotated out"
    disabled = rest.post(f"{HTTP_INPUTS}/kepler-2/disable", {"output_mode": "json"})
    assert disabled.json()["entry"][0]["content"]["disabled"] is True
    assert send_event(splunk_server, token, **{"X-Splunk-Request-Channel": channel}) == (
        403,
        {"text": "Token disabled", "code": 1},
    )
    assert rest.post(f"{HTTP_INPUTS}/kepler-2/enable").status == 200
    assert send_event(splunk_server, token, **{"X-Splunk-Request-Channel": channel})[0] == 200

    assert rest.delete(f"{HTTP_INPUTS}/kepler-2").status == 200
    missing = rest.get(f"{HTTP_INPUTS}/kepler-2")
    assert missing.status == 404
    assert "In handler 'http': Could not find object id=http://kepler-2" in missing.text
    assert send_event(splunk_server, token)[1] == {"text": "Invalid token", "code": 4}


def test_token_rest_refusals(splunk_server: SplunkTestServer, rest: Any, make_rest: Any) -> None:
    duplicate = rest.post(HTTP_INPUTS, {"name": "kepler-default"})
    assert duplicate.status == 409 and "already exists" in duplicate.text
    assert rest.post(HTTP_INPUTS, {"index": "main"}).status == 400  # no name
    typo = rest.post(HTTP_INPUTS, {"name": "x", "use_ack": "1"})
    assert typo.status == 400
    assert 'Argument "use_ack" is not supported by this handler.' in typo.text
    assert rest.post(HTTP_INPUTS, {"name": "y", "useACK": "maybe"}).status == 400
    splunk_server.add_user("analyst", "pw")
    analyst = make_rest(
        SimpleNamespace(
            host=splunk_server.host,
            port=splunk_server.port,
            scheme="http",
            username="analyst",
            password="pw",
        )
    )
    refused = analyst.get(HTTP_INPUTS)
    assert refused.status == 403
    assert "requires capability: edit_token_http" in refused.text


def test_tokens_with_splunklib(splunk_server: SplunkTestServer) -> None:
    service = connect(splunk_server)
    created = service.inputs.create("sdk-token", "http", index="main", useACK=True)
    assert created.content["token"] == created["token"]
    assert uuid.UUID(created["token"])
    tokens = client.Collection(service, "data/inputs/http")
    assert {entity.name for entity in tokens.list()} == {
        "http",
        "http://kepler-default",
        "http://sdk-token",
    }
    body = service.get(
        "data/inputs/http", owner="nobody", app="splunk_httpinput", output_mode="json", count=0
    ).body.read()
    entries = {entry["name"]: entry["content"] for entry in json.loads(body)["entry"]}
    assert entries["http://sdk-token"]["useACK"] is True
    service.post("data/inputs/http/sdk-token/disable", owner="nobody", app="splunk_httpinput")
    created.refresh()
    assert created["disabled"] == "1"
    service.delete("data/inputs/http/sdk-token", owner="nobody", app="splunk_httpinput")
    with pytest.raises(binding.HTTPError) as error:
        service.get("data/inputs/http/sdk-token", owner="nobody", app="splunk_httpinput")
    assert error.value.status == 404


# -- dashboards -------------------------------------------------------------------------------


def test_dashboard_lifecycle_with_splunklib(splunk_server: SplunkTestServer) -> None:
    service = connect(splunk_server)
    xml = studio(DEFINITION)
    created = service.post("data/ui/views", name="kepler_pumps", **NS, **{"eai:data": xml})
    assert created.status == 201
    views = client.Collection(service, "data/ui/views")
    (view,) = views.list()
    assert view.name == "kepler_pumps" and view["eai:data"] == xml
    assert view["rootNode"] == "dashboard" and view["version"] == "2"
    assert view.access.app == "search" and view.access.owner == "nobody"
    assert splunk_server.views() == {"kepler_pumps": xml}
    assert splunk_server.views(app="other") == {}

    simple = "<form><label>Simple</label><row><panel><html>hi</html></panel></row></form>"
    service.post("data/ui/views/kepler_pumps", **NS, **{"eai:data": simple})
    assert splunk_server.views()["kepler_pumps"] == simple

    with pytest.raises(binding.HTTPError) as conflict:
        service.post("data/ui/views", name="kepler_pumps", **NS, **{"eai:data": xml})
    assert conflict.value.status == 409

    service.delete("data/ui/views/kepler_pumps", **NS)
    with pytest.raises(binding.HTTPError) as missing:
        service.get("data/ui/views/kepler_pumps", **NS)
    assert missing.value.status == 404
    assert "In handler 'views': Could not find object id=kepler_pumps" in str(missing.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("not xml at all", "not well-formed XML"),
        ("<html><body/></html>", "must have a <dashboard> or <form> root element, not <html>"),
        ('<dashboard version="2"><label>x</label></dashboard>', "needs a <definition>"),
        (studio("{not json"), "not valid JSON"),
        (studio({"dataSources": {}, "visualizations": {}}), "has no 'layout'"),
        (studio({**DEFINITION, "visualizations": []}), "'visualizations' must be a JSON object"),
        (
            studio(
                {**DEFINITION, "dataSources": {"ds_volume": DEFINITION["dataSources"]["ds_volume"]}}
            ),
            "uses data source 'ds_latency'",
        ),
        (
            studio({**DEFINITION, "layout": {"structure": [{"item": "viz_gone"}]}}),
            "places 'viz_gone'",
        ),
    ],
)
def test_invalid_dashboards_are_refused(rest: Any, data: str, message: str) -> None:
    reply = rest.post(
        "/servicesNS/nobody/search/data/ui/views",
        {"name": "broken", "eai:data": data, "output_mode": "json"},
    )
    assert reply.status == 400
    (text,) = [m["text"] for m in reply.json()["messages"]]
    assert text.startswith("In handler 'views': ") and message in text


# -- saved searches ---------------------------------------------------------------------------


def test_saved_search_lifecycle_and_dispatch(splunk_server: SplunkTestServer) -> None:
    now = int(time.time())
    splunk_server.add_index("alerts", [{"_time": now - 60, "level": "high"}])
    service = connect(splunk_server)
    saved = service.saved_searches.create(
        "Kepler pumps: high",
        "search index=alerts level=high",
        is_scheduled="1",
        cron_schedule="*/15 * * * *",
        **{"dispatch.earliest_time": "-1h", "dispatch.latest_time": "now", "alert.track": "1"},
    )
    assert saved["cron_schedule"] == "*/15 * * * *" and saved["is_scheduled"] == "1"
    assert saved["alert_type"] == "always"  # splunkd's defaults fill the rest
    assert splunk_server.saved_searches() == {
        "Kepler pumps: high": {
            "search": "search index=alerts level=high",
            "is_scheduled": "1",
            "cron_schedule": "*/15 * * * *",
            "dispatch.earliest_time": "-1h",
            "dispatch.latest_time": "now",
            "alert.track": "1",
        }
    }
    saved.update(description="updated")
    assert splunk_server.saved_searches()["Kepler pumps: high"]["description"] == "updated"

    job = saved.dispatch()
    assert "__nobody__search__RMD5" in job.sid
    deadline = time.monotonic() + 10
    while not job.is_done():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    rows = [
        r
        for r in results_module.JSONResultsReader(job.results(output_mode="json"))
        if isinstance(r, dict)
    ]
    assert [row["level"] for row in rows] == ["high"]
    assert job["earliestTime"] != "1970-01-01T00:00:00.000+00:00"  # dispatch.earliest_time used

    with pytest.raises(binding.HTTPError) as conflict:
        service.saved_searches.create("Kepler pumps: high", "search index=alerts")
    assert conflict.value.status == 409
    assert "A saved search with that name already exists." in str(conflict.value)
    service.saved_searches.delete("Kepler pumps: high")
    assert "Kepler pumps: high" not in service.saved_searches
    assert splunk_server.saved_searches() == {}


def test_saved_search_rest_details(splunk_server: SplunkTestServer, rest: Any) -> None:
    base = "/servicesNS/admin/search/saved/searches"
    created = rest.post(
        base, {"name": "by_site", "search": "search index=$idx$", "output_mode": "json"}
    )
    assert created.status == 201
    entry = created.json()["entry"][0]
    assert entry["acl"]["owner"] == "admin" and entry["acl"]["sharing"] == "user"
    assert entry["content"]["is_scheduled"] is False
    sid = rest.post(f"{base}/by_site/dispatch", {"args.idx": "main", "output_mode": "json"})
    assert sid.status == 201
    status = rest.get(f"/services/search/jobs/{sid.json()['sid']}", {"output_mode": "json"})
    deadline = time.monotonic() + 10
    while status.status == 204:  # splunkd answers 204 while the job is queued
        assert time.monotonic() < deadline
        time.sleep(0.01)
        status = rest.get(f"/services/search/jobs/{sid.json()['sid']}", {"output_mode": "json"})
    assert status.json()["entry"][0]["content"]["request"]["search"] == "search index=main"
    assert rest.post(base, {"name": "no_search"}).status == 400
    renamed = rest.post(f"{base}/by_site", {"name": "other"})
    assert renamed.status == 400 and 'Argument "name"' in renamed.text
    missing = rest.get(f"{base}/nope")
    assert missing.status == 404
    assert "In handler 'savedsearch': Could not find object id=nope" in missing.text
    unsupported = rest.post(base, {"name": "stats", "search": "search index=main | transpose"})
    assert unsupported.status == 201
    refused = rest.post(f"{base}/stats/dispatch")  # the engine runs it like any job: 400
    assert refused.status == 400 and "add_search" in refused.text


# -- SPL validation ---------------------------------------------------------------------------


def test_search_parser_accepts_what_the_engine_cannot_run(rest: Any) -> None:
    for query in DEFINITION["dataSources"].values():
        spl = query["options"]["query"]
        reply = rest.get("/services/search/parser", {"q": spl, "output_mode": "json"})
        assert reply.status == 200, reply.text
    reply = rest.get(
        "/services/search/parser",
        {
            "q": "search index=preds | timechart count | eval x=if(a==1, 1, 0)",
            "output_mode": "json",
        },
    )
    document = reply.json()
    assert [c["command"] for c in document["commands"]] == ["search", "timechart", "eval"]
    assert document["eventsSearch"] == "search index=preds"
    assert document["reportsSearch"] == "timechart count | eval x=if(a==1, 1, 0)"
    xml = rest.get("/servicesNS/admin/search/search/parser", {"q": "| makeresults count=3"})
    assert xml.status == 200 and '<key name="command">makeresults</key>' in xml.text


@pytest.mark.parametrize(
    ("spl", "message"),
    [
        ("index=main | stats count", "Unknown search command 'index'."),
        ("search index=main | statz count", "Unknown search command 'statz'."),
        ('search index=main "unclosed', "Unbalanced quotes."),
        ("search index=main | eval x=(1+2", "Missing a closing ')'"),
        ("search index=main | eval x=1+2)", "Mismatched ')'"),
        ("search index=main [search index=b | nosuch]", "Unknown search command 'nosuch'."),
        ("search index=main ]", "Mismatched ']'"),
        ("search index=main | ", "Missing a search command before '|'."),
    ],
)
def test_search_parser_refuses_bad_spl(rest: Any, spl: str, message: str) -> None:
    reply = rest.get("/services/search/parser", {"q": spl, "output_mode": "json"})
    assert reply.status == 400
    (entry,) = reply.json()["messages"]
    assert entry["type"] == "FATAL" and message in entry["text"]


def test_search_parser_knows_extra_commands(splunk_server_factory: Any, make_rest: Any) -> None:
    server = splunk_server_factory(extra_commands=["fit"])
    reply = make_rest(server).get("/services/search/parser", {"q": "| inputlookup t.csv | fit X"})
    assert reply.status == 200
    assert make_rest(server).get("/services/search/parser").status == 400  # no q
