"""README's own example, through ``kepler data splunk``, against the test server (issue 18):
data generated the way ``python -m kepler_splunk_testing --generate pumps=N`` makes it (ending
now), so ``--earliest -7d`` finds it and the server evaluates the ``stats``."""

from __future__ import annotations

import json

import pandas as pd
from kepler_splunk_testing import generate_sensor_data

README_SPL = "index=pumps | stats avg(temperature) by asset_id"


def test_readme_stats_example_through_the_cli(splunk, kepler_cli, tmp_path):
    frame = generate_sensor_data(2_400, end=pd.Timestamp.now(tz="UTC").floor("s"))
    splunk.add_index("pumps", frame)
    out = tmp_path / "avg.csv"
    result = kepler_cli("data", "splunk", README_SPL, "--earliest", "-7d", "--out", str(out))
    assert result.code == 0, result.err
    answer = pd.read_csv(out)
    expected = frame.groupby("asset_id")["temperature"].mean()
    assert list(answer["asset_id"]) == sorted(expected.index)
    averages = answer.set_index("asset_id")["avg(temperature)"]
    assert all(abs(averages[asset] - value) < 1e-9 for asset, value in expected.items())
    shown = kepler_cli("data", "splunk", README_SPL, "--earliest", "-7d")
    assert shown.code == 0, shown.err
    assert "PUMP-000" in shown.out and "avg(temperature)" in shown.out


def test_readme_timechart_and_eval_through_the_sdk(splunk):
    import kepler as kp

    frame = generate_sensor_data(1_200, end=pd.Timestamp.now(tz="UTC").floor("s"))
    splunk.add_index("pumps", frame)
    hourly = kp.data.from_splunk(
        'index=pumps | eval hot=if(temperature > 60, 1, 0) | timechart span=1h sum(hot) AS hot',
        earliest="-1d@h")
    assert "_time" in hourly.columns and "hot" in hourly.columns
    assert hourly["hot"].fillna(0).sum() == (frame["temperature"] > 60).sum()
    json.dumps(hourly.attrs, default=str)  # the messages and metadata travel with the frame
