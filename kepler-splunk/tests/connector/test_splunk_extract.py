"""kp.data.from_splunk against the Splunk-protocol test server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import kepler as kp
import pandas as pd
import pytest
from kepler_splunk_testing import generate_sensor_data

NOW = datetime.now(UTC).replace(microsecond=0)


def sensor_rows(count: int, step: timedelta = timedelta(seconds=1)) -> pd.DataFrame:
    start = NOW - step * count
    return pd.DataFrame(
        {
            "_time": [start + step * i for i in range(count)],
            "asset_id": [f"P-{i % 7:03d}" for i in range(count)],
            "temperature": [20.0 + (i % 100) / 10 for i in range(count)],
            "rpm": [1500 + i % 50 for i in range(count)],
            "code": ["007" if i % 2 else "010" for i in range(count)],
            "serial": list(range(count)),
        }
    )


def test_every_row_exactly_once_in_order_past_several_pages(splunk):
    splunk.settings.max_result_rows = 50_000
    data = sensor_rows(120_001)
    splunk.add_index("pumps", data)
    frame = kp.data.from_splunk("index=pumps", earliest="-2d", progress=False)
    assert len(frame) == 120_001
    # Splunk returns events newest first: the serials come back exactly reversed
    assert frame["serial"].tolist() == list(range(120_000, -1, -1))
    pages = splunk.requests_to(r"results$")
    assert {int(r.params["count"]) for r in pages} == {50_000}
    assert sorted(int(r.params["offset"]) for r in pages) == [0, 50_000, 100_000]


def test_a_smaller_server_cap_is_learnt_not_truncated(splunk_server_factory, monkeypatch):
    from splunk_helpers import point_kepler_at

    server = splunk_server_factory(max_result_rows=1_000)
    point_kepler_at(server, monkeypatch)
    server.add_index("pumps", sensor_rows(2_500))
    frame = kp.data.from_splunk("search index=pumps", earliest="-1d", progress=False)
    assert len(frame) == 2_500 and frame["serial"].is_unique


def test_columns_are_typed(splunk):
    splunk.add_index("pumps", sensor_rows(50))
    frame = kp.data.from_splunk("index=pumps", earliest="-1d", progress=False)
    assert str(frame["_time"].dtype) == "datetime64[us, UTC]"
    assert frame["rpm"].dtype == "int64" and frame["temperature"].dtype == "float64"
    assert set(frame["code"]) == {"010", "007"}  # leading zeros: codes stay text
    assert frame["_time"].max() <= pd.Timestamp(NOW)
    for internal in ("_bkt", "_cd", "_si", "_serial", "_indextime", "splunk_server"):
        assert internal not in frame.columns
    assert {"host", "source", "sourcetype", "index"} <= set(frame.columns)
    everything = kp.data.from_splunk(
        "index=pumps", earliest="-1d", keep_internal=True, progress=False
    )
    assert {"_bkt", "_cd", "_serial"} <= set(everything.columns)


def test_multivalue_fields_become_lists_and_multiline_text_stays_text(splunk):
    rows = [
        {
            "_time": NOW - timedelta(seconds=3),
            "tags": ["hot", "alarm"],
            "note": "line1\nline2",
            "reading": ["1.5", "2.5"],
        },
        {"_time": NOW - timedelta(seconds=2), "tags": "hot", "note": "single", "reading": "3"},
        {"_time": NOW - timedelta(seconds=1), "note": "x"},
    ]
    splunk.add_index("alarms", rows)
    frame = kp.data.from_splunk("index=alarms", earliest="-1h", progress=False)
    by_note = {row["note"]: row for row in frame.to_dict("records")}
    assert by_note["line1\nline2"]["tags"] == ["hot", "alarm"]
    assert by_note["line1\nline2"]["reading"] == [1.5, 2.5]
    assert by_note["single"]["tags"] == ["hot"]
    assert by_note["x"]["tags"] is None  # absent field: missing
    assert splunk.requests_to(r"results$") and any(
        r.params.get("output_mode") == "json_cols" for r in splunk.requests_to(r"results$")
    )


def test_time_range_filters_and_is_recorded(splunk):
    data = sensor_rows(48, step=timedelta(hours=1))
    splunk.add_index("pumps", data)
    frame = kp.data.from_splunk("index=pumps", earliest="-6h", latest="now", progress=False)
    assert 5 <= len(frame) <= 6
    assert frame["_time"].min() >= pd.Timestamp(NOW - timedelta(hours=6, seconds=5))
    attrs = frame.attrs
    assert attrs["spl"] == "search index=pumps" and attrs["earliest"] == "-6h"
    assert attrs["rows"] == len(frame) and attrs["sid"]
    assert attrs["earliest_utc"].startswith(str((NOW - timedelta(hours=6)).date()))
    created = splunk.requests_to(r"jobs$", method="POST")[-1]
    assert created.params["earliest_time"] == "-6h" and created.params["latest_time"] == "now"


@pytest.mark.parametrize("form", ["datetime", "iso", "epoch"])
def test_absolute_times_are_sent_as_epoch_seconds(splunk, form):
    splunk.add_index("pumps", sensor_rows(24, step=timedelta(hours=1)))
    moment = NOW - timedelta(hours=3, minutes=30)  # between two hourly rows: exactly 3 match
    earliest = {"datetime": moment, "iso": moment.isoformat(),
                "epoch": moment.timestamp()}[form]
    frame = kp.data.from_splunk("index=pumps", earliest=earliest, progress=False)
    assert len(frame) == 3
    sent = splunk.requests_to(r"jobs$", method="POST")[-1].params["earliest_time"]
    assert float(sent) == pytest.approx(moment.timestamp(), abs=1e-3)


def test_bad_time_values_are_refused_before_any_request(splunk):
    with pytest.raises(kp.KeplerError, match="earliest='yesterday-ish'"):
        kp.data.from_splunk("index=pumps", earliest="yesterday-ish")
    with pytest.raises(kp.KeplerError, match="is after latest"):
        kp.data.from_splunk("index=pumps", earliest="-1h", latest="-2h")
    assert not splunk.requests_to(r"jobs$")


def test_reporting_searches_and_generated_data(splunk):
    splunk.add_index("pumps", generate_sensor_data(500, start=NOW - timedelta(minutes=20)))
    stats = pd.DataFrame({"asset_id": ["P-1", "P-2"], "avg_temp": ["71.2", "69.9"]})
    splunk.add_search(r"\|\s*stats avg\(temperature\)", stats)
    frame = kp.data.from_splunk(
        "index=pumps | stats avg(temperature) AS avg_temp BY asset_id",
        earliest="-1h",
        progress=False,
    )
    assert frame.to_dict("list") == {"asset_id": ["P-1", "P-2"], "avg_temp": [71.2, 69.9]}
    made = kp.data.from_splunk("| makeresults count=3", progress=False)
    assert len(made) == 3


def test_an_empty_result_is_an_empty_frame(splunk):
    splunk.add_index("pumps", sensor_rows(10))
    frame = kp.data.from_splunk("index=pumps", earliest="-1d", latest="-20h", progress=False)
    assert len(frame) == 0 and frame.attrs["rows"] == 0


def test_chunks_cover_everything_in_order_with_flat_pages(splunk):
    splunk.add_index("pumps", sensor_rows(12_345))
    chunks = list(
        kp.data.from_splunk_chunks("index=pumps", earliest="-1d", page_size=5_000, progress=False)
    )
    assert [len(c) for c in chunks] == [5_000, 5_000, 2_345]
    joined = pd.concat(chunks)
    assert joined["serial"].tolist() == list(range(12_344, -1, -1))
    assert chunks[1].attrs["offset"] == 5_000 and chunks[1].index[0] == 5_000


def test_breaking_out_of_chunks_cancels_the_job(splunk):
    splunk.add_index("pumps", sensor_rows(9_000))
    for _chunk in kp.data.from_splunk_chunks(
        "index=pumps", earliest="-1d", page_size=1_000, progress=False
    ):
        break
    import gc

    gc.collect()
    controls = splunk.requests_to(r"control$", method="POST")
    assert [c.params.get("action") for c in controls] == ["cancel"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_output_streams_to_a_file_with_types_for_every_row(splunk, tmp_path, suffix):
    rows = sensor_rows(7_000)
    rows.loc[rows.index[:10], "temperature"] = None  # missing in the oldest rows only
    rows["level"] = [str(i) if i < 6_990 else f"{i}.5" for i in range(7_000)]  # ints, then floats
    splunk.add_index("pumps", rows)
    target = tmp_path / f"pumps{suffix}"
    written = kp.data.from_splunk(
        "index=pumps", earliest="-1d", output=target, page_size=2_000, progress=False
    )
    assert written == target
    back = pd.read_parquet(target) if suffix == ".parquet" else pd.read_csv(target)
    assert len(back) == 7_000 and back["level"].dtype == "float64"
    assert back["level"].iloc[0] == 6_999.5 and back["temperature"].isna().sum() == 10
    if suffix == ".parquet":
        assert str(back["_time"].dtype) == "datetime64[us, UTC]"


def test_unknown_output_format_is_refused(splunk, tmp_path):
    with pytest.raises(kp.KeplerError, match="unknown format .xlsx"):
        kp.data.from_splunk("index=pumps", output=tmp_path / "x.xlsx")


def test_username_and_password_work_too(splunk_server, monkeypatch):
    from splunk_helpers import point_kepler_at

    point_kepler_at(splunk_server, monkeypatch, token=False)
    splunk_server.add_index("pumps", sensor_rows(5))
    assert len(kp.data.from_splunk("index=pumps", earliest="-1d", progress=False)) == 5


def test_v1_search_paths_for_older_servers(splunk_server_factory, monkeypatch):
    from splunk_helpers import point_kepler_at

    server = splunk_server_factory(version="8.2.12")
    point_kepler_at(server, monkeypatch)
    server.add_index("pumps", sensor_rows(300))
    frame = kp.data.from_splunk("index=pumps", earliest="-1d", page_size=100, progress=False)
    assert len(frame) == 300
    assert all("/v2/" not in r.path for r in server.requests_to(r"results$"))


def test_named_connections(splunk, monkeypatch, tmp_path):
    (tmp_path / "work" / "kepler.yml").write_text(
        "splunk:\n  connections:\n    lab:\n      page_size: 7\n"
    )
    splunk.add_index("pumps", sensor_rows(20))
    frame = kp.data.from_splunk("index=pumps", earliest="-1d", connection="lab", progress=False)
    assert len(frame) == 20
    assert {int(r.params["count"]) for r in splunk.requests_to(r"results$")} == {7}
    with pytest.raises(kp.KeplerError, match="no Splunk connection named 'nope'"):
        kp.data.from_splunk("index=pumps", connection="nope")


def test_after_extract_fires_with_lineage(splunk, kepler_plugin):
    events = []

    class Recorder:
        @kp.hookimpl
        def kepler_after_extract(self, event):
            events.append(event)

    kepler_plugin(Recorder(), name="recorder")
    splunk.add_index("pumps", sensor_rows(5))
    kp.data.from_splunk("index=pumps", earliest="-1d", progress=False)
    [event] = events
    assert event.connector == "splunk" and event.rows == 5
    assert event.lineage["sid"] and event.lineage["spl"] == "search index=pumps"
