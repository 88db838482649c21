"""pytest fixtures for the Splunk test server (registered under the ``pytest11`` entry point).

- ``splunk_server``: a fresh HTTP server per test; configure it with
  ``@pytest.mark.splunk_server(version="8.2.0", dispatch_delay=0.2, ...)``.
- ``splunk_server_https``: the same over TLS (``server.ca_file`` verifies it).
- ``splunk_server_session``: one HTTP server shared by the whole session (cheap; register data
  under index names unique to your test, since other tests see it too).
- ``splunk_server_factory``: ``make(**kwargs)`` starts servers that stop at the test's end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kepler_splunk_testing.server import SplunkTestServer

__all__ = [
    "splunk_server",
    "splunk_server_factory",
    "splunk_server_https",
    "splunk_server_session",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "splunk_server(**kwargs): SplunkTestServer arguments for the splunk_server and "
        "splunk_server_https fixtures",
    )


def _marker_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("splunk_server")
    return dict(marker.kwargs) if marker is not None else {}


@pytest.fixture
def splunk_server(request: pytest.FixtureRequest) -> Iterator[SplunkTestServer]:
    """A running HTTP test server (admin/changeme, token ``kepler-test-token``)."""
    with SplunkTestServer(**_marker_kwargs(request)) as server:
        yield server


@pytest.fixture
def splunk_server_https(request: pytest.FixtureRequest) -> Iterator[SplunkTestServer]:
    """A running HTTPS test server; verify with ``server.ca_file``."""
    kwargs = {**_marker_kwargs(request), "https": True}
    with SplunkTestServer(**kwargs) as server:
        yield server


@pytest.fixture(scope="session")
def splunk_server_session() -> Iterator[SplunkTestServer]:
    """One HTTP test server for the whole session."""
    with SplunkTestServer() as server:
        yield server


@pytest.fixture
def splunk_server_factory() -> Iterator[Callable[..., SplunkTestServer]]:
    """Start servers with any arguments; all stop when the test ends."""
    servers: list[SplunkTestServer] = []

    def make(**kwargs: Any) -> SplunkTestServer:
        server = SplunkTestServer(**kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
