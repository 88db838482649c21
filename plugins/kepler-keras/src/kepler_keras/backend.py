"""Choosing Keras's backend before Keras is first imported.

Keras reads ``KERAS_BACKEND`` once, at import; so Kepler sets it (from the config) just before
the first import and refuses, with the fix, a Keras already imported on another backend.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from kepler.api import TrainingError

BACKENDS = ("torch", "tensorflow", "jax")


def wanted_backend(config: Any = None) -> str:
    """``KERAS_BACKEND``, else the config's ``keras.backend``, else the first installed."""
    chosen = os.environ.get("KERAS_BACKEND") or _configured(config)
    if chosen:
        return str(chosen)
    for name in BACKENDS:
        if importlib.util.find_spec(name) is not None:
            return name
    raise TrainingError("Keras needs a backend and none of torch, tensorflow, jax is installed.",
                        hint="pip install 'kepler-keras[torch]' (or [tensorflow]).")


def _configured(config: Any) -> str | None:
    if config is None:
        try:
            from kepler.api import load_config

            config = load_config()
        except Exception:  # a broken kepler.yml is reported by the commands that read it
            return None
    try:
        return config.section("keras").backend
    except Exception:
        return None


def import_keras(config: Any = None, *, strict: bool = True) -> Any:
    """Keras, imported on the wanted backend. ``strict=False`` (loading a model: a ``.keras``
    file is the same on every backend) takes a Keras already imported as it is."""
    import sys

    wanted = wanted_backend(config)
    if "keras" not in sys.modules:
        if wanted not in BACKENDS:
            raise TrainingError(f"Unknown Keras backend {wanted!r}.",
                                hint=f"Set KERAS_BACKEND or keras.backend to one of "
                                f"{', '.join(BACKENDS)}.")
        if importlib.util.find_spec(wanted) is None:
            raise TrainingError(f"The Keras backend {wanted!r} is not installed.",
                                hint=f"pip install 'kepler-keras[{wanted}]', or choose another "
                                "backend (KERAS_BACKEND, or keras.backend in kepler.yml).")
        os.environ["KERAS_BACKEND"] = wanted
    import keras

    running = keras.backend.backend()
    if strict and running != wanted:
        raise TrainingError(f"Keras is already running on {running!r}; {wanted!r} was asked.",
                            hint="Keras picks its backend once per process: restart Python "
                            "(or the kernel) with the backend set before keras is imported.")
    return keras
