"""A small synthetic industrial dataset: pumps with sensors, faults and a drifting efficiency.

For tests, benchmarks, demos and notebooks without a plant at hand. It has what real sensor data
has and what each Kepler task needs:

- ``_time``: a UTC timestamp every hour (Splunk's column name), for ``split="time"``;
- ``pump``: a category (pump-01 ... pump-04) whose pumps run at slightly different temperatures;
- ``temperature``, ``pressure``, ``vibration``, ``flow``, ``rpm``: sensors that age slowly
  (temperature and vibration creep up, flow down), with a few missing ``flow`` readings;
- ``mode``: "auto" or "manual", a category that shifts efficiency;
- ``failure``: 1 when the pump is in a fault state (high vibration and temperature, low pressure;
  about 8% of rows, a few labels flipped): for classification and anomaly detection;
- ``efficiency``: a regression target (percent) that drifts down with age and depends on the
  sensors.

Example::

    from kepler_tabular import make_sensor_data
    df = make_sensor_data(rows=5000, seed=1)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PUMPS = ("pump-01", "pump-02", "pump-03", "pump-04")


def make_sensor_data(rows: int = 2000, *, seed: int = 0, start: str = "2026-01-01",
                     freq: str = "1h", fault_rate: float = 0.08) -> pd.DataFrame:
    """``rows`` readings, oldest first; the same ``seed`` gives the same table."""
    rng = np.random.default_rng(seed)
    age = np.linspace(0.0, 1.0, rows)
    pump = rng.choice(len(PUMPS), size=rows)
    fault = rng.random(rows) < fault_rate
    mode = np.where(rng.random(rows) < 0.7, "auto", "manual")
    temperature = (60 + 6 * age + np.array([0.0, 1.5, -1.0, 3.0])[pump]
                   + rng.normal(0, 1.2, rows) + 7 * fault)
    pressure = 5.0 - 0.4 * age + rng.normal(0, 0.25, rows) - 1.2 * fault
    vibration = 0.30 + 0.25 * age + np.abs(rng.normal(0, 0.05, rows)) + 0.55 * fault
    flow = 100 - 12 * age + rng.normal(0, 2.5, rows) - 9 * fault
    rpm = 1450 + rng.normal(0, 15, rows)
    efficiency = 100 * (0.92 - 0.12 * age - 0.004 * (temperature - 60)
                        - 0.08 * (vibration - 0.3) + 0.015 * (mode == "auto")
                        + rng.normal(0, 0.006, rows))
    flipped = rng.random(rows) < 0.02
    failure = (fault ^ flipped).astype("int64")
    flow_with_gaps = np.where(rng.random(rows) < 0.02, np.nan, flow)
    return pd.DataFrame({
        "_time": pd.date_range(start, periods=rows, freq=freq, tz="UTC"),
        "pump": pd.Series(np.asarray(PUMPS)[pump], dtype="category"),
        "temperature": temperature.round(2),
        "pressure": pressure.round(3),
        "vibration": vibration.round(4),
        "flow": flow_with_gaps.round(2),
        "rpm": rpm.round(1),
        "mode": mode,
        "failure": failure,
        "efficiency": efficiency.round(3),
    })
