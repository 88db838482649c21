"""A Keras model served by kepler-serve (in-process HTTP), batch-scored, and ranked next to
scikit-learn models."""

from __future__ import annotations

import warnings

import kepler as kp
import numpy as np
import pytest
from keras_test_layers import FEATURES

pytest.importorskip("kepler_serve", reason="kepler-serve serves the model")


def test_served_over_http_and_batch_scored(sensors, tmp_path):
    from kepler_serve.app import create_app
    from kepler_serve.config import ServeSettings

    kp.train.keras(sensors, target="failure", features=FEATURES, epochs=3, save=True)
    model = kp.models.load("failure-mlp")
    rows = sensors[FEATURES].head(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    with TestClient(create_app(model, ServeSettings())) as client:
        reply = client.post("/predict", json={"instances": rows.to_dict("records")})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["predictions"] == [int(v) for v in model.predict(rows)]
    assert np.allclose(body["probabilities"], model.predict_proba(rows), atol=1e-5)
    report = kp.deploy.batch_score("failure-mlp", sensors.head(40),
                                   output=tmp_path / "scored.parquet")
    assert report.rows == 40


def test_train_compare_takes_keras_as_a_candidate(sensors):
    pytest.importorskip("kepler_sklearn", reason="kp.train.compare comes with kepler-sklearn")
    board = kp.train.compare(sensors, target="efficiency", n_jobs=1,
                             algorithms=["ridge", "keras"],
                             params={"keras": {"epochs": 5}})
    assert sorted(board.labels) == ["mlp", "ridge"] and not board.failures
    assert len({tuple(sorted(m.baseline.items())) for m in board}) == 1  # one split for both
