"""Shared fixtures: an isolated Kepler home, a project whose kepler.yml has an aws section with
per-environment values, hand-written model artifacts (no training), moto in server mode
(kepler_aws.testing's ``aws_moto``, requested after the isolation so its variables stay) and
the dev environment provisioned in it."""

from __future__ import annotations

import pytest
from aws_helpers import write_model

PROJECT_YML = """\
project: {name: pumps}
default_env: dev
aws:
  region: eu-west-1
  service_name: "{name}-{env}"
  min_tasks: 1
  max_tasks: 3
environments:
  dev: {}
  staging:
    aws: {max_tasks: 5, target_requests_per_task: 250}
  prod:
    aws:
      region: us-east-1
      cluster: kepler-prod
      min_tasks: 2
      max_tasks: 20
      load_balancer: internal
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
def moto(project, aws_moto):
    return aws_moto


@pytest.fixture
def settings(moto):
    from kepler.api import load_config

    return load_config().section("aws")


@pytest.fixture
def provisioned(moto, settings):
    """The dev environment provisioned in moto (what 'kepler aws provision' makes)."""
    from kepler_aws.provision import provision

    steps, _ = provision(settings, env="dev")
    return steps


@pytest.fixture
def tiny_context(monkeypatch):
    """kepler-serve's build context replaced by a two-file one (the real one builds wheels)."""
    import kepler_aws.image as image

    written = []

    def write_context(model, out, options=None):
        out.mkdir(parents=True)
        (out / "Dockerfile").write_text("FROM python:3.11-slim\n")
        (out / "kepler-model.json").write_text((model / "kepler-model.json").read_text())
        written.append(out)
        return out

    monkeypatch.setattr(image, "write_context", write_context)
    return written


@pytest.fixture
def sent(monkeypatch):
    """Every request kepler-aws's clients send, as (operation, parameters): botocore's
    ``provide-client-params`` event on the real clients, for what moto does not keep (the
    deployment configuration of a service, CodeBuild's overrides)."""
    from kepler_aws.clients import Aws

    seen: list[tuple[str, dict]] = []
    original = Aws.client

    def client(self, service):
        made = original(self, service)
        if not getattr(made, "_kepler_watched", False):
            made.meta.events.register(
                "provide-client-params.*.*",
                lambda params, model, **_: seen.append((model.name, dict(params))))
            made._kepler_watched = True
        return made

    monkeypatch.setattr(Aws, "client", client)
    return seen
