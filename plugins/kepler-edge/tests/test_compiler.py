"""kepler-edge as kepler serve's compiler: a model whose ONNX export passes its parity check is
served by onnxruntime; one ONNX cannot express falls back, with a warning naming the step."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from edge_helpers import SENSORS, train

pytest.importorskip("kepler_serve", reason="kepler-serve (kepler-edge's test extra) is missing")


def _client(model: Any, **settings: Any) -> Any:
    from kepler_serve.app import create_app
    from kepler_serve.config import ServeSettings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    return TestClient(create_app(model, ServeSettings(**settings)))


def test_kepler_serve_scores_through_onnx(classifier_folder: Path,
                                          rows: list[dict[str, Any]]) -> None:
    from kepler.api import load_model

    model = load_model(classifier_folder)
    unseen = {**rows[0], "pump": "pump-never-seen", "flow": None}
    with _client(model) as client:
        serving = client.get("/metadata").json()["serving"]
        v2 = client.get(f"/v2/models/{model.name}").json()
        reply = client.post("/predict", json={"instances": [*rows, unseen]})
        one = [client.post("/predict", json={"instances": [row]}).json() for row in rows]
        bad = client.post("/predict", json={"instances": [{**rows[0], "temperature": "hot"}]})
    assert serving["scoring_path"] == "onnxruntime", serving["fast_path"]
    assert "within 1e-05 of the model on 200 check rows" in serving["fast_path"]
    assert v2["parameters"]["scoring_path"] == "onnxruntime"
    assert reply.status_code == 200
    body = reply.json()
    assert body["predictions"] == model.predict([*rows, unseen]).tolist()
    np.testing.assert_allclose(body["probabilities"], model.predict_proba([*rows, unseen]),
                               atol=1e-5)
    assert [o["predictions"][0] for o in one] == body["predictions"][:len(rows)]
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "temperature"


def test_a_numeric_regressor_one_row_at_a_time() -> None:
    numeric = SENSORS[["temperature", "pressure", "vibration", "flow", "rpm", "efficiency"]]
    model = train("random_forest", target="efficiency", data=numeric.copy(), n_estimators=15)
    rows = numeric.drop(columns=["efficiency"]).head(40)
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    with _client(model) as client:
        assert client.get("/metadata").json()["serving"]["scoring_path"] == "onnxruntime"
        alone = [client.post("/predict", json={"instances": [r]}).json()["predictions"][0]
                 for r in records]
    np.testing.assert_allclose(alone, model.predict(records), rtol=1e-5, atol=1e-5)


def test_large_numeric_requests_score_from_the_servers_matrix() -> None:
    """kepler serve decodes a large all-numeric request column by column and hands over
    NumericRecords; the compiler feeds their matrix as it is, and rows given as plain dicts
    (with or without nulls) score the same."""
    from kepler.api import NumericRecords
    from kepler_edge.compiler import compile_model

    numeric = SENSORS[["temperature", "pressure", "vibration", "rpm", "efficiency", "failure"]]
    model = train("random_forest", data=numeric.dropna().copy(), n_estimators=10)
    compiled = compile_model(model)
    frame = numeric.drop(columns=["failure"]).dropna().head(100).astype(float)
    rows = frame.to_dict("records")
    names = [f.name for f in model.schema]
    records = NumericRecords(rows, names, frame[names].to_numpy())
    assert compiled._table(records) is records.matrix
    from_matrix = compiled.predict_and_proba(records)
    from_rows = compiled.predict_and_proba(list(rows))
    assert from_matrix[0] == from_rows[0] == model.predict(rows).tolist()
    np.testing.assert_array_equal(from_matrix[1], from_rows[1])
    with_null = [dict(row) for row in rows]
    with_null[3]["pressure"] = None
    table = compiled._table(with_null)
    assert np.isnan(table[3][names.index("pressure")])
    reordered = NumericRecords(rows, names[::-1], frame[names[::-1]].to_numpy())
    assert compiled._table(reordered) is not reordered.matrix  # not this model's column order
    with _client(model) as client:
        reply = client.post("/predict", json={"instances": rows}).json()
    assert reply["predictions"] == from_rows[0]
    np.testing.assert_allclose(reply["probabilities"], from_rows[1], atol=1e-7)


def test_a_model_onnx_cannot_express_falls_back_with_a_warning(caplog: Any) -> None:
    timed = train("random_forest", n_estimators=10,
                  features=["_time", "pump", "temperature", "pressure", "rpm"])
    with caplog.at_level(logging.WARNING, logger="kepler_serve.fastpath"), \
            _client(timed) as client:
        serving = client.get("/metadata").json()["serving"]
    assert serving["scoring_path"] in ("fast", "model")
    assert "onnxruntime not compiled: ExportError" in serving["fast_path"]
    assert any("compiler onnxruntime passed over" in r.getMessage() for r in caplog.records)


def test_compiler_format_keeps_the_format_s_own(classifier_folder: Path) -> None:
    from kepler.api import load_model

    with _client(load_model(classifier_folder), compiler="format") as client:
        assert client.get("/metadata").json()["serving"]["scoring_path"] == "fast"
