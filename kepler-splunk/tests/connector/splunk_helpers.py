"""Pointing Kepler at a Splunk test server through its ordinary configuration (env vars)."""

from __future__ import annotations

import pytest
from kepler_splunk_testing import SplunkTestServer


def point_kepler_at(server: SplunkTestServer, monkeypatch: pytest.MonkeyPatch,
                    token: bool = True, hec: bool = True) -> None:
    monkeypatch.setenv("KEPLER_SPLUNK__HOST", server.host)
    monkeypatch.setenv("KEPLER_SPLUNK__PORT", str(server.port))
    monkeypatch.setenv("KEPLER_SPLUNK__SCHEME", server.scheme)
    if token:
        monkeypatch.setenv("KEPLER_SPLUNK__TOKEN", server.token)
    else:
        monkeypatch.setenv("KEPLER_SPLUNK__USERNAME", server.username)
        monkeypatch.setenv("KEPLER_SPLUNK__PASSWORD", server.password)
    if hec and getattr(server, "hec_url", None):
        monkeypatch.setenv("KEPLER_SPLUNK__HEC_URL", server.hec_url)
        monkeypatch.setenv("KEPLER_SPLUNK__HEC_TOKEN", server.hec_token)
        monkeypatch.setenv("KEPLER_SPLUNK__HEC_BACKOFF", "0.01")
        if server.ca_file:
            monkeypatch.setenv("KEPLER_SPLUNK__CA_FILE", server.ca_file)
