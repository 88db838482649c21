"""The fast path scores exactly as the model does: predictions and probabilities equal, bit for
bit, for every algorithm it compiles, on real rows with gaps and on rows beyond the training
range; and it steps aside whenever it cannot prove that."""

from __future__ import annotations

import importlib.util

import kepler as kp
import numpy as np
import pytest
from kepler_serve.engine import Scorer
from kepler_serve.fastpath import compile_model, same, sample_rows
from kepler_serve.inputs import InputSpec
from serve_helpers import rows_of

ALGORITHMS = [
    ("random_forest", "failure", {"n_estimators": 12}),
    ("extra_trees", "failure", {"n_estimators": 12}),
    ("hist_gradient_boosting", "failure", {"max_iter": 20}),
    ("gradient_boosting", "failure", {"n_estimators": 20}),
    ("logistic_regression", "failure", {}),
    ("knn", "failure", {}),
    ("random_forest", "efficiency", {"n_estimators": 12}),
    ("ridge", "efficiency", {}),
    ("isolation_forest", None, {"n_estimators": 20}),
    ("kmeans", None, {"n_clusters": 3}),
]
for library in ("xgboost", "lightgbm"):
    if importlib.util.find_spec(library):
        ALGORITHMS.append((library, "failure", {"n_estimators": 10}))


def _data(sensors, target):
    if target == "failure":
        return sensors.drop(columns=["efficiency"])
    if target == "efficiency":
        return sensors.drop(columns=["failure"])
    return sensors.drop(columns=["failure", "efficiency"])


def _validated(model, rows):
    """Records as the API hands them to the scorer: parsed and validated from JSON."""
    import json

    return InputSpec(model.schema).parse_predict(json.dumps({"instances": rows}).encode())


@pytest.mark.parametrize(("algorithm", "target", "params"), ALGORITHMS,
                         ids=[f"{a}-{t}" for a, t, _ in ALGORITHMS])
def test_fast_path_equals_the_model(sensors, algorithm, target, params):
    model = getattr(kp.train, algorithm)(_data(sensors, target), target=target, **params)
    fast, note = compile_model(model)
    assert fast is not None, note
    assert "identical to the model" in note
    held_out = _data(sensors, target).drop(columns=[target] if target else []).iloc[::3]
    rows = _validated(model, rows_of(held_out)) + sample_rows(model.schema, 300, seed=7)
    assert same(model.predict(rows), fast.predict(rows))
    if model.task == "classification":
        assert same(model.predict_proba(rows), fast.predict_proba(rows))
        predicted, proba = fast.predict_and_proba(rows)
        assert same(model.predict(rows), predicted)
        assert same(model.predict_proba(rows), proba)
    if model.task == "anomaly":
        assert same(model.score_samples(rows), fast.score_samples(rows))
    scorer = Scorer(model)
    assert scorer.path == "fast"
    scores = scorer.score(rows[:5])
    assert scores.predictions == np.asarray(model.predict(rows[:5])).tolist()


def test_forests_are_walked_tree_by_tree_without_joblib(sensors):
    model = kp.train.random_forest(_data(sensors, "failure"), target="failure", n_estimators=8)
    fast, _ = compile_model(model)
    assert type(fast.predictor.estimator).__name__ == "Trees"
    assert "compiled trees" in fast.description


def test_single_rows_and_one_row_with_everything_missing(sensors):
    model = kp.train.random_forest(_data(sensors, "failure"), target="failure", n_estimators=8)
    fast, _ = compile_model(model)
    optional = {f.name: None for f in model.schema if not f.required}
    base = rows_of(_data(sensors, "failure").drop(columns=["failure"]).head(1))[0]
    for row in (base, {**base, **optional}):
        [validated] = _validated(model, [row])
        assert same(model.predict_proba([validated]), fast.predict_proba([validated]))


def test_a_difference_keeps_the_model_on_its_own_path(sensors, monkeypatch):
    from kepler_sklearn import fastpath

    model = kp.train.logistic_regression(_data(sensors, "failure"), target="failure")
    original = fastpath._Scale.__call__

    def drifting(self, X):
        return original(self, X) + 1e-9  # one part in a billion is not "identical"

    monkeypatch.setattr(fastpath._Scale, "__call__", drifting)
    fast, note = compile_model(model)
    assert fast is None and "differ from the model's" in note
    scorer = Scorer(model)
    assert scorer.path == "model"
    rows = sample_rows(model.schema, 4)
    assert scorer.score(rows).predictions == model.predict(rows).tolist()


def test_an_unknown_step_is_not_compiled(sensors):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    numbers = _data(sensors, "failure")[["temperature", "pressure", "vibration", "failure"]]
    model = kp.train.sklearn(make_pipeline(StandardScaler(), DecisionTreeClassifier(
        random_state=0)), numbers, target="failure")
    fast, note = compile_model(model)
    scorer = Scorer(model)
    rows = sample_rows(model.schema, 50)
    assert scorer.score(rows).predictions == model.predict(rows).tolist()
    if fast is None:
        assert note.startswith("not ")


def test_decision_trees_compile_too(sensors):
    from sklearn.tree import DecisionTreeClassifier

    model = kp.train.sklearn(DecisionTreeClassifier(max_depth=6, random_state=0),
                             _data(sensors, "failure"), target="failure")
    fast, note = compile_model(model)
    assert fast is not None, note
    assert type(fast.predictor.estimator).__name__ == "Trees"
