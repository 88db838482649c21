"""The ``splunk-hec`` sink record's object: Kepler's Sink protocol over to_splunk."""

from __future__ import annotations

import threading
from typing import Any


class HecSink:
    """Writes frames to HEC. A sink lives as long as its user (a model server's prediction log
    writes through one for hours), so it keeps one :class:`~kepler_splunk.results.HecSession`
    per connection: the configuration is read once and the kept-alive HTTP connections serve
    every write."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self._sessions: dict[str | None, Any] = {}
        self._lock = threading.Lock()

    def write(self, data: Any, **options: Any) -> Any:
        from .results import HecSession, to_splunk

        connection = options.pop("connection", None)
        with self._lock:
            session = self._sessions.get(connection)
            if session is None:
                session = self._sessions[connection] = HecSession(connection)
        return to_splunk(data, session=session, **options)

    def close(self) -> None:
        """End the HTTP connections (a later write opens new ones)."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()
