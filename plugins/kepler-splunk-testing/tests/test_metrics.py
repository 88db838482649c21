"""Metric indexes: ``| mstats``, ``| mcatalog``, ``| mpreview`` and ``search`` finding nothing."""

from __future__ import annotations

import math
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from kepler_splunk_testing import SplunkTestServer

# jobs finish at once: these tests are about answers, not the job lifecycle
pytestmark = pytest.mark.splunk_server(dispatch_delay=0)

V2 = "/services/search/v2/jobs"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
WINDOW = {"earliest_time": "2023-12-31T00:00:00Z", "latest_time": "2024-01-02T00:00:00Z"}
VIBRATION = [0.5, 1.25, 0.75, 2.0, 1.5, 3.25, 2.5, 0.25, 4.0]


def points() -> list[dict[str, Any]]:
    """9 readings 20 s apart (3 per minute) of two metrics for two pumps; only P-1 has a site."""
    rows = []
    for k, vibration in enumerate(VIBRATION):
        for asset, factor in (("P-1", 1), ("P-2", 2)):
            base = {"_time": T0 + timedelta(seconds=20 * k), "asset_id": asset}
            if asset == "P-1":
                base["site"] = "north"
            rows.append({**base, "metric_name": "pump.vibration", "_value": vibration * factor})
            rows.append({**base, "metric_name": "pump.rpm", "_value": 1000 + 10 * k * factor})
    return rows


@pytest.fixture
def plant(splunk_server: SplunkTestServer) -> SplunkTestServer:
    splunk_server.add_index("plant", points(), datatype="metric")
    return splunk_server


def rows_of(rest: Any, spl: str, **params: Any) -> list[dict[str, Any]]:
    sid = rest.run_job(spl, **{**WINDOW, **params})
    page = rest.post(f"{V2}/{sid}/results", {"output_mode": "json", "count": 0})
    assert page.status == 200, page.body
    return page.json()["results"]


def page_of(rest: Any, spl: str, **params: Any) -> dict[str, Any]:
    sid = rest.run_job(spl, **{**WINDOW, **params})
    return rest.post(f"{V2}/{sid}/results", {"output_mode": "json", "count": 0}).json()


def splunk_number(value: float) -> str:
    """How Splunk writes a number: no ``.0`` on integers, shortest round-trip otherwise."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def grouped(metric: str, by_minute: bool = True) -> dict[tuple[Any, ...], list[float]]:
    groups: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for row in points():
        if row["metric_name"] == metric:
            minute = row["_time"].replace(second=0) if by_minute else None
            groups[(minute, row["asset_id"])].append(float(row["_value"]))
    return groups


def linear_percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    position = percent / 100 * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latest(values: list[float]) -> float:
    return values[-1]  # points() lists each group's readings oldest first


AGGREGATIONS: dict[str, Callable[[list[float]], float]] = {
    "avg": statistics.fmean,
    "mean": statistics.fmean,
    "min": min,
    "max": max,
    "sum": math.fsum,
    "count": len,
    "median": lambda v: sorted(v)[len(v) // 2],  # Splunk: the higher middle value
    "stdev": lambda v: statistics.stdev(v) if len(v) > 1 else 0.0,
    "var": lambda v: statistics.variance(v) if len(v) > 1 else 0.0,
    "stdevp": statistics.pstdev,
    "varp": statistics.pvariance,
    "latest": latest,
    "earliest": lambda v: v[0],
    "dc": lambda v: len(set(v)),
    "range": lambda v: max(v) - min(v),
    "sumsq": lambda v: math.fsum(x * x for x in v),
    "p90": lambda v: linear_percentile(v, 90),
    "perc25": lambda v: linear_percentile(v, 25),
    "exactperc50": lambda v: linear_percentile(v, 50),
    "upperperc99.5": lambda v: linear_percentile(v, 99.5),
}


# -- mstats -------------------------------------------------------------------------------------


@pytest.mark.parametrize("func", sorted(AGGREGATIONS))
def test_mstats_aggregations_per_minute_and_asset(plant: Any, rest: Any, func: str) -> None:
    rows = rows_of(rest, f'| mstats {func}("pump.vibration") WHERE index=plant span=1m BY asset_id')
    expected = grouped("pump.vibration")
    assert len(rows) == len(expected) == 6
    for row, key in zip(rows, sorted(expected), strict=True):
        assert set(row) == {"_time", "asset_id", f"{func}(pump.vibration)"}
        assert row["_time"] == key[0].strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
        assert row["asset_id"] == key[1]
        value = AGGREGATIONS[func](expected[key])
        assert float(row[f"{func}(pump.vibration)"]) == pytest.approx(value, rel=1e-12)


def test_mstats_renders_numbers_as_splunk_does(plant: Any, rest: Any) -> None:
    rows = rows_of(
        rest,
        "| mstats avg(pump.rpm) AS rpm, count(pump.rpm) AS n, sum(pump.vibration) AS total,"
        " stdev(pump.vibration) AS sd WHERE index=plant BY asset_id",
    )
    by_asset = {row["asset_id"]: row for row in rows}
    assert by_asset["P-1"]["rpm"] == "1040"  # a float average that is whole: no ".0"
    assert by_asset["P-1"]["n"] == "9"
    assert by_asset["P-1"]["total"] == splunk_number(math.fsum(VIBRATION)) == "16"
    sd = statistics.stdev(VIBRATION)
    assert by_asset["P-1"]["sd"] == splunk_number(sd)  # full precision, shortest repr
    assert all(isinstance(value, str) for row in rows for value in row.values())


def test_mstats_percentiles_and_median_follow_splunk_docs(splunk_server: Any, rest: Any) -> None:
    """Search Reference, Aggregate functions: Y = 1..10 gives perc50 5.5 and perc95 9.55; the
    visitors example gives 1996.5 and 3858.35; median takes the higher middle value."""
    visitors = [0, 212, 579, 1068, 1692, 2301, 2793, 3306, 3673, 4010]
    rows = [{"_time": T0, "metric_name": "y", "_value": v} for v in range(10, 0, -1)]
    rows += [{"_time": T0, "metric_name": "visitors", "_value": v} for v in visitors]
    splunk_server.add_index("docs", rows, datatype="metric")
    row = rows_of(
        rest,
        "| mstats perc50(y) AS p50, perc95(y) AS p95, exactperc95(y) AS e95, upperperc95(y) AS"
        " u95, p95(y) AS short, median(y) AS median, perc50(visitors) AS v50,"
        " perc95(visitors) AS v95 WHERE index=docs",
    )[0]
    assert row == {
        "p50": "5.5",
        "p95": "9.55",
        "e95": "9.55",
        "u95": "9.55",
        "short": "9.55",
        "median": "6",
        "v50": "1996.5",
        "v95": "3858.35",
    }


def test_mstats_several_metrics_span_and_by_sorted(plant: Any, rest: Any) -> None:
    page = page_of(
        rest,
        '| mstats avg("pump.vibration") AS vib, max(pump.rpm) WHERE index=plant span=1m'
        " BY asset_id",
    )
    assert [f["name"] for f in page["fields"]] == ["_time", "asset_id", "vib", "max(pump.rpm)"]
    keys = [(row["_time"], row["asset_id"]) for row in page["results"]]
    assert keys == sorted(keys) and len(keys) == 6
    first = page["results"][0]
    assert first == {
        "_time": "2024-01-01T00:00:00.000+00:00",
        "asset_id": "P-1",
        "vib": splunk_number(statistics.fmean(VIBRATION[:3])),
        "max(pump.rpm)": "1020",
    }


def test_mstats_without_span_gives_one_row_per_group(plant: Any, rest: Any) -> None:
    rows = rows_of(rest, "| mstats count(pump.rpm) WHERE index=plant BY asset_id")
    assert rows == [
        {"asset_id": "P-1", "count(pump.rpm)": "9"},
        {"asset_id": "P-2", "count(pump.rpm)": "9"},
    ]
    assert rows_of(rest, "| mstats max(pump.rpm) WHERE index=plant") == [{"max(pump.rpm)": "1160"}]
    # rows lacking a BY field belong to no group, as with stats
    assert rows_of(rest, "| mstats count(pump.rpm) WHERE index=plant BY site") == [
        {"site": "north", "count(pump.rpm)": "9"}
    ]


def test_mstats_span_units_floor_in_utc(splunk_server: Any, rest: Any) -> None:
    start = datetime(2024, 1, 31, 23, 59, 50, tzinfo=UTC)
    splunk_server.add_index(
        "ticks",
        [
            {"_time": start + timedelta(seconds=s), "metric_name": "m", "_value": 1}
            for s in range(0, 40, 5)
        ],
        datatype="metric",
    )
    window = {"earliest_time": "0", "latest_time": "2025-01-01T00:00:00Z"}
    spl = "| mstats count(m) AS n WHERE index=ticks span="

    def counts(span: str) -> list[tuple[str, str]]:
        return [(r["_time"], r["n"]) for r in rows_of(rest, spl + span, **window)]

    assert counts("30s") == [
        ("2024-01-31T23:59:30.000+00:00", "2"),
        ("2024-02-01T00:00:00.000+00:00", "6"),
    ]
    assert counts("1h") == [
        ("2024-01-31T23:00:00.000+00:00", "2"),
        ("2024-02-01T00:00:00.000+00:00", "6"),
    ]
    assert counts("1d")[0][0] == "2024-01-31T00:00:00.000+00:00"
    assert counts("1mon") == [
        ("2024-01-01T00:00:00.000+00:00", "2"),
        ("2024-02-01T00:00:00.000+00:00", "6"),
    ]
    assert counts("15") == counts("15s") and len(counts("15s")) == 3


def test_mstats_time_range_filters_first(plant: Any, rest: Any) -> None:
    spl = "| mstats count(pump.rpm) AS n, min(pump.rpm) AS low WHERE index=plant BY asset_id"
    narrowed = rows_of(
        rest,
        spl,
        earliest_time="2024-01-01T00:01:00Z",
        latest_time="2024-01-01T00:02:00Z",
    )
    assert narrowed == [
        {"asset_id": "P-1", "n": "3", "low": "1030"},
        {"asset_id": "P-2", "n": "3", "low": "1060"},
    ]
    page = page_of(rest, spl.replace("WHERE", "WHERE earliest=2024-01-01T00:02:00Z"))
    assert [row["n"] for row in page["results"]] == ["3", "3"]
    assert page["messages"][0]["type"] == "INFO"  # "Your timerange was substituted ..."
    assert rows_of(rest, spl, earliest_time="-1h", latest_time="now") == []


@pytest.mark.parametrize(
    ("where", "assets"),
    [
        ("AND asset_id=P-1", ["P-1"]),
        ('asset_id="P-2"', ["P-2"]),
        ("asset_id!=P-1", ["P-2"]),
        ("asset_id=p-*", ["P-1", "P-2"]),
        ("AND asset_id IN (P-2, P-3)", ["P-2"]),
        ("AND (asset_id=P-1 AND site=north)", ["P-1"]),
        ("AND nosuchdim=x", []),
        ("AND index=plant host=kepler-test-host", ["P-1", "P-2"]),
    ],
)
def test_mstats_where_filters(plant: Any, rest: Any, where: str, assets: list[str]) -> None:
    rows = rows_of(rest, f"| mstats count(pump.rpm) WHERE index=plant {where} BY asset_id")
    assert [row["asset_id"] for row in rows] == assets


def test_mstats_value_syntax(plant: Any, rest: Any) -> None:
    rows = rows_of(
        rest, '| mstats avg(_value) WHERE index=plant AND metric_name="pump.rpm" span=1m'
    )
    assert [row["avg(_value)"] for row in rows] == ["1015", "1060", "1105"]
    assert set(rows[0]) == {"_time", "avg(_value)"}
    by_metric = rows_of(rest, "| mstats max(_value) AS top WHERE index=plant BY metric_name")
    assert by_metric == [
        {"metric_name": "pump.rpm", "top": "1160"},
        {"metric_name": "pump.vibration", "top": "8"},
    ]
    wild = rows_of(rest, "| mstats count(_value) WHERE index=plant metric_name=pump.* BY index")
    assert wild == [{"index": "plant", "count(_value)": "36"}]


def test_mstats_wildcard_metric_and_index(plant: Any, rest: Any) -> None:
    plant.add_index("other", [{"_time": T0, "metric_name": "pump.rpm", "_value": 5}], "metric")
    rows = rows_of(rest, "| mstats max(pump.*) WHERE index=* BY index")
    assert rows == [
        {"index": "other", "max(pump.rpm)": "5"},
        {"index": "plant", "max(pump.rpm)": "1160", "max(pump.vibration)": "8"},
    ]
    excluded = rows_of(rest, "| mstats max(pump.rpm) WHERE index=* index!=plant BY index")
    assert excluded == [{"index": "other", "max(pump.rpm)": "5"}]
    assert rows_of(rest, "| mstats max(pump.rpm) WHERE index=nosuchindex") == []
    assert rows_of(rest, "| mstats max(pump.rpm) WHERE asset_id=P-1") == []  # no index: none
    listed = rows_of(
        rest, "| mstats count(pump.rpm) AS n WHERE index IN (plant, other) GROUPBY index"
    )
    assert listed == [{"index": "other", "n": "1"}, {"index": "plant", "n": "18"}]


def test_mstats_results_feed_later_commands(plant: Any, rest: Any) -> None:
    spl = "| mstats max(pump.rpm) AS top WHERE index=plant span=1m BY asset_id"
    assert rows_of(rest, spl + " | search asset_id=P-2 | head 2 | table top") == [
        {"top": "1040"},
        {"top": "1100"},
    ]


def test_mstats_with_quoted_metric_names(plant: Any, rest: Any) -> None:
    """The form Kepler's connector writes (kepler_splunk.metrics.mstats_query): every name quoted."""
    spl = (
        '| mstats p95("pump.vibration") AS "pump.vibration", p95("pump.rpm") AS "pump.rpm" '
        'WHERE index=plant AND (asset_id="P-1") span=1m BY asset_id'
    )
    rows = rows_of(rest, spl)
    assert [set(row) for row in rows] == [{"_time", "asset_id", "pump.vibration", "pump.rpm"}] * 3
    assert rows[0]["pump.vibration"] == splunk_number(linear_percentile(VIBRATION[:3], 95))


def test_mstats_through_splunklib_with_export_and_paging(plant: Any) -> None:
    client = pytest.importorskip("splunklib.client")
    results = pytest.importorskip("splunklib.results")
    service = client.connect(
        host=plant.host,
        port=plant.port,
        scheme=plant.scheme,
        username=plant.username,
        password=plant.password,
    )
    spl = "| mstats avg(pump.rpm) AS rpm WHERE index=plant span=1m BY asset_id"
    job = service.jobs.create(spl, exec_mode="blocking", **WINDOW)
    assert job["resultCount"] == "6"
    first = list(results.JSONResultsReader(job.results(output_mode="json", count=4)))
    rest_ = list(results.JSONResultsReader(job.results(output_mode="json", count=4, offset=4)))
    rows = [row for row in first + rest_ if isinstance(row, dict)]
    assert [row["rpm"] for row in rows] == ["1010", "1020", "1040", "1080", "1070", "1140"]
    events = list(results.JSONResultsReader(job.events(output_mode="json")))
    assert not [row for row in events if isinstance(row, dict)]  # transforming: no events
    exported = service.jobs.export(spl, output_mode="json", preview=False, **WINDOW)
    streamed = [row for row in results.JSONResultsReader(exported) if isinstance(row, dict)]
    assert streamed == rows


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spl", "fragment"),
    [
        ("| mstats foo(pump.rpm) WHERE index=plant", "Unknown aggregation function 'foo'"),
        ("| mstats rate(pump.rpm) WHERE index=plant", "does not implement the mstats function"),
        ("| mstats avg(pump.rpm) WHERE index=plant OR index=x", "'OR' in a WHERE clause"),
        ("| mstats avg(pump.rpm) WHERE index=plant NOT asset_id=P-1", "'NOT'"),
        ("| mstats avg(pump.rpm) WHERE index=plant _value>3", "comparison '_value>'"),
        ("| mstats avg(pump.rpm) WHERE index=plant pumps", "WHERE term 'pumps'"),
        ("| mstats avg(pump.rpm) WHERE index=plant span=1y", "Invalid span '1y'"),
        ("| mstats avg(pump.rpm) WHERE index=plant span=auto", "Invalid span 'auto'"),
        ("| mstats prestats=t avg(pump.rpm) WHERE index=plant", "option 'prestats=t'"),
        ("| mstats avg(_value) WHERE index=plant", "needs a metric_name filter"),
        ("| mstats avg(_value), max(pump.rpm) WHERE index=plant BY metric_name", "Cannot mix"),
        ("| mstats WHERE index=plant", "Expected an aggregation"),
        ("| mstats avg(pump.rpm) WHERE index=plant BY _time", "use span="),
        ("| mstats chart=t avg(pump.rpm) WHERE index=plant", "option 'chart=t'"),
        ("| mstats avg(pump.rpm) AS a, max(pump.rpm) AS a WHERE index=plant", "'a' repeats"),
        ("| mcatalog count(metric_name) WHERE index=plant", "mcatalog supports values()"),
        ("| mcatalog values(metric_name) WHERE index=plant OR index=x", "'OR'"),
    ],
)
def test_unsupported_metrics_spl_is_refused(plant: Any, rest: Any, spl: str, fragment: str) -> None:
    reply = rest.post(V2, {"search": spl, "output_mode": "json"})
    assert reply.status == 400, reply.body
    [message] = reply.json()["messages"]
    assert message["type"] == "FATAL"
    assert message["text"].startswith(("Error in 'mstats' command:", "Error in 'mcatalog'"))
    assert fragment in message["text"]


# -- mcatalog, mpreview, search -----------------------------------------------------------------


def test_mcatalog(plant: Any, rest: Any) -> None:
    plant.add_index("other", [{"_time": T0, "metric_name": "cpu.user", "_value": 5}], "metric")
    by_index = rows_of(rest, "| mcatalog values(metric_name) AS metric_name WHERE index=* BY index")
    assert by_index == [
        {"index": "other", "metric_name": "cpu.user"},  # one value: a plain string
        {"index": "plant", "metric_name": ["pump.rpm", "pump.vibration"]},
    ]
    dims = rows_of(rest, "| mcatalog values(asset_id) AS assets, values(_dims) WHERE index=plant")
    assert dims == [{"assets": ["P-1", "P-2"], "values(_dims)": ["asset_id", "site"]}]
    by_asset = rows_of(rest, "| mcatalog values(site) WHERE index=plant BY asset_id")
    assert by_asset == [{"asset_id": "P-1", "values(site)": "north"}, {"asset_id": "P-2"}]
    narrowed = rows_of(rest, "| mcatalog values(metric_name) WHERE index=plant", **WINDOW)
    assert narrowed == [{"values(metric_name)": ["pump.rpm", "pump.vibration"]}]
    empty = rows_of(rest, "| mcatalog values(metric_name) WHERE index=plant", earliest_time="-1h")
    assert empty == []


def test_multi_measurement_rows_are_split_on_registration(
    splunk_server: SplunkTestServer, rest: Any
) -> None:
    frame = pd.DataFrame(
        {
            "_time": [T0, T0 + timedelta(minutes=1)],
            "metric_name:cpu.user": [1.5, 2.0],
            "metric_name:cpu.sys": [None, 3],
            "host": ["a", "b"],
        }
    )
    splunk_server.add_index("hosts", frame, datatype="metric")
    preview = rows_of(rest, "| mpreview index=hosts")
    assert len(preview) == 3
    assert {(r["metric_name"], r["_value"], r["host"]) for r in preview} == {
        ("cpu.user", "1.5", "a"),
        ("cpu.user", "2", "b"),
        ("cpu.sys", "3", "b"),
    }
    assert "metric_name:cpu.user" not in preview[0]
    rows = rows_of(rest, "| mstats avg(cpu.user) AS user, sum(cpu.sys) WHERE index=hosts BY host")
    assert rows == [{"host": "a", "user": "1.5"}, {"host": "b", "user": "2", "sum(cpu.sys)": "3"}]
    names = rows_of(rest, "| mcatalog values(metric_name) WHERE index=hosts")
    assert names == [{"values(metric_name)": ["cpu.sys", "cpu.user"]}]


def test_metric_registration_errors(splunk_server: SplunkTestServer) -> None:
    with pytest.raises(ValueError, match="metric_name"):
        splunk_server.add_index("bad", [{"_time": 0, "cpu": 1.0}], datatype="metric")
    with pytest.raises(ValueError, match="must be numbers"):
        splunk_server.add_index(
            "bad", [{"_time": 0, "metric_name": "m", "_value": "high"}], datatype="metric"
        )


def test_search_on_a_metric_index_finds_nothing(plant: Any, rest: Any) -> None:
    for spl in ("search index=plant", "search index=plant asset_id=P-1", "search index=plant *"):
        sid = rest.run_job(spl, **WINDOW)
        status = rest.get(f"{V2}/{sid}", {"output_mode": "json"}).json()["entry"][0]["content"]
        assert status["resultCount"] == 0, spl
        assert rest.post(f"{V2}/{sid}/results", {"output_mode": "json"}).json()["results"] == []
    assert len(rows_of(rest, "| mpreview index=plant")) == len(points())


# -- speed --------------------------------------------------------------------------------------


def test_mstats_aggregates_a_million_points_quickly(splunk_server: SplunkTestServer) -> None:
    size = 1_000_000
    rng = np.random.default_rng(0)
    splunk_server.add_index(
        "big",
        pd.DataFrame(
            {
                "_time": 1_700_000_000 + np.arange(size) // 4,
                "metric_name": np.array(["a", "b", "c", "d"])[np.arange(size) % 4],
                "_value": rng.normal(size=size),
                "asset_id": np.array([f"P-{i}" for i in range(12)])[rng.integers(0, 12, size)],
            }
        ),
        datatype="metric",
    )
    now = datetime.now(UTC)
    for spl in (
        "| mstats avg(a), max(b), count(c) WHERE index=big span=1m BY asset_id",
        "| mstats p95(_value), median(_value), dc(_value) WHERE index=big metric_name=* span=1h"
        " BY asset_id",
    ):
        splunk_server.engine.run(spl, {}, now)  # warm the text caches
        started = time.perf_counter()
        outcome = splunk_server.engine.run(spl, {}, now)
        elapsed = time.perf_counter() - started
        print(f"{spl[:40]}...: {elapsed * 1000:.0f} ms for {size:,} points")
        assert len(outcome.results) > 0
        assert elapsed < 1.0
