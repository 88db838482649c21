"""ONNX export of a kepler-keras model (format ``keras-v3``): Kepler's preprocessing (skl2onnx)
joined to the network, then what ``KerasModel`` does with its outputs as ONNX nodes (one sigmoid
unit becomes two class probabilities; a regressor's standardized value is put back in the
target's units).

On Keras's torch backend the network *is* a ``torch.nn.Module``: it is traced with
``torch.onnx.export`` (the TorchScript exporter, as for kepler-torch models, so no onnxscript).
On TensorFlow or JAX, Keras's own ``model.export(format="onnx")`` needs tf2onnx; without it the
export is refused naming that step. The network is reached by duck typing on the loaded model
(``predictor.network``), so kepler-keras itself is never imported here.
"""

from __future__ import annotations

import importlib.util
import tempfile
import warnings
from pathlib import Path
from typing import Any

from .errors import ExportError
from .sklearn_export import OPSET, Converted, blocking_steps
from .torch_export import NET_INPUT, NET_OUTPUT, join, one_row, preprocessing, trace

TORCH_HINT = ("The .keras file is the same on every backend: export it on the torch backend "
              "(KERAS_BACKEND=torch kepler models export MODEL --format onnx, with torch "
              "installed)")


def _check(model: Any, predictor: Any) -> None:
    """Refuse what the runner cannot reproduce, naming the step."""
    blocked = blocking_steps(predictor.preprocess) if predictor.preprocess is not None else \
        ["preprocess (None)"]
    if blocked:
        raise ExportError(f"Model {model.name!r} cannot be exported to ONNX.",
                          hint="Blocking step(s): " + "; ".join(blocked) + ".")
    inputs = getattr(predictor.network, "inputs", None) or []
    if len(inputs) > 1:
        raise ExportError(f"Model {model.name!r}: the network reads {len(inputs)} inputs.",
                          hint="Blocking step: model: a network with several inputs (Kepler's "
                          "preprocessing gives one matrix).")


def _installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def _is_torch_module(network: Any) -> bool:
    if not _installed("torch"):
        return False
    import torch

    return isinstance(network, torch.nn.Module)


def _backend(network: Any) -> str:
    """The Keras backend that built ``network`` (its module names it), for the error."""
    try:
        import keras

        return str(keras.backend.backend())
    except ImportError:  # pragma: no cover - a loaded Keras model implies Keras
        return type(network).__module__


def _network(model: Any, predictor: Any, width: int, opset: int) -> Any:
    """The network as ONNX with input ``features`` and output ``raw``."""
    network = predictor.network
    if _is_torch_module(network):
        import torch

        try:
            with warnings.catch_warnings():  # shapes Keras reads as constants: not actionable
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                return trace(_Call.wrap(network), width, opset)
        except Exception as exc:
            raise ExportError(f"Model {model.name!r}: torch.onnx.export failed: {exc}"[:600],
                              hint=f"Blocking step: model: {type(network).__name__} (a layer "
                              "the TorchScript exporter cannot trace).") from exc
    backend = _backend(network)
    if not _installed("tf2onnx"):
        raise ExportError(f"Model {model.name!r}: a Keras network on the {backend} backend "
                          "needs tf2onnx for ONNX export.",
                          hint=f"Blocking step: model: keras export on {backend} (tf2onnx is "
                          f"not installed). pip install tf2onnx, or: {TORCH_HINT}.")
    return _keras_export(model, network, backend, opset)


def _keras_export(model: Any, network: Any, backend: str, opset: int) -> Any:
    """Keras's own exporter (TensorFlow/JAX through tf2onnx), renamed to the torch path's
    input and output names."""
    import onnx

    with tempfile.TemporaryDirectory(prefix="kepler-edge-") as folder:
        path = Path(folder) / "network.onnx"
        try:
            network.export(str(path), format="onnx", verbose=False, opset_version=opset)
        except Exception as exc:
            raise ExportError(f"Model {model.name!r}: Keras's ONNX export failed on {backend}: "
                              f"{exc}"[:600], hint=f"Blocking step: model: keras export on "
                              f"{backend}. {TORCH_HINT}.") from exc
        net = onnx.load(str(path))
    graph = net.graph
    if len(graph.input) != 1 or len(graph.output) != 1:
        raise ExportError(f"Model {model.name!r}: Keras's ONNX export has "
                          f"{len(graph.input)} inputs and {len(graph.output)} outputs.",
                          hint="Blocking step: model: one input and one output are needed.")
    renames = {graph.input[0].name: NET_INPUT, graph.output[0].name: NET_OUTPUT}
    for node in graph.node:
        node.input[:] = [renames.get(name, name) for name in node.input]
        node.output[:] = [renames.get(name, name) for name in node.output]
    graph.input[0].name, graph.output[0].name = NET_INPUT, NET_OUTPUT
    return net


class _Call:
    """Builds the thin ``torch.nn.Module`` that calls the Keras network in inference mode on
    a float32 matrix (torch is imported only when a torch-backend network is exported)."""

    @staticmethod
    def wrap(network: Any) -> Any:
        import torch

        class KerasCall(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.network = network

            def forward(self, features: Any) -> Any:
                out = self.network(features, training=False)
                return out.reshape(out.shape[0], -1)

        return KerasCall()


def _decode(graph: Any, predictor: Any, width: int) -> dict[str, str]:
    """Append what ``KerasModel.probabilities``/``predict`` do; the outputs the runner reads."""
    from onnx import TensorProto, helper

    raw = f"net_{NET_OUTPUT}"
    del graph.output[:]
    if predictor.task == "classification":
        if width == 1:  # one sigmoid unit: the probability of the second class
            graph.initializer.append(helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]))
            graph.node.extend([helper.make_node("Sub", ["one", raw], ["first"]),
                               helper.make_node("Concat", ["first", raw], ["probabilities"],
                                                axis=1)])
        else:
            graph.node.append(helper.make_node("Identity", [raw], ["probabilities"]))
        graph.output.append(helper.make_tensor_value_info("probabilities", TensorProto.FLOAT,
                                                          [None, None]))
        return {"probabilities": "probabilities"}
    std = float(predictor.meta.get("target_std", 1.0))
    mean = float(predictor.meta.get("target_mean", 0.0))
    graph.initializer.extend([helper.make_tensor("target_std", TensorProto.FLOAT, [], [std]),
                              helper.make_tensor("target_mean", TensorProto.FLOAT, [], [mean])])
    graph.node.extend([helper.make_node("Mul", [raw, "target_std"], ["scaled"]),
                       helper.make_node("Add", ["scaled", "target_mean"], ["variable"])])
    graph.output.append(helper.make_tensor_value_info("variable", TensorProto.FLOAT,
                                                      [None, None]))
    return {"label": "variable"}


def convert(model: Any, opset: int | None = None) -> Converted:
    """The ONNX form of a kepler-keras model (the default MLP and networks that trace)."""
    import onnx

    predictor, opset = model.predictor, opset or OPSET
    _check(model, predictor)
    pre, features = preprocessing(model, predictor.preprocess, opset)
    matrix = predictor.transform(one_row(features))
    width = int(predictor.outputs(matrix).shape[1])
    merged = join(pre, _network(model, predictor, int(matrix.shape[1]), opset))
    outputs = _decode(merged.graph, predictor, width)
    onnx.checker.check_model(merged)
    return Converted(merged, features, outputs)
