"""kepler-torch stands on kepler-tabular, not on kepler-sklearn: a PyTorch model trains, saves,
loads and is served by kepler-serve where kepler-sklearn is not installed (``nox -s
"plugins(kepler-torch)"`` runs this in such a venv; kepler-serve comes from kepler-torch's
``test`` extra)."""

from __future__ import annotations

import importlib.util
import json

import kepler as kp
import pytest

FEATURES = ["temperature", "pressure", "vibration"]


@pytest.fixture
def served(project, sensors):
    pytest.importorskip("kepler_serve", reason="kepler-serve serves the model")
    model = kp.train.pytorch(sensors, target="failure", features=FEATURES, epochs=3,
                             random_state=0, save=True)
    yield model
    kp.deploy.delete("failure-mlp", target="local")


def test_a_torch_model_is_served_without_kepler_sklearn(served, sensors, kepler_cli):
    if importlib.util.find_spec("kepler_sklearn") is None:
        assert "sklearn" not in {p.name for p in kp.plugins.list()}
    loaded = kp.models.load(served.name)
    rows = sensors[FEATURES].head(3)
    expected = [int(v) for v in loaded.predict(rows)]
    created = kepler_cli("deploy", served.name, "--target", "local", "--name", "failure-mlp",
                         "--json")
    assert created.code == 0, created.err
    assert json.loads(created.out)["status"] == "running"
    answer = kp.deploy.predict("failure-mlp", rows)
    assert answer["predictions"] == expected
    assert answer["model"] == served.name and len(answer["probabilities"]) == 3
