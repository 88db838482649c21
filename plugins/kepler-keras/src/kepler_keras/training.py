"""``kp.train.keras``: prepare the table, split, train, score against the naive baseline and
describe the model, with kepler-tabular's shared steps, so a Keras network ranks next to
scikit-learn and PyTorch models on the same held-out rows."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
from kepler.api import (
    FormatInfo,
    Model,
    ModelManifest,
    TargetInfo,
    TrainerInfo,
    TrainingInfo,
    check_model_name,
    json_safe,
)
from kepler_tabular import (
    Evaluation,
    Prepared,
    average,
    class_warnings,
    default_name,
    describe_data,
    folds,
    holdout,
    prepare,
    score_classification,
    score_regression,
)

from . import __version__
from .backend import import_keras
from .environment import environment
from .fitting import DEFAULT_LOSS, Fit, Settings, fit_once
from .networks import Network, resolve_network

log = logging.getLogger(__name__)
TASKS = ("classification", "regression")


def _score(prepared: Prepared, fitted: Fit, train: np.ndarray, test: np.ndarray) -> Evaluation:
    """The shared metrics of the held-out rows next to the naive baseline (the network
    predicts; kepler-tabular scores, so the numbers mean what they mean for every framework)."""
    X, y = prepared.X.iloc[test], prepared.y
    assert y is not None
    predictor = fitted.predictor
    if prepared.task == "classification":
        assert predictor.classes is not None
        return score_classification(y.iloc[test], predictor.predict(X), y.iloc[train],
                                    predictor.classes, proba=predictor.predict_proba(X))
    return score_regression(y.iloc[test], predictor.predict(X), y.iloc[train])


def _run(keras: Any, prepared: Prepared, network: Network, classes: list[Any] | None,
         settings: Settings, *, test_size: float, cv: int | None,
         random_state: int | None) -> tuple[Fit, Evaluation, int, int]:
    """Hold-out (or cross-validated) metrics, and the network kept."""
    y = prepared.y
    assert y is not None
    if cv is None:
        train, test = holdout(prepared, test_size=test_size, split=prepared.split,
                              random_state=random_state)
        fitted = fit_once(keras, prepared, network, train, classes, settings)
        if classes is not None:
            prepared.notes.extend(class_warnings(y.iloc[train], y.iloc[test]))
        return fitted, _score(prepared, fitted, train, test), len(train), len(test)
    results = []
    for train, test in folds(prepared, cv=cv, split=prepared.split, random_state=random_state):
        results.append(_score(prepared, fit_once(keras, prepared, network, train, classes,
                                                 settings), train, test))
    if classes is not None:
        prepared.notes.extend(class_warnings(y, folds=cv))
    everything = np.arange(len(prepared.frame))
    fitted = fit_once(keras, prepared, network, everything, classes, settings)
    return fitted, average(results), len(everything), 0


def _manifest(keras: Any, prepared: Prepared, network: Network, fitted: Fit,
              result: Evaluation, data: Any, *, target: str | None, name: str | None,
              training: TrainingInfo, params: dict[str, Any], started: float) -> ModelManifest:
    task = prepared.task
    return ModelManifest(
        name=name or default_name(target, network.label, task),
        description=f"Keras {network.label} ({task}) predicting {target!r}",
        task=task, algorithm=network.label,
        target=TargetInfo(name=target, dtype=str(prepared.y.dtype) if prepared.y is not None
                          else None, classes=fitted.predictor.classes),
        trainer=TrainerInfo(name="keras", plugin="keras", distribution="kepler-keras",
                            version=__version__, framework="keras",
                            framework_version=keras.__version__),
        features=prepared.schema, metrics=result.metrics, baseline=result.baseline,
        main_metric=result.main(task), evaluation=json_safe(result.details),
        params=json_safe(params), training=training,
        lineage=describe_data(data if isinstance(data, pd.DataFrame) else prepared.frame),
        environment=environment(keras.backend.backend()),
        format=FormatInfo(name="keras-v3"),
        extra={"total_seconds": round(time.perf_counter() - started, 4),
               "backend": keras.backend.backend(), "epochs_run": len(fitted.history["loss"]),
               "best_epoch": fitted.best_epoch, "stopped_early": fitted.stopped_early,
               "parameters": fitted.parameters},
    )


def _settings(epochs: Any, batch_size: Any, lr: Any, optimizer: Any, loss: Any,
              early_stopping: bool | int | None, validation_fraction: float,
              random_state: int | None, progress: bool) -> Settings:
    for label, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise _error(f"{label} must be a positive integer, not {value!r}.")
    if not 0 < validation_fraction < 1:
        raise _error(f"validation_fraction must be between 0 and 1, not {validation_fraction}.")
    patience = 5 if early_stopping is True else (int(early_stopping) if early_stopping else None)
    return Settings(epochs=epochs, batch_size=batch_size, lr=float(lr), optimizer=optimizer,
                    loss=loss, patience=patience, validation_fraction=validation_fraction,
                    random_state=random_state, verbose=2 if progress else 0)


def _error(message: str) -> Exception:
    from kepler.api import TrainingError

    return TrainingError(message, hint="See help(kp.train.keras).")


def _label(value: Any) -> Any:
    return value if value is None or isinstance(value, str | int | float) else getattr(
        value, "__name__", type(value).__name__)


def fit(data: Any, *, target: str | None = None, model: Any = None, epochs: int = 20,
        batch_size: int = 64, lr: float = 1e-3, optimizer: Any = "adam", loss: Any = None,
        early_stopping: bool | int | None = None, validation_fraction: float = 0.1,
        features: Any = None, task: str = "auto", test_size: float = 0.2, split: str = "auto",
        cv: int | None = None, random_state: int | None = 0, name: str | None = None,
        time_column: str | None = None, groups: str | None = None, progress: bool = False,
        config: Any = None, **params: Any) -> Model:
    """Train, evaluate and describe one network; :func:`kepler_keras.sdk.keras` documents
    every keyword."""
    started = time.perf_counter()
    if name is not None:
        check_model_name(name)
    keras = import_keras(config)
    settings = _settings(epochs, batch_size, lr, optimizer, loss, early_stopping,
                         validation_fraction, random_state, progress)
    network = resolve_network(model, params, keras)
    prepared = prepare(data, target=target, features=features, task=task, tasks=TASKS,
                       algorithm=f"keras {network.label}", split=split or "auto",
                       time_column=time_column, groups=groups)
    settings.split = prepared.split
    classes = (sorted(prepared.y.dropna().unique().tolist())
               if prepared.task == "classification" and prepared.y is not None else None)
    fitted, result, rows_train, rows_test = _run(keras, prepared, network, classes, settings,
                                                 test_size=test_size, cv=cv,
                                                 random_state=random_state)
    if fitted.stopped_early:
        prepared.notes.append(f"early stopping after epoch {len(fitted.history['loss'])}; the "
                              f"weights of epoch {fitted.best_epoch} are kept")
    for note in prepared.notes:
        log.info("keras %s: %s", network.label, note)
    training = TrainingInfo(
        seconds=round(fitted.seconds, 4), rows_train=rows_train, rows_test=rows_test,
        split=prepared.split, test_size=None if cv else test_size, cv=cv,
        random_state=random_state, time_column=prepared.time_column,
        groups=prepared.group_column, left_out=prepared.left_out,
        evaluated_on="cv" if cv else "holdout", notes=prepared.notes,
        history=json_safe(fitted.history))
    run_params = {"model": network.label, **network.params, "epochs": epochs,
                  "batch_size": batch_size, "lr": lr, "optimizer": _label(optimizer),
                  "loss": _label(loss) or DEFAULT_LOSS[prepared.task],
                  "early_stopping": settings.patience}
    return Model(_manifest(keras, prepared, network, fitted, result, data, target=target,
                           name=name, training=training, params=run_params, started=started),
                 fitted.predictor)
