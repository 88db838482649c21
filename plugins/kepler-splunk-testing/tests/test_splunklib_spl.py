"""splunk-sdk (``splunklib``) running reporting SPL against the test server (issue 18)."""

from __future__ import annotations

import pytest
from kepler_splunk_testing import SplunkTestServer, generate_sensor_data

client = pytest.importorskip("splunklib.client")
results_module = pytest.importorskip("splunklib.results")


def test_splunklib_stats_and_timechart(splunk_server: SplunkTestServer) -> None:
    frame = generate_sensor_data(3_600, start="2024-01-01T00:00:00Z")
    splunk_server.add_index("pumps", frame)
    service = client.connect(host=splunk_server.host, port=splunk_server.port,
                             scheme=splunk_server.scheme, splunkToken=splunk_server.token)
    stream = service.jobs.oneshot(
        "search index=pumps | stats avg(temperature) AS avg_temp, count BY asset_id",
        output_mode="json", earliest_time="2024-01-01T00:00:00Z", count=0)
    rows = [r for r in results_module.JSONResultsReader(stream) if isinstance(r, dict)]
    expected = frame.groupby("asset_id")["temperature"].mean()
    assert [r["asset_id"] for r in rows] == sorted(expected.index)
    for row in rows:
        assert float(row["avg_temp"]) == pytest.approx(expected[row["asset_id"]])
        assert row["count"] == "300"
    job = service.jobs.create("search index=pumps | timechart span=10m count by site",
                              earliest_time="2024-01-01T00:00:00Z",
                              latest_time="2024-01-01T01:00:00Z")
    while not job.is_done():
        pass
    charted = [r for r in results_module.JSONResultsReader(job.results(output_mode="json"))
               if isinstance(r, dict)]
    assert len(charted) == 6
    assert {"plant-east", "plant-north", "plant-south"} <= set(charted[0])
    assert sum(int(r["plant-north"]) for r in charted) == 1_200
