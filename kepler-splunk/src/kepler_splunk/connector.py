"""The ``splunk`` connector record's object: Kepler's Connector protocol over from_splunk."""

from __future__ import annotations

from typing import Any


class SplunkConnector:
    """``query(spl, earliest=..., latest=..., **options)`` returns a typed DataFrame.

    ``chunks=N`` (the option the notebook magic ``%%spl`` documents) is ``parallel=N``: the time
    range searched as N concurrent slices."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def query(self, query: str, **options: Any) -> Any:
        from .extract import from_splunk

        if "chunks" in options:
            options["parallel"] = options.pop("chunks")
        return from_splunk(query, **options)
