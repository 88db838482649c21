"""The SPL the test server evaluates (issue 18): stats, timechart, eval, where, table, fields,
head, sort, dedup, bin, rename, fillnull over registered events, checked against small data whose
answers are known (and against Splunk's documented semantics)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from kepler_splunk_testing import SplunkTestServer, generate_sensor_data
from kepler_splunk_testing.engine import SearchError

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z
NOW = datetime.fromtimestamp(T0 + 86_400, UTC)
EVENTS = [
    {"_time": T0 + 0, "asset": "P-1", "site": "north", "temp": 10.0, "rpm": 100, "tags": ["a", "b"]},
    {"_time": T0 + 60, "asset": "P-2", "site": "north", "temp": 20.0, "rpm": 200, "tags": None},
    {"_time": T0 + 120, "asset": "P-1", "site": "south", "temp": 30.0, "rpm": 300, "tags": ["b"]},
    {"_time": T0 + 3600, "asset": "P-3", "site": "south", "temp": 40.0, "rpm": None, "tags": None},
    {"_time": T0 + 3660, "asset": "P-2", "site": None, "temp": "n/a", "rpm": 500, "tags": None},
]


@pytest.fixture(scope="module")
def server() -> Any:
    with SplunkTestServer() as running:
        running.add_index("plant", EVENTS)
        yield running


def run(server: SplunkTestServer, spl: str, **params: str) -> list[dict[str, Any]]:
    """Every result row as a dict of its present fields (Splunk text, lists for multivalue)."""
    outcome = server.engine.run(spl, {"earliest_time": "0", **params}, NOW)
    page = outcome.results.page(0, len(outcome.results))
    rows = []
    for position in range(page.num_rows):
        row = {}
        for name, column in zip(page.fields, page.columns, strict=True):
            value = column if isinstance(column, (str, tuple)) else column[position].as_py()
            if value is not None:
                row[name] = list(value) if isinstance(value, tuple) else value
        rows.append(row)
    return rows


def fields(server: SplunkTestServer, spl: str) -> tuple[str, ...]:
    return server.engine.run(spl, {}, NOW).results.fields


def test_stats_names_columns_as_splunk_and_groups_in_sorted_order(server):
    rows = run(server, "search index=plant | stats avg(temp) count by asset")
    assert fields(server, "search index=plant | stats avg(temp) count by asset") == (
        "asset", "avg(temp)", "count")
    assert rows == [
        {"asset": "P-1", "avg(temp)": "20", "count": "2"},
        {"asset": "P-2", "avg(temp)": "20", "count": "2"},  # "n/a" is not a number: ignored
        {"asset": "P-3", "avg(temp)": "40", "count": "1"},
    ]


def test_stats_functions_and_renames(server):
    (row,) = run(
        server,
        "search index=plant | stats count, count(rpm) AS with_rpm, dc(asset), sum(rpm), "
        "mean(temp), min(temp), max(temp), range(temp), median(temp), perc25(temp), p50(temp), "
        "stdev(temp), values(asset), list(asset), first(asset), last(asset), "
        "latest(asset) AS newest, earliest(asset) AS oldest, mode(asset)",
    )
    assert row["count"] == "5" and row["with_rpm"] == "4" and row["dc(asset)"] == "3"
    assert row["sum(rpm)"] == "1100" and row["mean(temp)"] == "25"
    assert (row["min(temp)"], row["max(temp)"], row["range(temp)"]) == ("10", "40", "30")
    # an even count: the higher middle value (Splunk); perc interpolates between closest ranks
    assert row["median(temp)"] == "30" and row["perc25(temp)"] == "17.5" and row[
        "p50(temp)"] == "25"
    assert row["stdev(temp)"] == "12.909944487358056"
    assert row["values(asset)"] == ["P-1", "P-2", "P-3"]
    assert row["list(asset)"] == ["P-2", "P-3", "P-1", "P-2", "P-1"]  # events come newest first
    assert (row["first(asset)"], row["last(asset)"]) == ("P-2", "P-1")
    assert (row["newest"], row["oldest"], row["mode(asset)"]) == ("P-2", "P-1", "P-2")


def test_stats_by_drops_rows_without_the_field_and_splits_multivalue(server):
    assert run(server, "search index=plant | stats count by site") == [
        {"site": "north", "count": "2"}, {"site": "south", "count": "2"}]
    assert run(server, "search index=plant | stats count by tags") == [
        {"tags": "a", "count": "1"}, {"tags": "b", "count": "2"}]
    assert run(server, "search index=plant | stats count by site, asset")[0] == {
        "site": "north", "asset": "P-1", "count": "1"}


def test_stats_on_nothing_still_answers_one_row(server):
    assert run(server, "search index=main | stats count") == [{"count": "0"}]
    assert run(server, "search index=main | stats count by host") == []
    assert run(server, "search index=plant | stats count(eval(rpm>150)) AS fast") == [
        {"fast": "3"}]


def test_eval_arithmetic_functions_and_text(server):
    rows = run(
        server,
        'search index=plant | eval double=temp*2, r=round(temp/3, 2), a=abs(-rpm), '
        'label=if(temp>=30, "hot", "cold"), kind=case(rpm<200, "slow", rpm<400, "mid", '
        'true(), "fast"), c=coalesce(site, "unknown"), s=tostring(rpm) . "rpm", '
        'up=upper(asset), lo=lower("AB"), l=len(asset), num=tonumber("7")+1, '
        'day=strftime(_time, "%Y-%m-%d") | table asset double r a label kind c s up lo l num day',
    )
    assert rows[-1] == {  # the oldest event, P-1 at T0
        "asset": "P-1", "double": "20", "r": "3.33", "a": "100", "label": "cold",
        "kind": "slow", "c": "north", "s": "100rpm", "up": "P-1", "lo": "ab", "l": "3",
        "num": "8", "day": "2023-11-14",
    }
    assert rows[0]["c"] == "unknown" and "double" not in rows[0]  # "n/a" * 2 is null
    assert rows[1]["kind"] == "fast" and "a" not in rows[1]  # rpm missing: abs() is null


def test_eval_refuses_a_boolean_assignment_and_unknown_functions(server):
    with pytest.raises(SearchError, match="Fields cannot be assigned a boolean result"):
        run(server, "search index=plant | eval hot=temp>30")
    with pytest.raises(SearchError, match="'nosuch' function is unsupported"):
        run(server, "search index=plant | eval x=nosuch(temp)")


def test_where_with_boolean_expressions(server):
    rows = run(server, 'search index=plant | where temp > 15 AND (site="south" OR isnull(rpm))'
               " | table asset temp")
    # temp holds a text value ("n/a"), so the index stores the column as text
    assert rows == [{"asset": "P-3", "temp": "40.0"}, {"asset": "P-1", "temp": "30.0"}]
    assert run(server, 'search index=plant | where NOT like(asset, "P-1%") | stats count') == [
        {"count": "3"}]
    assert run(server, 'search index=plant | where tags="b" | stats count') == [{"count": "2"}]


def test_sort_head_dedup_fields_rename(server):
    assert [r["rpm"] for r in run(server, "search index=plant | sort - rpm | head 2")] == [
        "500", "300"]
    assert [r["asset"] for r in run(server, "search index=plant | sort asset, -temp | table asset"
                                    )] == ["P-1", "P-1", "P-2", "P-2", "P-3"]
    assert len(run(server, "search index=plant | sort 2 temp")) == 2
    # dedup keeps the first event of each value: events are newest first
    assert run(server, "search index=plant | dedup asset | table asset temp") == [
        {"asset": "P-2", "temp": "n/a"}, {"asset": "P-3", "temp": "40.0"},
        {"asset": "P-1", "temp": "30.0"}]
    assert fields(server, "search index=plant | fields asset, temp") [-2:] == ("asset", "temp")
    assert "rpm" not in fields(server, "search index=plant | fields - rpm")
    assert run(server, "search index=plant | stats count by asset | rename count AS n | "
               "sort - n | head 1") == [{"asset": "P-1", "n": "2"}]
    assert run(server, "search index=plant | stats count by site | fillnull value=0 | "
               "search count>1 | table site") == [{"site": "north"}, {"site": "south"}]


def test_bin_time_and_numbers(server):
    assert run(server, "search index=plant | bin _time span=1h | stats count by _time") == [
        {"_time": "2023-11-14T22:00:00.000+00:00", "count": "3"},
        {"_time": "2023-11-14T23:00:00.000+00:00", "count": "2"},
    ]
    assert run(server, "search index=plant | bin temp span=20 | stats count by temp") == [
        {"temp": "0-20", "count": "1"}, {"temp": "20-40", "count": "2"},
        {"temp": "40-60", "count": "1"}]


def test_timechart_buckets_fill_the_search_range(server):
    rows = run(server, "search index=plant | timechart span=1h count",
               earliest_time=str(T0 - 3000), latest_time=str(T0 + 4000))
    assert [r["_time"] for r in rows] == [
        "2023-11-14T21:00:00.000+00:00", "2023-11-14T22:00:00.000+00:00",
        "2023-11-14T23:00:00.000+00:00"]
    assert [r["count"] for r in rows] == ["0", "3", "2"] and rows[0]["_span"] == "3600"


def test_timechart_by_makes_a_column_per_value(server):
    spl = "search index=plant | timechart span=1h avg(temp) by site"
    assert fields(server, spl) == ("_time", "north", "south", "NULL", "_span")
    rows = run(server, spl, earliest_time=str(T0 - 800), latest_time=str(T0 + 4000))
    assert len(rows) == 2
    assert rows[0]["north"] == "15" and rows[0]["south"] == "30"
    assert "north" not in rows[1] and rows[1]["south"] == "40"
    several = "search index=plant | timechart span=1h count, max(rpm) by site useother=f"
    assert fields(server, several)[1:3] == ("count: north", "max(rpm): north")
    limited = fields(server, "search index=plant | timechart span=1h limit=1 count by asset")
    assert limited == ("_time", "P-1", "OTHER", "_span")


def test_timechart_default_span_follows_the_time_range(server):
    start = T0 - 800  # 22:00
    rows = run(server, "search index=plant | timechart count", earliest_time=str(start),
               latest_time=str(start + 86_400))
    assert len(rows) == 48 and rows[0]["_span"] == "1800"  # 24 hours: 30 minutes
    week = run(server, "search index=plant | timechart count",
               earliest_time=str(start - 6 * 86_400), latest_time=str(start + 86_400))
    assert week[0]["_span"] == "86400"


def test_unknown_and_unimplemented_commands_are_clear_400s(server):
    with pytest.raises(SearchError, match="Unknown search command 'statz'"):
        run(server, "search index=plant | statz count")
    with pytest.raises(SearchError, match="does not implement 'transpose'") as info:
        run(server, "search index=plant | transpose")
    assert info.value.status == 400
    with pytest.raises(SearchError, match="Unknown function 'averge'"):
        run(server, "search index=plant | stats averge(temp)")


def test_transforming_results_are_a_report_and_events_stay_events(server):
    outcome = server.engine.run("search index=plant | stats count", {}, NOW)
    assert outcome.reporting
    events = server.engine.run("search index=plant | eval x=1", {"earliest_time": "0"}, NOW)
    assert not events.reporting and "_cd" in events.results.fields and "x" in events.results.fields
    page = events.results.page(0, 1, ("sourcetype", "x"))
    assert page.columns[0] == "kepler:test"


def test_stats_over_a_million_events_is_fast():
    import time

    with SplunkTestServer() as big:
        big.add_index("pumps", generate_sensor_data(1_000_000))
        started = time.perf_counter()
        outcome = big.engine.run("search index=pumps | stats avg(temperature) max(vibration) "
                                 "count by asset_id", {}, NOW)
        elapsed = time.perf_counter() - started
    assert len(outcome.results) == 12 and elapsed < 5
