"""Datasets from every accepted input, and the renderers' escaping of awkward values."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from kepler_splunk_testing.datasets import DatasetError, Index, to_dataset
from kepler_splunk_testing.render import render_page
from kepler_splunk_testing.results import EVENT_FIELDS, Message, ResultSet

AWKWARD = [
    'double "quotes" and \\ backslash',
    "new\nline, comma\r\nand tab\t",
    "control \x01\x1f chars",
    "xml <tag attr='1'> & entity",
    "ünïcödé ✓ 日本",
    "",
]


def render(results: ResultSet, mode: str, **kwargs: object) -> bytes:
    page = results.page(0, len(results))
    messages = kwargs.pop("messages", [])
    chunks = render_page(mode, page, preview=False, messages=messages, init_offset=0)  # type: ignore[arg-type]
    return b"".join(bytes(chunk) for chunk in chunks)


def plain_results(frame: object) -> ResultSet:
    dataset = to_dataset(frame, require_time=False)
    return ResultSet(dataset, slice(0, dataset.num_rows), tuple(dataset.fields))


def test_awkward_strings_round_trip_in_every_mode() -> None:
    results = plain_results(pd.DataFrame({"text": AWKWARD}))
    as_json = json.loads(render(results, "json"))
    assert [row["text"] for row in as_json["results"]] == AWKWARD
    rows = json.loads(render(results, "json_rows"))["rows"]
    assert [row[0] for row in rows] == AWKWARD
    assert json.loads(render(results, "json_cols"))["columns"] == [AWKWARD]
    parsed = list(csv.reader(io.StringIO(render(results, "csv").decode(), newline="")))
    assert [row[0] for row in parsed[1:]] == AWKWARD
    document = ElementTree.fromstring(
        render(results, "xml").replace(b"\x01", b"").replace(b"\x1f", b"")
    )
    texts = [r.findtext("field/value/text") or "" for r in document.findall("result")]
    assert texts[3] == AWKWARD[3] and texts[4] == AWKWARD[4]


def test_multivalue_and_missing_values() -> None:
    frame = pd.DataFrame(
        {"mv": [["a", "b"], ["only"], None, [], ("t", 1)], "n": [1, None, 3, 4, 5]}
    )
    results = plain_results(frame)
    rows = json.loads(render(results, "json"))["results"]
    assert [row.get("mv") for row in rows] == [["a", "b"], "only", None, None, ["t", "1"]]
    assert [row.get("n") for row in rows] == ["1", None, "3", "4", "5"]  # float64 with NaN
    text = render(results, "csv").decode()
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert parsed[0]["mv"] == "a\nb" and parsed[2]["mv"] == ""


def test_mixed_scalars_and_lists_become_multivalue() -> None:
    results = plain_results([{"x": "one"}, {"x": ["two", "three"]}, {"y": 1}])
    rows = json.loads(render(results, "json"))["results"]
    assert rows == [{"x": "one"}, {"x": ["two", "three"]}, {"y": "1"}]


def test_inputs_list_of_dicts_arrow_and_time_forms() -> None:
    expected = 1_704_067_200_000_000_000
    for frame in (
        [{"_time": 1_704_067_200}],
        [{"_time": 1_704_067_200.0}],
        [{"_time": "2024-01-01T00:00:00Z"}],
        [{"_time": datetime(2024, 1, 1)}],
        [{"_time": datetime(2024, 1, 1, 1, tzinfo=pd.Timestamp("2024-01-01T01:00+01:00").tzinfo)}],
        pa.table({"_time": pa.array([expected], pa.timestamp("ns"))}),
        pd.DataFrame(
            {"_time": pd.to_datetime(["2024-01-01"]).tz_localize("Europe/Paris").tz_convert("UTC")}
        ),
    ):
        dataset = to_dataset(frame, require_time=True)
        assert dataset.times_ns is not None
        if not isinstance(frame, pd.DataFrame):
            assert int(dataset.times_ns[0]) == expected, frame
    rendered = plain_results([{"_time": 1_704_067_200.5}])
    assert (
        json.loads(render(rendered, "json"))["results"][0]["_time"]
        == "2024-01-01T00:00:00.500+00:00"
    )


def test_categorical_uint_bool_and_datetime_columns() -> None:
    frame = pd.DataFrame(
        {
            "cat": pd.Categorical(["a", "b"]),
            "big": np.array([2**63 + 1, 1], dtype=np.uint64),
            "flag": [True, False],
            "when": pd.to_datetime(["2024-01-01T12:00:00Z", "2024-01-02T00:00:00Z"]),
        }
    )
    row = json.loads(render(plain_results(frame), "json"))["results"][0]
    assert row == {
        "cat": "a",
        "big": str(2**63 + 1),
        "flag": "true",
        "when": "2024-01-01T12:00:00.000+00:00",
    }


def test_index_data_needs_time() -> None:
    with pytest.raises(DatasetError, match="needs a '_time' column"):
        to_dataset([{"a": 1}], require_time=True)
    with pytest.raises(DatasetError, match="every row needs a '_time'"):
        to_dataset([{"_time": 1}, {"a": 2}], require_time=True)
    with pytest.raises(DatasetError, match="expected a pandas DataFrame"):
        to_dataset({"_time": [1]}, require_time=True)


def test_event_results_fields_and_serials() -> None:
    dataset = to_dataset(
        [{"_time": t, "host": "pump-7", "v": t} for t in range(10)], require_time=True
    ).newest_first()
    index = Index("plant", "event", dataset)
    fields = tuple(sorted({*dataset.fields, *EVENT_FIELDS}))
    results = ResultSet(dataset, dataset.time_slice(None, None), fields, index)
    page = results.page(3, 2)
    rendered = b"".join(
        bytes(c) for c in render_page("json", page, preview=False, messages=[], init_offset=3)
    )
    rows = json.loads(rendered)["results"]
    assert [row["_serial"] for row in rows] == ["3", "4"]
    assert [row["v"] for row in rows] == ["6", "5"]
    assert rows[0]["host"] == "pump-7"  # the data's own column wins over the default
    assert rows[0]["_indextime"] == "6" and rows[0]["index"] == "plant"


def test_xml_messages_and_preview_flag() -> None:
    results = plain_results([{"a": 1}])
    body = render(results, "xml", messages=[Message("INFO", "a < b")])
    document = ElementTree.fromstring(body)
    assert document.findtext("messages/msg") == "a < b"
    page = results.page(0, 0)
    empty = b"".join(
        bytes(c) for c in render_page("xml", page, preview=True, messages=[], init_offset=0)
    )
    assert empty.endswith(b"<results preview='1'/>\n")


def test_when_every_field_is_constant() -> None:
    """A page whose fields are all constants still renders one object per row."""
    dataset = to_dataset([{"_time": 1}, {"_time": 2}], require_time=True).newest_first()
    index = Index("c", "event", dataset)
    results = ResultSet(dataset, slice(0, 2), ("index", "linecount"), index)
    rows = json.loads(render(results, "json"))["results"]
    assert rows == [{"index": "c", "linecount": "1"}] * 2
    assert render(results, "csv").decode() == "index,linecount\nc,1\nc,1\n"


def test_time_helpers() -> None:
    from kepler_splunk_testing.arrowtext import format_splunk_time

    assert format_splunk_time(0.123) == "1970-01-01T00:00:00.123+00:00"
    assert format_splunk_time(datetime(2024, 5, 1, tzinfo=UTC).timestamp()).startswith(
        "2024-05-01T00"
    )
