"""Secret references: how a config file names a secret without containing it.

``${env:NAME}`` reads an environment variable, ``${secret:NAME}`` the user's encrypted secrets file
(``kepler secrets set NAME``), ``${keyring:SERVICE/USERNAME}`` the OS keyring. A reference may
stand alone or inside a longer string (``https://${env:HOST}:8089``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from ..errors import ConfigError

REFERENCE = re.compile(r"\$\{(?P<kind>[a-z]+):(?P<name>[^}]+)\}")
KINDS = ("env", "secret", "keyring")


def is_reference(value: object) -> bool:
    return isinstance(value, str) and REFERENCE.search(value) is not None


def _env(name: str) -> str:
    try:
        return os.environ[name]
    except KeyError:
        raise LookupError(f"environment variable {name} is not set") from None


def _secret(name: str) -> str:
    from ..secrets import get_store

    value = get_store().lookup(name)
    if value is None:
        raise LookupError(f"the secrets store has no secret {name!r}")
    return value


def _keyring(name: str) -> str:
    service, sep, username = name.partition("/")
    if not sep:
        raise LookupError("keyring references are written ${keyring:SERVICE/USERNAME}")
    import keyring

    value = keyring.get_password(service, username)
    if value is None:
        raise LookupError(f"the OS keyring has no entry for service {service!r}, user {username!r}")
    return value


RESOLVERS: dict[str, Callable[[str], str]] = {"env": _env, "secret": _secret, "keyring": _keyring}

_HINTS = {
    "env": "export {name}=... before running Kepler, or store it with 'kepler secrets set'.",
    "secret": "store it with: kepler secrets set {name}",
    "keyring": "Add it to the OS keyring (e.g. 'keyring set SERVICE USERNAME').",
}


def _closest(kind: str, name: str) -> str:
    """"Did you mean ${secret:splunk-token}? " for a near-miss of a stored secret's name, so the
    fix offered first is the typo's, not storing the typo."""
    import difflib

    if kind != "secret":
        return ""
    from ..errors import KeplerError
    from ..secrets import get_store

    try:
        names = get_store().names()
    except KeplerError:
        return ""
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f"Did you mean ${{secret:{close[0]}}}? Otherwise: " if close else ""


def resolve(value: str, where: str) -> str:
    """Replace every reference in ``value``; ``where`` names the file and key for errors."""

    def substitute(match: re.Match[str]) -> str:
        kind, name = match["kind"], match["name"].strip()
        resolver = RESOLVERS.get(kind)
        if resolver is None:
            raise ConfigError(
                f"{where}: unknown reference kind {kind!r} in {match.group(0)!r}.",
                hint="Use ${env:NAME}, ${secret:NAME} or ${keyring:SERVICE/USERNAME}.",
            )
        try:
            return resolver(name)
        except LookupError as exc:
            raise ConfigError(
                f"{where}: cannot resolve {match.group(0)}: {exc}.",
                hint=_closest(kind, name) + _HINTS[kind].format(name=name),
            ) from None

    return REFERENCE.sub(substitute, value)
