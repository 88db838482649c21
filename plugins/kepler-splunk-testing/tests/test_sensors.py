"""generate_sensor_data: shape, determinism and the failure signal a model can learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
from kepler_splunk_testing import SENSOR_FIELDS, generate_sensor_data


def test_shape_types_and_determinism() -> None:
    frame = generate_sensor_data(20_000, start="2024-03-01", freq="5s", seed=3)
    assert tuple(frame.columns) == SENSOR_FIELDS and len(SENSOR_FIELDS) == 12
    assert len(frame) == 20_000
    assert str(frame["_time"].dt.tz) == "UTC"
    assert frame["_time"].iloc[0] == pd.Timestamp("2024-03-01", tz="UTC")
    assert (frame["_time"].diff().dropna() == pd.Timedelta("5s")).all()
    assert frame["status"].dtype == "category"
    assert set(frame["status"].unique()) <= {"running", "idle", "alarm", "maintenance"}
    assert frame["rpm"].dtype == np.int64 and frame["failure"].isin([0, 1]).all()
    assert frame["tags"].map(lambda v: v is None or isinstance(v, list)).all()
    pd.testing.assert_frame_equal(frame, generate_sensor_data(20_000, "2024-03-01", "5s", 3))
    assert not frame.equals(generate_sensor_data(20_000, "2024-03-01", "5s", 4))


def test_failures_are_preceded_by_drift() -> None:
    frame = generate_sensor_data(200_000, assets=10)
    failures = np.flatnonzero(frame["failure"].to_numpy())
    assert 20 <= len(failures) <= 100
    vibration = frame["vibration"].to_numpy()
    typical = np.median(vibration)
    for row in failures[:10]:
        before = row - 10  # the same asset's previous reading
        assert frame["asset_id"].iloc[before] == frame["asset_id"].iloc[row]
        assert vibration[before] > typical + 3
        assert frame["status"].iloc[before] == "alarm"
        assert frame["tags"].iloc[before] == ["alarm", "critical", "vibration"]


def test_zero_rows_and_arguments() -> None:
    assert len(generate_sensor_data(0)) == 0
    import pytest

    with pytest.raises(ValueError):
        generate_sensor_data(-1)
