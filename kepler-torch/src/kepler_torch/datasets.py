"""A synthetic sensor signal with a daily cycle, for tests, benchmarks and notebooks.

``make_periodic_signal`` gives hourly readings of one machine: ``temperature`` follows a daily
cycle (a 24-reading period) plus a weekly one, a slow drift and noise; ``load`` is a second sensor
that leads the temperature by a few hours. The next reading is predictable from the last day,
which "repeat the last value" cannot exploit: what a sequence model should beat.

Example::

    from kepler_torch.datasets import make_periodic_signal
    df = make_periodic_signal(rows=2000)
    model = kp.train.pytorch(df, target="temperature", model="lstm", window=24, horizon=3)
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_periodic_signal(rows: int = 1000, *, period: int = 24, noise: float = 0.3,
                         seed: int = 0, start: str = "2026-01-01", freq: str = "1h"
                         ) -> pd.DataFrame:
    """``rows`` readings, oldest first; the same ``seed`` gives the same table."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows, dtype="float64")
    daily = np.sin(2 * np.pi * t / period)
    weekly = np.sin(2 * np.pi * t / (period * 7))
    load = 50 + 20 * np.sin(2 * np.pi * (t + 3) / period) + rng.normal(0, 2.0, rows)
    temperature = (60 + 5 * daily + 1.5 * weekly + 0.002 * t + rng.normal(0, noise, rows))
    return pd.DataFrame({
        "_time": pd.date_range(start, periods=rows, freq=freq, tz="UTC"),
        "load": load.round(2),
        "temperature": temperature.round(3),
    })
