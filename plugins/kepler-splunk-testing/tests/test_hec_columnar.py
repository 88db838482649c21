"""HEC's column-by-column check of large bodies and its deferred batches give exactly the answers,
records, counters and index rows of the event-by-event path, whatever the body holds."""

from __future__ import annotations

import base64
import json
import types
import urllib.parse
import urllib.request
from typing import Any

import orjson
import pytest
from kepler_splunk_testing import SplunkTestServer
from kepler_splunk_testing import hec as hec_module
from kepler_splunk_testing.protocol import Params, Request

ARRIVAL = 1_700_000_500.25


def ordinary(number: int) -> dict[str, Any]:
    return {
        "time": 1_700_000_000 + number * 0.5,
        "event": {"n": number, "name": f"row {number}", "value": number / 7, "ok": True},
        "host": "edge-1",
        "sourcetype": "kepler:test",
        "fields": {"run": "r1", "shard": [1, 2], "weight": 0.5},
    }


def lines(start: int, count: int) -> bytes:
    return b"\n".join(orjson.dumps(ordinary(number)) for number in range(start, start + count))


BEFORE, AFTER = lines(0, 150), lines(150, 150)  # together above the columnar threshold
assert len(BEFORE) + len(AFTER) > hec_module._COLUMNAR_MIN_BYTES


def around(line: bytes | str) -> bytes:
    middle = line.encode() if isinstance(line, str) else line
    return BEFORE + b"\n" + middle + b"\n" + AFTER


def uniform(make: Any, count: int = 400) -> bytes:
    return b"\n".join(orjson.dumps(make(number)) for number in range(count))


def _nested(depth: int) -> str:
    return '{"event": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


ODD_LINES = [
    '{"time": 1}',  # 12
    '{"event": null}',
    '{"event": ""}',
    '{"event": "  "}',
    '{"event": "\\u3000"}',  # blank to str.strip(): 13
    '{"event": "\\u001c"}',
    '{"event": "\\u200b"}',  # not whitespace
    '{"event": {}}',
    '{"event": {"a": null}}',  # not blank
    '{"event": {"a": {}}}',
    '{"event": []}',
    '{"event": [1, "a"]}',
    '{"event": 0}',
    '{"event": false}',
    '{"event": "2024-01-01T00:00:00"}',
    '{"event": NaN}',
    '{"event": Infinity}',
    '{"event": Inf}',
    '{"event": {"x": -Infinity}}',
    '{"event": 1e400}',
    '{"event": 123456789012345678901234567890}',
    '{"event": 1.5e-400}',
    '{"event": "x", "time": NaN}',
    '{"event": "x", "time": "1700000000.5"}',
    '{"event": "x", "time": "yesterday"}',
    '{"event": "x", "time": true}',
    '{"event": "x", "time": null}',
    '{"event": "x", "time": 9000000000}',
    '{"event": "x", "time": 9000000000.000001}',
    '{"event": "x", "time": -9000000001}',
    '{"event": "x", "time": 1700000000000}',
    '{"event": "x", "host": 5}',
    '{"event": "x", "host": true}',
    '{"event": "x", "source": {"a": 1}}',
    '{"event": "x", "sourcetype": ""}',
    '{"event": "x", "index": 5}',
    '{"event": "x", "index": "MAIN"}',
    '{"event": "x", "index": ""}',
    '{"event": "x", "index": null}',
    '{"event": "x", "index": "nope"}',
    '{"event": "x", "index": "other"}',
    '{"event": "x", "index": "pump_metrics"}',
    '{"event": "metric", "index": "pump_metrics", "fields": {"metric_name:cpu": 1.5}}',
    '{"event": "x", "fields": null}',
    '{"event": "x", "fields": {}}',
    '{"event": "x", "fields": "f=1"}',
    '{"event": "x", "fields": {"f": null}}',
    '{"event": "x", "fields": {"f": true}}',
    '{"event": "x", "fields": {"f": {"nested": 1}}}',
    '{"event": "x", "fields": {"": "v"}}',
    '{"event": "x", "fields": {"f": []}}',
    '{"event": "x", "fields": {"f": [true]}}',
    '{"event": "x", "fields": {"f": [null]}}',
    '{"event": "x", "fields": {"f": [[1]]}}',
    '{"event": "x", "fields": {"f": [1, "b"]}}',
    '{"event": "x", "fields": {"f": NaN}}',
    '{"event": "x", "event": ""}',
    '{"event": {"a": 1, "a": 2}}',
    '{"ev\\u0065nt": "escaped key"}',
    '{"event": "\\ud800"}',  # a lone surrogate: json accepts it, orjson does not
    '{"event": "x", "extra": "text"}',
    '{"event": "x", "extra": [1, {"a": 2}]}',
    '{"event": "x"} {"event": "same line"}',
    '{"event": "x"}{"event": "no space"}',
    '{"event": "x"}\n\n   \n{"event": "after blank lines"}',
    '{"event": "x"}\r\n{"event": "crlf"}\r',
    '{"event": "x"',
    '{"event": "x"}]',
    '{"event": "x",}',
    '{"event": 01}',
    '["x"]',
    "null",
    "1",
    '"x"',
    "x",
    _nested(10),
    _nested(40),
    _nested(3000),
]

# the same with an object event like the ordinary ones: these reach the column checks
ODD_LINES += [
    line.replace('"event": "x"', '"event": {"n": -1, "name": "odd"}')
    for line in ODD_LINES
    if '"event": "x"' in line
]


def _outcome(body: bytes, monkeypatch: pytest.MonkeyPatch, mode: str, token: str | None) -> Any:
    """What the server answers, keeps and stores for ``body`` with one way of reading it."""
    server = SplunkTestServer()
    server.add_index("other")
    server.add_index("pump_metrics", datatype="metric")
    narrow = server.add_hec_token(name="narrow", index="other", indexes=["other", "main"])
    secret = {None: server.hec_token, "narrow": narrow}[token]
    hec = server.hec
    with monkeypatch.context() as patch:
        patch.setattr(hec_module, "time", types.SimpleNamespace(time=lambda: ARRIVAL))
        if mode != "columnar":
            patch.setattr(hec_module, "_COLUMNAR_MIN_BYTES", 10**12)
        if mode == "eager":  # as before deferred batches: per-event objects at request time

            def eager(self: Any, body: bytes, count: int, context: Any, indexes: Any) -> Any:
                return self._exact_events(body, *context, indexes)[0]

            patch.setattr(hec_module.HecCollector, "_deferred", eager)
        headers = {"Authorization": f"Splunk {secret}", "Host": "127.0.0.1:8088"}
        request = Request("POST", "/services/collector/event", Params(), headers, body)
        response = hec.handle(request)
        assert response is not None
        events = hec.events()
        per_index = {name: hec.events(name) for name in ("main", "other", "pump_metrics")}
        stats = hec.stats.as_dict()
        try:
            hec.land_buffered()
        except Exception as error:  # e.g. a lone surrogate, which Arrow cannot store
            stored: Any = type(error).__name__
        else:
            stored = {
                index.name: (index.dataset.table.to_pylist(), _times(index.dataset.times_ns))
                for index in server.engine.index_list(settle=False)
            }
    return response.status, json.loads(response.body), events, per_index, stats, stored


def _same_everywhere(body: bytes, monkeypatch: pytest.MonkeyPatch, token: str | None = None) -> Any:
    columnar = _outcome(body, monkeypatch, "columnar", token)
    assert columnar == _outcome(body, monkeypatch, "exact", token)
    assert columnar == _outcome(body, monkeypatch, "eager", token)
    return columnar


# -- the same answers ---------------------------------------------------------------------------


@pytest.mark.parametrize("line", ODD_LINES)
def test_an_odd_event_amid_ordinary_ones(line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    status, reply, events, *_ = _same_everywhere(around(line), monkeypatch)
    if status != 200:  # the events before the odd one are kept, the others are not
        number = reply.get("invalid-event-number")
        assert number is None or len(events) == number


@pytest.mark.parametrize("line", ['{"event": ""}', '{"event": "x", "index": "nope"}', "null"])
@pytest.mark.parametrize("where", ["first", "last"])
def test_an_odd_event_first_or_last(line: str, where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    body = (line.encode() + b"\n" + AFTER) if where == "first" else (BEFORE + b"\n" + line.encode())
    status, reply, events, *_ = _same_everywhere(body, monkeypatch)
    assert status == 400
    assert len(events) == reply["invalid-event-number"] == (0 if where == "first" else 150)


BODIES = {
    "ordinary": around(orjson.dumps(ordinary(-1))),
    "text events": uniform(lambda n: {"event": f"line {n}", "time": 1_700_000_000 + n}),
    "array events": uniform(lambda n: {"event": [n, n + 1], "index": "other"}),
    "number events": uniform(lambda n: {"event": n}),
    "date events": uniform(lambda n: {"event": f"2024-01-{n % 28 + 1:02d}T00:00:00"}),
    "text times": uniform(lambda n: {"event": {"n": n}, "time": str(1_700_000_000 + n)}),
    "no time": uniform(lambda n: {"event": {"n": n}}),
    "numeric host": uniform(lambda n: {"event": {"n": n}, "host": n}),
    "two indexes": uniform(lambda n: {"event": {"n": n}, "index": ["main", "OTHER"][n % 2]}),
    "empty fields": uniform(lambda n: {"event": {"n": n}, "fields": {}}),
    "null fields": uniform(lambda n: {"event": {"n": n}, "fields": None}),
    "sometimes fields": uniform(
        lambda n: {"event": {"n": n}, "fields": {"a": "b"}} if n % 2 else {"event": {"n": n}}
    ),
    "missing field values": uniform(lambda n: {"event": {"n": n}, "fields": {f"f{n % 3}": "v"}}),
    "text list fields": uniform(lambda n: {"event": {"n": n}, "fields": {"tags": ["a", str(n)]}}),
    "sparse events": uniform(lambda n: {"event": {f"k{n % 5}": n}}),
    "metrics": uniform(
        lambda n: {
            "event": "metric",
            "index": "pump_metrics",
            "fields": {"metric_name:cpu": n / 3, "host_group": "a"},
        }
    ),
    "not metrics": uniform(lambda n: {"event": "x", "index": "pump_metrics"}),
    "spaced": "\n".join(json.dumps(ordinary(n), indent=None) for n in range(300)).encode(),
    "pretty": "\n".join(json.dumps(ordinary(n), indent=2) for n in range(300)).encode(),
    "concatenated": b"".join(orjson.dumps(ordinary(n)) for n in range(300)),
    "non-ascii": uniform(lambda n: {"event": {"city": "Zürich", "n": n}, "host": "hôte"}),
    "invalid utf-8": around(b'{"event": "caf\xe9"}'),
    "bom": b"\xef\xbb\xbf" + BEFORE,
    "leading space": b"  \n\t" + BEFORE,
    "only null": b"null" + b" " * 40_000,
    "only whitespace": b" \n" * 20_000,
}


@pytest.mark.parametrize("name", list(BODIES))
def test_whole_bodies(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _same_everywhere(BODIES[name], monkeypatch)


@pytest.mark.parametrize("name", ["ordinary", "two indexes", "no time"])
def test_a_token_limited_to_some_indexes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _same_everywhere(BODIES[name], monkeypatch, token="narrow")


# -- the fast check itself ----------------------------------------------------------------------


def _count(body: bytes) -> int | None:
    server = SplunkTestServer()
    server.add_index("other")
    token = server.hec._by_value(server.hec_token)
    return hec_module._columnar_count(body, token, hec_module._IndexMemo(server.hec._indexes()))


def test_ordinary_bodies_take_the_columnar_check() -> None:
    for name in (
        "ordinary",
        "text events",
        "array events",
        "number events",
        "date events",
        "no time",
        "two indexes",
        "empty fields",
        "null fields",
        "sometimes fields",
        "text list fields",
        "sparse events",
        "spaced",
        "pretty",
        "concatenated",
        "non-ascii",
    ):
        body = BODIES[name]
        assert _count(body) == _objects(body), name


@pytest.mark.parametrize(
    "name",
    [
        "text times",
        "numeric host",
        "metrics",
        "not metrics",
        "invalid utf-8",
        "bom",
        "only null",
        "only whitespace",
        "missing field values",
    ],
)
def test_what_the_columns_cannot_decide_goes_the_exact_way(name: str) -> None:
    assert _count(BODIES[name]) is None


def test_python_whitespace_is_what_blank_means() -> None:
    every = "".join(chr(code) for code in range(0x110000) if chr(code).isspace())
    assert every == hec_module._PY_WHITESPACE


# -- deferred batches ---------------------------------------------------------------------------


def test_accepted_bodies_are_parsed_again_only_when_read(splunk_server: SplunkTestServer) -> None:
    splunk_server.add_index("other")
    body = BODIES["two indexes"]
    hec = splunk_server.hec
    token = hec._by_value(splunk_server.hec_token)
    request = Request("POST", "/services/collector/event", Params(), {}, body)
    batch, refusal = hec._parse_events(body, request, token, None, ARRIVAL)
    assert refusal is None and isinstance(batch, hec_module._Batch)
    assert (len(batch), batch.indexes) == (400, frozenset({"main", "other"}))
    hec._store(batch)
    assert batch._items is None and splunk_server.hec_stats.events_indexed == 400
    other = splunk_server.hec_events("other")
    assert [event["event"]["n"] for event in other] == list(range(1, 400, 2))
    assert {event["index"] for event in other} == {"other"} and batch._items is not None
    main = _search(splunk_server, "search index=main n=*")
    assert sorted(int(row["n"]) for row in main) == list(range(0, 400, 2))
    assert all(row["_raw"] == f'{{"n":{row["n"]}}}' for row in main)


def _search(server: SplunkTestServer, spl: str) -> list[dict[str, Any]]:
    form = {"search": spl, "exec_mode": "oneshot", "output_mode": "json", "count": 0}
    credentials = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
    request = urllib.request.Request(
        server.url + "/services/search/jobs",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Authorization": f"Basic {credentials}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["results"]


def _times(times: Any) -> list[int]:
    return [] if times is None else [int(value) for value in times]


def _objects(body: bytes) -> int:
    """How many JSON values the body holds (json's own stream decoding)."""
    text, decoder, position, count = body.decode(), json.JSONDecoder(), 0, 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        position = decoder.raw_decode(text, position)[1]
        count += 1
    return count
