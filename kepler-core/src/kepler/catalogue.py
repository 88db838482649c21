"""Which first-party distribution provides a capability, for "not installed: pip install …".

The names live in ``catalogue.toml`` beside this module, the one place kepler-core names its
sibling distributions. It is read only when something is missing, never to decide behaviour:
an installed plugin is always found through its own records.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any, Literal

Kind = Literal["sdk", "trainers", "deployers", "connectors", "sinks", "env_managers",
               "plugins", "config_sections", "commands", "query_options"]


@functools.cache
def _catalogue() -> dict[str, dict[str, str]]:
    text = resources.files(__package__ or "kepler").joinpath("catalogue.toml").read_text("utf-8")
    data: dict[str, Any] = tomllib.loads(text)
    return {kind: {str(k): str(v) for k, v in entries.items()} for kind, entries in data.items()}


def provider(kind: Kind, name: str) -> str | None:
    """The distribution (with its extra, ``kepler-sklearn[xgboost]``) that provides ``name``."""
    return _catalogue().get(kind, {}).get(name)


def providers(kind: Kind) -> list[str]:
    """Every distribution providing capabilities of ``kind``, without duplicates, sorted."""
    return sorted({d.split("[")[0] for d in _catalogue().get(kind, {}).values()})


def command_paths() -> list[str]:
    """First-party CLI command paths (``data splunk``, ``serve``...)."""
    return sorted(_catalogue().get("commands", {}))


def query_options() -> dict[str, str]:
    """First-party CLI query shorthands (``spl`` -> connector ``splunk``)."""
    return dict(_catalogue().get("query_options", {}))


def install_hint(kind: Kind) -> str:
    """``pip install a`` or ``pip install a (or b)`` for the first-party providers of ``kind``."""
    from .installs import requirement

    found = [requirement(name) for name in providers(kind)]
    if not found:
        return "Install a plugin that provides one ('kepler plugins list' shows what is there)."
    return "pip install " + " (or ".join(found) + ")" * (len(found) - 1)
