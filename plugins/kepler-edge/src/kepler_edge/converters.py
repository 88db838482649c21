"""skl2onnx converters for the steps of Kepler's preprocessing that skl2onnx does not know.

Kepler's ``ColumnTransformer`` (kepler-tabular) bridges pandas types with three small
transformers and imputes with a missing-value indicator. In the ONNX graph each feature arrives
as its own ``[N, 1]`` tensor already of the right type (float32 numbers, strings for
categories, a missing category already spelled ``(missing)`` by the runner), so:

- ``AsFloat`` and ``Categories`` become an Identity (or a Concat of their columns);
- ``SimpleImputer(add_indicator=True)`` becomes an ``Imputer`` plus the indicator columns
  (``IsNaN`` -> ``Gather`` -> ``Cast``), which skl2onnx's own converter leaves out (the graph
  would then give the trees one column too few);
- ``DatetimeFeatures`` has no converter: parsing timestamps is not an ONNX operator, and the
  export names it as the blocking step.

Registration is global to skl2onnx and idempotent; it happens on first export only.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np


def _identity_shape(operator: Any) -> None:
    width = sum(i.type.shape[1] for i in operator.inputs)
    operator.outputs[0].type = operator.inputs[0].type.__class__([None, width])


def _concat(scope: Any, operator: Any, container: Any, output: str | None = None) -> str:
    """The operator's inputs as one tensor (Identity for one input)."""
    output = output or scope.get_unique_variable_name("concat")
    names = [i.full_name for i in operator.inputs]
    if len(names) == 1:
        container.add_node("Identity", names, [output],
                           name=scope.get_unique_operator_name("Identity"))
    else:
        container.add_node("Concat", names, [output],
                           name=scope.get_unique_operator_name("Concat"), axis=1)
    return output


def _identity_convert(scope: Any, operator: Any, container: Any) -> None:
    _concat(scope, operator, container, operator.outputs[0].full_name)


def _imputer_shape(operator: Any) -> None:
    from skl2onnx.shape_calculators.imputer import calculate_sklearn_imputer_output_shapes

    estimator = operator.raw_operator
    if getattr(estimator, "indicator_", None) is None:
        calculate_sklearn_imputer_output_shapes(operator)
        return
    width = len(estimator.statistics_) + len(estimator.indicator_.features_)
    operator.outputs[0].type = operator.inputs[0].type.__class__([None, width])


def _imputer_convert(scope: Any, operator: Any, container: Any) -> None:
    """Imputed values, then one 0/1 column per feature that had missing values in training."""
    from onnx import TensorProto
    from skl2onnx.operator_converters.imputer_op import convert_sklearn_imputer

    estimator = operator.raw_operator
    if getattr(estimator, "indicator_", None) is None:
        convert_sklearn_imputer(scope, operator, container)
        return
    var, op = scope.get_unique_variable_name, scope.get_unique_operator_name
    values = _concat(scope, operator, container)
    imputed, isnan, picked, flags, index = (var(n) for n in
                                            ("imputed", "isnan", "picked", "flags", "index"))
    container.add_node("Imputer", [values], [imputed], name=op("Imputer"), op_domain="ai.onnx.ml",
                       imputed_value_floats=np.asarray(estimator.statistics_, dtype=np.float32)
                       .tolist(), replaced_value_float=float("nan"))
    container.add_node("IsNaN", [values], [isnan], name=op("IsNaN"))
    features = [int(i) for i in estimator.indicator_.features_]
    container.add_initializer(index, TensorProto.INT64, [len(features)], features)
    container.add_node("Gather", [isnan, index], [picked], name=op("Gather"), axis=1)
    container.add_node("Cast", [picked], [flags], name=op("Cast"), to=TensorProto.FLOAT)
    container.add_node("Concat", [imputed, flags], [operator.outputs[0].full_name],
                       name=op("Concat"), axis=1)


@functools.cache
def register() -> None:
    """Register the converters above with skl2onnx (once per process)."""
    import kepler_tabular
    from skl2onnx import update_registered_converter
    from sklearn.impute import SimpleImputer

    for cls in (kepler_tabular.AsFloat, kepler_tabular.Categories):
        update_registered_converter(cls, f"Kepler{cls.__name__}", _identity_shape,
                                    _identity_convert)
    update_registered_converter(SimpleImputer, "SklearnImputer", _imputer_shape,
                                _imputer_convert)
    from .boosters import register as register_boosters

    register_boosters(update_registered_converter)
