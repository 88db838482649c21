"""Container build contexts: what the folder holds, and — with no Docker engine here — the same
environment built from its lock in a fresh venv, offline, running its entrypoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import kepler as kp
import pytest
from kepler.api import read_manifest, verify_artifact
from serve_helpers import fake_wheels, free_port, instance


@pytest.fixture
def registered(project, artifacts):
    kp.models.load(artifacts["classifier"]).save()
    return project


def test_build_writes_dockerfile_model_lock_and_entrypoint(registered, kepler_cli, monkeypatch):
    fake_wheels(monkeypatch)
    result = kepler_cli("deploy", "build", "pump-failure", "--target", "local", "--out", "ctx")
    assert result.code == 0, result.err
    assert "docker build -t ctx" in result.out
    context = registered / "ctx"
    dockerfile = (context / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "useradd --system --uid 10001" in dockerfile and "\nUSER kepler\n" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/health" in dockerfile
    assert "PORT=8080" in dockerfile and "os.environ.get('PORT', '8080')" in dockerfile
    assert "pip install --no-deps --find-links ./wheels --requirement requirements.lock" \
        in dockerfile and "pip check" in dockerfile
    assert 'CMD ["python", "/app/entrypoint.py"]' in dockerfile
    manifest = read_manifest(context / "model")
    verify_artifact(context / "model", manifest)
    assert manifest.name == "pump-failure" and manifest.version == 1
    lock = (context / "requirements.lock").read_text()
    lines = [line.split("#")[0].strip() for line in lock.splitlines()
             if line.strip() and not line.startswith("#")]
    for name, version in manifest.environment.packages.items():
        if name.startswith("kepler"):
            assert any(f"/{name.replace('-', '_')}-" in line for line in lines), name
        else:
            assert f"{name}=={version}" in lines, name
    assert any(line.startswith("fastapi==") for line in lines)
    assert any(line.startswith("uvicorn==") for line in lines)
    assert any("/kepler_serve-" in line for line in lines)
    assert not any("kepler_splunk" in line or line.startswith("kepler-splunk")
                   for line in lines)  # no prediction logging configured
    entrypoint = (context / "entrypoint.py").read_text()
    assert "kepler_serve.server import main" in entrypoint and '"HOST", "0.0.0.0"' in entrypoint
    info = json.loads((context / "kepler-build.json").read_text())
    assert info["model"] == "pump-failure" and info["version"] == 1
    assert "model" in info["packages"]["scikit-learn"]["reasons"]
    assert info["packages"]["fastapi"]["reasons"] == ["kepler-serve"]
    again = kepler_cli("deploy", "build", "pump-failure", "--target", "local", "--out", "ctx")
    assert again.code == 1 and "not empty" in again.err


def test_unknown_build_options_are_refused(registered):
    with pytest.raises(kp.KeplerError, match="Unknown build option"):
        kp.deploy.build("pump-failure", "ctx", target="local", colour="blue")


def test_the_lock_builds_a_working_environment_offline(registered, classifier, tmp_path):
    """wheels=all: every locked package is in wheels/ (Kepler's built from their sources, the
    rest repacked from this environment), so pip installs with --no-index, as the Dockerfile
    does; then the entrypoint serves and /predict answers like the model."""
    context = kp.deploy.build("pump-failure", tmp_path / "ctx", target="local", wheels="all")
    dockerfile = (context / "Dockerfile").read_text()
    assert "--no-index --find-links ./wheels" in dockerfile
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV"))}
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--no-compile", "--disable-pip-version-check", "--isolated",
         "--find-links", "./wheels", "--requirement", "requirements.lock"],
        cwd=context, env=clean, capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-2000:]
    check = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "check"],
                           capture_output=True, text=True, env=clean, timeout=120)
    assert check.returncode == 0, check.stdout
    where = subprocess.run([str(python), "-c", "import kepler_serve, sklearn; "
                            "print(kepler_serve.__file__); print(sklearn.__file__)"],
                           capture_output=True, text=True, env=clean, check=True).stdout
    assert all(line.startswith(str(venv)) for line in where.split())

    port = free_port()
    env = {**clean, "HOST": "127.0.0.1", "PORT": str(port),
           "KEPLER_CONFIG_DIR": str(tmp_path / "home"), "KEPLER_DATA_DIR": str(tmp_path / "d")}
    server = subprocess.Popen([str(python), str(context / "entrypoint.py")], env=env,
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"{url}/ready", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        rows = [instance(), instance(temperature=79.0, vibration=1.0)]
        request = urllib.request.Request(f"{url}/predict",
                                         data=json.dumps({"instances": rows}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            answer = json.loads(reply.read())
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    assert server.returncode == 0, output
    assert answer["model"] == "pump-failure" and answer["version"] == 1
    assert answer["predictions"] == classifier.predict(rows).tolist()
    assert answer["probabilities"] == classifier.predict_proba(rows).tolist()
