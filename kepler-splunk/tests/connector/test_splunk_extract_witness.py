"""Issue 19, one full read per page: ``_raw``'s newlines checked against ``linecount`` (no JSON for
it), and a small ``json_cols`` answer as the witness that lets multivalue CSV text be split in
Arrow; JSON values are used only where the witness shows a real newline."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

import kepler as kp
import orjson
import pyarrow as pa
from kepler_splunk import frames
from splunk_helpers import point_kepler_at

NOW = datetime.now(UTC).replace(microsecond=0)


def _results(server):
    return server.requests_to(r"search/(v2/)?jobs/[^/]+/results$")


def _json_fields(server) -> list[list[str]]:
    return [r.param_lists.get("f", []) for r in _results(server)
            if r.params.get("output_mode") != "csv"]


def _events(count: int, build) -> list[dict]:
    """Newest first: row i is at NOW - i - 1 seconds, so frame row i is event i."""
    return [{"_time": NOW - timedelta(seconds=i + 1), "n": str(i), **build(i)} for i in range(count)]


def _server(factory, monkeypatch, rows):
    server = factory(max_result_rows=10)
    point_kepler_at(server, monkeypatch)
    server.add_index("w", rows)
    return server


def test_multiline_raw_is_never_read_from_json(splunk_server_factory, monkeypatch):
    rows = _events(35, lambda i: {"_raw": f"head {i}\n  at line {i}\n  at end" if i % 10 in (0, 9)
                                  else f"one line {i}", "tag": [f"a{i}", f"b{i}"]})
    server = _server(splunk_server_factory, monkeypatch, rows)
    frame = kp.data.from_splunk("index=w", earliest="-1h", progress=False, page_size=10,
                                keep_internal=True)
    assert frame["_raw"][9] == "head 9\n  at line 9\n  at end"  # one string, newlines kept
    assert frame["_raw"][10] == "head 10\n  at line 10\n  at end"
    assert frame["linecount"].tolist() == [3 if i % 10 in (0, 9) else 1 for i in range(35)]
    assert frame["tag"][34] == ["a34", "b34"]
    assert all("_raw" not in fields for fields in _json_fields(server))
    csv = [r for r in _results(server) if r.params.get("output_mode") == "csv"]
    assert sorted(int(r.params["offset"]) for r in csv) == [0, 10, 20, 30]


def test_a_multivalue_raw_fails_the_linecount_check_and_comes_from_json(
        splunk_server_factory, monkeypatch):
    """An ``eval``-made multivalue ``_raw`` reads like a two-line event in CSV; its ``linecount``
    (the event's own) says one line, so that page's ``_raw`` is settled by JSON."""
    rows = _events(25, lambda i: {"_raw": ["first", f"second {i}"] if i == 12 else f"line {i}"})
    server = _server(splunk_server_factory, monkeypatch, rows)
    frame = kp.data.from_splunk("index=w", earliest="-1h", progress=False, page_size=10)
    assert frame["_raw"][12] == ["first", "second 12"]
    assert frame["_raw"][11] == ["line 11"] and frame["_raw"][24] == ["line 24"]
    assert [f for f in _json_fields(server) if "_raw" in f] == [["_raw"]]  # that page only


def test_raw_without_linecount_is_one_string(splunk_server_factory, monkeypatch):
    rows = _events(15, lambda i: {"_raw": f"a {i}\nb {i}"})
    server = _server(splunk_server_factory, monkeypatch, rows)
    frame = kp.data.from_splunk("index=w | table _time _raw n", earliest="-1h", progress=False,
                                page_size=10)
    assert frame["_raw"].tolist() == [f"a {i}\nb {i}" for i in range(15)]
    assert _json_fields(server) == []


def test_a_real_newline_inside_a_multivalue_value_at_page_boundaries(
        splunk_server_factory, monkeypatch):
    """The witness shows the newline on pages 2 and 3 (rows 10 and 29): there the JSON values
    are used; elsewhere the CSV text is split. Both give the same exact lists."""

    def build(i: int) -> dict:
        if i in (10, 29):
            return {"tag": [f"two\nlines {i}", "plain"], "note": f"x\ny {i}"}
        return {"tag": [f"a{i}", f"b{i}"] if i % 3 == 0 else f"a{i}"}

    server = _server(splunk_server_factory, monkeypatch, _events(32, build))
    frame = kp.data.from_splunk("index=w", earliest="-1h", progress=False, page_size=10)
    assert list(frame["n"]) == list(range(32))
    for i in range(32):
        if i in (10, 29):
            assert frame["tag"][i] == [f"two\nlines {i}", "plain"]
            assert frame["note"][i] == f"x\ny {i}"  # never multivalue: stays text
        else:
            assert frame["tag"][i] == ([f"a{i}", f"b{i}"] if i % 3 == 0 else [f"a{i}"])
    csv = [r for r in _results(server) if r.params.get("output_mode") == "csv"]
    assert sorted(int(r.params["offset"]) for r in csv) == [0, 10, 20, 30]


# --- the pieces, without a server ---------------------------------------------------------------


def _page(text: dict[str, list]) -> pa.Table:
    return pa.table({name: pa.array(values, pa.string()) for name, values in text.items()})


def _json_cols(columns: dict[str, list]) -> bytes:
    return orjson.dumps({"preview": False, "init_offset": 0, "messages": [],
                         "fields": list(columns), "columns": list(columns.values())})


def test_witness_without_newlines_splits_the_csv_text():
    text = _page({"tag": ["a\nb", "c", None]})
    body = _json_cols({"tag": [["a", "b"], "c", None]})
    got = frames.columns_from_json_cols(body, ["tag"], text)
    assert got["tag"].to_pylist() == [["a", "b"], ["c"], None]


def test_witness_with_a_newline_uses_the_json_values():
    text = _page({"tag": ["a\nb\nc", "d"]})  # CSV cannot tell ["a\nb", "c"] from 3 values
    body = _json_cols({"tag": [["a\nb", "c"], "d"]})
    got = frames.columns_from_json_cols(body, ["tag"], text)
    assert got["tag"].to_pylist() == [["a\nb", "c"], ["d"]]


def test_a_witness_lacking_the_column_is_not_trusted():
    text = _page({"tag": ["a\nb"]})
    body = _json_cols({"other": ["x"]})
    assert "tag" not in frames.columns_from_json_cols(body, ["tag"], text)


def test_raw_lines_match_linecount():
    good = _page({"_raw": ["one", "a\nb\nc", None], "linecount": ["1", "3", "1"]})
    assert frames.raw_lines_match(good)
    bad = _page({"_raw": ["one", "a\nb"], "linecount": ["1", "1"]})
    assert not frames.raw_lines_match(bad)
    assert frames.raw_lines_match(_page({"_raw": ["a\nb"]}))  # no linecount: single by definition


def test_python_lists_restore_the_collector():
    column = pa.array([["a", "b"], None, ["c"]], pa.list_(pa.string()))
    assert gc.isenabled()
    assert frames.python_lists(column) == [["a", "b"], None, ["c"]]
    assert gc.isenabled()
    gc.disable()
    try:
        frames.python_lists(column)
        assert not gc.isenabled()  # a caller's own setting is left as it was
    finally:
        gc.enable()
