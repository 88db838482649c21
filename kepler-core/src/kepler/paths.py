"""Where Kepler keeps things: the user's config folder and the current project.

``KEPLER_CONFIG_DIR`` moves the user's folder (tests and CI use it); ``KEPLER_PROJECT`` or the
CLI's ``--project`` pick a project explicitly, otherwise the nearest ``kepler.yml`` above the
working directory marks the project.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_FILE = "kepler.yml"
USER_CONFIG_FILE = "config.yml"


def user_config_dir() -> Path:
    """The user's Kepler folder: global config, plugin state, encrypted secrets."""
    override = os.environ.get("KEPLER_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("kepler", appauthor=False))


def user_cache_dir() -> Path:
    """Caches that can be rebuilt (e.g. Splunk results outside a project); KEPLER_CACHE_DIR."""
    override = os.environ.get("KEPLER_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("kepler", appauthor=False))


def user_data_dir() -> Path:
    """Data Kepler must not lose outside a project (e.g. undelivered HEC batches);
    KEPLER_DATA_DIR."""
    override = os.environ.get("KEPLER_DATA_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("kepler", appauthor=False))


def user_config_file() -> Path:
    return user_config_dir() / USER_CONFIG_FILE


def find_project(start: Path | str | None = None) -> Path | None:
    """Return the project folder (the one holding ``kepler.yml``), or ``None`` outside a project."""
    from .selection import current

    chosen = current().project
    explicit = start if start is not None else (chosen or os.environ.get("KEPLER_PROJECT"))
    if explicit:
        path = Path(explicit).expanduser().resolve()
        if path.is_file():
            return path.parent
        return path if (path / PROJECT_FILE).is_file() else None
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None
