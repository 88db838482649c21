"""Transport-neutral request and response types, and the server settings the API reads.

Keeping these free of ``http.server`` lets the API be exercised directly in unit tests and keeps
the HTTP plumbing (``httpd.py``) to parsing bytes and writing them back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

__all__ = ["Namespace", "Params", "Request", "Response", "ServerSettings"]

Body = bytes | list[bytes | memoryview] | Iterator[bytes | memoryview]


class Params:
    """Query-string and form parameters; repeated keys keep every value (splunkd semantics)."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in pairs:
            self._values.setdefault(key, []).append(value)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The last value given for ``key`` (a later form value overrides the query string)."""
        values = self._values.get(key)
        return values[-1] if values else default

    def get_list(self, key: str) -> list[str]:
        return list(self._values.get(key, []))

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def as_dict(self) -> dict[str, str]:
        return {key: values[-1] for key, values in self._values.items()}

    def as_lists(self) -> dict[str, list[str]]:
        return {key: list(values) for key, values in self._values.items()}


@dataclass(frozen=True)
class Namespace:
    """The ``/servicesNS/{owner}/{app}`` a request came through (``/services``: nobody/search)."""

    owner: str
    app: str
    prefix: str  # "/services" or "/servicesNS/owner/app", to build links as splunkd does


@dataclass
class Request:
    method: str
    path: str
    params: Params
    headers: Mapping[str, str]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass
class Response:
    """``body`` is bytes, a list of chunks (sent with Content-Length) or an iterator (chunked)."""

    status: int
    body: Body = b""
    content_type: str = "text/xml; charset=UTF-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ServerSettings:
    """Behaviour knobs of a test server (see ``SplunkTestServer`` for what each one does)."""

    version: str = "9.3.0"
    server_name: str = "kepler-splunk-test"
    dispatch_delay: float = 0.05
    max_result_rows: int = 50_000
    default_ttl: int = 600
    empty_status_while_queued: bool = True
    export_chunk_rows: int = 10_000

    @property
    def version_tuple(self) -> tuple[int, ...]:
        parts = []
        for part in self.version.split("."):
            digits = "".join(ch for ch in part if ch.isdigit())
            parts.append(int(digits) if digits else 0)
        return tuple(parts)

    @property
    def has_v2_search(self) -> bool:
        """splunklib switches to ``search/v2`` at 9.0.2; the server offers it from there too."""
        return self.version_tuple >= (9, 0, 2)
