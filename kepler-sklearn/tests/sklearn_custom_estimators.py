"""A user's own estimator class, as a data scientist would write one (used by the tests)."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class ThresholdClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the rarer class when the first feature exceeds a learned threshold."""

    def __init__(self, quantile=0.9):
        self.quantile = quantile

    def fit(self, X, y):
        X = np.asarray(X, dtype=float)
        self.classes_ = np.unique(y)
        self.threshold_ = float(np.quantile(X[:, 0], self.quantile))
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=float)
        return np.where(X[:, 0] > self.threshold_, self.classes_[-1], self.classes_[0])
