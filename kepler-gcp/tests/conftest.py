"""Shared fixtures: an isolated Kepler home, a project whose kepler.yml has a gcp section with
per-environment values, a hand-written model artifact (no training), and the fake Google Cloud
(kepler_gcp.testing's ``gcp_fake``, requested after the isolation so its variables stay)."""

from __future__ import annotations

import pytest
from gcp_helpers import write_model

PROJECT_YML = """\
project: {name: pumps}
default_env: dev
gcp:
  project: plant-dev
  region: europe-west1
  service_name: "{name}-{env}"
  min_instances: 0
  max_instances: 3
environments:
  dev: {}
  staging:
    gcp: {project: plant-staging, max_instances: 5}
  prod:
    gcp:
      project: plant-prod
      region: us-central1
      min_instances: 1
      max_instances: 20
      invoker: public
      ingress: internal-and-cloud-load-balancing
      hec_token_secret: kepler-hec-token
"""


@pytest.fixture(autouse=True)
def _isolated(kepler_home):
    return kepler_home


@pytest.fixture
def project(tmp_path, monkeypatch):
    folder = tmp_path / "pumps"
    folder.mkdir()
    (folder / "kepler.yml").write_text(PROJECT_YML)
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def model(tmp_path):
    return write_model(tmp_path / "models" / "pump-failure-3")


@pytest.fixture
def model_v4(tmp_path):
    return write_model(tmp_path / "models" / "pump-failure-4", version=4)


@pytest.fixture
def fake(project, gcp_fake):
    """The fake Google Cloud, with the dev project's build prerequisites provisioned."""
    gcp_fake.buckets["plant-dev-kepler-builds"] = {"name": "plant-dev-kepler-builds"}
    return gcp_fake


@pytest.fixture
def tiny_context(monkeypatch):
    """kepler-serve's build context replaced by a two-file one (the real one builds wheels)."""
    import kepler_gcp.image as image

    written = []

    def write_context(model, out, options=None):
        out.mkdir(parents=True)
        (out / "Dockerfile").write_text("FROM python:3.11-slim\n")
        (out / "kepler-model.json").write_text((model / "kepler-model.json").read_text())
        written.append(out)
        return out

    monkeypatch.setattr(image, "write_context", write_context)
    return written

