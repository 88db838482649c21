"""The local Docker engine, as every deployer that can build an image uses it.

Cloud targets build a model's image remotely (Cloud Build, CodeBuild, ACR tasks) or, where a
Docker engine answers, locally. Whether one answers, and running ``docker`` with an error that
shows the tool's last words and what to do, is the same for every target; only the error type
and the hints are the target's.

Example::

    from kepler.api import docker_answers, run_docker

    if docker_answers():
        run_docker(["build", "-t", image, str(context)], doing=f"building {image}",
                   error=MyBuildError, setting="mycloud.builder",
                   missing_hint="Install Docker, or set mycloud.builder: remote.",
                   failed_hint="Check that Docker may push to the registry.")
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from .errors import DeploymentError, KeplerError

#: Seconds a build or push may take before it counts as failed.
DOCKER_TIMEOUT = 3600.0


def docker_answers() -> bool:
    """Whether a local Docker engine answers (``docker info``), not merely a client on PATH."""
    executable = shutil.which("docker")
    if executable is None:
        return False
    try:
        done = subprocess.run([executable, "info", "--format", "{{.ServerVersion}}"],
                              capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def run_docker(args: Sequence[str], *, doing: str, setting: str, missing_hint: str,
               failed_hint: str, stdin: str | None = None,
               error: type[KeplerError] = DeploymentError,
               timeout: float = DOCKER_TIMEOUT) -> None:
    """Run ``docker ARGS``; a missing client or a failure raises ``error`` with the last lines
    docker printed (``doing`` says what for, ``setting`` which option chose Docker)."""
    executable = shutil.which("docker")
    if executable is None:
        raise error(f"{setting} is docker, but no docker command is on PATH.",
                    hint=missing_hint)
    try:
        done = subprocess.run([executable, *args], input=stdin, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise error(f"docker {args[0]} did not finish within {timeout:.0f} s while {doing}.",
                    hint=failed_hint) from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise error(f"docker {args[0]} failed while {doing}:\n{tail}", hint=failed_hint)
