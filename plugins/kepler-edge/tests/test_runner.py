"""The runner: kepler serve's routes and shapes, 422 naming the field, batch mode, and a
tampered bundle refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from edge_helpers import InProcess, http


@pytest.fixture
def served(bundle: Path) -> Any:
    with InProcess(bundle) as server:
        yield server


def test_predict_shape_matches_kepler_serve(served: InProcess, rows: list[dict[str, Any]],
                                            classifier_folder: Path) -> None:
    from kepler.api import load_model

    status, body = http("POST", f"{served.url}/predict", {"instances": rows})
    assert status == 200
    assert set(body) == {"predictions", "probabilities", "classes", "model", "version"}
    model = load_model(classifier_folder)
    assert body["predictions"] == model.predict(rows).tolist()
    assert body["classes"] == list(model.classes)
    assert len(body["probabilities"]) == len(rows) and len(body["probabilities"][0]) == 2


def test_v2_routes(served: InProcess, rows: list[dict[str, Any]]) -> None:
    name = served.runner.name
    assert http("GET", f"{served.url}/v2/health/live") == (200, {"live": True})
    assert http("GET", f"{served.url}/v2/health/ready") == (200, {"ready": True})
    status, meta = http("GET", f"{served.url}/v2/models/{name}")
    assert status == 200 and [i["name"] for i in meta["inputs"]][:2] == ["pump", "temperature"]
    inputs = [{"name": f, "shape": [len(rows)], "datatype": "FP64" if f != "pump" and
               f != "mode" else "BYTES", "data": [r[f] for r in rows]}
              for f in meta["inputs"] and [i["name"] for i in meta["inputs"]]]
    status, body = http("POST", f"{served.url}/v2/models/{name}/infer",
                        {"id": "r1", "inputs": inputs})
    assert status == 200, body
    assert body["id"] == "r1" and body["model_name"] == name
    predictions = http("POST", f"{served.url}/predict", {"instances": rows})[1]["predictions"]
    assert body["outputs"][0]["data"] == predictions
    assert body["outputs"][1]["shape"] == [len(rows), 2]
    assert http("GET", f"{served.url}/v2/models/other")[0] == 404


def test_health_metadata_metrics(served: InProcess, rows: list[dict[str, Any]]) -> None:
    assert http("GET", f"{served.url}/health") == (200, {"status": "ok"})
    assert http("GET", f"{served.url}/ready")[1]["status"] == "ready"
    http("POST", f"{served.url}/predict", {"instances": rows})
    status, meta = http("GET", f"{served.url}/metadata")
    assert status == 200 and meta["parity"]["passed"] and "files" not in meta
    status, text = http("GET", f"{served.url}/metrics")
    assert status == 200 and "kepler_edge_rows_total" in text


@pytest.mark.parametrize(("change", "loc", "kind"), [
    ({"temperature": "hot"}, ["instances", 0, "temperature"], "float_parsing"),
    ({"pump": 3}, ["instances", 0, "pump"], "string_type"),
    ({"temperature": True}, ["instances", 0, "temperature"], "float_type"),
    ({"pressure": 1e300}, ["instances", 0, "pressure"], "finite_number"),
])
def test_bad_input_is_422_naming_the_field(served: InProcess, rows: list[dict[str, Any]],
                                           change: dict[str, Any], loc: list[Any],
                                           kind: str) -> None:
    status, body = http("POST", f"{served.url}/predict", {"instances": [{**rows[0], **change}]})
    assert status == 422
    assert body["detail"] == [{"loc": loc, "msg": body["detail"][0]["msg"], "type": kind}]
    assert str(next(iter(change.values()))) not in json.dumps(body)  # no value echoed


def test_missing_field_and_bad_bodies(served: InProcess, rows: list[dict[str, Any]]) -> None:
    row = {k: v for k, v in rows[0].items() if k != "rpm"}
    status, body = http("POST", f"{served.url}/predict", {"instances": [rows[1], row]})
    assert status == 422 and body["detail"][0]["loc"] == ["instances", 1, "rpm"]
    assert body["detail"][0]["type"] == "missing"
    assert http("POST", f"{served.url}/predict", {"rows": rows})[0] == 422
    assert http("POST", f"{served.url}/predict", {"instances": []})[0] == 422
    flow_null = {**rows[0], "flow": None, "mode": None}  # imputed, as the native model does
    assert http("POST", f"{served.url}/predict", {"instances": [flow_null]})[0] == 200


def test_tampered_bundle_is_refused(bundle: Path, tmp_path: Path) -> None:
    from kepler_edge.runner import BundleError, verify_bundle

    copy = Path(shutil.copytree(bundle, tmp_path / "copy"))
    verify_bundle(copy)
    data = bytearray((copy / "model.onnx").read_bytes())
    data[-10] ^= 0xFF
    (copy / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(BundleError, match="model.onnx"):
        verify_bundle(copy)
    done = subprocess.run([sys.executable, str(copy / "runner.py"), "--port", "0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and "sha256 differs" in done.stderr
    shutil.copyfile(bundle / "model.onnx", copy / "model.onnx")
    (copy / "runner.py").unlink()
    with pytest.raises(BundleError, match="runner.py: listed"):
        verify_bundle(copy)


@pytest.mark.parametrize(("source", "target"), [("csv", "jsonl"), ("jsonl", "csv")])
def test_batch_mode(bundle: Path, tmp_path: Path, rows: list[dict[str, Any]], source: str,
                    target: str) -> None:
    import csv

    from kepler.api import load_model

    infile, outfile = tmp_path / f"in.{source}", tmp_path / f"out.{target}"
    if source == "csv":
        with infile.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    else:
        infile.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = subprocess.run([sys.executable, str(bundle / "runner.py"), "--input", str(infile),
                           "--output", str(outfile)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    if target == "jsonl":
        got = [json.loads(line)["prediction"] for line in outfile.read_text().splitlines()]
    else:
        got = [int(r["prediction"]) for r in csv.DictReader(outfile.open())]
    expected = load_model(bundle.parent / "artifacts" / "rf").predict(rows).tolist()
    assert got == expected
