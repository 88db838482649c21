"""Shared fixtures: an isolated Kepler home, a project whose kepler.yml has an azure section
with per-environment values, a hand-written model artifact (no training), and the fake Azure
Resource Manager (kepler_azure.testing's ``azure_fake``, requested after the isolation so its
variables stay)."""

from __future__ import annotations

import pytest
from azure_helpers import GROUP, SUB, write_model

PROJECT_YML = """\
project: {name: pumps}
default_env: dev
azure:
  subscription: sub-dev
  resource_group: plant-dev
  location: westeurope
  registry: plantacr
  app_name: "{name}-{env}"
  min_replicas: 0
  max_replicas: 3
environments:
  dev: {}
  staging:
    azure: {resource_group: plant-staging, max_replicas: 5}
  prod:
    azure:
      subscription: sub-prod
      resource_group: plant-prod
      location: northeurope
      min_replicas: 1
      max_replicas: 20
      ingress: internal
      key_vault: plant-kv
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
def fake(project, azure_fake):
    """The fake ARM, with the dev environment provisioned (group and managed environment)."""
    azure_fake.seed_environment(SUB, GROUP)
    azure_fake.seed_environment("sub-prod", "plant-prod", location="northeurope")
    azure_fake.seed_environment(SUB, "plant-staging")
    return azure_fake


@pytest.fixture
def tiny_context(monkeypatch):
    """kepler-serve's build context replaced by a two-file one (the real one builds wheels)."""
    import kepler_azure.image as image

    written = []

    def write_context(model, out, options=None):
        out.mkdir(parents=True)
        (out / "Dockerfile").write_text("FROM python:3.11-slim\n")
        (out / "kepler-model.json").write_text((model / "kepler-model.json").read_text())
        written.append(out)
        return out

    monkeypatch.setattr(image, "write_context", write_context)
    return written
