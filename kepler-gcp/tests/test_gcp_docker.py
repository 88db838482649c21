"""``gcp.builder: docker``: the local Docker engine builds and pushes (a stand-in ``docker``
command on PATH records what it was asked)."""

from __future__ import annotations

import os
import stat

import pytest
from gcp_helpers import DEV_IMAGE
from kepler.api import namespace
from kepler_gcp.errors import GcpBuildError

SCRIPT = """#!/bin/sh
echo "$@" >> "{log}"
case "$1" in
  info) exit {info} ;;
  push) exit {push} ;;
esac
exit 0
"""


@pytest.fixture
def docker(tmp_path, monkeypatch):
    def install(info=0, push=0):
        folder = tmp_path / "bin"
        folder.mkdir(exist_ok=True)
        log = tmp_path / "docker.log"
        script = folder / "docker"
        script.write_text(SCRIPT.format(log=log, info=info, push=push))
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
        return log

    return install


def test_docker_builds_and_pushes_instead_of_cloud_build(fake, model, docker, monkeypatch,
                                                         tiny_context):
    log = docker()
    monkeypatch.setenv("KEPLER_GCP__BUILDER", "auto")  # docker info answers: Docker it is
    dep = namespace("deploy").to_cloud_run(model)
    assert dep.status == "running" and dep.details["image"] == DEV_IMAGE
    commands = [line.split()[0] for line in log.read_text().splitlines()]
    assert commands == ["info", "build", "push"]  # anonymous credentials: no login
    assert fake.builds == [] and fake.objects == {}


def test_auto_without_a_docker_engine_uses_cloud_build(fake, model, docker, monkeypatch,
                                                       tiny_context):
    docker(info=1)
    monkeypatch.setenv("KEPLER_GCP__BUILDER", "auto")
    namespace("deploy").to_cloud_run(model)
    assert len(fake.builds) == 1


def test_a_failed_push_says_how_to_log_in(fake, model, docker, monkeypatch, tiny_context):
    docker(push=1)
    monkeypatch.setenv("KEPLER_GCP__BUILDER", "docker")
    with pytest.raises(GcpBuildError, match="docker push failed") as caught:
        namespace("deploy").to_cloud_run(model)
    assert "gcloud auth configure-docker europe-west1-docker.pkg.dev" in caught.value.hint
    assert not fake.services


def test_docker_dry_run(fake, model, kepler_cli, monkeypatch):
    monkeypatch.setenv("KEPLER_GCP__BUILDER", "docker")
    result = kepler_cli("deploy", str(model), "--target", "cloud-run", "--dry-run")
    assert result.code == 0, result.err
    assert f"RUN docker push {DEV_IMAGE}" in result.out and fake.requests == []
