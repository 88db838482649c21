"""Users' own networks for the tests: scriptable, traceable only, and neither."""

from __future__ import annotations

import torch
from kepler.api import hookimpl
from torch import nn


class TinyNet(nn.Module):
    """Scriptable: Kepler passes in_features and out_features; width is the user's own."""

    def __init__(self, in_features: int, out_features: int, width: int = 16) -> None:
        super().__init__()
        self.hidden = nn.Linear(in_features, width)
        self.out = nn.Linear(width, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x)))


class WindowNet(nn.Module):
    """A sequence model of the user's: (batch, window, features) -> one value."""

    def __init__(self, in_features: int, out_features: int, window: int) -> None:
        super().__init__()
        self.head = nn.Linear(in_features * window, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x.flatten(1))


class TraceOnlyNet(nn.Module):
    """Not scriptable (a Python-only construct in forward), but traceable."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(in_features, 8), nn.Linear(8, out_features)])

    def forward(self, x):
        steps = {"first": self.layers[0], "second": self.layers[1]}
        for key in sorted(steps, key=lambda k: {"first": 0, "second": 1}[k]):
            x = steps[key](x) if key == "second" else torch.tanh(steps[key](x))
        return x


class NumpyNet(nn.Module):
    """Neither scriptable nor traceable faithfully: forward leaves torch for NumPy."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        shift = float(x.detach().cpu().numpy().mean()) * (self.calls % 3)
        return self.linear(x) + shift


class Subscriber:
    """An in-process plugin that records the after-train events it receives."""

    def __init__(self):
        self.events = []

    @hookimpl
    def kepler_after_train(self, event):
        self.events.append(event)
