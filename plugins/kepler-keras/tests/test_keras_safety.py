"""Only .keras, only safe_mode=True: what is refused and what the error says to do."""

from __future__ import annotations

import os

import kepler as kp
import keras
import pytest
from kepler.api import TrainingError, UnsafeModelError
from kepler_keras.backend import import_keras, wanted_backend
from kepler_keras.formats import load_keras
from keras_test_layers import FEATURES, Scale, Unregistered


def _net(layer):
    return keras.Sequential([keras.Input((4,)), layer, keras.layers.Dense(1)])


def test_a_registered_custom_layer_saves_and_loads(sensors):
    model = kp.train.keras(sensors, target="efficiency", features=FEATURES,
                           model=_net(Scale(3.0)), epochs=1, save=True)
    loaded = kp.models.load(model.name)
    assert isinstance(loaded.predictor.network.layers[0], Scale)
    assert loaded.predictor.network.layers[0].factor == 3.0


def test_an_unregistered_custom_layer_is_refused_when_saved(sensors):
    model = kp.train.keras(sensors, target="efficiency", features=FEATURES,
                           model=_net(Unregistered()), epochs=1)
    with pytest.raises(UnsafeModelError, match="cannot be saved") as caught:
        model.save()
    assert "register_keras_serializable" in caught.value.hint
    assert len(kp.models.list()) == 0


def test_a_lambda_layer_is_refused_before_training(sensors):
    with pytest.raises(TrainingError, match="Lambda") as caught:
        kp.train.keras(sensors, target="efficiency", features=FEATURES,
                       model=_net(keras.layers.Lambda(lambda x: x * 2)), epochs=1)
    assert "write a small custom layer" in caught.value.hint


@pytest.mark.parametrize("name", ["model.h5", "model.pkl", "weights.hdf5"])
def test_h5_and_pickles_are_refused(sensors, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"not read")
    with pytest.raises(UnsafeModelError, match="only from the .keras format") as caught:
        kp.train.keras(sensors, target="failure", model=str(path), epochs=1)
    assert "save('m.keras')" in caught.value.hint
    with pytest.raises(UnsafeModelError, match="safe_mode=True"):
        load_keras(tmp_path, {"file": name, "config_file": "config.json"})


def test_a_keras_file_gives_its_architecture(sensors, tmp_path):
    path = tmp_path / "arch.keras"
    _net(Scale(1.0)).save(path)
    model = kp.train.keras(sensors, target="efficiency", features=FEATURES, model=str(path),
                           epochs=1)
    assert model.algorithm == "arch" and len(model.predict(sensors.head(2))) == 2


def test_the_backend_comes_from_the_environment_then_the_config(monkeypatch):
    class Config:
        def section(self, name):
            assert name == "keras"
            return type("S", (), {"backend": "jax"})()

    assert wanted_backend(Config()) == "torch"  # KERAS_BACKEND wins
    monkeypatch.delenv("KERAS_BACKEND")
    assert wanted_backend(Config()) == "jax"
    with pytest.raises(TrainingError, match="already running on 'torch'") as caught:
        import_keras(Config())
    assert "restart Python" in caught.value.hint
    assert import_keras(Config(), strict=False) is keras  # loading takes Keras as it is
    assert os.environ.get("KERAS_BACKEND") is None


def test_the_config_section_validates_the_backend():
    from kepler_keras.config import KerasSettings
    from pydantic import ValidationError

    assert KerasSettings(backend="tensorflow").backend == "tensorflow"
    with pytest.raises(ValidationError):
        KerasSettings(backend="theano")
