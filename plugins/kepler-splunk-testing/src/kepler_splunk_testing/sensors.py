"""A realistic, reproducible industrial sensor dataset for tests, the demo and the benchmark.

Pumps at three sites report a reading per tick. Signals have a daily cycle and noise per asset;
some readings are idle (pump stopped). Failures are rare, and each is preceded by a drift of
rising vibration and temperature and falling pressure over the asset's previous 60 readings, with
an ``alarm`` status and multivalue ``tags`` near the end: a predictive-maintenance model has
something real to learn, and the data exercises multivalue fields and categorical strings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SENSOR_FIELDS", "generate_sensor_data"]

SENSOR_FIELDS = (
    "_time",
    "asset_id",
    "site",
    "temperature",
    "pressure",
    "vibration",
    "flow",
    "rpm",
    "power_kw",
    "status",
    "tags",
    "failure",
)

_SITES = np.array(["plant-north", "plant-south", "plant-east"])
_DRIFT_WINDOW = 60  # readings of the same asset before a failure that show the drift
_FAILURE_RATE = 1 / 4000  # failures per reading


def generate_sensor_data(
    rows: int,
    start: str | datetime = "2024-01-01T00:00:00Z",
    freq: str | timedelta = "1s",
    seed: int = 0,
    assets: int = 12,
    *,
    end: str | datetime | None = None,
) -> pd.DataFrame:
    """``rows`` readings, one every ``freq`` from ``start``, cycling over ``assets`` pumps.

    With ``end``, the last reading is at ``end`` (and ``start`` is ignored): data "up to now"
    for a server a person searches with ``earliest=-7d``.

    Columns (12): ``_time`` (UTC), ``asset_id``, ``site``, ``temperature`` (degC), ``pressure``
    (bar), ``vibration`` (mm/s), ``flow`` (m3/h), ``rpm`` (int), ``power_kw``, ``status``
    (categorical: running / idle / alarm / maintenance), ``tags`` (a list for some rows, else
    None), ``failure`` (0/1). The same arguments always give the same frame.
    """
    import pandas as pd

    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    if assets < 1:
        raise ValueError(f"assets must be >= 1, got {assets}")
    rng = np.random.default_rng(seed)
    step = pd.Timedelta(freq)
    first = _utc(end) - step * max(rows - 1, 0) if end is not None else _utc(start)
    times = pd.date_range(first, periods=rows, freq=step)
    position = np.arange(rows)
    asset = position % assets
    seconds = (times.as_unit("ns").asi8 // 1_000_000_000).astype(np.float64)
    daily = np.sin(2 * np.pi * (seconds % 86_400) / 86_400)

    drift = _drift(rows, assets, rng)
    failure = np.zeros(rows, dtype=np.int64)
    failure_rows = np.flatnonzero(drift == 2.0)
    failure[failure_rows] = 1
    drift = np.minimum(drift, 1.0)

    idle = (rng.random(rows) < 0.04) & (drift == 0)
    running = ~idle
    base_temp = 58 + 6 * rng.standard_normal(assets)
    base_pressure = 6 + 0.8 * rng.standard_normal(assets)
    temperature = base_temp[asset] + 4 * daily + rng.normal(0, 0.6, rows) + 16 * drift**2
    pressure = base_pressure[asset] + rng.normal(0, 0.08, rows) - 1.5 * drift
    vibration = 2.2 + rng.gamma(2.0, 0.25, rows) + 7 * drift**2
    rpm = np.where(running, 1480 + rng.normal(0, 12, rows) - 60 * drift, 0).round().astype(np.int64)
    flow = np.where(running, 118 + 9 * daily + rng.normal(0, 2.5, rows) - 25 * drift, 0.0)
    power_kw = np.where(running, 44 + 0.18 * flow + rng.normal(0, 1.1, rows) + 6 * drift, 0.6)

    status = np.full(rows, "running", dtype=object)
    status[idle] = "idle"
    alarm = drift > 0.8
    status[alarm] = "alarm"
    after_failure = failure_rows + assets
    after_failure = after_failure[after_failure < rows]
    status[failure_rows] = "maintenance"
    status[after_failure] = "maintenance"

    tags = np.full(rows, None, dtype=object)
    for row in np.flatnonzero((drift > 0.5) & ~alarm):
        tags[row] = ["drift", "vibration"]
    for row in np.flatnonzero(alarm):
        tags[row] = ["alarm", "critical", "vibration"]
    for row in np.concatenate([failure_rows, after_failure]):
        tags[row] = ["maintenance"]

    names = np.array([f"PUMP-{number:03d}" for number in range(assets)])
    return pd.DataFrame(
        {
            "_time": times,
            "asset_id": names[asset],
            "site": _SITES[asset % len(_SITES)],
            "temperature": temperature.round(2),
            "pressure": pressure.round(3),
            "vibration": vibration.round(3),
            "flow": flow.round(2),
            "rpm": rpm,
            "power_kw": power_kw.round(2),
            "status": pd.Categorical(
                status, categories=["running", "idle", "alarm", "maintenance"]
            ),
            "tags": tags,
            "failure": failure,
        }
    )


def _utc(moment: str | datetime) -> pd.Timestamp:
    import pandas as pd

    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _drift(rows: int, assets: int, rng: np.random.Generator) -> np.ndarray:
    """0..1 drift per row before each failure; 2.0 marks the failure reading itself."""
    drift = np.zeros(rows)
    eligible = np.arange(_DRIFT_WINDOW * assets, rows)
    if eligible.size == 0:
        return drift
    count = rng.binomial(eligible.size, _FAILURE_RATE)
    failures = np.sort(rng.choice(eligible, size=count, replace=False))
    for step in range(1, _DRIFT_WINDOW + 1):
        before = failures - step * assets
        drift[before] = np.maximum(drift[before], 1.0 - (step - 1) / _DRIFT_WINDOW)
    drift[failures] = 2.0
    return drift
