"""XGBoost and LightGBM estimators in skl2onnx, through onnxmltools' converters.

XGBoost's scikit-learn wrappers convert as they are. kepler-sklearn keeps a LightGBM model as
its native ``Booster`` behind a small wrapper (``LightGBMBooster``) that is not a scikit-learn
estimator, so :func:`estimator_for` puts the booster in :class:`LightGBMStep` (one, so a
``Pipeline`` takes it) and its converter hands onnxmltools the booster itself.
"""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin


class LightGBMStep(BaseEstimator):
    """A fitted LightGBM booster as the last step of a scikit-learn ``Pipeline``, for export
    only (it does not predict)."""

    task = "regression"

    def __init__(self, booster: Any = None) -> None:
        self.booster = booster

    def wrapped(self) -> Any:
        from onnxmltools.convert.lightgbm._parse import WrappedBooster

        return WrappedBooster(self.booster)


class LightGBMClassifierStep(ClassifierMixin, LightGBMStep):
    """The classifier kind: skl2onnx gives it a label and a probabilities output."""

    task = "classification"

    @property
    def classes_(self) -> Any:
        return self.wrapped().classes_


class LightGBMRegressorStep(RegressorMixin, LightGBMStep):
    """The regressor kind: one value output."""


def estimator_for(estimator: Any) -> Any:
    """The estimator skl2onnx is given: ``estimator``, or a :class:`LightGBMStep` for a
    kepler-sklearn ``LightGBMBooster``."""
    if type(estimator).__name__ == "LightGBMBooster":
        kind = LightGBMClassifierStep if estimator.task == "classification" else \
            LightGBMRegressorStep
        return kind(estimator.booster)
    return estimator


def _lightgbm_shape(operator: Any) -> None:
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    if operator.raw_operator.task == "classification":
        calculate_linear_classifier_output_shapes(operator)
    else:
        calculate_linear_regressor_output_shapes(operator)


def _lightgbm_convert(scope: Any, operator: Any, container: Any) -> None:
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm

    step = operator.raw_operator
    operator.raw_operator = step.wrapped()
    try:
        convert_lightgbm(scope, operator, container)
    finally:
        operator.raw_operator = step


def register(update: Any) -> None:
    """Register what onnxmltools converts, for whichever of XGBoost and LightGBM is installed
    (nothing without the ``xgboost``/``lightgbm`` extras: export then names the estimator as
    the blocking step)."""
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    classifier = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    try:  # each on its own: onnxmltools' XGBoost converter imports xgboost
        from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
        from xgboost import XGBClassifier, XGBRegressor
    except ImportError:
        pass
    else:
        update(XGBClassifier, "XGBoostXGBClassifier", calculate_linear_classifier_output_shapes,
               convert_xgboost, options=classifier)
        update(XGBRegressor, "XGBoostXGBRegressor", calculate_linear_regressor_output_shapes,
               convert_xgboost)
    try:
        import onnxmltools.convert.lightgbm.operator_converters.LightGbm  # noqa: F401
    except ImportError:
        return
    update(LightGBMClassifierStep, "KeplerLightGBMClassifier", _lightgbm_shape,
           _lightgbm_convert, options=classifier)
    update(LightGBMRegressorStep, "KeplerLightGBMRegressor", _lightgbm_shape, _lightgbm_convert)
