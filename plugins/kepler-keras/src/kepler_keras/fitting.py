"""One Keras training: preprocessing fitted on the training rows, targets encoded, the network
built fresh, compiled and fitted; the result is a :class:`KerasModel` and its history.

Targets: class indices (softmax over the classes, or one sigmoid unit for two classes when the
user's network has one output); numbers standardized with the training rows' mean and standard
deviation, as the PyTorch trainer does, so one learning rate suits any unit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from kepler.api import TrainingError
from kepler_tabular import Prepared, build_preprocessor

from .networks import Network
from .predictor import KerasModel

DEFAULT_LOSS = {"classification": "sparse_categorical_crossentropy", "binary":
                "binary_crossentropy", "regression": "mse"}


@dataclass
class Settings:
    """The training keywords of one ``kp.train.keras`` call."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: Any = "adam"
    loss: Any = None
    patience: int | None = None
    validation_fraction: float = 0.1
    random_state: int | None = 0
    verbose: int = 0
    split: str = "random"


@dataclass
class Fit:
    predictor: KerasModel
    history: dict[str, list[float | None]]
    seconds: float
    stopped_early: bool = False
    best_epoch: int | None = None
    parameters: int = 0
    notes: list[str] = field(default_factory=list)


def _targets(prepared: Prepared, rows: np.ndarray, classes: list[Any] | None,
             scaling: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Encoded targets of ``rows``, and the scaling (computed here unless given)."""
    assert prepared.y is not None
    y = prepared.y.iloc[rows]
    if classes is not None:
        return np.searchsorted(np.asarray(classes), y.to_numpy()).astype("int32"), {}
    values = y.to_numpy(dtype="float64")
    if scaling is None:
        scaling = {"target_mean": float(values.mean()),
                   "target_std": float(values.std()) or 1.0}
    scaled = (values - scaling["target_mean"]) / scaling["target_std"]
    return scaled.astype("float32"), scaling


def _optimizer(keras: Any, choice: Any, lr: float) -> Any:
    if not isinstance(choice, str):
        return choice
    try:
        return keras.optimizers.get({"class_name": choice, "config": {"learning_rate": lr}})
    except ValueError as exc:
        raise TrainingError(f"Unknown Keras optimizer {choice!r}.",
                            hint="adam, adamw, sgd, rmsprop, or a keras.optimizers "
                            "object.") from exc


def _build(keras: Any, network: Network, inputs: int, classes: list[Any] | None) -> Any:
    """The fresh network, its output width checked against the task."""
    outputs = len(classes) if classes is not None else 1
    net = network.build(keras, inputs, outputs)
    expected = net.input_shape[-1] if isinstance(net.input_shape, tuple) else None
    if expected is not None and int(expected) != inputs:
        raise TrainingError(f"The network reads {expected} inputs per row; Kepler's "
                            f"preprocessing of these features gives {inputs} (categories one-hot "
                            "encoded, indicators of missing values, date parts).",
                            hint="Pass a builder instead, model=lambda input_shape: ..., which "
                            f"gets the width; or start the network with keras.Input(({inputs},)).")
    width = int(net.output_shape[-1])
    if width != outputs and not (classes is not None and len(classes) == 2 and width == 1):
        what = f"{outputs} class probabilities (softmax)" if classes else "1 value"
        raise TrainingError(f"The network outputs {width} value(s) per row; this task needs "
                            f"{what}.", hint="Change the last layer's units (a builder may "
                            "take outputs=... to size it).")
    return net


def _validation(rows: np.ndarray, settings: Settings) -> tuple[np.ndarray, np.ndarray | None]:
    """Early stopping: hold back a fraction of the training rows (the newest, in time order)."""
    if not settings.patience:
        return rows, None
    count = max(1, round(len(rows) * settings.validation_fraction))
    if count >= len(rows):
        raise TrainingError("Too few training rows to hold some back for early stopping.",
                            hint="Use more data or early_stopping=None.")
    if settings.split != "time":
        rows = np.random.default_rng(settings.random_state).permutation(rows)
    return rows[:-count], rows[-count:]


def fit_once(keras: Any, prepared: Prepared, network: Network, rows: np.ndarray,
             classes: list[Any] | None, settings: Settings) -> Fit:
    """Train one fresh network on ``rows`` (positions in ``prepared``)."""
    started = time.perf_counter()
    keras.utils.set_random_seed(settings.random_state or 0)
    fit_rows, check_rows = _validation(rows, settings)
    preprocess = build_preprocessor(prepared.schema, scale=True)
    matrix = np.asarray(preprocess.fit_transform(prepared.X.iloc[fit_rows]), dtype="float32")
    y, scaling = _targets(prepared, fit_rows, classes)
    net = _build(keras, network, matrix.shape[1], classes)
    binary = classes is not None and int(net.output_shape[-1]) == 1
    task = "binary" if binary else prepared.task
    net.compile(optimizer=_optimizer(keras, settings.optimizer, settings.lr),
                loss=settings.loss or DEFAULT_LOSS[task])
    callbacks, validation = [], None
    if check_rows is not None:
        validation = (np.asarray(preprocess.transform(prepared.X.iloc[check_rows]),
                                 dtype="float32"),
                      _targets(prepared, check_rows, classes, scaling)[0])
        callbacks.append(keras.callbacks.EarlyStopping(patience=settings.patience,
                                                       restore_best_weights=True))
    history = net.fit(matrix, y, epochs=settings.epochs, batch_size=settings.batch_size,
                      validation_data=validation, callbacks=callbacks, shuffle=True,
                      verbose=settings.verbose).history
    curves: dict[str, list[float | None]] = {
        str(key): [float(v) for v in values] for key, values in history.items()}
    epochs_run = len(curves.get("loss", []))
    best = int(np.argmin(history["val_loss"])) + 1 if "val_loss" in history else None
    meta = {"task": prepared.task, "classes": classes, "network": network.label,
            "features": list(prepared.features), **scaling}
    return Fit(KerasModel(preprocess, net, meta), curves, time.perf_counter() - started,
               stopped_early=epochs_run < settings.epochs, best_epoch=best,
               parameters=int(net.count_params()))
