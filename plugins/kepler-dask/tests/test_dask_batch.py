"""``kepler predict MODEL --spl ... --executor``: time slices scored on the cluster's workers and
written to HEC from there, every row id arriving; a failing partition retried, then reported."""

from __future__ import annotations

import json
from typing import ClassVar

import kepler as kp
import pandas as pd
import pytest
from kepler.api import ConnectorSpec, LocalExecutor, hookimpl
from kepler_tabular import make_sensor_data

pytest.importorskip("kepler_splunk", reason="kepler-splunk is not installed")

ROWS = make_sensor_data(rows=480, seed=7).drop(columns=["failure"])  # hourly, 20 days
START = ROWS["_time"].min()
END = ROWS["_time"].max() + pd.Timedelta(hours=1)


@pytest.fixture
def splunk(splunk_server, monkeypatch):
    splunk_server.add_index("pumps", ROWS)
    splunk_server.add_index("predictions")
    for key, value in {"HOST": splunk_server.host, "PORT": str(splunk_server.port),
                       "SCHEME": splunk_server.scheme, "TOKEN": splunk_server.token,
                       "HEC_URL": splunk_server.hec_url, "HEC_TOKEN": splunk_server.hec_token,
                       "HEC_BACKOFF": "0.01"}.items():
        monkeypatch.setenv(f"KEPLER_SPLUNK__{key}", value)
    return splunk_server


@pytest.fixture
def model():
    return kp.train.random_forest(ROWS, target="efficiency", n_estimators=5, name="eff",
                                  save=True)


def test_partitions_scored_on_dask_workers_reach_hec_with_every_row_id(splunk, model, address,
                                                                      kepler_cli):
    result = kepler_cli("predict", "eff:1", "--spl", "search index=pumps", "--earliest",
                        START.isoformat(), "--latest", END.isoformat(), "--to-splunk",
                        "--index", "predictions", "--keep", "pump", "--executor", address,
                        "--partitions", "4", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert [p["partition"] for p in report["partitions"]] == [0, 1, 2, 3]
    assert [p["rows"] for p in report["partitions"]] == [120] * 4 and report["rows"] == 480
    assert all(p["written"]["sent"] == p["rows"] for p in report["partitions"])
    assert report["failed"] == []
    events = splunk.hec_events(index="predictions")
    ids = {e["fields"]["kepler_row_id"] for e in events}
    assert len(events) == len(ids) == 480
    assert len({row_id.split(":")[0] for row_id in ids}) == 4, "one write per partition"
    assert {e["event"]["model"] for e in events} == {"eff"}


class FlakyConnector:
    """Slices starting at day 5 fail once (then work); those at day 10 always fail."""

    attempts: ClassVar[dict] = {}

    def __init__(self, config):
        pass

    def query(self, query, earliest=None, latest=None, **options):
        FlakyConnector.attempts[earliest] = FlakyConnector.attempts.get(earliest, 0) + 1
        start = pd.Timestamp(earliest)
        if start == START + pd.Timedelta(days=5) and FlakyConnector.attempts[earliest] == 1:
            raise ConnectionError("search head restarted")
        if start == START + pd.Timedelta(days=10):
            raise ConnectionError("index is offline")
        return ROWS[(ROWS["_time"] >= start) & (ROWS["_time"] < pd.Timestamp(latest))]


class FlakyPlugin:
    @hookimpl
    def kepler_connectors(self):
        yield ConnectorSpec(name="flaky", target=f"{__name__}:FlakyConnector")


def test_a_failed_partition_is_retried_then_reported(splunk, model, kepler_plugin):
    from kepler_serve.partitions import batch_score_partitioned

    kepler_plugin(FlakyPlugin(), name="flaky")
    report = batch_score_partitioned("eff:1", executor=LocalExecutor(workers=1), partitions=4,
                                     connector="flaky", query="pumps",
                                     earliest=START.isoformat(), latest=END.isoformat(),
                                     to_splunk=True, index="predictions")
    assert [p["partition"] for p in report.partitions] == [0, 1, 3]  # 1 retried and done
    assert [f["partition"] for f in report.failed] == [2] and not report.ok
    assert "index is offline" in report.failed[0]["error"]
    assert "Traceback" in report.failed[0]["traceback"]
    assert len(splunk.hec_events(index="predictions")) == report.rows == 360
    assert "FAILED partitions: 2" in report.summary()
