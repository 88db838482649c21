"""What ``model=`` may be: None (the default MLP), a ``keras.Model``, a function building one
from the input shape, or the path of a ``.keras`` file. Never an ``.h5`` file or a pickle.

Whatever it is, every training gets a network with fresh weights (a clone of a given model),
so cross-validation's folds and a repeated call do not continue from earlier training.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kepler.api import TrainingError, UnsafeModelError

#: Files that run code when read: Keras's legacy HDF5 and pickles of any kind.
REFUSED_SUFFIXES = (".h5", ".hdf5", ".pkl", ".pickle", ".joblib", ".dill", ".cloudpickle")
REGISTER_HINT = ("Register every custom layer, loss or model: decorate its class with "
                 "@keras.saving.register_keras_serializable(package='yourpkg'), give it "
                 "get_config() returning its constructor arguments, and import its module "
                 "before loading (so install it where the model is served). Lambda layers "
                 "cannot be loaded safely: write a small custom layer instead.")


def refuse_unsafe_file(path: Path) -> None:
    """Refuse the formats that execute code when loaded."""
    if path.suffix.lower() in REFUSED_SUFFIXES or (path.is_dir() and
                                                   (path / "saved_model.pb").exists()):
        raise UnsafeModelError(
            f"{path.name}: Kepler loads Keras models only from the .keras format with "
            "safe_mode=True; HDF5 (.h5), SavedModel folders and pickles can run code when read "
            "(Keras has had several code-execution CVEs through them).",
            hint="Re-save it as .keras where you trust it: keras.models.load_model('m.h5')"
            ".save('m.keras'), then pass the .keras file. " + REGISTER_HINT)


@dataclass(frozen=True)
class Network:
    """How to build the network of one training."""

    label: str
    build: Callable[[Any, int, int], Any]
    params: dict[str, Any]
    builtin: bool = False


def mlp(hidden_layers: Sequence[int] = (64, 64), dropout: float = 0.0,
        activation: str = "relu") -> Callable[[Any, int, int], Any]:
    """The default network: dense layers, then softmax over the classes or one linear unit."""
    def build(keras: Any, inputs: int, outputs: int) -> Any:
        layers = [keras.Input((inputs,))]
        for units in hidden_layers:
            layers.append(keras.layers.Dense(int(units), activation=activation))
            if dropout:
                layers.append(keras.layers.Dropout(float(dropout)))
        layers.append(keras.layers.Dense(outputs, activation="softmax" if outputs > 1 else None))
        return keras.Sequential(layers, name="kepler_mlp")
    return build


def _from_model(model: Any) -> Callable[[Any, int, int], Any]:
    def build(keras: Any, inputs: int, outputs: int) -> Any:
        try:
            clone = keras.models.clone_model(model)
        except Exception as exc:
            raise TrainingError(f"{type(model).__name__} cannot be cloned for a fresh "
                                f"training: {exc}", hint=REGISTER_HINT) from exc
        return clone
    return build


def _from_builder(function: Callable[..., Any]) -> Callable[[Any, int, int], Any]:
    names = set(inspect.signature(function).parameters)

    def build(keras: Any, inputs: int, outputs: int) -> Any:
        extra = {"outputs": outputs} if "outputs" in names else {}
        built = function((inputs,), **extra)
        if not isinstance(built, keras.Model):
            raise TrainingError(f"{function.__name__}(input_shape) returned "
                                f"{type(built).__name__}, not a keras.Model.",
                                hint="Return the model, e.g. keras.Sequential([...]).")
        return built
    return build


def _from_file(path: Path) -> Callable[[Any, int, int], Any]:
    refuse_unsafe_file(path)
    if path.suffix.lower() != ".keras" or not path.is_file():
        raise TrainingError(f"model={str(path)!r} is not a .keras file.",
                            hint="Pass 'mlp', a keras.Model, a builder function or a .keras file.")

    def build(keras: Any, inputs: int, outputs: int) -> Any:
        return _from_model(keras.saving.load_model(path, safe_mode=True, compile=False))(
            keras, inputs, outputs)
    return build


def resolve_network(model: Any, params: dict[str, Any], keras: Any) -> Network:
    """The :class:`Network` for ``model=``; ``params`` are the default MLP's keywords."""
    if model is None or model == "mlp":
        allowed = set(inspect.signature(mlp).parameters)
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise TrainingError(f"Unknown keyword(s) for kp.train.keras: {', '.join(unknown)}.",
                                hint=f"The default MLP takes {', '.join(sorted(allowed))}; "
                                "the training keywords are in help(kp.train.keras).")
        return Network("mlp", mlp(**params), dict(params), builtin=True)
    if params:
        raise TrainingError(f"{', '.join(sorted(params))}: the default MLP's keywords, but "
                            "model= is your own.", hint="Set them in your model instead.")
    if isinstance(model, (str, Path)):
        return Network(Path(model).stem, _from_file(Path(model)), {})
    if isinstance(model, keras.Model):
        return Network(type(model).__name__ if type(model) not in (
            keras.Sequential, keras.Model) else (model.name or "model"), _from_model(model), {})
    if callable(model):
        return Network(getattr(model, "__name__", "builder"), _from_builder(model), {})
    raise TrainingError(f"model={model!r} is not a Keras network.",
                        hint="Pass None (the default MLP), a keras.Model, a function "
                        "building one from the input shape, or a .keras file.")
