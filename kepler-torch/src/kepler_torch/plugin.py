"""kepler-torch's plugin module: records only, so listing plugins imports no PyTorch.

- trainer ``pytorch`` (``kp.train.pytorch``);
- command ``kepler train pytorch`` (explicit, with ``--epochs``, ``--model``...; it wins over the
  generic command core would make from the trainer record);
- model formats ``torch-safetensors`` (built-in architectures) and ``torchscript`` (your own
  modules).
"""

from __future__ import annotations

from collections.abc import Iterator

from kepler.api import CommandSpec, ModelFormatSpec, TrainerSpec, hookimpl

#: 1.3: a model format's ``prepare`` (kepler-tabular's table checks for every tabular format);
#: 1.4: a trainer's ``signature``.
KEPLER_PLUGIN_API = ">=1.4,<2"
PREPARE = "kepler_tabular:prepare_inputs"


@hookimpl
def kepler_trainers() -> Iterator[TrainerSpec]:
    yield TrainerSpec(name="pytorch", framework="pytorch",
                      tasks=("classification", "regression", "forecasting"),
                      target="kepler_torch.trainer:factory", signature="kepler_torch.sdk:pytorch",
                      description="PyTorch: an MLP for tables, an LSTM or 1-D CNN for windows of "
                      "sensor readings, or your own nn.Module.")


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="pytorch", parent="train", target="kepler_torch.cli:pytorch",
                      help="PyTorch: MLP, LSTM, 1-D CNN or your own module (--epochs, --model).")


@hookimpl
def kepler_model_formats() -> Iterator[ModelFormatSpec]:
    yield ModelFormatSpec(name="torch-safetensors", framework="pytorch",
                          save="kepler_torch.formats:save_safetensors",
                          load="kepler_torch.formats:load_safetensors", install="kepler-torch",
                          prepare=PREPARE,
                          description="Built-in architectures: safetensors weights + JSON "
                          "config; preprocessing with skops.")
    yield ModelFormatSpec(name="torchscript", framework="pytorch",
                          save="kepler_torch.formats:save_torchscript",
                          load="kepler_torch.formats:load_torchscript", install="kepler-torch",
                          prepare=PREPARE,
                          description="Your own nn.Module as a TorchScript archive (no pickle).")
