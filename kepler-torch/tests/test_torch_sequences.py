"""Sequence models: windows of sensor readings, forecasts against "repeat the last value"."""

from __future__ import annotations

import kepler as kp
import numpy as np
import pandas as pd
import pytest
from kepler.api import ModelInputError, TrainingError
from torch_test_modules import WindowNet

LSTM = {"model": "lstm", "window": 24, "epochs": 8, "hidden_size": 24, "progress": False}


def test_the_lstm_forecasts_a_periodic_signal_better_than_the_last_value(signal):
    model = kp.train.pytorch(signal, target="temperature", **LSTM)
    assert (model.task, model.algorithm, model.main_metric) == ("forecasting", "lstm", "rmse")
    assert model.metrics["rmse"] < 0.75 * model.baseline["rmse"]
    assert model.beats_baseline is True
    training = model.manifest.training
    assert training.split == "time" and training.time_column == "_time"
    assert training.rows_train + training.rows_test == len(signal) - 24  # windows, not rows
    evaluation = model.manifest.evaluation
    assert (evaluation["window"], evaluation["horizon"]) == (24, 1)
    assert evaluation["train_period"]["to"] < evaluation["test_period"]["from"]
    assert evaluation["test_period"]["to"] == signal["_time"].max().isoformat()
    assert model.manifest.params["window"] == 24 and model.manifest.params["horizon"] == 1
    # the signal's own past is an input of a forecast
    assert model.features == ["_time", "load", "temperature"]


def test_a_forecast_is_made_for_every_row_with_a_full_window(signal):
    model = kp.train.pytorch(signal, target="temperature", **LSTM)
    recent = signal.tail(30)
    forecast = model.predict(recent)
    assert forecast.shape == (30,)
    assert np.isnan(forecast[:23]).all() and np.isfinite(forecast[23:]).all()
    # shuffled rows are put in time order, and the forecasts back in the order given
    shuffled = recent.sample(frac=1.0, random_state=1)
    again = pd.Series(model.predict(shuffled), index=shuffled.index).loc[recent.index]
    assert np.allclose(again.to_numpy(), forecast, equal_nan=True)
    assert np.allclose(model.predict(recent.drop(columns=["load"]).assign(load=recent["load"])),
                       forecast, equal_nan=True)
    with pytest.raises(ModelInputError, match="windows of 24 rows; got 10"):
        model.predict(signal.tail(10))
    with pytest.raises(ModelInputError, match="'temperature'"):
        model.predict(signal.tail(30).drop(columns=["temperature"]))


def test_the_cnn_forecasts_further_ahead(signal):
    model = kp.train.pytorch(signal, target="temperature", model="cnn1d", window=24, horizon=6,
                             epochs=15, progress=False)
    assert model.algorithm == "cnn1d" and model.manifest.params["horizon"] == 6
    assert model.metrics["rmse"] < 0.6 * model.baseline["rmse"]
    assert model.manifest.evaluation["baseline"] == "the last value, 6 row(s) before"


def test_windows_can_classify_too(sensors):
    model = kp.train.pytorch(sensors, target="failure", model="cnn1d", window=4, epochs=3,
                             features=["_time", "vibration", "temperature", "pressure"],
                             progress=False)
    assert model.task == "classification" and model.manifest.params["horizon"] == 0
    assert "failure" not in model.features  # labels are not inputs
    labels = model.predict(sensors.head(10))
    assert labels[:3].tolist() == [None, None, None] and set(labels[3:]) <= {0, 1}
    proba = model.predict_proba(sensors.head(10))
    assert np.isnan(proba[:3]).all() and np.allclose(proba[3:].sum(axis=1), 1.0)
    regression = kp.train.pytorch(sensors, target="efficiency", model="lstm", task="regression",
                                  window=4, epochs=1, hidden_size=4, progress=False)
    assert regression.task == "regression" and "efficiency" not in regression.features


def test_a_users_module_reads_windows_when_given_one(signal):
    model = kp.train.pytorch(signal, target="temperature", model=WindowNet, window=12,
                             epochs=10, progress=False)
    assert model.task == "forecasting" and model.manifest.format.name == "torchscript"
    assert model.metrics["rmse"] < model.baseline["rmse"]


def test_sequence_errors_say_what_to_change(signal):
    with pytest.raises(TrainingError, match="too few to train and test on"):
        kp.train.pytorch(signal.head(27), target="temperature", model="lstm", window=24)
    with pytest.raises(TrainingError, match="horizon must be a whole number of at least 1"):
        kp.train.pytorch(signal, target="temperature", model="lstm", horizon=0)
    with pytest.raises(TrainingError, match="window must be a whole number"):
        kp.train.pytorch(signal, target="temperature", model="lstm", window=2.5)
    with pytest.raises(TrainingError, match="Unknown parameter.*lstm: hidden_layers"):
        kp.train.pytorch(signal, target="temperature", model="lstm", hidden_layers=[8])
    with pytest.raises(TrainingError, match="kernel_size must be an odd"):
        kp.train.pytorch(signal, target="temperature", model="cnn1d", kernel_size=4)


def test_rows_without_a_time_column_are_taken_in_order(signal):
    plain = signal.drop(columns=["_time"])
    model = kp.train.pytorch(plain, target="temperature", model="cnn1d", window=12, epochs=2,
                             progress=False)
    assert any("taken in the order given" in n for n in model.manifest.training.notes)
    assert model.manifest.training.time_column is None
