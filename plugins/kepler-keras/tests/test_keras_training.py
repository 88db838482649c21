"""kp.train.keras: the shared contract (splits, metrics vs the baseline, history, artifact)."""

from __future__ import annotations

import kepler as kp
import keras
import numpy as np
import pytest
from kepler.api import TrainingError
from keras_test_layers import FEATURES, small_net


def test_the_default_mlp_classifies_and_beats_the_baseline(sensors):
    model = kp.train.keras(sensors, target="failure", epochs=8, random_state=0)
    assert model.algorithm == "mlp" and model.task == "classification"
    assert model.manifest.training.split == "time"  # the data has a time column
    assert model.main_metric == "f1" and model.beats_baseline
    assert model.baseline["f1"] == 0.0 and model.manifest.training.rows_test == 80
    assert len(model.history["loss"]) == 8
    assert model.manifest.extra["backend"] == "torch"
    assert model.manifest.trainer.framework == "keras"
    assert {"keras", "torch"} <= set(model.manifest.environment.packages)
    proba = model.predict_proba(sensors.head(5))
    assert proba.shape == (5, 2) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert set(model.predict(sensors)) <= {0, 1}


def test_saved_as_keras_and_loaded_with_the_same_predictions(sensors):
    model = kp.train.keras(sensors, target="efficiency", features=FEATURES, epochs=4,
                           hidden_layers=[16], save=True)
    assert set(model.manifest.files) == {"model.keras", "config.json", "preprocess.skops"}
    assert model.manifest.format.name == "keras-v3"
    assert model.manifest.params["hidden_layers"] == [16]
    loaded = kp.models.load("efficiency-mlp")
    assert np.allclose(loaded.predict(sensors.head(20)), model.predict(sensors.head(20)),
                       atol=1e-4)
    again = kp.train.keras(sensors, target="efficiency", features=FEATURES, epochs=4,
                           hidden_layers=[16])
    assert np.allclose(again.predict(sensors.head(5)), model.predict(sensors.head(5)),
                       atol=1e-4)  # the same seed gives the same network


def test_early_stopping_keeps_the_validation_curve(sensors):
    model = kp.train.keras(sensors, target="efficiency", features=FEATURES, epochs=30,
                           early_stopping=1, lr=0.05, optimizer="sgd")
    history = model.history
    assert set(history) == {"loss", "val_loss"} and len(history["loss"]) < 30
    assert model.manifest.extra["stopped_early"]
    assert any("early stopping" in note for note in model.manifest.training.notes)


def test_a_user_model_and_a_builder(sensors):
    net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")],
                           name="logit")
    binary = kp.train.keras(sensors, target="failure", model=net, epochs=3, features=FEATURES)
    assert binary.algorithm == "logit" and binary.predict_proba(sensors.head(3)).shape == (3, 2)
    assert not net.compiled  # Kepler trained a clone; the user's own is untouched
    built = kp.train.keras(sensors, target="failure", model=small_net, epochs=3, cv=2,
                           features=FEATURES, split="random")
    assert built.algorithm == "small_net" and built.manifest.training.evaluated_on == "cv"
    assert built.manifest.evaluation["folds"] == 2


def test_wrong_networks_and_keywords_are_refused(sensors):
    wide = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    with pytest.raises(TrainingError, match="outputs 3 value"):
        kp.train.keras(sensors, target="efficiency", features=FEATURES, model=wide, epochs=1)
    narrow = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(TrainingError, match="reads 2 inputs per row; .* gives 4") as caught:
        kp.train.keras(sensors, target="efficiency", features=FEATURES, model=narrow, epochs=1)
    assert "keras.Input((4,))" in caught.value.hint
    with pytest.raises(TrainingError, match="Unknown keyword"):
        kp.train.keras(sensors, target="failure", hidden_units=3)
    with pytest.raises(TrainingError, match="not a keras.Model"):
        kp.train.keras(sensors, target="failure", model=lambda shape: "nope", epochs=1)
    with pytest.raises(TrainingError, match="epochs must be"):
        kp.train.keras(sensors, target="failure", epochs=0)


def test_a_trained_model_pickles_as_keras_bytes_for_other_processes(sensors):
    import pickle

    model = kp.train.keras(sensors, target="failure", features=FEATURES, epochs=2)
    copy = pickle.loads(pickle.dumps(model))
    assert np.allclose(copy.predict_proba(sensors.head(10)), model.predict_proba(
        sensors.head(10)), atol=1e-6)
