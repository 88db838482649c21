"""Kepler pointed at the Splunk test server through its ordinary configuration (env vars)."""

from __future__ import annotations

import pytest
from splunk_helpers import point_kepler_at


@pytest.fixture(autouse=True)
def _home(kepler_home):
    return kepler_home


@pytest.fixture
def splunk(splunk_server, monkeypatch):
    """The HTTP test server, with Kepler configured to use it."""
    point_kepler_at(splunk_server, monkeypatch)
    return splunk_server
