"""Fixtures for the test-server tests.

The fixtures are imported rather than listed in ``pytest_plugins``: once kepler-splunk-testing is
installed, its ``pytest11`` entry point registers ``kepler_splunk_testing.fixtures`` as a plugin,
and naming the same module in ``pytest_plugins`` would register it a second time (pluggy refuses).
Fixtures defined here simply shadow the plugin's identical ones.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from kepler_splunk_testing.fixtures import (  # noqa: F401 - fixtures used by name
    pytest_configure,
    splunk_server,
    splunk_server_factory,
    splunk_server_https,
    splunk_server_session,
)
from kepler_splunk_testing.server import SplunkTestServer


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def xml(self) -> ElementTree.Element:
        return ElementTree.fromstring(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Rest:
    """A plain http.client caller, to check the wire format without splunklib in between."""

    def __init__(self, server: Any, auth: str | None = "basic") -> None:
        """``server``: a SplunkTestServer, or anything with its host/port/credential attributes."""
        self.server = server
        self.auth = auth

    def headers(self) -> dict[str, str]:
        if self.auth == "basic":
            raw = f"{self.server.username}:{self.server.password}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        if self.auth == "bearer":
            return {"Authorization": f"Bearer {self.server.token}"}
        return {}

    def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        if self.server.scheme == "https":
            context = ssl.create_default_context(cafile=self.server.ca_file)
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.server.host, self.server.port, context=context, timeout=30
            )
        else:
            connection = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        encoded = urlencode(params or {}, doseq=True)
        all_headers = {**self.headers(), **(headers or {})}
        try:
            if method in ("GET", "DELETE"):
                target = f"{path}?{encoded}" if encoded else path
                connection.request(method, target, headers=all_headers)
            else:
                connection.request(method, path, body=encoded.encode(), headers=all_headers)
            response = connection.getresponse()
            return Reply(response.status, dict(response.getheaders()), response.read())
        finally:
            connection.close()

    def get(self, path: str, params: Any = None, **kwargs: Any) -> Reply:
        return self.call("GET", path, params, **kwargs)

    def post(self, path: str, params: Any = None, **kwargs: Any) -> Reply:
        return self.call("POST", path, params, **kwargs)

    def delete(self, path: str, params: Any = None, **kwargs: Any) -> Reply:
        return self.call("DELETE", path, params, **kwargs)

    def run_job(self, spl: str, version: str = "v2", **params: Any) -> str:
        """Create a job and wait (bounded) until it is done; return its sid."""
        import time

        prefix = "/services/search/v2/jobs" if version == "v2" else "/services/search/jobs"
        reply = self.post(prefix, {"search": spl, "output_mode": "json", **params})
        assert reply.status == 201, reply.body
        sid = reply.json()["sid"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status = self.get(f"{prefix}/{sid}", {"output_mode": "json"})
            if status.status == 200 and status.json()["entry"][0]["content"]["isDone"]:
                return sid
            time.sleep(0.01)
        raise AssertionError(f"job {sid} did not finish")


@pytest.fixture
def rest(splunk_server: SplunkTestServer) -> Rest:  # noqa: F811 - the imported fixture
    """A plain HTTP caller for ``splunk_server`` (Basic auth as admin)."""
    return Rest(splunk_server)


@pytest.fixture
def make_rest() -> type[Rest]:
    """The ``Rest`` class, for callers of other servers: ``make_rest(server, auth=None)``.

    A fixture rather than an import, so the tests work under any pytest import mode.
    """
    return Rest
