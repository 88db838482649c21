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

from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from .indexes import redact_url

CORE = "kepler-core"


def requirement_for(dist: metadata.Distribution) -> str:
    """The requirement line that reinstalls ``dist`` from where it was installed."""
    from kepler.api import install_origin

    name = dist.metadata["Name"]
    origin = install_origin(dist)
    fragment = f"#subdirectory={origin.subdirectory}" if origin.subdirectory else ""
    if origin.kind == "vcs":
        return f"{name} @ {origin.vcs}+{redact_url(origin.url)}@{origin.commit_id}{fragment}"
    if origin.path is not None:
        if origin.kind == "editable":
            return f"-e {origin.path}"
        if origin.kind == "directory" or origin.path.exists():
            return f"{name} @ {origin.path.as_uri()}"
        return f"{name}=={dist.version}"
    if origin.kind == "archive":
        return f"{name} @ {redact_url(origin.url)}"
    return f"{name}=={dist.version}"


def plugin_distributions(project: Path | None) -> list[str]:
    """Names of the distributions whose Kepler plugins are enabled for ``project``.

    kepler-core comes first. A plugin that failed to load is left out; whether one is disabled is
    read from ``project``'s kepler.yml (and the user's config), whatever project the running
    process found.
    """
    from kepler.api import disabled_plugins, list_plugins

    disabled = disabled_plugins(project)
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
