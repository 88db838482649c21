"""The ``Trainer`` behind ``kp.train.pytorch``: light to import (torch loads when it trains)."""

from __future__ import annotations

from typing import Any


class TorchTrainer:
    """Implements :class:`kepler.protocols.Trainer`; keywords as :func:`kepler_torch.sdk.pytorch`
    documents them."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def train(self, data: Any, *, target: str | None = None, **params: Any) -> Any:
        from .training import fit

        return fit(data, target=target, **params)


def factory(config: Any) -> TorchTrainer:
    """The trainer factory the ``pytorch`` TrainerSpec points at."""
    return TorchTrainer(config)
