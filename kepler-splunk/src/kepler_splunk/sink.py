"""The ``splunk-hec`` sink record's object: Kepler's Sink protocol over to_splunk."""

from __future__ import annotations

from typing import Any


class HecSink:
    def __init__(self, config: Any) -> None:
        self.config = config

    def write(self, data: Any, **options: Any) -> Any:
        from .results import to_splunk

        return to_splunk(data, **options)
