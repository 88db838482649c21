"""kepler-keras's plugin module: records only, so listing plugins imports no Keras.

- trainer ``keras`` (``kp.train.keras``) and its command ``kepler train keras``;
- model format ``keras-v3`` (a ``.keras`` file read with ``safe_mode=True``);
- config section ``keras`` (``backend``).
"""

from __future__ import annotations

from collections.abc import Iterator

from kepler.api import (
    CommandSpec,
    ConfigSectionSpec,
    ModelFormatSpec,
    TrainerSpec,
    hookimpl,
)

#: 1.4: a trainer's ``signature`` (what help(kp.train.keras) shows).
KEPLER_PLUGIN_API = ">=1.4,<2"


@hookimpl
def kepler_trainers() -> Iterator[TrainerSpec]:
    yield TrainerSpec(name="keras", framework="keras", tasks=("classification", "regression"),
                      target="kepler_keras.trainer:factory", signature="kepler_keras.sdk:keras",
                      description="Keras 3: a default MLP for tables, or your own keras.Model "
                      "(torch, TensorFlow or JAX backend).")


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="keras", parent="train", target="kepler_keras.cli:keras_command",
                      help="Keras 3: a default MLP or your own model (--epochs, --model).")


@hookimpl
def kepler_model_formats() -> Iterator[ModelFormatSpec]:
    yield ModelFormatSpec(name="keras-v3", framework="keras",
                          save="kepler_keras.formats:save_keras",
                          load="kepler_keras.formats:load_keras", install="kepler-keras",
                          prepare="kepler_tabular:prepare_inputs",
                          description="A .keras file loaded with safe_mode=True, plus JSON "
                          "config and skops preprocessing; no .h5, no pickle.")


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(name="keras", target="kepler_keras.config:KerasSettings",
                            description="Keras: the backend (torch, tensorflow, jax).")
