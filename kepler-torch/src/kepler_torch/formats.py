"""Payload formats of PyTorch models: ``torch-safetensors`` and ``torchscript``. No pickle.

Core verifies every file's sha256 before these readers run; then:

``torch-safetensors`` (the built-in architectures)
    ``model.safetensors``: the ``state_dict``, read by safetensors (tensors only, no code);
    ``config.json``: the architecture's name, sizes and parameters, rebuilt from
    :data:`kepler_torch.architectures.ARCHITECTURES` (a fixed table: no class named in a file is
    imported), then the weights are loaded strictly (every name and shape must match);
    ``preprocess.skops``: the scikit-learn preprocessing, with kepler-tabular's allow-list.
``torchscript`` (your own ``nn.Module``)
    ``module.pt``: a TorchScript archive read by ``torch.jit.load``, whose C++ loader builds
    tensors and TorchScript code only — never Python objects, so neither pickle's arbitrary
    code nor your class's Python source is needed to load it; plus ``config.json`` and
    ``preprocess.skops`` as above.

Loading maps every tensor to the CPU (``map_location``), so a model trained on a GPU loads on a
machine without one; ``kp.models.load(name, device="cuda")`` (or ``"auto"``) puts it on a GPU.

``torch.export`` would be the successor of TorchScript, but ``torch.export.load`` unpickles (its
documentation says so), which Kepler never does; TorchScript's deprecation warnings are silenced
where Kepler calls it on purpose.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from kepler.api import ArtifactError, UnsafeModelError, json_safe, payload_file
from kepler_tabular import dump_skops, load_skops_file

from .architectures import ARCHITECTURES
from .devices import resolve_device
from .predictor import TorchModel

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
SCRIPT_FILE = "module.pt"
PREPROCESS_FILE = "preprocess.skops"
#: The layout of config.json; a reader refuses a newer one.
CONFIG_VERSION = 1


@contextlib.contextmanager
def jit_quietly() -> Iterator[None]:
    """``with jit_quietly(): torch.jit.script(...)``: TorchScript without its deprecation
    warnings (torch 2.10+ deprecates it in favour of torch.export, which unpickles to load)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\..*deprecated",
                                category=DeprecationWarning)
        yield


# --- shared parts -----------------------------------------------------------------------------


def _save_common(predictor: TorchModel, folder: Path) -> dict[str, Any]:
    config = {"kepler_torch_config": CONFIG_VERSION, **json_safe(predictor.meta)}
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n",
                                      encoding="utf-8")
    options: dict[str, Any] = {"config_file": CONFIG_FILE}
    if predictor.preprocess is not None:
        recorded = dump_skops(predictor.preprocess, folder / PREPROCESS_FILE, predictor.trusted)
        options.update({"preprocess_file": PREPROCESS_FILE, "trusted_types": recorded})
    return options


def _read_config(folder: Path, options: Mapping[str, Any]) -> dict[str, Any]:
    path = payload_file(folder, options, "config_file", CONFIG_FILE)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ArtifactError(f"{path} cannot be read as JSON: {exc}",
                            hint="The artifact is damaged; retrain or restore it.") from exc
    if not isinstance(config, dict) or config.get("task") not in (
            "classification", "regression", "forecasting"):
        raise ArtifactError(f"{path} is not a kepler-torch model configuration.",
                            hint="The artifact is damaged; retrain or restore it.")
    version = config.get("kepler_torch_config")
    if isinstance(version, int) and version > CONFIG_VERSION:
        raise ArtifactError(f"{path} was written by a newer kepler-torch (config version "
                            f"{version}).", hint="Upgrade: pip install -U kepler-torch")
    return config


def _load_preprocess(folder: Path, options: Mapping[str, Any], trusted: Iterable[str]) -> Any:
    if "preprocess_file" not in options:
        return None
    return load_skops_file(payload_file(folder, options, "preprocess_file", PREPROCESS_FILE),
                           options.get("trusted_types", []), trusted)


def _meta(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != "kepler_torch_config"}


# --- torch-safetensors ------------------------------------------------------------------------


def save_safetensors(predictor: TorchModel, folder: Path) -> dict[str, Any]:
    """Format ``torch-safetensors``: the weights, the architecture's config, the preprocessing."""
    from safetensors.torch import save_file

    if not predictor.builtin:
        raise ArtifactError("Format torch-safetensors saves the built-in architectures only.",
                            hint="Your own modules are saved with format 'torchscript'.")
    state = {name: tensor.detach().to("cpu").contiguous().clone()
             for name, tensor in predictor.module.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_FILE),
              metadata={"architecture": str(predictor.meta["architecture"])})
    return {"file": WEIGHTS_FILE, "architecture": predictor.meta["architecture"],
            **_save_common(predictor, folder)}


def load_safetensors(folder: Path, options: Mapping[str, Any], *, device: Any = "cpu",
                     trusted: Iterable[str] = ()) -> TorchModel:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    config = _read_config(folder, options)
    name = config.get("architecture")
    architecture = ARCHITECTURES.get(str(name))
    if architecture is None:
        raise ArtifactError(f"{folder}: unknown architecture {name!r} in {CONFIG_FILE}.",
                            hint=f"kepler-torch builds: {', '.join(ARCHITECTURES)}. Upgrade "
                            "kepler-torch if the model comes from a newer one.")
    try:
        module = architecture.build(int(config["in_features"]), int(config["out_features"]),
                                    config.get("window"), dict(config.get("params") or {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{folder}: {CONFIG_FILE} does not describe a {name} network: "
                            f"{exc}", hint="The artifact is damaged; retrain or restore it.") \
            from exc
    path = payload_file(folder, options, "file", WEIGHTS_FILE)
    try:
        state = load_file(str(path), device="cpu")
        module.load_state_dict(state, strict=True)
    except (SafetensorError, RuntimeError, OSError) as exc:
        raise ArtifactError(f"{folder}: the weights in {path.name} do not fit the {name} "
                            f"network its config describes: {exc}",
                            hint="The artifact is damaged; retrain or restore it.") from exc
    predictor = TorchModel(_load_preprocess(folder, options, trusted), module, _meta(config))
    return predictor.to(resolve_device(device))


# --- torchscript ------------------------------------------------------------------------------


def save_torchscript(predictor: TorchModel, folder: Path) -> dict[str, Any]:
    """Format ``torchscript``: a user's module as a TorchScript archive, config, preprocessing."""
    module = predictor.module
    if predictor.export_error or not isinstance(module, torch.jit.ScriptModule):
        raise UnsafeModelError(
            f"{predictor.meta.get('module', 'This module')} cannot be saved: it could not be "
            f"exported to TorchScript ({predictor.export_error or 'not exported'}), and Kepler "
            "saves no pickled Python objects.",
            hint="Make forward() scriptable (type-annotate its arguments, avoid Python-only "
            "constructs) or traceable; see https://pytorch.org/docs/stable/jit.html. The model "
            "still predicts in this session.",
        )
    with jit_quietly():
        torch.jit.save(module, str(folder / SCRIPT_FILE))
    return {"file": SCRIPT_FILE, "module": predictor.meta.get("module"),
            **_save_common(predictor, folder)}


def load_torchscript(folder: Path, options: Mapping[str, Any], *, device: Any = "cpu",
                     trusted: Iterable[str] = ()) -> TorchModel:
    config = _read_config(folder, options)
    path = payload_file(folder, options, "file", SCRIPT_FILE)
    try:
        with jit_quietly():
            module = torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, OSError, ValueError) as exc:
        raise ArtifactError(f"{folder}: {path.name} is not a TorchScript archive this PyTorch "
                            f"reads: {exc}",
                            hint="The artifact is damaged, or needs a newer PyTorch.") from exc
    predictor = TorchModel(_load_preprocess(folder, options, trusted), module, _meta(config))
    return predictor.to(resolve_device(device))
