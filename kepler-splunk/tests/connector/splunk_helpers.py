"""Pointing Kepler at a Splunk test server through its ordinary configuration (env vars)."""

from __future__ import annotations

import pytest
from kepler_splunk.testing import SplunkTestServer


def point_kepler_at(server: SplunkTestServer, monkeypatch: pytest.MonkeyPatch,
                    token: bool = True) -> None:
    monkeypatch.setenv("KEPLER_SPLUNK__HOST", server.host)
    monkeypatch.setenv("KEPLER_SPLUNK__PORT", str(server.port))
    monkeypatch.setenv("KEPLER_SPLUNK__SCHEME", server.scheme)
    if token:
        monkeypatch.setenv("KEPLER_SPLUNK__TOKEN", server.token)
    else:
        monkeypatch.setenv("KEPLER_SPLUNK__USERNAME", server.username)
        monkeypatch.setenv("KEPLER_SPLUNK__PASSWORD", server.password)
