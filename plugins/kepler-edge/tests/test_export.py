"""ONNX export: parity for each model kind, refusal and --force, blocking steps named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from edge_helpers import SENSORS, train
from kepler_edge.errors import ExportError, ParityError
from kepler_edge.export import to_onnx


@pytest.mark.parametrize(("algorithm", "target"), [
    ("random_forest", "failure"),
    ("logistic_regression", "failure"),
    ("gradient_boosting", "failure"),
    ("random_forest", "efficiency"),
])
def test_parity_per_model_kind(algorithm: str, target: str) -> None:
    model = train(algorithm, target=target)
    exported = to_onnx(model)
    report = exported.parity
    assert report["passed"] and report["label_mismatches"] == 0
    assert report["rows"] == 200
    if target == "failure":
        assert report["max_abs_diff_probabilities"] <= 1e-5
        assert exported.manifest["outputs"]["probabilities"]
    else:
        assert "probabilities" not in exported.manifest["outputs"]
    assert "PASSED" in str(exported)


def test_parity_on_given_rows_with_missing_and_unseen_values() -> None:
    model = train("random_forest", n_estimators=20)
    frame = SENSORS.drop(columns=["failure"]).head(60).copy()
    frame["pump"] = frame["pump"].astype(object)
    frame.loc[frame.index[:10], "flow"] = np.nan
    frame.loc[frame.index[10:15], "pump"] = "pump-never-seen"
    frame.loc[frame.index[15:20], "mode"] = None
    report = to_onnx(model, rows=frame).parity
    assert report["passed"] and report["source"] == "given rows" and report["rows"] == 60


def test_parity_failure_is_refused_unless_forced(tmp_path: Path) -> None:
    model = train("random_forest", n_estimators=20)
    with pytest.raises(ParityError) as caught:
        to_onnx(model, tolerance=1e-12)
    assert "FAILED" in str(caught.value) and "--force" in (caught.value.hint or "")
    forced = to_onnx(model, tolerance=1e-12, force=True)
    assert forced.parity["forced"] is True and not forced.parity["passed"]
    path = forced.save(tmp_path / "m.onnx")
    assert json.loads(path.with_suffix(".parity.json").read_text())["forced"] is True


def test_datetime_feature_names_the_blocking_step() -> None:
    data = SENSORS.copy()
    data["installed"] = pd.to_datetime("2025-01-01", utc=True) + pd.to_timedelta(
        np.arange(len(data)), unit="h")
    model = train("random_forest", data=data, n_estimators=5)
    with pytest.raises(ExportError) as caught:
        to_onnx(model)
    assert "DatetimeFeatures" in (caught.value.hint or "")
    assert "preprocess/datetime/parts" in (caught.value.hint or "")


def test_anomaly_model_names_the_blocking_step() -> None:
    model = train("isolation_forest", target=None,
                  data=SENSORS.drop(columns=["failure"]))
    with pytest.raises(ExportError, match="anomaly") as caught:
        to_onnx(model)
    assert "score_samples" in (caught.value.hint or "")


def test_sdk_and_cli(kepler_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import kepler as kp

    model = train("random_forest", n_estimators=10)
    model.save()
    assert kp.models.to_onnx(model.name).parity["passed"]
    out = tmp_path / "pump.onnx"
    result = kepler_cli("models", "export", model.name, "--format", "onnx", "-o", str(out))
    assert result.code == 0, result.out + result.err
    assert "parity PASSED" in result.out
    assert out.stat().st_size > 1000
    assert json.loads(out.with_suffix(".parity.json").read_text())["passed"] is True
    bad = kepler_cli("models", "export", model.name, "--tolerance", "1e-12", "-o", str(out))
    assert bad.code != 0 and "--force" in bad.out + bad.err


@pytest.mark.parametrize("algorithm", ["xgboost", "lightgbm"])
@pytest.mark.parametrize("target", ["failure", "efficiency"])
def test_parity_boosters(algorithm: str, target: str) -> None:
    pytest.importorskip("onnxmltools", reason="the xgboost/lightgbm extras are not installed")
    pytest.importorskip(algorithm, reason=f"{algorithm} is not installed")
    report = to_onnx(train(algorithm, target=target, n_estimators=30)).parity
    assert report["passed"] and report["label_mismatches"] == 0


@pytest.mark.parametrize("target", ["failure", "efficiency"])
def test_parity_pytorch(target: str) -> None:
    pytest.importorskip("torch", reason="torch is not installed")
    pytest.importorskip("kepler_torch", reason="kepler-torch is not installed")
    model = train("pytorch", target=target, epochs=2)
    exported = to_onnx(model)
    assert exported.parity["passed"] and exported.parity["label_mismatches"] == 0
    assert ("probabilities" in exported.manifest["outputs"]) == (target == "failure")


@pytest.mark.parametrize(("algorithm", "target"), [
    ("random_forest", "failure"),
    ("random_forest", "efficiency"),
    ("logistic_regression", "failure"),
])
def test_one_row_binding_scores_like_the_batch(algorithm: str, target: str) -> None:
    """One numeric row goes through a reused I/O binding per thread: each row scored alone,
    from several threads at once, gives what scoring them all together gives."""
    from concurrent.futures import ThreadPoolExecutor

    from kepler_edge.runner import Scorer

    numeric = SENSORS[["temperature", "pressure", "vibration", "flow", "rpm", target]]
    exported = to_onnx(train(algorithm, target=target, data=numeric.copy()))
    scorer = Scorer(exported.onnx, exported.manifest)
    assert scorer._one_row_outputs is not None  # the fast path is the one under test
    rows = numeric.drop(columns=[target]).head(80).to_dict("records")
    together = scorer.score(rows)
    with ThreadPoolExecutor(4) as pool:
        alone = list(pool.map(lambda row: scorer.score([row]), rows))
    assert [one["predictions"][0] for one in alone] == together["predictions"]
    if "probabilities" in together:  # a batch's matrix product rounds float32 its own way
        np.testing.assert_allclose([one["probabilities"][0] for one in alone],
                                   together["probabilities"], atol=1e-6)
