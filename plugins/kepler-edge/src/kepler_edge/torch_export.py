"""ONNX export of a kepler-torch tabular model: Kepler's preprocessing (skl2onnx) and the
network (``torch.onnx.export``) joined into one graph, then what ``TorchModel.decode`` does
(softmax for classifiers, the target's scale and mean for regressors) as ONNX nodes.

Sequence models (``window=N``) and forecasters relative to the last value read several rows
per prediction; they are refused, naming that step.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

from .errors import ExportError
from .sklearn_export import (
    OPSET,
    Converted,
    blocking_steps,
    feature_specs,
    unknown_categories_as_zeros,
)

NET_INPUT, NET_OUTPUT = "features", "raw"


def _check(model: Any, predictor: Any) -> None:
    if predictor.window:
        raise ExportError(f"Model {model.name!r} is a sequence model.",
                          hint=f"Blocking step: model/window={predictor.window} (a prediction "
                          "reads several rows; the runner scores one row at a time).")
    if predictor.meta.get("relative_to"):
        raise ExportError(f"Model {model.name!r} forecasts relative to the last value.",
                          hint="Blocking step: model/relative_to (needs the previous reading).")
    blocked = blocking_steps(predictor.preprocess) if predictor.preprocess is not None else \
        ["preprocess (None)"]
    if blocked:
        raise ExportError(f"Model {model.name!r} cannot be exported to ONNX.",
                          hint="Blocking step(s): " + "; ".join(blocked) + ".")


def trace(module: Any, width: int, opset: int) -> Any:
    """``module`` (a torch.nn.Module reading a float32 matrix ``width`` wide) as ONNX, with
    input ``features`` and output ``raw``; kepler-keras networks on the torch backend too."""
    import onnx
    import torch

    module = module.to("cpu").eval()
    example = torch.zeros(1, width, dtype=torch.float32)
    with tempfile.TemporaryDirectory(prefix="kepler-edge-") as folder:
        path = Path(folder) / "network.onnx"
        # the TorchScript exporter: no onnxscript needed, and these MLPs trace exactly (its
        # deprecation warning is torch's plan, not something the user can act on)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(module, (example,), str(path), dynamo=False,
                              input_names=[NET_INPUT],
                              output_names=[NET_OUTPUT], opset_version=opset,
                              dynamic_axes={NET_INPUT: {0: "rows"}, NET_OUTPUT: {0: "rows"}})
        return onnx.load(str(path))


def _decode(graph: Any, predictor: Any) -> dict[str, str]:
    """Append what ``TorchModel.decode`` does; the outputs the runner reads."""
    from onnx import TensorProto, helper

    raw = f"net_{NET_OUTPUT}"
    del graph.output[:]
    if predictor.task == "classification":
        graph.node.append(helper.make_node("Softmax", [raw], ["probabilities"], axis=1))
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


def preprocessing(model: Any, preprocess: Any, opset: int) -> tuple[Any, list[dict[str, Any]]]:
    """Kepler's fitted preprocessing as ONNX (one float matrix out) and the feature specs."""
    from onnx import version_converter
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    from .converters import register

    register()
    features = feature_specs(model, preprocess)
    types = [(f["name"], StringTensorType([None, 1]) if f["dtype"] == "string"
              else FloatTensorType([None, 1])) for f in features]
    pre = convert_sklearn(preprocess, initial_types=types,
                          target_opset={"": opset, "ai.onnx.ml": 3})
    unknown_categories_as_zeros(pre)
    return version_converter.convert_version(pre, opset), features


def join(pre: Any, net: Any) -> Any:
    """The preprocessing graph feeding the network's ``features`` input (its names prefixed
    ``net_``)."""
    from onnx import compose

    return compose.merge_models(pre, net, io_map=[(pre.graph.output[0].name, NET_INPUT)],
                                prefix2="net_")


def convert(model: Any, opset: int | None = None) -> Converted:
    """The ONNX form of a kepler-torch model (tabular MLPs and custom modules that trace)."""
    import onnx

    predictor, opset = model.predictor, opset or OPSET
    _check(model, predictor)
    pre, features = preprocessing(model, predictor.preprocess, opset)
    width = int(predictor.meta.get("in_features") or predictor.transform(
        one_row(features)).shape[1])
    try:
        net = trace(predictor.module, width, opset)
    except Exception as exc:
        raise ExportError(f"Model {model.name!r}: torch.onnx.export failed: {exc}"[:600],
                          hint=f"Blocking step: model: {type(predictor.module).__name__} "
                          "(an operation the TorchScript exporter cannot trace).") from exc
    merged = join(pre, net)
    outputs = _decode(merged.graph, predictor)
    onnx.checker.check_model(merged)
    return Converted(merged, features, outputs)


def one_row(features: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame([{f["name"]: ("a" if f["dtype"] == "string" else 0.0)
                          for f in features}])
