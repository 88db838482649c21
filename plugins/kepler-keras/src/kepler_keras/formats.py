"""Model format ``keras-v3``: the network as a ``.keras`` file, read with ``safe_mode=True``.

Payload: ``model.keras`` (Keras 3's zip of JSON config + weights: no code, no pickle; custom
layers must be registered serializable objects), ``config.json`` (task, classes, target
scaling) and ``preprocess.skops`` (the scikit-learn preprocessing, behind kepler-tabular's
allow-list). Saving reads the file back with ``safe_mode=True`` before it is kept, so a model
that could not be loaded (a Lambda layer, an unregistered custom layer) is refused when saved,
not discovered when served. A manifest naming any other file (``.h5``, a pickle) is refused.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kepler.api import ArtifactError, UnsafeModelError, json_safe, payload_file
from kepler_tabular import dump_skops, load_skops_file

from .backend import import_keras
from .networks import REGISTER_HINT, refuse_unsafe_file
from .predictor import KerasModel

NETWORK_FILE = "model.keras"
CONFIG_FILE = "config.json"
PREPROCESS_FILE = "preprocess.skops"
CONFIG_VERSION = 1


def _load_network(path: Path) -> Any:
    refuse_unsafe_file(path)
    if path.suffix != ".keras":
        raise UnsafeModelError(f"{path.name} is not a .keras file.", hint=REGISTER_HINT)
    keras = import_keras(strict=False)
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except (TypeError, ValueError) as exc:
        raise UnsafeModelError(f"{path.name} cannot be loaded with safe_mode=True: {exc}",
                               hint=REGISTER_HINT) from exc


def save_keras(predictor: KerasModel, folder: Path) -> dict[str, Any]:
    """Write the network, its config and preprocessing; check the network loads safely."""
    path = folder / NETWORK_FILE
    predictor.network.save(path)
    try:
        _load_network(path)
    except UnsafeModelError as exc:
        path.unlink()
        raise UnsafeModelError(f"The network cannot be saved: {exc.message}",
                               hint=exc.hint) from exc
    config = {"kepler_keras_config": CONFIG_VERSION, **json_safe(predictor.meta)}
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n",
                                      encoding="utf-8")
    options: dict[str, Any] = {"file": NETWORK_FILE, "config_file": CONFIG_FILE}
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
    if not isinstance(config, dict) or config.get("task") not in ("classification",
                                                                  "regression"):
        raise ArtifactError(f"{path} is not a kepler-keras model configuration.",
                            hint="The artifact is damaged; retrain or restore it.")
    version = config.pop("kepler_keras_config", None)
    if isinstance(version, int) and version > CONFIG_VERSION:
        raise ArtifactError(f"{path} was written by a newer kepler-keras.",
                            hint="Upgrade: pip install -U kepler-keras")
    return config


def load_keras(folder: Path, options: Mapping[str, Any], *, trusted: Iterable[str] = (),
               **_: Any) -> KerasModel:
    """Read the network (safe_mode=True), its config and the preprocessing."""
    path = payload_file(folder, options, "file", NETWORK_FILE)
    refuse_unsafe_file(path)  # before anything else is read
    config = _read_config(folder, options)
    network = _load_network(path)
    preprocess = None
    if "preprocess_file" in options:
        preprocess = load_skops_file(
            payload_file(folder, options, "preprocess_file", PREPROCESS_FILE),
            options.get("trusted_types", []), trusted)
    return KerasModel(preprocess, network, config)


def network_bytes(network: Any) -> bytes:
    """The network as the bytes of a .keras file (to carry it to another process)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / NETWORK_FILE
        network.save(path)
        return path.read_bytes()


def network_from_bytes(data: bytes) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / NETWORK_FILE
        path.write_bytes(data)
        return _load_network(path)
