"""The built-in architectures: ``"mlp"`` for tables, ``"lstm"`` and ``"cnn1d"`` for windows.

Each is a plain ``torch.nn.Module`` rebuilt from a small JSON config (its name, input and output
sizes, window and the parameters below), which is how a saved model is loaded: the weights come
from safetensors, the shape from the config, and no class named in a file is ever imported.

Inputs: the MLP takes ``(batch, features)``; the sequence models take ``(batch, window,
features)``, oldest reading first. Outputs: ``(batch, out_features)`` — one logit per class for
classification, one value for regression and forecasting.

Parameters (``kp.train.pytorch(..., hidden_layers=[128, 64])``):

``mlp``
    ``hidden_layers=(64, 64)``, ``dropout=0.0``, ``activation="relu"`` (``"gelu"``, ``"tanh"``,
    ``"silu"``), ``batch_norm=False``.
``lstm``
    ``hidden_size=64``, ``num_layers=1``, ``dropout=0.0`` (between layers), ``bidirectional=False``.
``cnn1d``
    ``channels=(32, 32)``, ``kernel_size=3``, ``dropout=0.0``, ``activation="relu"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from kepler.api import TrainingError
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh,
                                           "silu": nn.SiLU}


def _activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise TrainingError(f"Unknown activation {name!r}.",
                            hint=f"Use one of: {', '.join(ACTIVATIONS)}.")
    return ACTIVATIONS[name]()


def _sizes(value: Any, name: str) -> list[int]:
    sizes = [value] if isinstance(value, int) else list(value)
    if not sizes or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                            for v in sizes):
        raise TrainingError(f"{name} must be positive whole numbers, not {value!r}.",
                            hint=f"e.g. {name}=[64, 32].")
    return sizes


class MLP(nn.Module):
    """A multi-layer perceptron for tabular data: Linear → activation → dropout, repeated."""

    def __init__(self, in_features: int, out_features: int, hidden_layers: Sequence[int] = (64, 64),
                 dropout: float = 0.0, activation: str = "relu", batch_norm: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for size in _sizes(hidden_layers, "hidden_layers"):
            layers.append(nn.Linear(width, size))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(_activation(activation))
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, out_features))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class LSTMNet(nn.Module):
    """An LSTM over the window; the last step's hidden state goes through a linear head."""

    def __init__(self, in_features: int, out_features: int, window: int, hidden_size: int = 64,
                 num_layers: int = 1, dropout: float = 0.0, bidirectional: bool = False) -> None:
        super().__init__()
        self.window = window
        self.lstm = nn.LSTM(in_features, hidden_size, num_layers=num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0,
                            bidirectional=bidirectional)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output, _ = self.lstm(x)
        return self.head(output[:, -1, :])


class CNN1D(nn.Module):
    """1-D convolutions along time (lengths kept), then a linear head over the whole window."""

    def __init__(self, in_features: int, out_features: int, window: int,
                 channels: Sequence[int] = (32, 32), kernel_size: int = 3, dropout: float = 0.0,
                 activation: str = "relu") -> None:
        super().__init__()
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise TrainingError(f"kernel_size must be an odd whole number, not {kernel_size!r}.",
                                hint="kernel_size=3 or 5 keeps the window's length.")
        self.window = window
        layers: list[nn.Module] = []
        width = in_features
        for size in _sizes(channels, "channels"):
            layers += [nn.Conv1d(width, size, kernel_size, padding=kernel_size // 2),
                       _activation(activation)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        self.conv = nn.Sequential(*layers)
        self.head = nn.Linear(width * window, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.conv(x.transpose(1, 2))  # (batch, channels, window)
        return self.head(features.flatten(1))


@dataclass(frozen=True)
class Architecture:
    """A built-in architecture: its class, whether it reads windows, and its parameters."""

    name: str
    cls: type[nn.Module]
    sequence: bool
    defaults: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def build(self, in_features: int, out_features: int, window: int | None,
              params: Mapping[str, Any]) -> nn.Module:
        settings = {**self.defaults, **params}
        sizes: dict[str, Any] = {"in_features": in_features, "out_features": out_features}
        if self.sequence:
            sizes["window"] = window
        try:
            return self.cls(**sizes, **settings)
        except (TypeError, ValueError) as exc:
            raise TrainingError(f"Invalid parameters for {self.name}: {exc}",
                                hint=f"Its parameters: {', '.join(self.defaults)}.") from exc

    def config(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The effective parameters, JSON-safe (tuples as lists)."""
        settings = {**self.defaults, **params}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}


ARCHITECTURES: dict[str, Architecture] = {a.name: a for a in (
    Architecture("mlp", MLP, sequence=False,
                 defaults={"hidden_layers": (64, 64), "dropout": 0.0, "activation": "relu",
                           "batch_norm": False},
                 description="multi-layer perceptron for tables"),
    Architecture("lstm", LSTMNet, sequence=True,
                 defaults={"hidden_size": 64, "num_layers": 1, "dropout": 0.0,
                           "bidirectional": False},
                 description="LSTM over windows of readings"),
    Architecture("cnn1d", CNN1D, sequence=True,
                 defaults={"channels": (32, 32), "kernel_size": 3, "dropout": 0.0,
                           "activation": "relu"},
                 description="1-D convolutional network over windows of readings"),
)}

#: The built-in classes, for recognising an instance the user built from one of them.
BUILTIN_CLASSES: dict[type[nn.Module], str] = {a.cls: a.name for a in ARCHITECTURES.values()}
