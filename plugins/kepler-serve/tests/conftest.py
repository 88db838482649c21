"""Shared fixtures: models trained once per session (saved as artifact folders), an isolated
Kepler home per test, a project folder, an in-process client of a model's app."""

from __future__ import annotations

import os

import pytest
from kepler_tabular import make_sensor_data

SENSORS = make_sensor_data(rows=600, seed=0)
TIMED_FEATURES = ["_time", "pump", "temperature", "pressure", "vibration", "flow", "rpm", "mode",
                  "efficiency"]


@pytest.fixture(autouse=True)
def _isolated(kepler_home, monkeypatch):
    """A fresh Kepler home; and the model format's own scorers only. kepler-serve's tests check
    its own paths, whose answers equal the model's bit for bit: the compilers other
    distributions install (kepler-edge's onnxruntime, present when every distribution is
    installed together) are switched off here, as a user would with KEPLER_DISABLE_PLUGINS.
    tests/test_serve_onnx.py serves through them; test_serve_compilers.py registers its own."""
    from kepler.api import CompilerSpec, records, reset_plugins

    providers = sorted({record.plugin for record in records(CompilerSpec)})
    if providers:
        monkeypatch.setenv("KEPLER_DISABLE_PLUGINS", ",".join(providers))
        reset_plugins()
    return kepler_home


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory):
    """Artifact folders of a few small models (trained once): classifier, regressor, and a
    classifier with a datetime feature (timed)."""
    import kepler as kp
    from kepler.api import reset_plugins as reset

    home = tmp_path_factory.mktemp("train-home")
    saved = dict(os.environ)
    os.environ["KEPLER_CONFIG_DIR"] = str(home)
    reset()
    try:
        root = tmp_path_factory.mktemp("artifacts")
        found = {}
        classifier = kp.train.random_forest(SENSORS, target="failure", n_estimators=15,
                                            name="pump-failure")
        found["classifier"] = classifier.save(root / "classifier").path
        regressor = kp.train.random_forest(SENSORS.drop(columns=["failure"]),
                                           target="efficiency", n_estimators=10,
                                           name="pump-efficiency")
        found["regressor"] = regressor.save(root / "regressor").path
        # _time is a Splunk default field, left out of features unless named: this model
        # names it, so it really has a datetime feature
        timed = kp.train.random_forest(SENSORS, target="failure", n_estimators=10,
                                       features=TIMED_FEATURES, name="pump-failure-timed")
        found["timed"] = timed.save(root / "timed").path
        return found
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset()


@pytest.fixture
def classifier(artifacts):
    import kepler as kp

    return kp.models.load(artifacts["classifier"])


@pytest.fixture
def timed_classifier(artifacts):
    """A classifier whose features include ``_time`` (a datetime feature)."""
    import kepler as kp

    return kp.models.load(artifacts["timed"])


@pytest.fixture
def regressor(artifacts):
    import kepler as kp

    return kp.models.load(artifacts["regressor"])


@pytest.fixture
def project(kepler_cli, tmp_path, monkeypatch):
    """A Kepler project as the working directory."""
    assert kepler_cli("init", "plant", "--dir", str(tmp_path)).code == 0
    monkeypatch.chdir(tmp_path / "plant")
    return tmp_path / "plant"



@pytest.fixture
def sensors():
    """600 pump readings (a fresh copy): sensors, a failure label, a drifting efficiency."""
    return SENSORS.copy()
