"""Train, evaluate and describe one PyTorch network: the engine behind ``kp.train.pytorch``.

The data goes through exactly what the scikit-learn trainers use (kepler-tabular's checks, task
inference, ``split="time"``, the same held-out rows for the same ``random_state``, the same
preprocessing and metrics against the same naive baselines), so a PyTorch model and a random
forest trained on one table rank fairly in one leaderboard. What is PyTorch's own: the network,
the training loop (mini-batches, optimizer, loss, early stopping, a progress bar per epoch, the
loss curve), the device and the payload formats.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import inspect
import logging
import math
import random
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from kepler.api import (
    FeatureSchema,
    FormatInfo,
    Model,
    ModelManifest,
    TargetInfo,
    TrainerInfo,
    TrainingError,
    TrainingInfo,
    json_safe,
)
from kepler.api import check_model_name as check_name
from kepler_tabular import (
    Evaluation,
    Prepared,
    average,
    build_preprocessor,
    class_warnings,
    default_name,
    describe_data,
    find_time_column,
    folds,
    holdout,
    infer_schema,
    prepare,
    quantiles,
    regression_scores,
    score_classification,
    score_regression,
)
from torch import nn

from . import __version__
from .architectures import ARCHITECTURES, BUILTIN_CLASSES, Architecture
from .devices import resolve_device
from .environment import environment
from .formats import jit_quietly
from .predictor import TorchModel, json_classes

log = logging.getLogger(__name__)

#: Keywords of ``kp.train.pytorch`` itself; anything else is a parameter of the network.
KEPLER_KEYWORDS = ("target", "model", "epochs", "batch_size", "lr", "optimizer", "loss",
                   "early_stopping", "device", "window", "horizon", "features", "task",
                   "test_size", "split", "cv", "random_state", "name", "time_column",
                   "progress", "validation_fraction", "weight_decay", "save")
#: Sizes Kepler passes to a user's module class when its ``__init__`` takes them.
SIZE_ARGUMENTS = ("in_features", "out_features", "window")

OPTIMIZERS: dict[str, tuple[Callable[..., torch.optim.Optimizer], dict[str, Any]]] = {
    "adamw": (torch.optim.AdamW, {}),
    "adam": (torch.optim.Adam, {}),
    "sgd": (torch.optim.SGD, {"momentum": 0.9}),
    "rmsprop": (torch.optim.RMSprop, {}),
}
LOSSES: dict[str, Callable[[], nn.Module]] = {
    "cross_entropy": nn.CrossEntropyLoss,
    "mse": nn.MSELoss,
    "mae": nn.L1Loss,
    "l1": nn.L1Loss,
    "huber": nn.HuberLoss,
    "smooth_l1": nn.SmoothL1Loss,
}
DEFAULT_LOSS = {"classification": "cross_entropy", "regression": "mse", "forecasting": "mse"}
#: Sequence models: the window when none is given (a day of hourly readings).
DEFAULT_WINDOW = 24
#: ``early_stopping=True``: epochs without a better validation loss before stopping.
DEFAULT_PATIENCE = 5


# --- what network -----------------------------------------------------------------------------


@dataclass
class Network:
    """The network to train: a built-in architecture, a user's class, or a user's instance."""

    label: str
    architecture: Architecture | None = None
    cls: type[nn.Module] | None = None
    instance: nn.Module | None = None
    params: dict[str, Any] = field(default_factory=dict)
    sequence: bool = False

    @property
    def builtin(self) -> bool:
        return self.architecture is not None

    def valid_params(self) -> list[str]:
        if self.architecture is not None:
            return list(self.architecture.defaults)
        if self.cls is not None:
            return [p for p in _init_parameters(self.cls) if p not in SIZE_ARGUMENTS]
        return []

    def build(self, in_features: int, out_features: int, window: int | None) -> nn.Module:
        if self.architecture is not None:
            return self.architecture.build(in_features, out_features, window, self.params)
        if self.cls is not None:
            accepted = _init_parameters(self.cls)
            sizes = {"in_features": in_features, "out_features": out_features, "window": window}
            given = {k: v for k, v in sizes.items() if k in accepted and v is not None}
            try:
                return self.cls(**given, **self.params)
            except TypeError as exc:
                raise TrainingError(
                    f"Cannot build {self.label}: {exc}",
                    hint="Kepler calls your class with the keywords in_features, out_features "
                    "(and window) when its __init__ takes them, plus the extra keywords you pass "
                    "to kp.train.pytorch; give defaults to the rest, or pass an instance.",
                ) from exc
        assert self.instance is not None
        return copy.deepcopy(self.instance)

    def config(self) -> dict[str, Any]:
        """The network's effective parameters, for the manifest."""
        if self.architecture is not None:
            return self.architecture.config(self.params)
        found: dict[str, Any] = {"module": _qualname(self.cls or type(self.instance))}
        if self.cls is not None:
            found.update(self.params)
        return found


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _init_parameters(cls: type) -> list[str]:
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return []
    names = [p.name for p in signature.parameters.values() if p.name != "self"
             and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        names.append("**kwargs")
    return names


def _import_module_class(path: str) -> Any:
    import importlib

    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise TrainingError(f"{path!r} is not an import path of a module class.",
                            hint="Write 'package.module:ClassName'.")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise TrainingError(f"Cannot import {path!r}: {exc}",
                            hint="Install the package that defines it, or fix the path.") \
            from exc


def resolve_network(model: Any, params: Mapping[str, Any], window: int | None) -> Network:
    """Which network ``model=`` names, with its parameters checked."""
    if isinstance(model, str):
        if model in ARCHITECTURES:
            network = Network(label=model, architecture=ARCHITECTURES[model])
        elif ":" in model or "." in model:
            return resolve_network(_import_module_class(model), params, window)
        else:
            close = difflib.get_close_matches(model, list(ARCHITECTURES), n=1)
            raise TrainingError(
                f"Unknown model {model!r}." + (f" Did you mean {close[0]!r}?" if close else ""),
                hint=f"Built-in architectures: {', '.join(ARCHITECTURES)}; or pass your own "
                "torch.nn.Module class or instance (in the CLI: --model package.module:Class).")
    elif isinstance(model, type) and issubclass(model, nn.Module):
        if model in BUILTIN_CLASSES:
            network = Network(label=BUILTIN_CLASSES[model],
                              architecture=ARCHITECTURES[BUILTIN_CLASSES[model]])
        else:
            network = Network(label=model.__name__, cls=model)
    elif isinstance(model, nn.Module):
        network = Network(label=type(model).__name__, instance=model)
    else:
        raise TrainingError(
            f"model={model!r} is neither an architecture name nor a torch.nn.Module.",
            hint=f"Use one of {', '.join(ARCHITECTURES)}, or your own nn.Module class or "
            "instance.")
    valid = network.valid_params()
    unknown = [p for p in params if p not in valid] if "**kwargs" not in valid else []
    if unknown:
        close = difflib.get_close_matches(unknown[0], [*valid, *KEPLER_KEYWORDS], n=1)
        raise TrainingError(
            f"Unknown parameter(s) for {network.label}: {', '.join(unknown)}."
            + (f" Did you mean {close[0]!r}?" if close else ""),
            hint=(f"Its parameters: {', '.join(valid)}. " if valid else
                  "An instance takes no parameters: set them when you build it. ")
            + f"Kepler's own keywords: {', '.join(KEPLER_KEYWORDS)}.",
        )
    network.params = dict(params)
    network.sequence = network.architecture.sequence if network.architecture is not None \
        else window is not None
    return network


# --- the data as samples ----------------------------------------------------------------------


@dataclass
class Samples:
    """The prepared table and the samples the network learns from.

    A tabular sample is a row; a sequence sample is the window of ``window`` rows ending at row
    ``ends[i]``, whose target is the value ``horizon`` rows later.
    """

    prepared: Prepared
    task: str
    X: pd.DataFrame
    schema: FeatureSchema
    ends: np.ndarray
    y: pd.Series
    window: int | None
    horizon: int
    notes: list[str]

    @property
    def count(self) -> int:
        return len(self.ends)

    def rows_of(self, samples: np.ndarray) -> np.ndarray:
        """Every row the samples' inputs read (to fit the preprocessing on)."""
        if not self.window:
            return np.sort(self.ends[samples])
        covered = np.zeros(len(self.X) + 1, dtype=np.int64)
        np.add.at(covered, self.ends[samples] - self.window + 1, 1)
        np.add.at(covered, self.ends[samples] + 1, -1)
        return np.flatnonzero(np.cumsum(covered)[:-1] > 0)

    def split_view(self) -> Prepared:
        """The samples as a one-column table, so kepler-tabular's holdout and folds split them
        exactly as they split rows (and, for a table, into the very same rows)."""
        if not self.window:
            return self.prepared
        frame = pd.DataFrame({"sample": np.arange(self.count)})
        return Prepared(frame=frame, X=frame, y=self.y.reset_index(drop=True),
                        task="classification" if self.task == "classification" else "regression",
                        features=[], schema=FeatureSchema(), time_column="sample")


_EXAMPLES = {"window": 24, "horizon": 1, "epochs": 20, "batch_size": 64, "early_stopping": 5}


def _positive_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise TrainingError(f"{name} must be a whole number of at least {minimum}, not "
                            f"{value!r}.", hint=f"e.g. {name}={_EXAMPLES.get(name, minimum)}.")
    return int(value)


def make_samples(data: Any, *, target: str | None, features: Sequence[str] | None, task: str,
                 split: str, time_column: str | None, network: Network, window: int | None,
                 horizon: int | None) -> Samples:
    sequence = network.sequence
    tasks = ("classification", "regression")
    if task == "forecasting" and not sequence:
        raise TrainingError(
            f"Forecasting reads windows of past readings; {network.label} reads single rows.",
            hint="Use model='lstm' or model='cnn1d', or pass window=N with your own module.")
    # sequence models order the rows themselves (by time when there is a time column)
    prepared = prepare(data, target=target, features=features,
                       task="regression" if task == "forecasting" else task,
                       tasks=tasks, algorithm=network.label,
                       split="random" if sequence else split,
                       time_column=None if sequence else time_column)
    final_task = prepared.task
    if sequence and (task == "forecasting" or (task == "auto" and final_task == "regression")):
        final_task = "forecasting"
    notes = prepared.notes
    X, schema, y = prepared.X, prepared.schema, prepared.y
    assert y is not None and target is not None
    if not sequence:
        return Samples(prepared=prepared, task=final_task, X=X, schema=schema,
                       ends=np.arange(len(X)), y=y, window=None, horizon=0, notes=notes)
    column = None
    try:
        column = find_time_column(prepared.frame, time_column)
    except TrainingError:
        if time_column is not None:
            raise
        notes.append("no time column to order the rows by (time_column=... names one): they are "
                     "taken in the order given")
    if column is not None:
        frame = prepared.frame
        if frame[column].isna().any():
            notes.append(f"dropped {int(frame[column].isna().sum())} row(s) with no time in "
                         f"{column!r}")
            frame = frame[frame[column].notna()]
        frame = frame.iloc[np.argsort(frame[column].to_numpy(), kind="stable")]
        chosen, left_out = list(prepared.features), dict(prepared.left_out)
        if left_out.pop(column, None) is not None:  # a Splunk field, but the rows' order
            chosen = [column, *chosen]
            schema = FeatureSchema(features=[*infer_schema(frame, [column]), *schema.features])
            notes.append(f"kept {column!r} as an input after all: a sequence model puts the rows "
                         "it is given in time order by it")
        prepared = Prepared(frame=frame, X=frame[chosen], y=frame[target], task=prepared.task,
                            features=chosen, schema=schema, time_column=column, notes=notes,
                            split=prepared.split, left_out=left_out)
        X, y = prepared.X, prepared.frame[target]
    if final_task == "forecasting":
        # the signal's own past is an input: that is what a forecast continues
        schema = FeatureSchema(features=[*schema.features,
                                         *infer_schema(prepared.frame, [target])])
        X = prepared.frame[[*prepared.features, target]]
    window = _positive_int(DEFAULT_WINDOW if window is None else window, "window", 1)
    horizon = _positive_int((1 if final_task == "forecasting" else 0) if horizon is None
                            else horizon, "horizon", 1 if final_task == "forecasting" else 0)
    rows = len(X)
    ends = np.arange(window - 1, rows - horizon)
    if len(ends) < 4:
        raise TrainingError(
            f"{rows} rows make {max(len(ends), 0)} windows of {window} rows with a target "
            f"{horizon} row(s) later; that is too few to train and test on.",
            hint="Use more data, or a smaller window or horizon.")
    targets = y.iloc[ends + horizon]
    return Samples(prepared=prepared, task=final_task, X=X, schema=schema, ends=ends,
                   y=targets, window=window, horizon=horizon, notes=notes)


# --- one fit ----------------------------------------------------------------------------------


@dataclass
class Settings:
    epochs: int
    batch_size: int
    lr: float
    optimizer: Any
    loss: Any
    patience: int | None
    validation_fraction: float
    weight_decay: float | None
    device: torch.device
    seed: int
    progress: bool
    split: str


@dataclass
class Fit:
    predictor: TorchModel
    matrix: np.ndarray
    history: dict[str, list[float | None]]
    seconds: float
    best_epoch: int | None
    stopped_early: bool
    parameters: int
    export: str | None


def make_optimizer(choice: Any, parameters: Iterator[nn.Parameter], lr: float,
                   weight_decay: float | None) -> torch.optim.Optimizer:
    extra: dict[str, Any] = {} if weight_decay is None else {"weight_decay": weight_decay}
    if isinstance(choice, str):
        if choice.lower() not in OPTIMIZERS:
            raise TrainingError(f"Unknown optimizer {choice!r}.",
                                hint=f"Use one of: {', '.join(OPTIMIZERS)}, or a "
                                "torch.optim.Optimizer class.")
        cls, defaults = OPTIMIZERS[choice.lower()]
        return cls(parameters, lr=lr, **{**defaults, **extra})
    if callable(choice):
        try:
            optimizer = choice(parameters, lr=lr, **extra)
        except TypeError as exc:
            raise TrainingError(f"Cannot build the optimizer {choice!r}: {exc}",
                                hint="Pass a torch.optim.Optimizer class, or a function "
                                "(params, lr=...) -> optimizer.") from exc
        if isinstance(optimizer, torch.optim.Optimizer):
            return optimizer
    raise TrainingError(f"optimizer={choice!r} is not an optimizer.",
                        hint=f"Use one of: {', '.join(OPTIMIZERS)}, or a torch.optim class.")


def make_loss(choice: Any, task: str) -> Callable[..., torch.Tensor]:
    choice = DEFAULT_LOSS[task] if choice is None else choice
    if isinstance(choice, str):
        name = choice.lower()
        if name not in LOSSES:
            raise TrainingError(f"Unknown loss {choice!r}.",
                                hint=f"Use one of: {', '.join(LOSSES)}, or a torch loss module "
                                "or function (output, target) -> tensor.")
        if (name == "cross_entropy") != (task == "classification"):
            raise TrainingError(f"loss={choice!r} does not fit {task}.",
                                hint="cross_entropy is for classification; mse, mae, huber or "
                                "smooth_l1 for regression and forecasting.")
        return LOSSES[name]()
    if isinstance(choice, type) and issubclass(choice, nn.Module):
        return choice()
    if callable(choice):
        return choice  # type: ignore[no-any-return]
    raise TrainingError(f"loss={choice!r} is not a loss.",
                        hint=f"Use one of: {', '.join(LOSSES)}, or a callable.")


def _label_of(choice: Any) -> Any:
    if choice is None or isinstance(choice, str):
        return choice
    cls = choice if isinstance(choice, type) else type(choice)
    return _qualname(cls) if cls.__module__ != "builtins" else repr(choice)


@contextlib.contextmanager
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch for one fit without disturbing the caller's random state; on a GPU, cuDNN's
    deterministic kernels for the same reason."""
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        if device.type != "cuda":
            yield
            return
        saved = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
        try:
            yield
        finally:
            torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved


def _batches(count: int, size: int) -> list[tuple[int, int]]:
    """Batch bounds; a last batch of one sample joins the one before (batch norm needs two)."""
    bounds = [(start, min(start + size, count)) for start in range(0, count, size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], count)]
    return bounds


def _validation(samples: Samples, train: np.ndarray, settings: Settings
                ) -> tuple[np.ndarray, np.ndarray]:
    """Training samples split once more for early stopping: the newest for time-ordered data."""
    count = max(1, math.ceil(len(train) * settings.validation_fraction))
    if len(train) - count < 2:
        raise TrainingError(f"{len(train)} training samples are too few to hold out "
                            f"{settings.validation_fraction:.0%} for early stopping.",
                            hint="Use more data, or early_stopping=None.")
    if samples.window or settings.split == "time":
        if samples.window:
            order = np.sort(train)
        else:
            times = samples.prepared.frame[samples.prepared.time_column].to_numpy()
            order = train[np.argsort(times[train], kind="stable")]
        return np.sort(order[:-count]), np.sort(order[-count:])
    shuffled = np.random.default_rng(settings.seed).permutation(train)
    return np.sort(shuffled[count:]), np.sort(shuffled[:count])


def _check_output(out: torch.Tensor, task: str, classes: int, label: str) -> torch.Tensor:
    if task == "classification":
        if out.ndim != 2 or out.shape[1] != classes:
            raise TrainingError(
                f"{label} outputs shape {tuple(out.shape)}; classifying {classes} classes needs "
                f"(batch, {classes}): one logit per class.",
                hint="Size the last layer by out_features (Kepler passes it to your class).")
        return out
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim != 1:
        raise TrainingError(
            f"{label} outputs shape {tuple(out.shape)}; {task} needs one value per sample: "
            "(batch,) or (batch, 1).",
            hint="Size the last layer by out_features (Kepler passes 1 for regression).")
    return out


def _export(module: nn.Module, examples: Sequence[torch.Tensor]
            ) -> tuple[nn.Module, str | None, str | None]:
    """A custom module as TorchScript: scripted, else traced (checked on a second batch size).
    Returns the module to keep, how it was exported, and why it could not be."""
    module = module.cpu().eval()
    with jit_quietly():
        try:
            return torch.jit.script(module), "script", None
        except Exception as exc:  # any failure to script falls back to tracing
            scripting = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                traced = torch.jit.trace(module, examples[0], check_trace=False)
                with torch.no_grad():
                    for example in examples:
                        if not torch.allclose(traced(example), module(example), atol=1e-5,
                                              equal_nan=True):
                            raise RuntimeError("the traced module computes something else on "
                                               f"a batch of {len(example)}")
            return traced, "trace", None
        except Exception as exc:  # keep the eager module: it predicts, it cannot be saved
            tracing = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
    return module, None, f"scripting failed ({scripting}); tracing failed ({tracing})"


def _preprocess(samples: Samples, train: np.ndarray) -> tuple[Any, np.ndarray]:
    """The preprocessing fitted on the rows the training samples read, and every row through
    it as one float32 matrix (windows are cut from it by index, never copied)."""
    preprocess = build_preprocessor(samples.schema, scale=True)
    try:
        preprocess.fit(samples.X.iloc[samples.rows_of(train)])
        matrix = np.ascontiguousarray(np.asarray(preprocess.transform(samples.X),
                                                 dtype=np.float32))
    except (TypeError, ValueError) as exc:
        raise TrainingError(f"Preprocessing failed: {exc}",
                            hint="Check the data types of the features.") from exc
    return preprocess, matrix


def _meta(samples: Samples, network: Network, classes: list[Any] | None,
          matrix: np.ndarray) -> dict[str, Any]:
    """What the predictor needs to rebuild and decode the network (its config.json)."""
    meta: dict[str, Any] = {"task": samples.task, "classes": classes, "window": samples.window,
                            "horizon": samples.horizon,
                            "time_column": samples.prepared.time_column
                            if samples.prepared.time_column in samples.schema else None,
                            "in_features": int(matrix.shape[1]),
                            "out_features": len(classes) if classes else 1}
    if network.builtin:
        meta.update(architecture=network.label, params=network.config())
    else:
        meta["module"] = _qualname(network.cls or type(network.instance))
    return meta


def _targets(samples: Samples, train: np.ndarray, meta: dict[str, Any]) -> torch.Tensor:
    """The targets as the network learns them: class numbers, or numbers standardised on the
    training samples (a forecast: the change from the window's last value); the scaling goes
    into ``meta`` so the predictor undoes it."""
    y = samples.y.to_numpy()
    if samples.task == "classification":
        classes = meta["classes"]
        assert classes is not None
        return torch.as_tensor(np.searchsorted(np.asarray(classes), y), dtype=torch.long)
    values = y.astype("float64")
    if samples.task == "forecasting":  # the change from the window's last value (see TorchModel)
        column = str(samples.y.name)
        values = values - samples.X[column].to_numpy(dtype="float64")[samples.ends]
        meta["relative_to"] = column
    mean, std = float(values[train].mean()), float(values[train].std())
    std = std if std > 0 and math.isfinite(std) else 1.0
    meta.update(target_mean=mean, target_std=std)
    return torch.as_tensor((values - mean) / std, dtype=torch.float32)


@dataclass
class _Tensors:
    """The samples on the device: every preprocessed row, each sample's last row, the targets."""

    source: torch.Tensor
    ends: torch.Tensor
    targets: torch.Tensor
    offsets: torch.Tensor
    window: int | None

    @classmethod
    def of(cls, samples: Samples, matrix: np.ndarray, targets: torch.Tensor,
           device: torch.device) -> _Tensors:
        return cls(source=torch.from_numpy(matrix).to(device),
                   ends=torch.from_numpy(samples.ends).to(device), targets=targets.to(device),
                   offsets=torch.arange(-(samples.window or 1) + 1, 1, device=device),
                   window=samples.window)

    def inputs(self, index: torch.Tensor) -> torch.Tensor:
        """The network's input for the samples ``index``: rows, or windows of rows."""
        rows = self.ends[index]
        return self.source[rows.unsqueeze(1) + self.offsets] if self.window else self.source[rows]


@dataclass
class _Loop:
    """One network, its optimizer and loss over the samples: an epoch, a validation loss."""

    module: nn.Module
    optimizer: torch.optim.Optimizer
    loss_fn: Callable[..., Any]
    tensors: _Tensors
    task: str
    out_features: int
    label: str
    batch_size: int

    def _out(self, x: torch.Tensor) -> torch.Tensor:
        return _check_output(self.module(x), self.task, self.out_features, self.label)

    def epoch(self, index: torch.Tensor, order: torch.Tensor, bounds: list[tuple[int, int]],
              x_train: torch.Tensor | None, y_train: torch.Tensor) -> float:
        """One pass over the training samples ``index`` in ``order``; the mean loss."""
        self.module.train()
        total = torch.zeros((), device=y_train.device)
        for start, stop in bounds:
            batch = order[start:stop]
            x = x_train[batch] if x_train is not None else self.tensors.inputs(index[batch])
            loss = self.loss_fn(self._out(x), y_train[batch])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += loss.detach() * (stop - start)
        return float(total) / len(index)

    def loss_on(self, index: torch.Tensor) -> float:
        """The mean loss on the samples ``index``, without training."""
        self.module.eval()
        targets = self.tensors.targets
        total = torch.zeros((), device=targets.device)
        step = max(self.batch_size, 1024)
        with torch.no_grad():
            for start in range(0, len(index), step):
                chosen = index[start:start + step]
                total += self.loss_fn(self._out(self.tensors.inputs(chosen)),
                                      targets[chosen]) * len(chosen)
        return float(total) / len(index)


@dataclass
class _Trained:
    history: dict[str, list[float | None]]
    best_epoch: int | None
    stopped_early: bool


def _train(loop: _Loop, fit_rows: np.ndarray, check_rows: np.ndarray, settings: Settings,
           description: str) -> _Trained:
    """The epochs, with a progress bar; with early stopping, the weights of the epoch of lowest
    validation loss are kept."""
    from tqdm.auto import tqdm

    device, patience = settings.device, settings.patience
    history: dict[str, list[float | None]] = {"loss": [], **({"val_loss": []} if patience
                                                              else {})}
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None
    stopped = False
    generator = torch.Generator().manual_seed(settings.seed)
    train_index = torch.from_numpy(fit_rows).to(device)
    check_index = torch.from_numpy(check_rows).to(device)
    x_train = None if loop.tensors.window else loop.tensors.inputs(train_index)
    y_train = loop.tensors.targets[train_index]
    bounds = _batches(len(fit_rows), settings.batch_size)
    bar = tqdm(total=settings.epochs, desc=description, unit="epoch",
               disable=not settings.progress, leave=True, dynamic_ncols=True)
    try:
        for epoch in range(1, settings.epochs + 1):
            order = torch.randperm(len(fit_rows), generator=generator).to(device)
            train_loss = loop.epoch(train_index, order, bounds, x_train, y_train)
            if not math.isfinite(train_loss):
                raise TrainingError(
                    f"The training loss became {train_loss} at epoch {epoch}.",
                    hint="Lower the learning rate (lr=...), or check the data for extreme "
                    "values.")
            history["loss"].append(train_loss)
            shown = {"loss": f"{train_loss:.4g}"}
            if patience:
                val_loss = loop.loss_on(check_index)
                history["val_loss"].append(val_loss)
                shown["val_loss"] = f"{val_loss:.4g}"
                if best is None or val_loss < best[0]:
                    best = (val_loss, epoch, {k: v.detach().clone()
                                              for k, v in loop.module.state_dict().items()})
                elif epoch - best[1] >= patience:
                    stopped = True
            bar.set_postfix(shown, refresh=False)
            bar.update(1)
            if stopped:
                break
    finally:
        bar.close()
    if best is not None:
        loop.module.load_state_dict(best[2])
    return _Trained(history, best[1] if best is not None else None, stopped)


def fit_once(samples: Samples, network: Network, train: np.ndarray, classes: list[Any] | None,
             settings: Settings, *, description: str) -> Fit:
    """Preprocess, build and train the network on the ``train`` samples."""
    started = time.perf_counter()
    preprocess, matrix = _preprocess(samples, train)
    meta = _meta(samples, network, classes, matrix)
    targets = _targets(samples, train, meta)
    fit_rows, check_rows = (_validation(samples, train, settings) if settings.patience
                            else (train, np.empty(0, dtype=np.int64)))
    tensors = _Tensors.of(samples, matrix, targets, settings.device)
    with _seeded(settings.seed, settings.device):
        module = network.build(meta["in_features"], meta["out_features"], samples.window)
        module.to(settings.device)
        loop = _Loop(module=module,
                     optimizer=make_optimizer(settings.optimizer, module.parameters(),
                                              settings.lr, settings.weight_decay),
                     loss_fn=make_loss(settings.loss, samples.task), tensors=tensors,
                     task=samples.task, out_features=meta["out_features"],
                     label=network.label, batch_size=settings.batch_size)
        trained = _train(loop, fit_rows, check_rows, settings, description)
    module.to("cpu").eval()
    seconds = time.perf_counter() - started
    export = "safetensors" if network.builtin else None
    error = None
    if not network.builtin:
        examples = [_example(samples, matrix, train[:n]) for n in (2, 3) if len(train) >= n]
        module, export, error = _export(module, examples or [_example(samples, matrix, train)])
    predictor = TorchModel(preprocess, module, meta, export_error=error)
    return Fit(predictor=predictor, matrix=matrix, history=trained.history, seconds=seconds,
               best_epoch=trained.best_epoch, stopped_early=trained.stopped_early,
               parameters=sum(p.numel() for p in module.parameters()), export=export)


def _example(samples: Samples, matrix: np.ndarray, chosen: np.ndarray) -> torch.Tensor:
    source = torch.from_numpy(matrix)
    ends = torch.from_numpy(samples.ends[chosen])
    if not samples.window:
        return source[ends]
    return source[ends.unsqueeze(1) + torch.arange(-samples.window + 1, 1)]


def evaluate(samples: Samples, fit: Fit, train: np.ndarray, test: np.ndarray
             ) -> Evaluation:
    """The task's metrics on the ``test`` samples, next to its naive baseline."""
    predictor = fit.predictor
    raw = predictor.outputs(fit.matrix, samples.ends[test]) if samples.window else \
        predictor.outputs(fit.matrix[samples.ends[test]])
    y_train, y_test = samples.y.iloc[train], samples.y.iloc[test]
    if samples.task == "classification":
        assert predictor.classes is not None
        return score_classification(y_test, predictor.decode(raw), y_train, predictor.classes,
                                    proba=predictor.probabilities(raw))
    if samples.task == "regression":
        return score_regression(y_test, predictor.decode(raw), y_train)
    truth = y_test.to_numpy(dtype="float64")
    last = samples.X[str(samples.y.name)].to_numpy(dtype="float64")[samples.ends[test]]
    predicted = predictor.decode(raw, last)
    return Evaluation(
        regression_scores(truth, predicted),
        regression_scores(truth, last),
        {"residual_quantiles": quantiles(truth - predicted),
         "baseline": f"the last value, {samples.horizon} row(s) before"})


# --- the whole run ----------------------------------------------------------------------------


def _settings(*, epochs: Any, batch_size: Any, lr: Any, optimizer: Any, loss: Any,
              early_stopping: bool | int | None, validation_fraction: float,
              weight_decay: float | None, device: Any, random_state: int | None,
              progress: bool, split: str) -> Settings:
    """The training loop's settings, each checked before any data is touched."""
    epochs = _positive_int(epochs, "epochs", 1)
    batch_size = _positive_int(batch_size, "batch_size", 1)
    if not isinstance(lr, int | float) or isinstance(lr, bool) or not lr > 0:
        raise TrainingError(f"lr must be a positive number, not {lr!r}.", hint="e.g. lr=1e-3.")
    patience = None
    if early_stopping is True:
        patience = DEFAULT_PATIENCE
    elif early_stopping not in (None, False):
        patience = _positive_int(early_stopping, "early_stopping", 1)
    if not 0 < validation_fraction < 1:
        raise TrainingError(f"validation_fraction must be between 0 and 1, not "
                            f"{validation_fraction!r}.", hint="0.1 keeps a tenth for it.")
    seed = random_state if random_state is not None else random.SystemRandom().getrandbits(62)
    return Settings(epochs=epochs, batch_size=batch_size, lr=float(lr), optimizer=optimizer,
                    loss=loss, patience=patience, validation_fraction=validation_fraction,
                    weight_decay=weight_decay, device=resolve_device(device), seed=int(seed),
                    progress=progress, split=split)


def _classes(samples: Samples, target: str | None) -> list[Any] | None:
    if samples.task != "classification":
        return None
    classes = json_classes(np.unique(samples.y.to_numpy()))
    if len(classes) < 2:
        raise TrainingError(
            f"The target {target!r} has only one class ({classes[0]!r}); there is nothing "
            "to tell apart.", hint="Widen the time range so the data holds both outcomes.")
    return classes


@dataclass
class _Run:
    """What one ``kp.train.pytorch`` call trains: the samples, the network and its settings."""

    samples: Samples
    network: Network
    classes: list[Any] | None
    settings: Settings
    #: Notes already logged as warnings (not logged again as information).
    warned: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        return f"kp.train.pytorch {self.network.label}"

    def fit(self, train: np.ndarray, description: str) -> Fit:
        return fit_once(self.samples, self.network, train, self.classes, self.settings,
                        description=f"{self.label} {description}")


def _holdout(run: _Run, *, test_size: float, random_state: int | None
             ) -> tuple[Fit, Evaluation, int, int]:
    """Train on the training samples, score on the held-out ones."""
    samples, classes = run.samples, run.classes
    train, test = holdout(samples.split_view(), test_size=test_size, split=run.settings.split,
                          random_state=random_state)
    fitted = run.fit(train, f"({run.settings.device.type})")
    result = evaluate(samples, fitted, train, test)
    if classes is not None:
        seen = samples.y.iloc[test].nunique()
        if seen < len(classes):
            samples.notes.append(
                f"the held-out samples hold only {seen} of the {len(classes)} classes, so the "
                "metrics cannot show how well the others are recognised")
        _warn(run, class_warnings(samples.y.iloc[train], samples.y.iloc[test]))
    _periods(samples, train, test, result)
    return fitted, result, len(train), len(test)


def _cross_validate(run: _Run, *, cv: int, random_state: int | None
                    ) -> tuple[Fit, Evaluation, int, int]:
    """Metrics averaged over the folds; the network kept is trained on every sample."""
    results = []
    for number, (train, test) in enumerate(folds(run.samples.split_view(), cv=cv,
                                                 split=run.settings.split,
                                                 random_state=random_state), 1):
        fold = run.fit(train, f"fold {number}/{cv}")
        results.append(evaluate(run.samples, fold, train, test))
    if run.classes is not None:
        _warn(run, class_warnings(run.samples.y, folds=cv))
    everything = np.arange(run.samples.count)
    return run.fit(everything, "(all samples)"), average(results), run.samples.count, 0


def _warn(run: _Run, notes: list[str]) -> None:
    """Metrics that rest on too few samples of a class: logged as warnings and kept in the
    manifest's notes (``kepler train`` prints them)."""
    for note in notes:
        log.warning("%s: %s", run.label, note)
    run.samples.notes.extend(notes)
    run.warned.update(notes)


def _notes(samples: Samples, fitted: Fit) -> list[str]:
    """The samples' notes plus what happened in training (export, early stopping)."""
    if fitted.export == "trace":
        samples.notes.append("your module could not be scripted, so it was saved by tracing: "
                             "control flow that depends on the input is fixed as traced")
    if fitted.predictor.export_error:
        samples.notes.append(f"the model cannot be saved: {fitted.predictor.export_error}")
    if fitted.stopped_early:
        samples.notes.append(f"early stopping after epoch {len(fitted.history['loss'])}; the "
                             f"weights of epoch {fitted.best_epoch} (lowest validation loss) "
                             "are kept")
    return samples.notes


def _run_params(run: _Run, *, optimizer: Any, loss: Any, weight_decay: float | None,
                device: Any) -> dict[str, Any]:
    """The effective parameters of the run, for the manifest."""
    settings, samples, network = run.settings, run.samples, run.network
    params: dict[str, Any] = {
        "model": network.label, **network.config(), "epochs": settings.epochs,
        "batch_size": settings.batch_size, "lr": settings.lr,
        "optimizer": _label_of(optimizer),
        "loss": _label_of(loss) or DEFAULT_LOSS[samples.task],
        "early_stopping": settings.patience, "weight_decay": weight_decay, "device": str(device),
    }
    if settings.patience:
        params["validation_fraction"] = settings.validation_fraction
    if samples.window:
        params.update(window=samples.window, horizon=samples.horizon)
    return params


def _manifest(run: _Run, fitted: Fit, result: Evaluation, data: Any, *, target: str | None,
              name: str | None, training: TrainingInfo, params: dict[str, Any],
              started: float) -> ModelManifest:
    samples, network, task = run.samples, run.network, run.samples.task
    return ModelManifest(
        name=name or default_name(target, network.label, task),
        description=f"PyTorch {network.label} ({task}) predicting {target!r}"
        + (f" {samples.horizon} row(s) ahead" if task == "forecasting" else ""),
        task=task, algorithm=network.label,
        target=TargetInfo(name=target, dtype=str(samples.y.dtype), classes=run.classes),
        trainer=TrainerInfo(name="pytorch", plugin="torch", distribution="kepler-torch",
                            version=__version__, framework="pytorch",
                            framework_version=torch.__version__.split("+")[0]),
        features=samples.schema,
        metrics=result.metrics, baseline=result.baseline, main_metric=result.main(task),
        evaluation=json_safe(result.details), params=json_safe(params), training=training,
        lineage=describe_data(data if isinstance(data, pd.DataFrame)
                              else samples.prepared.frame),
        environment=environment(),
        format=FormatInfo(name="torch-safetensors" if network.builtin else "torchscript"),
        extra={"total_seconds": round(time.perf_counter() - started, 4),
               "device": str(run.settings.device), "epochs_run": len(fitted.history["loss"]),
               "best_epoch": fitted.best_epoch, "stopped_early": fitted.stopped_early,
               "parameters": fitted.parameters,
               **({"export": fitted.export} if fitted.export else {})},
    )


def fit(data: Any, *, target: str | None = None, model: Any = "mlp", epochs: int = 20,
        batch_size: int = 64, lr: float = 1e-3, optimizer: Any = "adamw", loss: Any = None,
        early_stopping: bool | int | None = None, device: Any = "auto",
        window: int | None = None, horizon: int | None = None,
        features: Sequence[str] | None = None, task: str = "auto", test_size: float = 0.2,
        split: str | None = None, cv: int | None = None, random_state: int | None = 0,
        name: str | None = None, time_column: str | None = None, progress: bool = True,
        validation_fraction: float = 0.1, weight_decay: float | None = None,
        **params: Any) -> Model:
    """Train, evaluate and describe one network; :func:`kepler_torch.sdk.pytorch` documents
    every keyword."""
    started = time.perf_counter()
    if name is not None:
        check_name(name)
    network = resolve_network(model, params, window)
    split = split or "auto"
    if network.sequence and split == "auto":
        split = "time"  # windows of past readings: the held-out windows are the newest
    settings = _settings(epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer,
                         loss=loss, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, weight_decay=weight_decay,
                         device=device, random_state=random_state, progress=progress,
                         split=split)
    samples = make_samples(data, target=target, features=features, task=task, split=split,
                           time_column=time_column, network=network, window=window,
                           horizon=horizon)
    if not network.sequence:
        split = settings.split = samples.prepared.split  # "auto" resolved
    make_loss(loss, samples.task)  # a wrong loss fails before training, not after
    run = _Run(samples, network, _classes(samples, target), settings)
    if cv is None:
        fitted, result, rows_train, rows_test = _holdout(run, test_size=test_size,
                                                         random_state=random_state)
    else:
        fitted, result, rows_train, rows_test = _cross_validate(run, cv=cv,
                                                                random_state=random_state)
    if samples.window:
        result.details.update(window=samples.window, horizon=samples.horizon)
    for note in _notes(samples, fitted):
        if note not in run.warned:
            log.info("pytorch %s: %s", network.label, note)
    training = TrainingInfo(
        seconds=round(fitted.seconds, 4), rows_train=rows_train, rows_test=rows_test,
        split=split, test_size=None if cv else test_size, cv=cv, random_state=random_state,
        time_column=samples.prepared.time_column, left_out=samples.prepared.left_out,
        evaluated_on="cv" if cv else "holdout", notes=samples.notes,
        history=json_safe(fitted.history))
    manifest = _manifest(run, fitted, result, data, target=target, name=name,
                         training=training, started=started,
                         params=_run_params(run, optimizer=optimizer, loss=loss,
                                            weight_decay=weight_decay, device=device))
    return Model(manifest, fitted.predictor)


def _periods(samples: Samples, train: np.ndarray, test: np.ndarray,
             result: Evaluation) -> None:
    column = samples.prepared.time_column
    if column is None:
        return
    times = samples.prepared.frame[column]
    rows = samples.ends + samples.horizon
    for key, chosen in (("train_period", train), ("test_period", test)):
        picked = times.iloc[rows[chosen]]
        result.details[key] = {"from": str(picked.min().isoformat()),
                               "to": str(picked.max().isoformat())}


__all__ = ["KEPLER_KEYWORDS", "fit", "resolve_network"]
