"""Splunk's own error messages, turned into Kepler errors with a hint.

Splunk answers errors with XML (``<response><messages><msg type="FATAL">text</msg>``) or, with
``output_mode=json``, ``{"messages": [{"type": "FATAL", "text": "..."}]}``. Every error below
carries Splunk's text verbatim in its message so the user sees what Splunk said, plus what to do.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kepler.api import ServiceError

_MSG = re.compile(r"<msg\b[^>]*type=\"(?P<type>[^\"]+)\"[^>]*>(?P<text>.*?)</msg>", re.S)


class SplunkError(ServiceError):
    """Base of every error Splunk (or the way to it) produced."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        messages: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.messages = messages or []


class SplunkSearchError(SplunkError):
    """Splunk refused the SPL (syntax, unknown command, bad arguments)."""


class SplunkAuthError(SplunkError):
    """The credentials were refused."""


class SplunkPermissionError(SplunkError):
    """The user lacks a capability or access to an object."""


class SplunkNotFoundError(SplunkError):
    """An unknown sid, app, index or object."""


class SplunkJobFailedError(SplunkError):
    """The search was accepted but failed while running."""


class SplunkConnectionError(SplunkError):
    """Splunk could not be reached at all."""


class SplunkTLSError(SplunkConnectionError):
    """The TLS handshake failed (certificate not trusted, wrong host name)."""


class SplunkTimeoutError(SplunkError):
    """Splunk did not answer, or a job did not finish, in time."""


def parse_messages(body: bytes | str | None) -> list[dict[str, str]]:
    """Splunk's messages from an error body, XML or JSON."""
    if not body:
        return []
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            return [{"type": "ERROR", "text": text.strip()[:500]}]
        return [
            {"type": str(m.get("type", "ERROR")).upper(), "text": str(m.get("text", ""))}
            for m in data.get("messages", [])
            if isinstance(m, dict)
        ]
    found = [
        {"type": m["type"].upper(), "text": _unescape(m["text"].strip())}
        for m in _MSG.finditer(text)
    ]
    return found or ([{"type": "ERROR", "text": text.strip()[:500]}] if text.strip() else [])


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def describe(messages: list[dict[str, str]]) -> str:
    return " ".join(m["text"] for m in messages if m.get("text")) or "(no message)"


def from_http_error(status: int, body: bytes | str | None, what: str) -> SplunkError:
    """The Kepler error for an HTTP error answer to ``what`` (e.g. 'creating the search job')."""
    messages = parse_messages(body)
    text = describe(messages)
    said = f"Splunk answered {status} while {what}: {text}"
    if status == 401:
        return SplunkAuthError(
            said,
            hint="Check splunk.token (or splunk.username/password): "
            "kepler secrets set splunk-token, then token: "
            "${secret:splunk-token} in kepler.yml.",
            status=status,
            messages=messages,
        )
    if status == 403:
        return SplunkPermissionError(
            said,
            hint="Ask your Splunk admin for the missing capability "
            "or role (e.g. 'search', 'indexes_list_all'); "
            "kepler config validate lists what works.",
            status=status,
            messages=messages,
        )
    if status == 404:
        return SplunkNotFoundError(
            said,
            hint="The job may have expired (ttl) or the app/owner "
            "namespace may be wrong (splunk.app, splunk.owner).",
            status=status,
            messages=messages,
        )
    if status == 400:
        return SplunkSearchError(
            said,
            hint="Fix the SPL: run it in Splunk's search bar to see the same message with context.",
            status=status,
            messages=messages,
        )
    if status in (502, 503, 504):
        return SplunkConnectionError(
            said,
            hint="Splunk is overloaded or restarting; try again.",
            status=status,
            messages=messages,
        )
    return SplunkError(said, status=status, messages=messages)


def _base_url(connection: Any) -> str:
    return f"{connection.scheme}://{connection.host}:{connection.port}"


@contextmanager
def translated(connection: Any, what: str) -> Iterator[None]:
    """Turn splunklib's and the network's exceptions into :class:`SplunkError` subclasses."""
    from splunklib.binding import HTTPError  # AuthenticationError is one too

    url = _base_url(connection)
    try:
        yield
    except SplunkError:
        raise
    except HTTPError as exc:
        body = getattr(exc, "body", None)
        raise from_http_error(exc.status, body, what) from exc
    except ssl.SSLError as exc:
        raise SplunkTLSError(
            f"TLS handshake with {url} failed while {what}: {exc.reason or exc}",
            hint="If Splunk uses a private or self-signed certificate, set splunk.ca_file to its "
            "CA bundle; splunk.verify: false turns verification off (not for production).",
        ) from exc
    except TimeoutError as exc:
        raise SplunkTimeoutError(
            f"Splunk at {url} did not answer within {connection.timeout:g} s while {what}.",
            hint="Raise splunk.timeout, or check the host and port.",
        ) from exc
    except ConnectionRefusedError as exc:
        raise SplunkConnectionError(
            f"Connection refused by {url} while {what}.",
            hint="Check splunk.host and splunk.port (the management port, 8089 by default) and "
            "that splunkd is running.",
        ) from exc
    except OSError as exc:
        raise SplunkConnectionError(
            f"Cannot reach Splunk at {url} while {what}: {exc.strerror or exc}",
            hint="Check splunk.host, splunk.port and splunk.scheme, and your network/VPN.",
        ) from exc
