"""ONNX export of kepler-keras models (torch backend): parity for a classifier (softmax and one
sigmoid unit) and a regressor, the bundle's runner answering like ``kepler serve``, the CLI and
deploy paths, and the error of a backend with no ONNX path."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from edge_helpers import SENSORS, InProcess, http, train
from kepler_edge.errors import ExportError
from kepler_edge.export import to_onnx

pytest.importorskip("torch", reason="torch is not installed (Keras's torch backend)")
if importlib.util.find_spec("keras") is None:  # importing it would pick a backend now
    pytest.skip("keras is not installed", allow_module_level=True)
pytest.importorskip("kepler_keras", reason="kepler-keras is not installed")


@pytest.fixture(scope="session")
def keras_folders(session_home: Path) -> Iterator[dict[str, Path]]:
    """A saved Keras classifier and regressor (artifact folders), on the torch backend."""
    import torch

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "torch"))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # tiny networks: one thread is faster, and CI has two cores
        try:
            yield {target: Path(train("keras", target=target, epochs=2).save(
                session_home / "artifacts" / f"keras-{target}").path)
                for target in ("failure", "efficiency")}
        finally:
            torch.set_num_threads(threads)


@pytest.mark.parametrize("target", ["failure", "efficiency"])
def test_keras_parity(keras_folders: dict[str, Path], target: str) -> None:
    exported = to_onnx(keras_folders[target])
    report = exported.parity
    assert report["passed"] and report["label_mismatches"] == 0 and report["rows"] == 200
    assert exported.manifest["algorithm"] and exported.manifest["task"] == (
        "classification" if target == "failure" else "regression")
    if target == "failure":
        assert report["max_abs_diff_probabilities"] <= 1e-5
        assert exported.manifest["outputs"] == {"probabilities": "probabilities"}
    else:
        assert report["max_abs_diff_values"] < 1e-3
        assert exported.manifest["outputs"] == {"label": "variable"}


def test_keras_one_sigmoid_unit_gives_two_probabilities(keras_folders: dict[str, Path]) -> None:
    import keras

    def build(shape: tuple[int, ...]) -> Any:
        return keras.Sequential([keras.Input(shape), keras.layers.Dense(8, activation="relu"),
                                 keras.layers.Dense(1, activation="sigmoid")])

    model = train("keras", model=build, epochs=2)
    exported = to_onnx(model)
    assert exported.parity["passed"] and exported.parity["max_abs_diff_probabilities"] <= 1e-5
    assert exported.manifest["classes"] == list(model.classes)


@pytest.mark.parametrize("target", ["failure", "efficiency"])
def test_keras_bundle_runner_answers_like_kepler_serve(
        keras_folders: dict[str, Path], tmp_path: Path, target: str) -> None:
    from kepler.api import load_model
    from kepler_edge.bundle import write_bundle

    frame = SENSORS.drop(columns=[target, "_time"]).head(5)
    rows = list(frame.astype(object).where(frame.notna(), None).to_dict(orient="records"))

    folder = write_bundle(to_onnx(keras_folders[target]), tmp_path / "bundle",
                          platform="manylinux_2_28_x86_64", python="3.11", wheels=False)
    model = load_model(keras_folders[target])
    with InProcess(folder) as served:
        status, body = http("POST", f"{served.url}/predict", {"instances": rows})
    assert status == 200, body
    if target == "failure":
        assert set(body) == {"predictions", "probabilities", "classes", "model", "version"}
        assert body["predictions"] == model.predict(rows).tolist()
        assert body["classes"] == list(model.classes)
        np.testing.assert_allclose(body["probabilities"], model.predict_proba(rows), atol=1e-5)
    else:
        assert set(body) == {"predictions", "model", "version"}
        np.testing.assert_allclose(body["predictions"], model.predict(rows), rtol=1e-5,
                                   atol=1e-5)


def test_keras_sdk_cli_and_deploy(keras_folders: dict[str, Path], kepler_cli: Any,
                                  tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    import kepler as kp

    model = train("keras", epochs=1)
    model.save()
    assert kp.models.to_onnx(model.name).parity["passed"]
    out = tmp_path / "pump.onnx"
    result = kepler_cli("models", "export", model.name, "--format", "onnx", "-o", str(out))
    assert result.code == 0, result.out + result.err
    assert "parity PASSED" in result.out
    assert json.loads(out.with_suffix(".parity.json").read_text())["passed"] is True
    result = kepler_cli("deploy", model.name, "--target", "edge", "--name", "keras-edge",
                        "-o", f"out={tmp_path / 'edge'}", "-o", "wheels=false")
    assert result.code == 0, result.out + result.err
    manifest = json.loads((tmp_path / "edge" / "kepler-model.json").read_text())
    assert manifest["parity"]["passed"] and manifest["name"] == model.name
    answer = kp.deploy.predict("keras-edge", rows)
    assert answer["predictions"] == model.predict(rows).tolist()


def test_keras_backend_without_an_onnx_path_names_the_step(
        keras_folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from kepler_edge import keras_export

    # as on TensorFlow or JAX without tf2onnx: the network is no torch module, no tf2onnx
    monkeypatch.setattr(keras_export, "_installed", lambda package: False)
    with pytest.raises(ExportError, match="tf2onnx") as caught:
        to_onnx(keras_folders["failure"])
    hint = caught.value.hint or ""
    assert "Blocking step: model: keras export" in hint
    assert "pip install tf2onnx" in hint and "KERAS_BACKEND=torch" in hint
