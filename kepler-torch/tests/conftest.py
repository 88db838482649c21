import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest
import torch
from kepler_tabular import make_sensor_data
from kepler_torch.datasets import make_periodic_signal

# Tiny networks on tiny data: one thread is faster than several, and CI has two cores.
torch.set_num_threads(1)

_SENSORS = make_sensor_data(rows=600, seed=0)
_SIGNAL = make_periodic_signal(rows=480, seed=0)


@pytest.fixture(autouse=True)
def _isolated(kepler_home):
    """Every test runs in its own Kepler home and working directory (registry included)."""
    return kepler_home


@pytest.fixture
def sensors():
    """600 pump readings: sensors, a failure label, a drifting efficiency (a fresh copy)."""
    return _SENSORS.copy()


@pytest.fixture
def signal():
    """480 hourly readings of a temperature with a daily cycle, and a load that leads it."""
    return _SIGNAL.copy()


@pytest.fixture
def project(kepler_cli, tmp_path, monkeypatch):
    """A Kepler project as the working directory: its registry is .kepler/models."""
    assert kepler_cli("init", "plant", "--dir", str(tmp_path)).code == 0
    monkeypatch.chdir(tmp_path / "plant")
    return tmp_path / "plant"
