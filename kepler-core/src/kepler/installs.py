"""Where an installed distribution came from, read from its ``direct_url.json`` (PEP 610).

pip and uv write that file for every install that did not come from an index. Building a
container (kepler-serve) and a project environment (kepler-env) both need to reinstall Kepler
and its plugins from the same place the user has them, so the file is parsed here, once.

Example::

    origin = install_origin(importlib.metadata.distribution("kepler-core"))
    origin.kind          # "index", "editable", "directory", "archive" or "vcs"
    origin.path          # the local folder or file, where there is one
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

OriginKind = Literal["index", "editable", "directory", "archive", "vcs"]


@dataclass(frozen=True)
class InstallOrigin:
    kind: OriginKind
    #: The URL as recorded (``file:///…``, ``https://…``, a git remote); empty for "index".
    url: str = ""
    #: For ``file:`` URLs: the local folder or file it points at (it may since have gone).
    path: Path | None = None
    #: vcs: the commit installed and the tool (``git``).
    commit_id: str | None = None
    vcs: str | None = None
    subdirectory: str | None = None

    @property
    def is_local(self) -> bool:
        """Installed from a folder or file on this machine (no index can provide it)."""
        return self.url.startswith("file:")


def install_origin(dist: metadata.Distribution) -> InstallOrigin:
    """The origin of ``dist``; "index" when it has no (readable) ``direct_url.json``."""
    try:
        raw = dist.read_text("direct_url.json")
        info = json.loads(raw) if raw else None
    except (OSError, ValueError):
        info = None
    if not isinstance(info, dict) or "url" not in info:
        return InstallOrigin(kind="index")
    url = str(info["url"])
    path = Path(unquote(urlsplit(url).path)) if url.startswith("file:") else None
    subdirectory = info.get("subdirectory")
    if isinstance(info.get("vcs_info"), dict):
        vcs = info["vcs_info"]
        return InstallOrigin(kind="vcs", url=url, path=path, commit_id=vcs.get("commit_id"),
                             vcs=vcs.get("vcs", "git"), subdirectory=subdirectory)
    if isinstance(info.get("dir_info"), dict):
        kind: OriginKind = "editable" if info["dir_info"].get("editable") else "directory"
        return InstallOrigin(kind=kind, url=url, path=path, subdirectory=subdirectory)
    return InstallOrigin(kind="archive", url=url, path=path, subdirectory=subdirectory)


def _clone_folder(distribution: str) -> Path | None:
    """The folder of ``distribution`` in the clone kepler-core was installed from, if any."""
    try:
        core = install_origin(metadata.distribution("kepler-core"))
    except metadata.PackageNotFoundError:
        return None
    if core.kind not in ("editable", "directory") or core.path is None:
        return None
    root = core.path.parent
    for folder in (root / distribution, root / "plugins" / distribution):
        if (folder / "pyproject.toml").is_file():
            return folder
    return None


def requirement(distribution: str) -> str:
    """How to ask pip for ``distribution`` (``kepler-sklearn[xgboost]`` allowed) here: by name
    from an index, or, when Kepler runs from a clone that holds it, by its folder (first-party
    distributions may not be published where the user is)."""
    base, bracket, extras = distribution.partition("[")
    folder = _clone_folder(base)
    if folder is None:
        return distribution
    return f"{folder}{bracket}{extras}"


def pip_install(distribution: str) -> str:
    """The ``pip install …`` command for ``distribution``, quoted for a shell."""
    return f"pip install '{requirement(distribution)}'"
