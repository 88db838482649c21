"""Which plugins are disabled, and where that was decided.

Layers, lowest first: the user's global config (``plugins.disabled`` in
``<user config dir>/config.yml``), the project's ``kepler.yml`` (``plugins.disabled`` adds,
``plugins.enabled`` re-enables what the user disabled globally), then
``KEPLER_DISABLE_PLUGINS=a,b``.
Reading touches only these small YAML files, never a plugin, so ``enable``/``disable`` work even
when a plugin is broken.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError
from ..paths import PROJECT_FILE, user_config_file
from ..yamlio import edit_yaml, read_yaml

Scope = Literal["user", "project"]
ENV_DISABLE = "KEPLER_DISABLE_PLUGINS"


@dataclass(frozen=True)
class PluginState:
    disabled: frozenset[str]
    #: For each disabled plugin, the layer that disabled it (shown by ``plugins info``).
    reasons: dict[str, str] = field(default_factory=dict)


def _names(section: Any, key: str, source: Path) -> list[str]:
    if not isinstance(section, dict):
        return []
    value = section.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(
            f"{source}: plugins.{key} must be a list of plugin names, found {value!r}.",
            hint=f"Write it as 'plugins: {{{key}: [name, ...]}}'.",
        )
    return value


def read_state(project_dir: Path | None) -> PluginState:
    disabled: dict[str, str] = {}
    user_file = user_config_file()
    user_plugins = read_yaml(user_file).get("plugins")
    for name in _names(user_plugins, "disabled", user_file):
        disabled[name] = f"user config ({user_file})"
    if project_dir is not None:
        project_file = project_dir / PROJECT_FILE
        project_plugins = read_yaml(project_file).get("plugins")
        for name in _names(project_plugins, "enabled", project_file):
            disabled.pop(name, None)
        for name in _names(project_plugins, "disabled", project_file):
            disabled[name] = f"project ({project_file})"
    for name in filter(None, (n.strip() for n in os.environ.get(ENV_DISABLE, "").split(","))):
        disabled[name] = f"environment variable {ENV_DISABLE}"
    return PluginState(disabled=frozenset(disabled), reasons=disabled)


def write_state(name: str, *, enabled: bool, scope: Scope, project_dir: Path | None) -> Path:
    """Record the choice in the chosen layer and return the file written."""
    if scope == "project":
        if project_dir is None:
            raise ConfigError(
                "--project needs a project, and none was found here.",
                hint="Run it inside a project folder (one holding kepler.yml) or create one "
                "with 'kepler init NAME'.",
            )
        path = project_dir / PROJECT_FILE
    else:
        path = user_config_file()
    user_disabled = name in _names(read_yaml(user_config_file()).get("plugins"), "disabled", path)

    def mutate(document: Any) -> None:
        plugins = document.setdefault("plugins", {})
        if not isinstance(plugins, dict):
            raise ConfigError(f"{path}: 'plugins' must be a mapping, found {plugins!r}.")
        disabled_list = list(_names(plugins, "disabled", path))
        enabled_list = list(_names(plugins, "enabled", path))
        if enabled:
            disabled_list = [n for n in disabled_list if n != name]
            if scope == "project" and user_disabled and name not in enabled_list:
                enabled_list.append(name)
        else:
            enabled_list = [n for n in enabled_list if n != name]
            if name not in disabled_list:
                disabled_list.append(name)
        for key, values in (("disabled", disabled_list), ("enabled", enabled_list)):
            if values:
                plugins[key] = values
            else:
                plugins.pop(key, None)
        if not plugins:
            document.pop("plugins", None)

    edit_yaml(path, mutate)
    return path
