"""The ``Trainer`` behind ``kp.train.keras``: light to import (Keras loads when it trains)."""

from __future__ import annotations

from typing import Any


class KerasTrainer:
    """Implements :class:`kepler.api.Trainer`; keywords as :func:`kepler_keras.sdk.keras`
    documents them. The config's ``keras.backend`` chooses the backend (after
    ``KERAS_BACKEND``)."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def train(self, data: Any, *, target: str | None = None, **params: Any) -> Any:
        from .training import fit

        params.setdefault("config", self.config)
        return fit(data, target=target, **params)


def factory(config: Any) -> KerasTrainer:
    """The trainer factory the ``keras`` TrainerSpec points at."""
    return KerasTrainer(config)
