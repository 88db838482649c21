"""The edge bundle: its files and manifest, the ``edge`` deployment target (SDK and CLI), and
the runner installed from the bundle's own wheels into a fresh venv, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from edge_helpers import free_port, http, train, wait_ready

FILES = {"model.onnx", "requirements.txt", "runner.py", "Dockerfile", "kepler-edge.service",
         "README.md"}


def test_bundle_files_and_manifest(bundle: Path) -> None:
    from kepler_edge.runner import sha256_file

    manifest = json.loads((bundle / "kepler-model.json").read_text())
    assert set(manifest["files"]) == FILES
    for name, digest in manifest["files"].items():
        assert sha256_file(bundle / name) == digest
    assert manifest["feature_names"][:2] == ["pump", "temperature"]
    assert {f["dtype"] for f in manifest["features"]} == {"float", "string"}
    assert manifest["opset"]["ai.onnx"] <= 17 and manifest["parity"]["passed"]
    requirements = (bundle / "requirements.txt").read_text().split()
    assert [r.split("==")[0] for r in requirements] == ["onnxruntime", "numpy"]
    assert "--no-index --find-links" not in (bundle / "Dockerfile").read_text()  # no wheels here
    assert "Restart=always" in (bundle / "kepler-edge.service").read_text()


def test_runner_imports_nothing_heavy(bundle: Path) -> None:
    code = ("import json, pathlib, runpy, sys\n"
            "ns = runpy.run_path('runner.py')\n"
            "bundle = pathlib.Path('.').resolve()\n"
            "ns['Scorer'](bundle, ns['verify_bundle'](bundle))\n"
            "print([n for n in ('pandas', 'sklearn', 'torch', 'kepler', 'pydantic') "
            "if n in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=bundle)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_deploy_edge_sdk_and_cli(kepler_cli: Any, tmp_path: Path,
                                 rows: list[dict[str, Any]]) -> None:
    import kepler as kp

    model = train("random_forest", n_estimators=10)
    model.save()
    deployment = kp.deploy.to_edge(model.name, out=tmp_path / "sdk", wheels=False)
    assert deployment.target == "edge" and deployment.status == "built"
    assert (tmp_path / "sdk" / "model.onnx").is_file()
    answer = kp.deploy.predict(deployment.name, rows)
    assert answer["predictions"] == model.predict(rows).tolist()
    result = kepler_cli("deploy", model.name, "--target", "edge", "--name", "cli-edge",
                        "-o", f"out={tmp_path / 'cli'}", "-o", "wheels=false",
                        "-o", "tolerance=1e-4", "-o", "python=3.10")
    assert result.code == 0, result.out + result.err
    manifest = json.loads((tmp_path / "cli" / "kepler-model.json").read_text())
    assert manifest["parity"]["tolerance"] == 1e-4
    assert manifest["bundle"]["python"] == "3.10"  # -o parses 3.10 as the number 3.1
    (tmp_path / "cli" / "runner.py").write_text("print('changed')\n")
    status = kepler_cli("deploy", "status", "cli-edge")
    assert "damaged" in status.out + status.err
    bad = kepler_cli("deploy", model.name, "--target", "edge", "--name", "x",
                     "-o", f"out={tmp_path / 'x'}", "-o", "colour=blue")
    assert bad.code != 0 and "colour" in bad.out + bad.err
    bad = kepler_cli("deploy", model.name, "--target", "edge", "--name", "y",
                     "-o", f"out={tmp_path / 'y'}", "-o", "tolerance=abc")
    assert bad.code != 0 and "tolerance" in bad.out + bad.err
    built = kepler_cli("deploy", "build", model.name, "--target", "edge", "--out",
                       str(tmp_path / "built"), "-o", "wheels=false")
    assert built.code == 0, built.out + built.err
    assert (tmp_path / "built" / "kepler-model.json").is_file()


def _pypi_reachable() -> bool:
    try:
        urllib.request.urlopen("https://pypi.org/simple/onnxruntime/", timeout=5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _pypi_reachable(), reason="PyPI is not reachable: the bundle's wheels "
                    "are downloaded with pip download when the bundle is written")
def test_offline_install_from_the_bundle_wheels(classifier_folder: Path, tmp_path: Path,
                                                rows: list[dict[str, Any]]) -> None:
    from kepler_edge.bundle import write_bundle
    from kepler_edge.export import to_onnx

    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    folder = write_bundle(to_onnx(classifier_folder), tmp_path / "bundle",
                          platform="manylinux_2_28_x86_64", python=python)
    manifest = json.loads((folder / "kepler-model.json").read_text())
    assert any(w.startswith("onnxruntime-") for w in manifest["bundle"]["wheels"])
    assert all(f"wheels/{w}" in manifest["files"] for w in manifest["bundle"]["wheels"])
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    install = subprocess.run([*pip, "install", "--quiet", "--no-index", "--find-links",
                              str(folder / "wheels"), "-r", str(folder / "requirements.txt")],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    listed = subprocess.run([*pip, "list", "--format=json"], capture_output=True, text=True,
                            check=True).stdout
    names = {p["name"].lower() for p in json.loads(listed)}
    assert {"onnxruntime", "numpy"} <= names
    assert not names & {"pandas", "scikit-learn", "torch", "kepler-core"}
    port = free_port()
    process = subprocess.Popen([str(venv / "bin" / "python"), str(folder / "runner.py"),
                                "--port", str(port), "--host", "127.0.0.1"],
                               env={"PATH": os.environ.get("PATH", "")},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(f"http://127.0.0.1:{port}", process, timeout=60)
        status, body = http("POST", f"http://127.0.0.1:{port}/predict", {"instances": rows})
    finally:
        process.terminate()
        process.wait(10)
    assert status == 200 and len(body["predictions"]) == len(rows)
