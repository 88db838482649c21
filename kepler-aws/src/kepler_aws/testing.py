"""AWS for tests: moto in server mode on 127.0.0.1, and the ``aws`` section pointed at it.

The real boto3 talks to it over HTTP, so your own pipelines can be tested against the ``aws``
target without an account. Needs ``moto[server]`` (``pip install 'kepler-aws[test]'``).

Pytest fixtures (installed with kepler-aws):

- ``aws_moto_server`` (session): starts ``moto.server.ThreadedMotoServer`` on a free port of
  127.0.0.1 once, stops it at the end; its value is the endpoint URL;
- ``aws_moto`` (function): resets moto's state, sets fake credentials (and hides
  ``~/.aws``), points the ``aws`` section at the server (``KEPLER_AWS__ENDPOINT_URL``), makes
  polling fast, and lets moto report ECS services as running (``MOTO_ECS_SERVICE_RUNNING``).
  Set the region yourself (kepler.yml or ``KEPLER_AWS__REGION``)::

    def test_my_pipeline_deploys(aws_moto, monkeypatch, model_folder):
        monkeypatch.setenv("KEPLER_AWS__REGION", "eu-west-1")
        provision(load_config().section("aws"))  # kepler_aws.provision; kepler aws provision
        dep = kp.deploy.to_aws(model_folder, image="nginx:latest")
        assert dep.status == "running"

Outside pytest: ``with MotoAws() as moto: boto3.client("ecs", endpoint_url=moto.url, ...)``.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_SESSION_TOKEN": "testing"}


class MotoAws:
    """moto's server on 127.0.0.1 (a free port), started and stopped by this object."""

    def __init__(self) -> None:
        self._server: Any = None
        self.url = ""

    def start(self) -> MotoAws:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Forget every resource (moto's ``/moto-api/reset``)."""
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
            f"{self.url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - 127.0.0.1
            pass

    def client(self, service: str, region: str = "eu-west-1") -> Any:
        """A boto3 client of the server (fake credentials), for assertions."""
        import boto3

        return boto3.client(service, region_name=region, endpoint_url=self.url,
                            **{"aws_access_key_id": "testing",
                               "aws_secret_access_key": "testing"})

    def __enter__(self) -> MotoAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return json.dumps({"moto": self.url})


@pytest.fixture(scope="session")
def aws_moto_server() -> Iterator[MotoAws]:
    """moto's server for the whole test session (started on first use)."""
    server = MotoAws().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws_moto(aws_moto_server: MotoAws, monkeypatch: pytest.MonkeyPatch,
             tmp_path: Path) -> MotoAws:
    """A clean moto, and the ``aws`` section and boto3 pointed at it for this test."""
    aws_moto_server.reset()
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config-absent"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials-absent"))
    monkeypatch.setenv("KEPLER_AWS__ENDPOINT_URL", aws_moto_server.url)
    monkeypatch.setenv("KEPLER_AWS__POLL_INTERVAL", "0.01")
    monkeypatch.setenv("KEPLER_AWS__READY_TIMEOUT", "2")
    monkeypatch.setenv("KEPLER_AWS__BUILD_TIMEOUT", "5")
    monkeypatch.setenv("KEPLER_AWS__MAX_ATTEMPTS", "2")
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "100")
    return aws_moto_server
