"""Metrics always next to a naive baseline on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kepler_tabular import average, positive_class, score_classification, score_regression


def test_classification_is_scored_against_the_majority_class():
    y_train = pd.Series([0] * 8 + [1] * 2)
    y_test = pd.Series([0, 0, 0, 1, 1])
    result = score_classification(y_test, np.array([0, 0, 1, 1, 1]), y_train, [0, 1],
                                  proba=np.array([[.9, .1], [.8, .2], [.4, .6], [.3, .7],
                                                  [.1, .9]]))
    assert positive_class(y_train) == 1  # the rarer class is the one to detect
    assert result.metrics["accuracy"] == pytest.approx(0.8)
    assert result.metrics["recall"] == 1.0 and result.metrics["roc_auc"] == 1.0
    assert result.baseline["accuracy"] == pytest.approx(0.6)  # always "0"
    assert result.baseline["recall"] == 0.0
    assert result.details["confusion_matrix"]["matrix"] == [[2, 1], [0, 2]]
    assert result.main("classification") == "f1"


def test_regression_is_scored_against_the_training_mean():
    result = score_regression([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], [0.0, 4.0])
    assert result.metrics["mae"] == pytest.approx(1 / 3)
    assert result.baseline["mae"] == pytest.approx(2 / 3)  # always 2.0
    assert result.details["baseline_prediction"] == 2.0
    assert result.main("regression") == "rmse"


def test_folds_are_averaged_with_their_spread():
    folds = [score_regression([1.0, 2.0], [1.0, 2.0], [0.0, 2.0]),
             score_regression([1.0, 2.0], [2.0, 3.0], [0.0, 2.0])]
    result = average(folds)
    assert result.metrics["mae"] == pytest.approx(0.5)
    assert result.details["per_fold"]["mae"] == [0.0, 1.0]
    assert result.details["folds"] == 2 and result.details["std"]["mae"] == pytest.approx(0.5)
