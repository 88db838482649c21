"""Lineage of a DataFrame, and tables read from files (directly or through the file
connector)."""

from __future__ import annotations

import kepler as kp
import pandas as pd
import pytest
from kepler.api import TrainingError, read_data
from kepler_tabular import data_hash, describe_data, read_table


def test_the_data_hash_tells_tables_apart(sensors):
    assert data_hash(sensors) == data_hash(sensors.copy())
    changed = sensors.copy()
    changed.loc[5, "rpm"] += 1
    assert data_hash(changed) != data_hash(sensors)
    assert data_hash(sensors.iloc[::-1]) != data_hash(sensors)  # row order counts
    assert data_hash(sensors.astype({"rpm": "float32"})) != data_hash(sensors)
    lists = pd.DataFrame({"tags": [["a"], ["b", "c"]]})  # unhashable cells still hash
    assert len(data_hash(lists)) == 64


def test_lineage_keeps_the_connectors_facts_but_no_secret(monkeypatch):
    from kepler.api import register_secret

    register_secret("s3cr3t-token-value")
    frame = pd.DataFrame({"x": [1, 2]})
    frame.attrs.update({"source": "splunk", "spl": "search index=x",
                        "connection": "https://u:s3cr3t-token-value@h"})
    lineage = describe_data(frame)
    assert lineage.source == "splunk" and lineage.rows == 2 and lineage.columns == ["x"]
    assert "s3cr3t-token-value" not in lineage.model_dump_json()
    assert lineage.details["connection"] == "https://u:********@h"
    assert describe_data(pd.DataFrame({"x": [1]})).source == "dataframe"
    assert describe_data(frame, source="mine", details={"n": 1}).details["n"] == 1


def test_files_of_each_type_read_alike(sensors, tmp_path):
    sensors.to_parquet(tmp_path / "pumps.parquet")
    sensors.to_csv(tmp_path / "pumps.csv", index=False)
    sensors.to_json(tmp_path / "pumps.jsonl", orient="records", lines=True, date_format="iso")
    parquet = read_table(tmp_path / "pumps.parquet")
    assert parquet.attrs == {"source": "file", "path": str(tmp_path / "pumps.parquet")}
    for name in ("pumps.csv", "pumps.jsonl"):
        table = read_table(str(tmp_path / name))
        assert isinstance(table["_time"].dtype, pd.DatetimeTZDtype), name  # parsed as times
        assert str(table["_time"].dt.tz) == "UTC"
        assert (table["_time"] == parquet["_time"]).all(), name
        assert table["rpm"].tolist() == parquet["rpm"].tolist()
    (tmp_path / "pumps.xlsx").write_text("x")
    with pytest.raises(TrainingError, match="unknown file type '.xlsx'"):
        read_table(tmp_path / "pumps.xlsx")
    with pytest.raises(TrainingError, match="Cannot read"):
        read_table(tmp_path / "missing.csv")


def test_the_file_connector_reads_through_core(sensors, tmp_path):
    sensors.to_parquet(tmp_path / "pumps.parquet")
    frame = read_data(str(tmp_path / "pumps.parquet"), connector="file")
    assert len(frame) == len(sensors) and frame.attrs["source"] == "file"
    assert frame.attrs["connector"] == "file"
    with pytest.raises(TrainingError, match="takes no options"):
        read_data(str(tmp_path / "pumps.parquet"), connector="file", earliest="-7d")


def test_kepler_train_reads_data_files_through_the_file_connector(project, kepler_cli,
                                                                  kepler_plugin):
    from tabular_examples import SEEN, ConstPlugin, ConstTrainerPlugin

    kepler_plugin(ConstPlugin(), name="const")
    kepler_plugin(ConstTrainerPlugin(), name="consttrainer")
    (project / "rows.csv").write_text("y,x,_time\n1.0,2,2026-01-01T00:00:00Z\n3.0,4,2026-01-02\n")
    SEEN.clear()
    result = kepler_cli("train", "const", "--data", "rows.csv", "--target", "y", "--name", "rows")
    assert result.code == 0, result.err
    [table] = SEEN
    assert isinstance(table, pd.DataFrame) and str(table["_time"].dt.tz) == "UTC"
    lineage = kp.models.load("rows").manifest.lineage
    assert lineage.source == "file" and lineage.details["path"] == str(project / "rows.csv")
    assert lineage.rows == 2 and lineage.data_sha256
