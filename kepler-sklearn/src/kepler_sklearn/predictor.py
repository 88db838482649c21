"""The predictor behind a scikit-learn-family model: preprocessing, then the estimator.

:class:`kepler.model.Model` calls it with the raw feature table. It is the same object right after
training and after loading from an artifact, so save -> load -> predict gives identical results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from kepler.api import ModelError


class TabularModel:
    """Preprocessing (a fitted ``ColumnTransformer``, or None) plus a fitted estimator.

    - classification: ``predict`` gives the original labels; ``predict_proba`` one column per
      class in the order of :attr:`classes`. Estimators that needed labels 0..k-1 (XGBoost,
      LightGBM) were trained on encoded labels and are decoded here.
    - anomaly: ``predict`` gives True for an anomaly; ``score_samples`` lower = more anomalous.
    - clustering: ``predict`` gives the cluster number.
    """

    def __init__(self, preprocess: Any, estimator: Any, *, task: str,
                 classes: Sequence[Any] | None = None, encoded: bool = False,
                 trusted: Sequence[str] = ()) -> None:
        self.preprocess = preprocess
        self.estimator = estimator
        self.task = task
        self.classes = list(classes) if classes is not None else None
        self.encoded = encoded
        #: Extra types the user trusts for skops (their own estimator class).
        self.trusted = tuple(trusted)

    def transform(self, data: Any) -> Any:
        return self.preprocess.transform(data) if self.preprocess is not None else data

    def predict(self, data: Any) -> np.ndarray:
        features = self.transform(data)
        if self.task == "anomaly":
            return np.asarray(self.estimator.predict(features)) == -1
        raw = np.asarray(self.estimator.predict(features))
        if self.encoded and self.classes is not None:
            return np.asarray(self.classes)[raw.astype(int)]
        return raw

    def predict_proba(self, data: Any) -> np.ndarray:
        if self.task != "classification" or not hasattr(self.estimator, "predict_proba"):
            raise ModelError(
                f"{type(self.estimator).__name__} gives no class probabilities.",
                hint="ridge and svm give none: use logistic_regression, or "
                "kp.train.sklearn(CalibratedClassifierCV(SVC())). Anomaly and clustering models "
                "have no classes.",
            )
        return np.asarray(self.estimator.predict_proba(self.transform(data)))

    def decision_function(self, data: Any) -> np.ndarray:
        return np.asarray(self.estimator.decision_function(self.transform(data)))

    def score_samples(self, data: Any) -> np.ndarray:
        if not hasattr(self.estimator, "score_samples"):
            raise ModelError(f"{type(self.estimator).__name__} gives no anomaly scores.")
        return np.asarray(self.estimator.score_samples(self.transform(data)))

    def pipeline(self) -> Any:
        """A scikit-learn ``Pipeline`` of both steps (or the bare estimator without
        preprocessing): what skops saves, and what you get to use outside Kepler."""
        if self.preprocess is None:
            return self.estimator
        from sklearn.pipeline import Pipeline

        return Pipeline([("preprocess", self.preprocess), ("model", self.estimator)])

    def __repr__(self) -> str:
        return f"TabularModel({self.task}, {type(self.estimator).__name__})"


class LightGBMBooster:
    """A LightGBM ``Booster`` behind the estimator interface the predictor calls.

    LightGBM's native text format stores the booster, not the scikit-learn wrapper, so training
    wraps the fitted booster right away: the model predicts the same way before and after saving.
    """

    def __init__(self, booster: Any, *, task: str, n_classes: int | None = None) -> None:
        self.booster = booster
        self.task = task
        self.n_classes = n_classes

    def _raw(self, features: Any) -> np.ndarray:
        return np.asarray(self.booster.predict(np.asarray(features, dtype="float64")))

    def predict(self, features: Any) -> np.ndarray:
        if self.task == "classification":
            return np.argmax(self.predict_proba(features), axis=1)
        return self._raw(features)

    def predict_proba(self, features: Any) -> np.ndarray:
        if self.task != "classification":
            raise AttributeError("predict_proba")
        raw = self._raw(features)
        if raw.ndim == 1:  # binary: the probability of class 1
            return np.column_stack([1.0 - raw, raw])
        return raw
