"""The ``keras:`` section of kepler.yml (or ``KEPLER_KERAS__BACKEND``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Backend = Literal["torch", "tensorflow", "jax"]


class KerasSettings(BaseModel):
    """Keras settings. ``backend``: which framework Keras 3 runs on; ``KERAS_BACKEND`` in the
    environment wins (it is Keras's own switch), and without either Kepler takes the first
    installed of torch, TensorFlow and JAX (Keras's own default, TensorFlow, is often absent).

    Example (kepler.yml)::

        keras:
          backend: torch
    """

    model_config = ConfigDict(extra="forbid")

    backend: Backend | None = None
