"""``f=`` / ``field_list`` narrows the fields of a page, never its rows (every output mode)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from kepler_splunk_testing import SplunkTestServer

# jobs finish at once: these tests are about answers, not the job lifecycle
pytestmark = pytest.mark.splunk_server(dispatch_delay=0)

V2 = "/services/search/v2/jobs"
NOW = datetime.now(UTC).replace(microsecond=0)
MODES = ("json", "json_rows", "json_cols", "csv", "xml")

# newest first: row i is i hours old
TAGS: list[Any] = [["a", "b"], None, ["solo"], None, ["x", "y"], None]
NOTES: list[Any] = [None, "n1", None, None, "n4", None]


@pytest.fixture
def sparse(splunk_server: SplunkTestServer) -> SplunkTestServer:
    splunk_server.add_index(
        "sparse",
        [
            {"_time": NOW - timedelta(hours=i), "n": i, "tags": TAGS[i], "note": NOTES[i]}
            for i in range(6)
        ],
    )
    return splunk_server


def expected(rows: range, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for i in rows:
        row: dict[str, Any] = {}
        if "note" in fields and NOTES[i] is not None:
            row["note"] = NOTES[i]
        if "tags" in fields and TAGS[i] is not None:
            row["tags"] = TAGS[i] if len(TAGS[i]) > 1 else TAGS[i][0]
        out.append(row)
    return out


def parse(mode: str, body: bytes) -> tuple[list[dict[str, Any]], list[int] | None]:
    """Rows of a page as dicts without absent fields, plus the xml offsets."""
    if mode == "json":
        return json.loads(body)["results"], None
    if mode == "json_rows":
        page = json.loads(body)
        return [
            {k: v for k, v in zip(page["fields"], row, strict=True) if v is not None}
            for row in page["rows"]
        ], None
    if mode == "json_cols":
        page = json.loads(body)
        count = len(page["columns"][0]) if page["columns"] else 0
        return [
            {
                name: column[i]
                for name, column in zip(page["fields"], page["columns"], strict=True)
                if column[i] is not None
            }
            for i in range(count)
        ], None
    if mode == "csv":
        reader = csv.reader(io.StringIO(body.decode()))
        header = next(reader)
        return [
            {k: v.split("\n") if "\n" in v else v for k, v in zip(header, line, strict=True) if v}
            for line in reader
        ], None
    root = ElementTree.fromstring(body)
    rows, offsets = [], []
    for result in root.findall("result"):
        offsets.append(int(result.get("offset", "-1")))
        row: dict[str, Any] = {}
        for field in result.findall("field"):
            values = [value.findtext("text") for value in field.findall("value")]
            row[field.get("k", "")] = values if len(values) > 1 else values[0]
        rows.append(row)
    return rows, offsets


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("endpoint", ["results", "events", "results_preview"])
def test_field_list_keeps_every_row(
    sparse: SplunkTestServer, rest: Any, mode: str, endpoint: str
) -> None:
    sid = rest.run_job("search index=sparse")
    reply = rest.post(
        f"{V2}/{sid}/{endpoint}", {"output_mode": mode, "offset": 1, "count": 4, "f": "tags"}
    )
    assert reply.status == 200
    rows, offsets = parse(mode, reply.body)
    assert rows == expected(range(1, 5), ("tags",))  # rows 1 and 3 have no tags: still rows
    if mode == "xml":
        assert offsets == [1, 2, 3, 4]  # offsets of the full result set
        assert "<result offset='3'>\n\t</result>" in reply.text
    if mode == "json":
        assert reply.json()["init_offset"] == 1
        assert reply.json()["results"][0] == {}


@pytest.mark.parametrize("mode", MODES)
def test_field_list_variants_keep_page_size(sparse: SplunkTestServer, rest: Any, mode: str) -> None:
    sid = rest.run_job("search index=sparse")
    get = rest.get  # GET with repeated f= and field_list=
    two = get(f"{V2}/{sid}/results", [("output_mode", mode), ("f", "note"), ("f", "tags")])
    assert parse(mode, two.body)[0] == expected(range(6), ("note", "tags"))
    listed = get(f"{V2}/{sid}/results", {"output_mode": mode, "field_list": "note", "count": 0})
    assert parse(mode, listed.body)[0] == expected(range(6), ("note",))
    tail = get(f"{V2}/{sid}/results", {"output_mode": mode, "f": "no*", "offset": 3, "count": 10})
    assert parse(mode, tail.body)[0] == expected(range(3, 6), ("note",))  # min(count, total-offset)


def test_field_list_matching_no_field(sparse: SplunkTestServer, rest: Any) -> None:
    sid = rest.run_job("search index=sparse")

    def page(mode: str) -> Any:
        return rest.post(f"{V2}/{sid}/results", {"output_mode": mode, "f": "nosuchfield"})

    assert page("json").json()["results"] == [{}] * 6
    assert page("json_rows").json()["rows"] == [[]] * 6
    assert len(ElementTree.fromstring(page("xml").body).findall("result")) == 6
    assert page("csv").text == "\n" * 7  # an empty header, then one empty line per row


def test_field_list_on_export(sparse: SplunkTestServer, rest: Any) -> None:
    reply = rest.post(
        "/services/search/v2/jobs/export",
        {"search": "search index=sparse", "output_mode": "json", "f": "note"},
    )
    lines = [json.loads(line) for line in reply.text.splitlines()]
    assert [line["offset"] for line in lines] == list(range(6))
    assert [line["result"] for line in lines] == expected(range(6), ("note",))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # splunklib's XML ResultsReader
def test_field_list_through_splunklib(sparse: SplunkTestServer) -> None:
    client = pytest.importorskip("splunklib.client")
    results = pytest.importorskip("splunklib.results")
    service = client.connect(
        host=sparse.host,
        port=sparse.port,
        scheme=sparse.scheme,
        username=sparse.username,
        password=sparse.password,
    )
    job = service.jobs.create("search index=sparse", exec_mode="blocking")
    rows = [
        row
        for row in results.JSONResultsReader(job.results(output_mode="json", f="tags", count=0))
        if isinstance(row, dict)
    ]
    assert rows == expected(range(6), ("tags",))
    assert len(rows) == int(job["resultCount"]) == 6
    xml_rows = list(results.ResultsReader(job.results(f="note", count=0)))
    assert len([row for row in xml_rows if isinstance(row, dict)]) == 6
