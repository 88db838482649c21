"""kepler-sklearn: scikit-learn, XGBoost, LightGBM and any sklearn-style estimator in kp.train.

Example::

    import kepler as kp
    from kepler_sklearn.datasets import make_sensor_data

    df = make_sensor_data(rows=2000)
    model = kp.train.random_forest(df, target="failure", split="time")
    model.metrics, model.baseline
    board = kp.train.compare(df, target="failure",
                             algorithms=["random_forest", "logistic_regression", "xgboost"])
    board.best.save()

This package's plugin module registers records only; scikit-learn is imported when a model is
trained or loaded.
"""

from __future__ import annotations

__version__ = "0.1.0"
