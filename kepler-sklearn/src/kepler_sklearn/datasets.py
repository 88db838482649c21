"""The synthetic pump data of the examples, kept importable from here for notebooks written
against kepler-sklearn; it lives in kepler-tabular (``kepler_tabular.make_sensor_data``), which
every tabular trainer's tests and demos share.

Example::

    from kepler_sklearn.datasets import make_sensor_data
    df = make_sensor_data(rows=5000, seed=1)
"""

from __future__ import annotations

from kepler_tabular import make_sensor_data

__all__ = ["make_sensor_data"]
