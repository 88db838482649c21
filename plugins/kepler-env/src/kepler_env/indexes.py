"""Private package indexes whose credentials come from Kepler's secret store.

kepler.yml names each index and *refers* to its password (``${secret:corp-pypi-token}``); core
resolves the reference when the ``env`` section is read. The credentials then travel only in
memory and in the environment of the pip, uv or poetry process that needs them
(``PIP_INDEX_URL``/``PIP_EXTRA_INDEX_URL``, ``UV_DEFAULT_INDEX``/``UV_INDEX``,
``POETRY_HTTP_BASIC_<NAME>_*``): never on a command line (``ps`` shows those), never in
requirements, locks, pyproject.toml, Dockerfiles or any other file Kepler writes. Every URL
Kepler writes or prints goes through :func:`redact_url`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

#: User name sent with a password-only (token) index, as PyPI-style servers expect.
TOKEN_USER = "__token__"  # noqa: S105 (a user name, not a secret)


@dataclass(frozen=True)
class Index:
    """One package index, credentials resolved (in memory only)."""

    name: str
    url: str
    default: bool = False
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never print the password, even in a traceback
        return f"Index(name={self.name!r}, url={self.url!r}, default={self.default})"

    @property
    def authenticated_url(self) -> str:
        """The URL with ``user:password@`` in it, for a tool's environment only."""
        if not self.password and not self.username:
            return self.url
        parts = urlsplit(self.url)
        user = quote(self.username or TOKEN_USER, safe="")
        secret = f":{quote(self.password, safe='')}" if self.password else ""
        return urlunsplit(parts._replace(netloc=f"{user}{secret}@{parts.netloc}"))


def from_settings(indexes: Mapping[str, Any]) -> list[Index]:
    """Indexes from the validated ``env.indexes`` mapping; secrets are registered for redaction."""
    from kepler.api import register_secret

    found = []
    for name, settings in indexes.items():
        password = settings.password.get_secret_value() if settings.password else None
        if password:
            register_secret(password)
        found.append(Index(name=name, url=settings.url, default=settings.default,
                           username=settings.username, password=password))
    defaults = [i for i in found if i.default]
    if len(defaults) > 1:
        from .errors import EnvError

        raise EnvError(
            f"Indexes {', '.join(i.name for i in defaults)} are all marked default: true.",
            hint="Only one index can replace PyPI; make the others extra indexes.")
    return found


def pip_environ(indexes: Iterable[Index]) -> dict[str, str]:
    """Variables that make pip use ``indexes`` (PyPI stays unless one is the default)."""
    indexes = list(indexes)
    environ: dict[str, str] = {}
    default = [i for i in indexes if i.default]
    extra = [i for i in indexes if not i.default]
    if default:
        environ["PIP_INDEX_URL"] = default[0].authenticated_url
    if extra:
        environ["PIP_EXTRA_INDEX_URL"] = " ".join(i.authenticated_url for i in extra)
    return environ


def uv_environ(indexes: Iterable[Index]) -> dict[str, str]:
    """The same for uv (``UV_DEFAULT_INDEX`` replaces PyPI, ``UV_INDEX`` adds to it)."""
    indexes = list(indexes)
    environ: dict[str, str] = {}
    default = [i for i in indexes if i.default]
    extra = [i for i in indexes if not i.default]
    if default:
        environ["UV_DEFAULT_INDEX"] = default[0].authenticated_url
    if extra:
        environ["UV_INDEX"] = " ".join(i.authenticated_url for i in extra)
        # Look on every index for the best version, as pip does, rather than stopping at the
        # first index that has the name.
        environ["UV_INDEX_STRATEGY"] = "unsafe-best-match"
    return environ


def poetry_environ(indexes: Iterable[Index]) -> dict[str, str]:
    """Poetry reads a source's credentials from ``POETRY_HTTP_BASIC_<NAME>_USERNAME/PASSWORD``."""
    environ: dict[str, str] = {}
    for index in indexes:
        if index.password or index.username:
            key = re.sub(r"[^A-Z0-9]", "_", index.name.upper())
            environ[f"POETRY_HTTP_BASIC_{key}_USERNAME"] = index.username or TOKEN_USER
            environ[f"POETRY_HTTP_BASIC_{key}_PASSWORD"] = index.password or ""
    return environ


def redact_url(url: str) -> str:
    """``url`` without any ``user:password@`` part (for files and messages)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    # git+ssh://git@host keeps its user: it names an account, not a secret.
    if parts.scheme.endswith("ssh") and ":" not in parts.netloc.rpartition("@")[0]:
        return url
    return urlunsplit(parts._replace(netloc=host))


def redact_text(text: str) -> str:
    """Every ``scheme://user:password@`` in ``text`` reduced to ``scheme://``."""
    return re.sub(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s:]*:[^/@\s]*@", r"\1", text)


def probe(index: Index, timeout: float = 10.0) -> int | None:
    """HTTP status of the index's root page with its credentials; None when unreachable."""
    import base64
    import urllib.error
    import urllib.request

    if not index.url.startswith(("http://", "https://")):
        return None
    request = urllib.request.Request(index.url, method="GET")  # noqa: S310 (http(s) only)
    if index.password or index.username:
        token = f"{index.username or TOKEN_USER}:{index.password or ''}"
        request.add_header("Authorization", "Basic " + base64.b64encode(token.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def refusing(indexes: Iterable[Index]) -> list[tuple[Index, int]]:
    """The indexes that answer 401 or 403 to their credentials."""
    found = []
    for index in indexes:
        status = probe(index)
        if status in (401, 403):
            found.append((index, status))
    return found
