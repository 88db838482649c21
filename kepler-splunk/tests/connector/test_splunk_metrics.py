"""splunk_metrics builds valid mstats SPL; splunk_catalog lists indexes and metric names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import kepler as kp
import pytest
from kepler_splunk.metrics import MetricsQueryError, mstats_query

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def test_the_query_is_quoted_and_complete():
    assert mstats_query("pump.vibration", "plant_metrics", agg="p95", span="5m",
                        by=["asset_id", "site"]) == (
        '| mstats p95("pump.vibration") AS "pump.vibration" WHERE index=plant_metrics '
        "span=5m BY asset_id, site")
    assert mstats_query(["a.b", "c"], "m", agg="max", span=None) == (
        '| mstats max("a.b") AS "a.b", max("c") AS "c" WHERE index=m')
    # the test server's own tests run exactly this text (kepler-splunk-testing, test_metrics.py)
    assert mstats_query(["pump.vibration", "pump.rpm"], "plant", agg="p95", span="1m",
                        by=["asset_id"], where='asset_id="P-1"') == (
        '| mstats p95("pump.vibration") AS "pump.vibration", p95("pump.rpm") AS "pump.rpm" '
        'WHERE index=plant AND (asset_id="P-1") span=1m BY asset_id')


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"agg": "average"}, "Unknown mstats aggregation 'average'"),
    ({"span": "5 minutes"}, "Invalid span '5 minutes'"),
    ({"by": ["asset id"]}, "'asset id' is not a dimension name"),
    ({"index": "plant metrics"}, "Invalid index name"),
])
def test_bad_arguments_are_refused_with_the_accepted_forms(kwargs, message):
    arguments = {"metric_name": "m", "index": "plant_metrics", **kwargs}
    with pytest.raises(MetricsQueryError, match=message):
        mstats_query(**arguments)


def metric_points():
    points = []
    for minute in range(30):
        for asset, base in (("P-1", 1.0), ("P-2", 5.0)):
            points.append({"_time": NOW - timedelta(minutes=minute, seconds=30),
                           "metric_name": "pump.vibration", "_value": base + minute % 3,
                           "asset_id": asset})
    return points


def test_splunk_metrics_aggregates_per_span_and_dimension(splunk):
    splunk.add_index("plant_metrics", metric_points(), datatype="metric")
    frame = kp.data.splunk_metrics("pump.vibration", index="plant_metrics", agg="max",
                                   span="10m", by=["asset_id"], earliest="-2h",
                                   progress=False)
    assert set(frame.columns) == {"_time", "asset_id", "pump.vibration"}
    assert str(frame["_time"].dtype) == "datetime64[us, UTC]"
    assert (frame["_time"].dt.minute % 10 == 0).all() and (frame["_time"].dt.second == 0).all()
    assert frame.groupby("asset_id")["pump.vibration"].max().to_dict() == {"P-1": 3, "P-2": 7}
    assert frame.attrs["spl"].startswith("| mstats max(")
    whole = kp.data.splunk_metrics("pump.vibration", index="plant_metrics", agg="avg",
                                   span=None, by=["asset_id"], earliest="-2h", progress=False)
    assert whole.set_index("asset_id")["pump.vibration"].to_dict() == {"P-1": 2.0, "P-2": 6.0}


def test_catalog_lists_event_and_metric_indexes_with_metric_names(splunk):
    splunk.add_index("pumps", [{"_time": NOW, "v": 1}])
    splunk.add_index("plant_metrics", metric_points(), datatype="metric")
    catalog = kp.data.splunk_catalog()
    rows = {row["index"]: row for row in catalog.to_dict("records")}
    assert rows["pumps"]["datatype"] == "event" and rows["pumps"]["metric_names"] == []
    assert rows["plant_metrics"]["datatype"] == "metric"
    assert rows["plant_metrics"]["metric_names"] == ["pump.vibration"]


def test_catalog_cli(splunk, kepler_cli):
    splunk.add_index("plant_metrics", metric_points(), datatype="metric")
    result = kepler_cli("splunk", "catalog")
    assert result.code == 0, result.err
    assert "plant_metrics" in result.out and "pump.vibration" in result.out
