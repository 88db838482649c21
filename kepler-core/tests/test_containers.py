"""The local Docker engine as deployers use it: a client that answers, one that does not, no
client at all, and a failing build whose last words reach the error. A small script named
``docker`` on PATH stands in for the engine (none runs on this machine)."""

from __future__ import annotations

import os
import stat

import pytest
from kepler.api import DeploymentError, KeplerError, docker_answers, run_docker

HINTS = {"setting": "mycloud.builder", "missing_hint": "Install Docker.",
         "failed_hint": "Log Docker in to the registry."}


def fake_docker(folder, script: str):
    folder.mkdir(exist_ok=True)
    path = folder / "docker"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return folder


@pytest.fixture
def path_with(monkeypatch, tmp_path):
    def use(script: str | None):
        folder = tmp_path / "bin"
        folder.mkdir(exist_ok=True)
        if script is not None:
            fake_docker(folder, script)
        monkeypatch.setenv("PATH", str(folder))
        return folder
    return use


@pytest.mark.skipif(os.name == "nt", reason="a shell script stands in for docker")
def test_docker_answers_only_when_the_engine_does(path_with):
    path_with(None)
    assert docker_answers() is False  # no client on PATH
    path_with('echo "Cannot connect to the Docker daemon" >&2; exit 1\n')
    assert docker_answers() is False  # a client, no engine
    path_with('echo 27.1.1\n')
    assert docker_answers() is True


@pytest.mark.skipif(os.name == "nt", reason="a shell script stands in for docker")
def test_run_docker_passes_stdin_and_reports_the_tools_last_lines(path_with, tmp_path):
    seen = tmp_path / "seen"
    path_with(f'echo "$@" >> {seen}; read -r line; printf %s "$line" >> {seen}; '
              '[ "$1" = push ] && '
              '{ echo "step 1"; echo "denied: requested access is refused" >&2; exit 1; }; '
              'exit 0\n')
    run_docker(["login", "--password-stdin", "reg"], doing="logging in", stdin="s3cret",
               **HINTS)
    assert seen.read_text() == "login --password-stdin reg\ns3cret"

    class BuildError(KeplerError):
        pass

    with pytest.raises(BuildError) as failed:
        run_docker(["push", "reg/img:1"], doing="pushing reg/img:1", error=BuildError, **HINTS)
    assert "docker push failed while pushing reg/img:1" in failed.value.message
    assert "denied: requested access is refused" in failed.value.message
    assert failed.value.hint == "Log Docker in to the registry."


def test_run_docker_without_a_client_names_the_setting(path_with):
    path_with(None)
    with pytest.raises(DeploymentError, match="mycloud.builder is docker, but no docker") as e:
        run_docker(["build", "."], doing="building", **HINTS)
    assert e.value.hint == "Install Docker."
