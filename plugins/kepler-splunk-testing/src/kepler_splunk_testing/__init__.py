"""A local Splunk Enterprise REST API (management port) for tests, benchmarks and demos.

Quick start::

    from kepler_splunk_testing import SplunkTestServer, generate_sensor_data

    with SplunkTestServer() as server:
        server.add_index("pumps", generate_sensor_data(10_000))
        # point splunklib or any HTTP client at server.url (admin / changeme)

Also: ``python -m kepler_splunk_testing`` (a server in its own process, for benchmarks), the
pytest fixtures in ``kepler_splunk_testing.fixtures`` (``splunk_server``, ...) and this
distribution's README.md.

Names are imported lazily, so ``import kepler_splunk_testing`` costs nothing until a name is used
(pandas and pyarrow load with the server, not with this package).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kepler_splunk_testing.api import RecordedRequest
    from kepler_splunk_testing.auth import ADMIN_CAPABILITIES, USER_CAPABILITIES, SplunkUser
    from kepler_splunk_testing.engine import SearchRequest
    from kepler_splunk_testing.process import SplunkTestServerProcess
    from kepler_splunk_testing.results import Message
    from kepler_splunk_testing.sensors import SENSOR_FIELDS, generate_sensor_data
    from kepler_splunk_testing.server import (
        DEFAULT_PASSWORD,
        DEFAULT_TOKEN,
        DEFAULT_USERNAME,
        SplunkTestServer,
    )

__all__ = [
    "ADMIN_CAPABILITIES",
    "DEFAULT_PASSWORD",
    "DEFAULT_TOKEN",
    "DEFAULT_USERNAME",
    "SENSOR_FIELDS",
    "USER_CAPABILITIES",
    "Message",
    "RecordedRequest",
    "SearchRequest",
    "SplunkTestServer",
    "SplunkTestServerProcess",
    "SplunkUser",
    "generate_sensor_data",
]

_WHERE = {
    "ADMIN_CAPABILITIES": "auth",
    "USER_CAPABILITIES": "auth",
    "SplunkUser": "auth",
    "DEFAULT_PASSWORD": "server",
    "DEFAULT_TOKEN": "server",
    "DEFAULT_USERNAME": "server",
    "SplunkTestServer": "server",
    "SplunkTestServerProcess": "process",
    "SENSOR_FIELDS": "sensors",
    "generate_sensor_data": "sensors",
    "Message": "results",
    "RecordedRequest": "api",
    "SearchRequest": "engine",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'kepler_splunk_testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"kepler_splunk_testing.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
