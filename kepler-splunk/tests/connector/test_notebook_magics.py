"""``%%spl`` in an in-process IPython against the Splunk test server: core's query magic for
the connector whose record says ``query_option="spl"``, the summary it shows, and the write
report's notebook display."""

from __future__ import annotations

import kepler
import pandas as pd
import pytest
from kepler_splunk_testing import generate_sensor_data

pytest.importorskip("IPython")


@pytest.fixture
def ip(splunk):
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    kepler.load_ipython_extension(shell)
    frame = generate_sensor_data(600, end=pd.Timestamp.now(tz="UTC").floor("s"))
    splunk.add_index("pumps", frame)
    try:
        yield shell
    finally:
        kepler.unload_ipython_extension(shell)


def test_spl_cell_binds_a_frame_and_shows_rows_columns_time_and_sid(ip):
    ip.user_ns["asset"] = "PUMP-000"
    result = ip.run_cell('%%spl earliest=-7d latest=now out=pumps cache=false\n'
                         'index=pumps asset_id="$asset" | fields _time asset_id temperature\n')
    assert result.success, result.error_in_exec
    pumps = ip.user_ns["pumps"]
    assert len(pumps) > 0 and set(pumps["asset_id"]) == {"PUMP-000"}
    assert pumps.attrs["sid"]
    card = result.result.card()
    fields = dict(card.fields)
    assert fields["search id"] == pumps.attrs["sid"]
    assert any(c.startswith("temperature (float") for c in fields["columns"])
    assert str(pumps["_time"].min()) in fields["time range"]
    assert fields["duration"].endswith(" s")
    shown = result.result._repr_html_()
    assert f"pumps: {len(pumps)} rows from splunk" in shown and "<table" in shown


def test_spl_line_with_chunks_searches_in_parallel_slices(ip):
    result = ip.run_cell("%spl earliest=-7d latest=now chunks=2 index=pumps asset_id=PUMP-001")
    assert result.success, result.error_in_exec
    assert len(ip.user_ns["df"]) > 0
    assert "," in ip.user_ns["df"].attrs["sid"]  # one sid per slice


def test_a_splunk_error_fails_the_cell_with_a_short_message(ip, capsys):
    result = ip.run_cell("%%spl earliest=-1h\nindex=pumps | nosuchcommand\n")
    assert result.error_in_exec is not None
    out = capsys.readouterr().out
    assert "Traceback" not in out and "nosuchcommand" in out


def test_a_write_report_displays_what_was_sent(ip, splunk):
    splunk.add_index("ml_predictions")
    frame = pd.DataFrame({"asset_id": ["a", "b"], "score": [0.1, 0.9]})
    report = kepler.results.to_splunk(frame, index="ml_predictions", progress=False)
    shown = report._repr_html_()
    assert "HEC write: ok" in shown and "sent" in shown and ">2<" in shown
