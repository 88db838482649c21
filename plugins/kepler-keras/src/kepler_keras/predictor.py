"""The predictor of a Keras model: the preprocessing, the network and what its outputs mean.

``meta`` holds the task, the classes (softmax column order; one sigmoid unit for two classes)
and, for regression, the target's mean and standard deviation (networks learn it
standardized). Predictions go through ``predict_on_batch`` in chunks: Keras's ``predict``
builds a dataset pipeline per call, which costs more than the network on a few rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from kepler.api import ModelError

#: Rows per call to the network when predicting.
PREDICT_BATCH = 4096


class KerasModel:
    """Implements :class:`kepler.api.Predictor` for a Keras network."""

    def __init__(self, preprocess: Any, network: Any, meta: Mapping[str, Any]) -> None:
        self.preprocess = preprocess
        self.network = network
        self.meta = dict(meta)
        self.trusted: tuple[str, ...] = ()

    @property
    def task(self) -> str:
        return str(self.meta["task"])

    @property
    def classes(self) -> list[Any] | None:
        classes = self.meta.get("classes")
        return list(classes) if classes is not None else None

    def transform(self, data: Any) -> np.ndarray:
        matrix = self.preprocess.transform(data) if self.preprocess is not None else data
        return np.ascontiguousarray(np.asarray(matrix, dtype=np.float32))

    def outputs(self, matrix: np.ndarray) -> np.ndarray:
        """The network's outputs (float64, one row per input row)."""
        if len(matrix) == 0:
            width = len(self.classes or []) if self.task == "classification" else 1
            return np.empty((0, max(width, 1)))
        chunks = [np.asarray(self.network.predict_on_batch(matrix[start:start + PREDICT_BATCH]),
                             dtype="float64")
                  for start in range(0, len(matrix), PREDICT_BATCH)]
        out = np.concatenate(chunks)
        return out.reshape(len(matrix), -1)

    def probabilities(self, raw: np.ndarray) -> np.ndarray:
        if raw.shape[1] == 1:  # one sigmoid unit: the probability of the second class
            return np.column_stack([1.0 - raw[:, 0], raw[:, 0]])
        return raw

    def predict(self, data: Any) -> np.ndarray:
        """Class labels, or values in the target's units; one per row."""
        raw = self.outputs(self.transform(data))
        if self.task == "classification":
            assert self.classes is not None
            return np.asarray(self.classes)[np.argmax(self.probabilities(raw), axis=1)]
        return raw[:, 0] * float(self.meta.get("target_std", 1.0)) + float(
            self.meta.get("target_mean", 0.0))

    def predict_proba(self, data: Any) -> np.ndarray:
        """Class probabilities, one column per class in the order of :attr:`classes`."""
        if self.task != "classification":
            raise ModelError(f"A {self.task} model gives no class probabilities.",
                             hint="predict_proba exists for classifiers.")
        return self.probabilities(self.outputs(self.transform(data)))

    # --- between processes (kp.train.compare's workers), never into an artifact ---------------

    def __getstate__(self) -> dict[str, Any]:
        """The network travels as .keras bytes (what the artifact holds), not as a pickle."""
        from .formats import network_bytes

        state = dict(self.__dict__)
        state["network"] = network_bytes(self.network)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        from .formats import network_from_bytes

        state["network"] = network_from_bytes(state["network"])
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"KerasModel({self.task}, {self.meta.get('network', 'network')})"
