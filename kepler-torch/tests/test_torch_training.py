"""kp.train.pytorch on tables: the MLP against its baselines, keywords, determinism, the loss
curve, the progress bar, devices and users' own modules."""

from __future__ import annotations

import io
import logging

import kepler as kp
import numpy as np
import pytest
import torch
from kepler.api import ModelError, TrainingError
from kepler_torch.devices import resolve_device
from kepler_torch.sdk import pytorch
from torch_test_modules import Subscriber, TinyNet, TraceOnlyNet

FAST = {"epochs": 12, "progress": False}


def test_the_mlp_beats_the_majority_class_on_failures(sensors):
    model = kp.train.pytorch(sensors, target="failure", **FAST)
    assert (model.task, model.algorithm, model.name) == ("classification", "mlp", "failure-mlp")
    assert model.classes == [0, 1] and model.main_metric == "f1"
    assert model.metrics["f1"] > 0.6 > model.baseline["f1"]
    assert model.beats_baseline is True
    assert model.manifest.training.rows_test == 120
    proba = model.predict_proba(sensors.head(5))
    assert proba.shape == (5, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(sensors)) <= {0, 1}
    assert model.manifest.evaluation["confusion_matrix"]["labels"] == [0, 1]


def test_the_mlp_beats_the_training_mean_on_efficiency(sensors):
    model = kp.train.pytorch(sensors, target="efficiency", split="time", **FAST)
    assert model.task == "regression" and model.main_metric == "rmse"
    assert model.metrics["rmse"] < 0.6 * model.baseline["rmse"]
    assert model.manifest.training.split == "time"
    assert model.manifest.evaluation["test_period"]["to"] == sensors["_time"].max().isoformat()
    predicted = model.predict(sensors.head(50))
    assert abs(float(np.mean(predicted)) - sensors["efficiency"].head(50).mean()) < 3


def test_the_same_rows_are_held_out_as_for_scikit_learn(sensors):
    pytest.importorskip("kepler_sklearn")
    torch_model = kp.train.pytorch(sensors, target="failure", epochs=1, progress=False)
    forest = kp.train.random_forest(sensors, target="failure", n_estimators=5)
    assert torch_model.baseline == forest.baseline  # same held-out rows, same majority class
    assert torch_model.manifest.evaluation["support"] == forest.manifest.evaluation["support"]


def test_the_same_random_state_gives_the_same_model(sensors):
    kwargs = {"target": "efficiency", "epochs": 3, "progress": False, "dropout": 0.1}
    first = kp.train.pytorch(sensors, random_state=7, **kwargs)
    again = kp.train.pytorch(sensors, random_state=7, **kwargs)
    other = kp.train.pytorch(sensors, random_state=8, **kwargs)
    assert np.array_equal(first.predict(sensors), again.predict(sensors))
    assert first.history == again.history and first.metrics == again.metrics
    assert not np.array_equal(first.predict(sensors), other.predict(sensors))
    state = torch.random.get_rng_state()
    kp.train.pytorch(sensors, random_state=9, **kwargs)
    assert torch.equal(state, torch.random.get_rng_state())  # the caller's RNG is untouched


def test_the_manifest_keeps_parameters_curve_and_versions(sensors):
    model = kp.train.pytorch(sensors, target="failure", epochs=4, batch_size=32, lr=3e-3,
                             optimizer="adam", hidden_layers=[16, 8], progress=False)
    params = model.manifest.params
    assert params["model"] == "mlp" and params["hidden_layers"] == [16, 8]
    assert (params["epochs"], params["batch_size"], params["lr"], params["optimizer"]) == (
        4, 32, 3e-3, "adam")
    assert params["loss"] == "cross_entropy" and params["device"] == "auto"
    history = model.manifest.training.history
    assert list(history) == ["loss"] and len(history["loss"]) == 4
    assert history["loss"][-1] < history["loss"][0]
    assert model.history == history
    trainer = model.manifest.trainer
    assert (trainer.name, trainer.framework, trainer.distribution) == (
        "pytorch", "pytorch", "kepler-torch")
    assert trainer.framework_version == torch.__version__.split("+")[0]
    packages = model.manifest.environment.packages
    for name in ("torch", "safetensors", "kepler-torch", "kepler-tabular", "scikit-learn"):
        assert packages[name]
    extra = model.manifest.extra
    assert extra["device"] == "cpu" and extra["epochs_run"] == 4
    assert extra["parameters"] == sum(p.numel() for p in model.predictor.module.parameters())


def test_early_stopping_keeps_the_best_epoch(sensors):
    model = kp.train.pytorch(sensors, target="efficiency", epochs=60, lr=0.05,
                             early_stopping=2, progress=False)
    history, extra = model.history, model.manifest.extra
    assert len(history["val_loss"]) == len(history["loss"]) == extra["epochs_run"]
    assert extra["stopped_early"] and extra["epochs_run"] < 60
    best = extra["best_epoch"]
    assert history["val_loss"][best - 1] == min(history["val_loss"])
    assert extra["epochs_run"] == best + 2
    assert any("early stopping" in note for note in model.manifest.training.notes)
    assert model.manifest.params["validation_fraction"] == 0.1


def test_plot_history_draws_the_loss_curves(sensors, tmp_path):
    model = kp.train.pytorch(sensors, target="efficiency", epochs=5, early_stopping=3,
                             progress=False)
    figure = model.plot_history()
    [ax] = figure.axes
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["loss", "val_loss"] and labels[2].startswith("best epoch")
    assert list(ax.get_lines()[0].get_ydata()) == model.history["loss"]
    figure.savefig(tmp_path / "loss.png")
    assert (tmp_path / "loss.png").stat().st_size > 1000
    only = model.plot_history(["loss"])
    assert [line.get_label() for line in only.axes[0].get_lines()] == ["loss"]
    with pytest.raises(ModelError, match="no training curve named 'accuracy'"):
        model.plot_history(["accuracy"])


def test_a_progress_bar_advances_once_per_epoch(sensors, monkeypatch):
    stream = io.StringIO()
    import tqdm.auto

    real = tqdm.auto.tqdm
    monkeypatch.setattr(tqdm.auto, "tqdm", lambda *a, **k: real(*a, **{**k, "file": stream}))
    kp.train.pytorch(sensors, target="failure", epochs=3)
    text = stream.getvalue()
    assert "kp.train.pytorch mlp (cpu)" in text and "3/3" in text and "loss=" in text
    stream.truncate(0)
    kp.train.pytorch(sensors, target="failure", epochs=2, progress=False)
    assert stream.getvalue().strip("\x00") == ""


def test_after_train_fires_once_with_the_saved_model(sensors, project, kepler_plugin):
    subscriber = kepler_plugin(Subscriber(), name="subscriber")
    model = kp.train.pytorch(sensors, target="failure", epochs=1, progress=False, save=True)
    [event] = subscriber.events
    assert event.trainer == "pytorch" and event.model is model
    assert (event.version, event.artifact_path) == (1, str(model.path))
    assert event.metrics["f1"] == model.metrics["f1"]
    pytorch(sensors, target="failure", epochs=1, progress=False)  # the documented function
    assert len(subscriber.events) == 2 and subscriber.events[1].version is None


def test_keywords_are_checked_before_training(sensors):
    with pytest.raises(TrainingError, match="Did you mean 'hidden_layers'") as info:
        kp.train.pytorch(sensors, target="failure", hidden_layer=[8])
    assert "Unknown parameter(s) for mlp: hidden_layer" in info.value.message
    assert "dropout" in info.value.hint and "epochs" in info.value.hint
    with pytest.raises(TrainingError, match="Unknown model 'lstn'. Did you mean 'lstm'"):
        kp.train.pytorch(sensors, target="failure", model="lstn")
    with pytest.raises(TrainingError, match="Unknown optimizer 'adamm'"):
        kp.train.pytorch(sensors, target="failure", optimizer="adamm", epochs=1)
    with pytest.raises(TrainingError, match="loss='mse' does not fit classification"):
        kp.train.pytorch(sensors, target="failure", loss="mse")
    with pytest.raises(TrainingError, match="epochs must be a whole number"):
        kp.train.pytorch(sensors, target="failure", epochs=0)
    with pytest.raises(TrainingError, match="Forecasting reads windows"):
        kp.train.pytorch(sensors, target="efficiency", task="forecasting")
    with pytest.raises(TrainingError, match="mlp does not do anomaly"):
        kp.train.pytorch(sensors, target="failure", task="anomaly")
    with pytest.raises(TrainingError, match="'failures' is not a column"):
        kp.train.pytorch(sensors, target="failures")
    with pytest.raises(TrainingError, match="hidden_layers must be positive whole numbers"):
        kp.train.pytorch(sensors, target="failure", hidden_layers=[0])
    with pytest.raises(TrainingError, match="Invalid parameters for mlp: dropout"):
        kp.train.pytorch(sensors, target="failure", dropout=2.0)


def test_other_optimizers_and_losses(sensors):
    sgd = kp.train.pytorch(sensors, target="efficiency", epochs=2, optimizer=torch.optim.SGD,
                           loss="huber", progress=False)
    assert sgd.manifest.params["optimizer"] == "torch.optim.sgd.SGD"
    assert sgd.manifest.params["loss"] == "huber"
    mae = kp.train.pytorch(sensors, target="efficiency", epochs=2, optimizer="rmsprop",
                           loss=torch.nn.L1Loss(), weight_decay=0.0, progress=False)
    assert mae.manifest.params["loss"] == "torch.nn.modules.loss.L1Loss"


def test_device_auto_is_cuda_when_present(monkeypatch):
    assert resolve_device("auto") == torch.device("cuda" if torch.cuda.is_available()
                                                  else "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(TrainingError, match="sees no CUDA GPU") as info:
        resolve_device("cuda")
    assert "device='auto'" in info.value.hint
    with pytest.raises(TrainingError, match="Unknown device 'gpu0'"):
        resolve_device("gpu0")


def test_a_users_module_class_is_built_with_the_sizes(sensors):
    model = kp.train.pytorch(sensors, target="failure", model=TinyNet, width=8, split="random",
                             lr=1e-2, **FAST)
    assert model.algorithm == "TinyNet" and model.name == "failure-tinynet"
    assert model.manifest.params["module"] == "torch_test_modules.TinyNet"
    assert model.manifest.params["width"] == 8
    assert model.manifest.format.name == "torchscript"
    assert model.manifest.extra["export"] == "script"
    assert model.metrics["f1"] > model.baseline["f1"]
    assert isinstance(model.predictor.module, torch.jit.ScriptModule)
    with pytest.raises(TrainingError, match="Unknown parameter.*TinyNet: depth") as info:
        kp.train.pytorch(sensors, target="failure", model=TinyNet, depth=3)
    assert "Its parameters: width" in info.value.hint
    by_path = kp.train.pytorch(sensors, target="failure", model="torch_test_modules:TinyNet",
                               epochs=1, progress=False)
    assert by_path.algorithm == "TinyNet"


def test_a_users_module_instance_is_trained_from_a_copy(sensors):
    features = ["temperature", "vibration", "pressure"]
    net = TinyNet(3, 2, width=4)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    model = kp.train.pytorch(sensors, target="failure", model=net, features=features, **FAST)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert model.manifest.params["module"] == "torch_test_modules.TinyNet"
    with pytest.raises(TrainingError, match="An instance takes no parameters"):
        kp.train.pytorch(sensors, target="failure", model=net, width=8)
    with pytest.raises(TrainingError, match=r"outputs shape \(\d+, 2\); regression"):
        kp.train.pytorch(sensors, target="efficiency", model=net, features=features, epochs=1,
                         progress=False)


def test_a_module_that_cannot_be_scripted_is_traced(sensors, caplog):
    caplog.set_level(logging.INFO)
    model = kp.train.pytorch(sensors, target="failure", model=TraceOnlyNet, epochs=2,
                             progress=False)
    assert model.manifest.extra["export"] == "trace"
    assert any("saved by tracing" in note for note in model.manifest.training.notes)


def test_cross_validation_averages_the_folds_and_fits_on_every_row(sensors, signal):
    model = kp.train.pytorch(sensors, target="failure", cv=3, epochs=3, progress=False)
    training = model.manifest.training
    assert (training.evaluated_on, training.cv, training.rows_train) == ("cv", 3, 600)
    per_fold = model.manifest.evaluation["per_fold"]["f1"]
    assert len(per_fold) == 3 and model.metrics["f1"] == pytest.approx(np.mean(per_fold))
    forecast = kp.train.pytorch(signal, target="temperature", model="cnn1d", window=12,
                                cv=2, epochs=2, progress=False)
    assert len(forecast.manifest.evaluation["per_fold"]["rmse"]) == 2
    assert forecast.manifest.training.rows_train == len(signal) - 12


def test_the_default_split_is_auto_and_splunk_fields_are_no_inputs(sensors):
    model = kp.train.pytorch(sensors.assign(host="plc-01"), target="failure", epochs=2,
                             progress=False)
    training = model.manifest.training
    assert (training.split, training.time_column) == ("time", "_time")
    assert training.left_out == {"_time": "Splunk field", "host": "Splunk field"}
    assert "host" not in model.features and "_time" not in model.features
