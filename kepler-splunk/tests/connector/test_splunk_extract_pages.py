"""Issue 19: multivalue fields and newlines read exactly, each column's values fetched once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import kepler as kp
import pytest
from kepler_splunk_testing.realistic import generate_realistic_events
from splunk_helpers import point_kepler_at

NOW = datetime.now(UTC).replace(microsecond=0)


def _rows(count: int) -> list[dict]:
    """Newest first in the index; row i is at NOW - i seconds. Multivalue and multi-line values
    sit right at the page boundaries of 10-row pages (rows 9, 10, 19, 20, ...)."""
    rows = []
    for i in range(count):
        row: dict = {"_time": NOW - timedelta(seconds=i + 1), "n": str(i)}
        if i % 10 in (9, 0):
            row["tag"] = [f"a{i}", f"b{i}"]
            row["_raw"] = f"first {i}\nsecond {i}"
            row["note"] = f"x{i}\ny{i}"
        else:
            row["tag"] = f"a{i}"
            row["_raw"] = f"line {i}"
        rows.append(row)
    return rows


def _results(server):
    return server.requests_to(r"search/(v2/)?jobs/[^/]+/results$")


def _check(frame, count):
    assert list(frame["n"]) == list(range(count))  # no row lost, duplicated or moved
    for i, row in enumerate(frame.to_dict("records")):
        if i % 10 in (9, 0):
            assert row["tag"] == [f"a{i}", f"b{i}"]
            assert row["_raw"] == f"first {i}\nsecond {i}"  # one string, newline kept
            assert row["note"] == f"x{i}\ny{i}"
        else:
            assert row["tag"] == [f"a{i}"]
            assert row["_raw"] == f"line {i}"


def test_multivalue_and_newlines_exact_at_page_boundaries(splunk_server_factory, monkeypatch):
    server = splunk_server_factory(max_result_rows=10)
    point_kepler_at(server, monkeypatch)
    server.add_index("mv", _rows(45))
    frame = kp.data.from_splunk("index=mv", earliest="-1h", progress=False, page_size=10)
    _check(frame, 45)
    requests = _results(server)
    csv = [r for r in requests if r.params.get("output_mode") == "csv"]
    as_json = [r for r in requests if r.params.get("output_mode") != "csv"]
    assert sorted(int(r.params["offset"]) for r in csv) == [0, 10, 20, 30, 40]  # once each
    # JSON brings only the ambiguous columns, never a whole page twice
    assert all(r.params.get("output_mode") == "json_cols" for r in as_json)
    assert all(set(r.param_lists["f"]) <= {"tag", "_raw", "note"} for r in as_json)
    assert sorted(int(r.params["offset"]) for r in as_json) == [0, 10, 20, 30, 40]


def test_a_server_that_ignores_the_field_list(splunk_server_factory, monkeypatch):
    server = splunk_server_factory(max_result_rows=10)
    point_kepler_at(server, monkeypatch)
    server.add_index("mv", _rows(25))
    import kepler_splunk_testing.results as results

    monkeypatch.setattr(results, "select_fields", lambda fields, wanted: tuple(fields))
    frame = kp.data.from_splunk("index=mv", earliest="-1h", progress=False, page_size=10)
    _check(frame, 25)


def test_a_server_without_json_cols_falls_back_to_json(splunk, monkeypatch):
    splunk.add_index("mv", _rows(12))
    import kepler_splunk.frames as frames

    monkeypatch.setattr(frames, "columns_from_json_cols", lambda body, names, text=None: None)
    frame = kp.data.from_splunk("index=mv", earliest="-1h", progress=False)
    _check(frame, 12)
    assert any(r.params.get("output_mode") == "json" for r in _results(splunk))


def test_a_value_with_newline_in_a_column_seen_plain_before(splunk_server_factory, monkeypatch):
    """Page 1 has no newline in ``note``; page 3 does: that page is completed from JSON."""
    server = splunk_server_factory(max_result_rows=10)
    point_kepler_at(server, monkeypatch)
    rows = [{"_time": NOW - timedelta(seconds=i + 1), "n": str(i), "note": f"plain {i}"}
            for i in range(30)]
    rows[25]["note"] = "two\nlines"
    rows[26]["note"] = ["multi", "value"]
    server.add_index("late", rows)
    frame = kp.data.from_splunk("index=late", earliest="-1h", progress=False, page_size=10)
    assert frame["note"][25] == ["two\nlines"] and frame["note"][26] == ["multi", "value"]
    assert frame["note"][0] == ["plain 0"]  # the column is a list column as a whole


@pytest.mark.parametrize("seed", [0, 1])
def test_realistic_dataset_round_trip(splunk_server_factory, monkeypatch, seed):
    server = splunk_server_factory(max_result_rows=700)
    point_kepler_at(server, monkeypatch)
    data = generate_realistic_events(3_000, seed=seed)
    server.add_index("web", data)
    # keep_internal: eventtype is one of the fields Kepler drops by default
    frame = kp.data.from_splunk("index=web", earliest=0, progress=False, keep_internal=True)
    expected = data.to_pandas().iloc[::-1].reset_index(drop=True)  # Splunk: newest first
    assert len(frame) == 3_000
    assert sorted(frame["_raw"]) == sorted(expected["_raw"])
    by_raw = frame.set_index("_raw")
    for column in ("tag", "eventtype"):
        want = {raw: (None if v is None else list(v)) for raw, v in zip(expected["_raw"],
                                                                        expected[column],
                                                                        strict=True)}
        got = by_raw[column].to_dict()
        assert got == want
    assert frame["_raw"].str.contains("\n").sum() == expected["_raw"].str.contains("\n").sum()
    assert frame["error_code"].dropna().str.len().eq(4).all()  # codes such as 0042 stay text

