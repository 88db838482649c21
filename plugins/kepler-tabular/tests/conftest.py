import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest
from kepler_tabular import make_sensor_data

_SENSORS = make_sensor_data(rows=400, seed=0)


@pytest.fixture(autouse=True)
def _isolated(kepler_home):
    """Every test runs in its own Kepler home and working directory (registry included)."""
    return kepler_home


@pytest.fixture
def sensors():
    """400 pump readings: four pumps, sensors, a failure label, an efficiency (a fresh copy)."""
    return _SENSORS.copy()


@pytest.fixture
def project(kepler_cli, tmp_path, monkeypatch):
    """A Kepler project as the working directory: its registry is .kepler/models."""
    assert kepler_cli("init", "plant", "--dir", str(tmp_path)).code == 0
    monkeypatch.chdir(tmp_path / "plant")
    return tmp_path / "plant"
