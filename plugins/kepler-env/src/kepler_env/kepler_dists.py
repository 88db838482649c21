"""Installing "Kepler and the project's plugins" into a new environment, from where they came.

The environment should run the same Kepler the user runs now, whether that came from PyPI, from
a clone of the monorepo (editable installs), from a local folder, a wheel or a git commit. Each
installed distribution says where it came from in ``direct_url.json`` (PEP 610), which pip and uv
write for every install that did not come from an index:

==========================================  ==========================================
``direct_url.json``                         requirement written for the new environment
==========================================  ==========================================
``dir_info: {editable: true}``              ``-e /path/to/kepler-core``
``dir_info: {}``                            ``kepler-core @ file:///path/to/kepler-core``
``vcs_info: {commit_id: …}``                ``kepler-core @ git+https://…@<commit>``
``archive_info`` (a local wheel still there) ``kepler-core @ file:///…/kepler_core-….whl``
absent (an index install)                   ``kepler-core==0.1.0``
==========================================  ==========================================

The distributions are ``kepler-core`` plus every distribution whose plugin is *enabled* for the
project (``kepler plugins list``): a plugin disabled in kepler.yml is not installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .indexes import redact_url

CORE = "kepler-core"


def requirement_for(dist: metadata.Distribution) -> str:
    """The requirement line that reinstalls ``dist`` from where it was installed."""
    name = dist.metadata["Name"]
    raw = dist.read_text("direct_url.json")
    info = json.loads(raw) if raw else None
    if not info or "url" not in info:
        return f"{name}=={dist.version}"
    url = str(info["url"])
    subdirectory = info.get("subdirectory")
    fragment = f"#subdirectory={subdirectory}" if subdirectory else ""
    if "vcs_info" in info:
        vcs = info["vcs_info"]
        return f"{name} @ {vcs.get('vcs', 'git')}+{redact_url(url)}@{vcs['commit_id']}{fragment}"
    if url.startswith("file:"):
        path = Path(unquote(urlsplit(url).path))
        if "dir_info" in info:
            if info["dir_info"].get("editable"):
                return f"-e {path}"
            return f"{name} @ {path.as_uri()}"
        if path.exists():
            return f"{name} @ {path.as_uri()}"
        return f"{name}=={dist.version}"
    if "archive_info" in info:
        return f"{name} @ {redact_url(url)}"
    return f"{name}=={dist.version}"


def plugin_distributions(project: Path | None) -> list[str]:
    """Names of the distributions whose Kepler plugins are enabled for ``project``.

    kepler-core comes first. A plugin that failed to load is left out; whether one is disabled is
    read from ``project``'s kepler.yml (and the user's config), whatever project the running
    process found.
    """
    from kepler.plugins import list_plugins
    from kepler.plugins.state import read_state

    disabled = read_state(project).disabled
    names = [CORE]
    for info in list_plugins():
        if info.builtin or info.status == "failed" or info.name in disabled:
            continue
        if info.distribution in ("(in-process)", "?", "") or info.distribution in names:
            continue
        names.append(info.distribution)
    return names


def kepler_requirements(project: Path | None = None,
                        names: Iterable[str] | None = None) -> list[str]:
    """Requirement lines installing Kepler and the enabled plugins, each from its origin.

    Example (in a clone of the monorepo, installed editable)::

        kepler_requirements()
        # ['-e /src/kepler/kepler-core', '-e /src/kepler/plugins/kepler-env', ...]
    """
    lines = []
    for name in (names if names is not None else plugin_distributions(project)):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        lines.append(requirement_for(dist))
    return lines
