"""The ``splunk`` connector record's object: Kepler's Connector protocol over from_splunk."""

from __future__ import annotations

from typing import Any


class SplunkConnector:
    """``query(spl, earliest=..., latest=..., **options)`` returns a typed DataFrame."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def query(self, query: str, **options: Any) -> Any:
        from .extract import from_splunk

        return from_splunk(query, **options)
