"""Plugins: what is installed, and turning plugins on and off (``kp.plugins``).

Example::

    import kepler as kp
    for plugin in kp.plugins.list():
        print(plugin.name, plugin.status)
    kp.plugins.disable("audit")
"""

from __future__ import annotations

import builtins
from pathlib import Path

from ..errors import PluginError, PluginNotFoundError
from ..paths import find_project
from .manager import (
    BUILTIN_NAME,
    DEFAULT_PLUGINS,
    ENTRY_POINT_GROUP,
    PluginHost,
    PluginInfo,
    get_host,
    reset,
)
from .state import Scope, read_state, write_state

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PluginHost",
    "PluginInfo",
    "disable",
    "enable",
    "get_host",
    "info",
    "list_plugins",
    "reset",
]


def list_plugins() -> builtins.list[PluginInfo]:
    """Every plugin Kepler found: enabled, disabled (never imported) or failed (with the error)."""
    return get_host().plugins()


def info(name: str) -> PluginInfo:
    """One plugin's details."""
    return get_host().plugin(name)


def _installed_names() -> set[str]:
    from .manager import _discover

    return {candidate.name for candidate in _discover()}


def _set(name: str, *, enabled: bool, scope: Scope, project: Path | None) -> Path:
    if name == BUILTIN_NAME:
        raise PluginError(
            "Kepler's built-in plugin cannot be disabled or enabled.",
            hint="Disable the plugin that provides the capability you do not want instead.",
        )
    installed = _installed_names()
    state = read_state(project if project is not None else find_project())
    if name not in installed and name not in state.disabled:
        raise PluginNotFoundError(
            f"No plugin named {name!r} is installed.",
            hint="Installed plugins: " + (", ".join(sorted(installed)) or "none") +
            ". Names are the entry-point names 'kepler plugins list' shows.",
        )
    path = write_state(
        name, enabled=enabled, scope=scope,
        project_dir=project if project is not None else find_project(),
    )
    reset()
    return path


def enable(name: str, *, scope: Scope = "user", project: Path | None = None) -> Path:
    """Enable a plugin in the user's config (or the project's with ``scope="project"``).

    Works without importing any plugin, so a broken one can be switched back on after an upgrade.
    Returns the file that now records the choice.
    """
    return _set(name, enabled=True, scope=scope, project=project)


def disable(name: str, *, scope: Scope = "user", project: Path | None = None) -> Path:
    """Disable a plugin; it is blocked before import from the next use on."""
    return _set(name, enabled=False, scope=scope, project=project)


# ``kp.plugins.list()`` reads better than ``list_plugins`` in a notebook.
list = list_plugins  # noqa: A001
