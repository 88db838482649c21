"""The ``Trainer`` behind each ``kp.train.<algorithm>`` of this plugin."""

from __future__ import annotations

from typing import Any

from kepler.api import CapabilityNotInstalledError, Model, import_string

from .algorithms import Algorithm
from .training import Candidate, fit


def candidate_for(algorithm: Algorithm) -> Candidate:
    """The :class:`Candidate` of a named algorithm: its estimator class per task."""
    if not algorithm.available():
        raise CapabilityNotInstalledError(
            f"kp.train.{algorithm.name} needs {algorithm.library}, which is not installed.",
            hint=f"pip install '{algorithm.extra}'",
        )

    def make(task: str) -> Any:
        return import_string(algorithm.estimators[task])()

    return Candidate(algorithm=algorithm.name, tasks=algorithm.tasks, make=make,
                     scale=algorithm.scale, format=algorithm.format,
                     encode_labels=algorithm.encode_labels, trainer=algorithm.name,
                     defaults=algorithm.defaults)


class SklearnTrainer:
    """Implements :class:`kepler.protocols.Trainer` for one algorithm of the table."""

    def __init__(self, algorithm: Algorithm, config: Any) -> None:
        self.algorithm = algorithm
        self.config = config

    def train(self, data: Any, *, target: str | None = None, **params: Any) -> Model:
        """Fit on ``data``; keywords as :func:`kepler_sklearn.sdk.train_sklearn` describes."""
        return fit(candidate_for(self.algorithm), data, target=target, **params)
