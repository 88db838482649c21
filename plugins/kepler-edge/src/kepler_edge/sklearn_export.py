"""ONNX export of a scikit-learn-family model, Kepler's preprocessing included.

Works from the loaded model object (``kepler.api.load_model``): its predictor is kepler-sklearn's
``TabularModel``, a fitted ``ColumnTransformer`` (kepler-tabular) plus an estimator, whose
``pipeline()`` is a plain scikit-learn ``Pipeline``. skl2onnx converts that with the converters
of :mod:`kepler_edge.converters`; classifiers give probabilities as a plain tensor (no ZipMap),
which is what the runner and any other ONNX consumer want.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ExportError

#: Default ONNX opset (ai.onnx); ai.onnx.ml follows skl2onnx's choice for it.
OPSET = 17


@dataclass
class Converted:
    """An ONNX model and what the runner needs to feed it and read its outputs."""

    onnx: Any
    features: list[dict[str, Any]]
    outputs: dict[str, str]
    label_decode: list[Any] | None = None
    notes: list[str] = field(default_factory=list)


def blocking_steps(preprocess: Any) -> list[str]:
    """The preprocessing steps no ONNX operator reproduces, as ``preprocess/<columns>/<step>:
    <class>`` (empty: all convertible)."""
    blocked = []
    for name, transformer, _columns in getattr(preprocess, "transformers_", []):
        steps = getattr(transformer, "steps", [(name, transformer)])
        for step, estimator in steps:
            kind = type(estimator).__name__
            if kind == "DatetimeFeatures":
                blocked.append(f"preprocess/{name}/{step}: DatetimeFeatures (timestamps to "
                               "hour, day of week, month has no ONNX operator)")
            infrequent = getattr(estimator, "infrequent_categories_", None)
            if kind == "OneHotEncoder" and infrequent and any(c is not None for c in infrequent):
                blocked.append(f"preprocess/{name}/{step}: OneHotEncoder with grouped rare "
                               "categories (more than 30 distinct values)")
    return blocked


def feature_specs(model: Any, preprocess: Any) -> list[dict[str, Any]]:
    """The ONNX inputs, one per feature the preprocessing reads, in the schema's order."""
    used = {c for _, _, columns in preprocess.transformers_ if isinstance(columns, list)
            for c in columns}
    specs = []
    for feature in model.schema:
        if feature.name not in used:
            continue
        specs.append({"name": feature.name, "kind": feature.kind, "required": feature.required,
                      # Kepler's preprocessing imputes numbers and spells a missing category:
                      # null scores as the native model scores it
                      "nullable": True,
                      "dtype": "string" if feature.kind == "category" else "float",
                      "categories": list(feature.categories or []) or None})
    return specs


def convert(model: Any, opset: int | None = None) -> Converted:
    """The ONNX form of ``model`` (a :class:`kepler.api.Model` of kepler-sklearn)."""
    predictor = model.predictor
    if model.task == "anomaly":
        raise ExportError(f"Model {model.name!r}: anomaly models are not exported.",
                          hint="Blocking step: model/score_samples (the anomaly score of "
                          f"{type(predictor.estimator).__name__}) has no verified ONNX form.")
    preprocess = predictor.preprocess
    if preprocess is None:
        raise ExportError(f"Model {model.name!r} has no Kepler preprocessing to name its "
                          "inputs.", hint="Blocking step: preprocess (None). Train it with "
                          "kp.train.* so the model takes raw records.")
    blocked = blocking_steps(preprocess)
    if blocked:
        raise ExportError(f"Model {model.name!r} cannot be exported to ONNX.",
                          hint="Blocking step(s): " + "; ".join(blocked) + ". Leave those "
                          "features out (features=[...]) and train again.")
    from .converters import register

    register()
    features = feature_specs(model, preprocess)
    onnx_model = _skl2onnx(model, _pipeline(predictor), features, opset or OPSET)
    unknown_categories_as_zeros(onnx_model)
    outputs = [o.name for o in onnx_model.graph.output]
    named = {"label": outputs[0]}
    if model.task == "classification" and len(outputs) > 1:
        named["probabilities"] = outputs[1]
    decode = list(model.classes) if predictor.encoded and model.classes else None
    return Converted(onnx_model, features, named, decode)


def _pipeline(predictor: Any) -> Any:
    """Preprocessing then the estimator, as one scikit-learn ``Pipeline`` skl2onnx converts."""
    from sklearn.pipeline import Pipeline

    from .boosters import estimator_for

    return Pipeline([("preprocess", predictor.preprocess),
                     ("model", estimator_for(predictor.estimator))])


def _skl2onnx(model: Any, pipeline: Any, features: list[dict[str, Any]], opset: int) -> Any:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    types = [(f["name"], StringTensorType([None, 1]) if f["dtype"] == "string"
              else FloatTensorType([None, 1])) for f in features]
    estimator = pipeline.steps[-1][1] if hasattr(pipeline, "steps") else pipeline
    options = {id(estimator): {"zipmap": False}} if model.task == "classification" else None
    try:
        return convert_sklearn(pipeline, initial_types=types, options=options,
                               target_opset={"": opset, "ai.onnx.ml": 3})
    except Exception as exc:  # skl2onnx raises bare RuntimeError/MissingShapeCalculator
        raise ExportError(f"Model {model.name!r} cannot be exported to ONNX: {exc}"[:600],
                          hint=f"Blocking step: model: {type(estimator).__name__} (no skl2onnx "
                          "converter, or one that rejects its settings). Exportable: "
                          "random_forest, gradient_boosting, logistic_regression, "
                          "decision_tree, linear models, xgboost/lightgbm with the extra.") from exc


def unknown_categories_as_zeros(onnx_model: Any) -> None:
    """An unseen category scores as all-zero one-hot columns, as scikit-learn's
    ``handle_unknown="infrequent_if_exist"`` (without infrequent categories) does; skl2onnx
    writes ``zeros=0`` for that setting, which makes onnxruntime fail on the unseen value."""
    for node in onnx_model.graph.node:
        if node.op_type == "OneHotEncoder":
            for attribute in node.attribute:
                if attribute.name == "zeros":
                    attribute.i = 1
