"""Users, sessions and tokens, checked the ways splunkd accepts credentials.

Accepted, in the order splunklib may send them: ``Cookie: splunkd_<port>=KEY`` (from
``/services/auth/login`` with ``cookie=1``), ``Authorization: Splunk KEY`` (a session key),
``Authorization: Bearer TOKEN`` (a Splunk authentication token) and ``Authorization: Basic``.
Users carry capabilities so tests can provoke splunkd's 403 "requires capability" errors.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie

__all__ = [
    "ADMIN_CAPABILITIES",
    "USER_CAPABILITIES",
    "Authenticator",
    "SplunkUser",
    "permission_message",
]

USER_CAPABILITIES = frozenset(
    {"search", "get_metadata", "get_typeahead", "rest_properties_get", "list_inputs"}
)
"""Capabilities of Splunk's built-in ``user`` role that matter to a REST client."""

ADMIN_CAPABILITIES = USER_CAPABILITIES | frozenset(
    {
        "admin_all_objects",
        "edit_token_http",
        "edit_view_html",
        "indexes_edit",
        "indexes_list_all",
        "list_settings",
        "schedule_search",
    }
)
"""Capabilities of the ``admin`` role that the test server checks or reports."""


@dataclass(frozen=True)
class SplunkUser:
    """A user account: ``capabilities`` decide which endpoints answer 403."""

    name: str
    password: str
    capabilities: frozenset[str] = ADMIN_CAPABILITIES
    roles: tuple[str, ...] = ("admin",)

    def can(self, capability: str) -> bool:
        return capability in self.capabilities


def permission_message(user: SplunkUser, capability: str) -> str:
    """splunkd's wording when a user lacks a capability (HTTP 403)."""
    return (
        f"You (user={user.name}) do not have permission to perform this operation "
        f"(requires capability: {capability})."
    )


@dataclass
class _Session:
    user: str
    last_used: float


@dataclass
class Authenticator:
    """Checks credentials; ``cookie_name`` is ``splunkd_<port>``, set once the port is known."""

    users: dict[str, SplunkUser]
    tokens: dict[str, str]  # token -> user name
    session_timeout: float = 3600.0
    cookie_name: str = "splunkd_8089"
    _sessions: dict[str, _Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(
        cls,
        users: Iterable[SplunkUser],
        tokens: Mapping[str, str],
        session_timeout: float,
    ) -> Authenticator:
        return cls({user.name: user for user in users}, dict(tokens), session_timeout)

    def add_user(self, user: SplunkUser) -> None:
        with self._lock:
            self.users[user.name] = user

    def add_token(self, token: str, username: str) -> None:
        with self._lock:
            if username not in self.users:
                raise KeyError(f"no user {username!r}; add it with add_user() first")
            self.tokens[token] = username

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self.tokens.pop(token, None)

    def login(self, username: str, password: str) -> str | None:
        """A new session key, or None when the credentials are wrong."""
        with self._lock:
            user = self.users.get(username)
            if user is None or not _same(user.password, password):
                return None
            key = secrets.token_hex(32)
            self._sessions[key] = _Session(username, time.monotonic())
            return key

    def expire_sessions(self) -> None:
        """Forget every session key, as a splunkd restart or timeout would."""
        with self._lock:
            self._sessions.clear()

    def authenticate(self, authorization: str | None, cookie: str | None) -> SplunkUser | None:
        """The user behind a request's ``Authorization``/``Cookie`` headers, or None."""
        if cookie:
            user = self._from_cookie(cookie)
            if user is not None:
                return user
        if not authorization:
            return None
        scheme, _, credential = authorization.strip().partition(" ")
        scheme = scheme.lower()
        credential = credential.strip()
        if scheme == "splunk":
            return self._from_session(credential)
        if scheme == "bearer":
            with self._lock:
                name = self.tokens.get(credential)
                return self.users.get(name) if name else None
        if scheme == "basic":
            return self._from_basic(credential)
        return None

    def _from_cookie(self, cookie: str) -> SplunkUser | None:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie)
        except CookieError:
            return None
        morsel = jar.get(self.cookie_name)
        return self._from_session(morsel.value) if morsel is not None else None

    def _from_session(self, key: str) -> SplunkUser | None:
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if now - session.last_used > self.session_timeout:
                del self._sessions[key]
                return None
            session.last_used = now
            return self.users.get(session.user)

    def _from_basic(self, credential: str) -> SplunkUser | None:
        try:
            decoded = base64.b64decode(credential, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _, password = decoded.partition(":")
        with self._lock:
            user = self.users.get(username)
        if user is None or not _same(user.password, password):
            return None
        return user


def _same(expected: str, given: str) -> bool:
    return secrets.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
