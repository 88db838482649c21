import os

# The CI backend: torch (the pinned CPU build). Set before anything imports Keras.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest
from kepler_tabular import make_sensor_data

try:  # tiny networks on tiny data: one thread is faster than several, and CI has two cores
    import torch

    torch.set_num_threads(1)
except ImportError:
    pass

_SENSORS = make_sensor_data(rows=400, seed=0)


@pytest.fixture(autouse=True)
def _isolated(kepler_home, monkeypatch):
    """Every test runs in its own Kepler home (registry included), on the torch backend."""
    monkeypatch.setenv("KERAS_BACKEND", os.environ["KERAS_BACKEND"])
    return kepler_home


@pytest.fixture
def sensors():
    """400 pump readings: sensors, a failure label, a drifting efficiency (a fresh copy)."""
    return _SENSORS.copy()


@pytest.fixture
def project(kepler_cli, tmp_path, monkeypatch):
    assert kepler_cli("init", "plant", "--dir", str(tmp_path)).code == 0
    monkeypatch.chdir(tmp_path / "plant")
    return tmp_path / "plant"


def pytest_configure(config):
    # Keras's torch backend converts tensors with np.array(x), which numpy 2 warns about.
    config.addinivalue_line("filterwarnings",
                            "ignore:__array__ implementation doesn't accept a copy keyword")
