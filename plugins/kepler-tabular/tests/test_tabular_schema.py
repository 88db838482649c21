"""The feature schema from a DataFrame, and user input checked against it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kepler.api import FeatureSchema, ModelInputError
from kepler_tabular import infer_schema, prepare_inputs


def test_each_column_gets_its_kind_and_statistics(sensors):
    sensors["serial"] = [f"SN-{i}" for i in range(len(sensors))]
    sensors["flag"] = sensors["failure"].astype(bool)
    schema = infer_schema(sensors)
    kinds = {f.name: f.kind for f in schema}
    assert kinds == {"_time": "datetime", "pump": "category", "temperature": "number",
                     "pressure": "number", "vibration": "number", "flow": "number",
                     "rpm": "number", "mode": "category", "failure": "integer",
                     "efficiency": "number", "serial": "text", "flag": "boolean"}
    assert schema["pump"].categories == ["pump-01", "pump-02", "pump-03", "pump-04"]
    assert schema["temperature"].mean == pytest.approx(sensors["temperature"].mean())
    assert schema["flow"].required is False and schema["rpm"].required is True
    assert schema["_time"].min == sensors["_time"].min().isoformat()
    assert infer_schema(sensors, ["rpm", "pump"]).names == ["rpm", "pump"]
    # the manifest's contract: it round-trips through JSON without pandas
    assert FeatureSchema.model_validate_json(schema.model_dump_json()) == schema


def test_inputs_are_checked_and_ordered_like_the_training_table(sensors):
    schema = infer_schema(sensors, ["temperature", "flow", "pump", "_time"])
    one = prepare_inputs(schema, {"_time": "2026-05-01T12:00:00Z", "temperature": "71.5",
                                  "pump": "pump-02", "extra": 1})
    assert list(one.columns) == ["temperature", "flow", "pump", "_time"]
    assert one["temperature"].iloc[0] == 71.5 and np.isnan(one["flow"].iloc[0])  # optional
    assert one["_time"].iloc[0] == pd.Timestamp("2026-05-01T12:00:00Z")
    table = prepare_inputs(schema, sensors)
    assert table.equals(sensors[schema.names])
    with pytest.raises(ModelInputError, match="lacks required feature.*'temperature'") as info:
        prepare_inputs(schema, [{"pump": "pump-01", "_time": "2026-01-01"}])
    assert "The model takes: temperature, flow, pump, _time" in info.value.hint
    with pytest.raises(ModelInputError, match="'temperature' must be a number; got 'hot'"):
        prepare_inputs(schema, {"temperature": "hot", "pump": "a", "_time": "2026-01-01"})
    with pytest.raises(ModelInputError, match="'_time' must be a date and time"):
        prepare_inputs(schema, {"temperature": 1, "pump": "a", "_time": "yesterday-ish"})
    with pytest.raises(ModelInputError, match="Cannot read the input as a table"):
        prepare_inputs(schema, 42)
