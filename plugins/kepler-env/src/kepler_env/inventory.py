"""What is installed in an environment, read by the environment's own interpreter.

A short script runs inside the environment (its ``importlib.metadata`` sees exactly its
site-packages, whatever made it: venv, uv, poetry or conda) and prints, for each distribution,
its name, version, license, ``Requires-Dist``, ``direct_url.json`` and folder, plus the marker
environment. The script needs only the standard library, so it works in an environment that has
no pip (uv's) and no ``packaging``; markers are evaluated here, in Kepler's process.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .process import run
from .sources import normalize

SCRIPT = r"""
import json, os, platform, sys
from importlib import metadata

def marker_env():
    iver = "{0.major}.{0.minor}.{0.micro}".format(sys.implementation.version)
    if sys.implementation.version.releaselevel != "final":
        iver += sys.implementation.version.releaselevel[0] + str(sys.implementation.version.serial)
    return {
        "implementation_name": sys.implementation.name, "implementation_version": iver,
        "os_name": os.name, "platform_machine": platform.machine(),
        "platform_release": platform.release(), "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }

dists = []
seen = set()
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if not name or name.lower() in seen:
        continue
    seen.add(name.lower())
    meta = dist.metadata
    direct = dist.read_text("direct_url.json")
    dists.append({
        "name": name, "version": dist.version,
        "requires": dist.requires or [],
        "license": meta.get("License-Expression") or meta.get("License") or "",
        "classifiers": [c for c in (meta.get_all("Classifier") or [])
                        if c.startswith("License ::")],
        "summary": meta.get("Summary") or "",
        "direct_url": json.loads(direct) if direct else None,
        "installer": (dist.read_text("INSTALLER") or "").strip(),
        "path": str(getattr(dist, "_path", "")),
    })
print(json.dumps({"environment": marker_env(), "prefix": sys.prefix, "dists": dists}))
"""

#: Distributions that belong to the environment's tooling, not to the project.
TOOLING = frozenset({"pip", "setuptools", "wheel", "distribute"})


@dataclass(frozen=True)
class Installed:
    name: str
    version: str
    requires: tuple[str, ...] = ()
    license: str = ""
    classifiers: tuple[str, ...] = ()
    direct_url: Mapping[str, Any] | None = None
    path: str = ""

    @property
    def key(self) -> str:
        return normalize(self.name)

    @property
    def license_text(self) -> str:
        """License expression, else the License field (first line), else the classifiers."""
        text = self.license.strip().splitlines()[0] if self.license.strip() else ""
        if text and len(text) <= 80 and text.upper() not in ("UNKNOWN", "NONE"):
            return text
        names = [c.split("::")[-1].strip() for c in self.classifiers]
        return ", ".join(names) if names else (text[:77] + "…" if text else "unknown")

    @property
    def source(self) -> str:
        """index, git URL@sha, local path (editable or not), or archive URL."""
        from .indexes import redact_url

        info = self.direct_url
        if not info:
            return "index"
        url = redact_url(str(info.get("url", "")))
        if "vcs_info" in info:
            vcs = info["vcs_info"]
            return f"{vcs.get('vcs', 'git')}+{url}@{vcs.get('commit_id', '?')}"
        if url.startswith("file:"):
            from urllib.parse import unquote, urlsplit

            path = unquote(urlsplit(url).path)
            editable = (info.get("dir_info") or {}).get("editable")
            return f"{'editable ' if editable else ''}{path}"
        return url


@dataclass
class Inventory:
    """The distributions of one environment and its marker environment."""

    prefix: str
    environment: dict[str, str]
    dists: dict[str, Installed] = field(default_factory=dict)

    def get(self, name: str) -> Installed | None:
        return self.dists.get(normalize(name))

    def project_dists(self) -> list[Installed]:
        return sorted((d for d in self.dists.values() if d.key not in TOOLING),
                      key=lambda d: d.key)

    def dependencies(self, dist: Installed,
                     extras: Iterable[str] = ()) -> list[tuple[str, set[str]]]:
        """``(name, extras)`` that ``dist`` (with ``extras``) requires here, markers evaluated."""
        from packaging.requirements import InvalidRequirement, Requirement

        found = []
        for text in dist.requires:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if requirement.marker is not None:
                wanted = ["", *sorted(extras)]
                if not any(requirement.marker.evaluate({**self.environment, "extra": extra})
                           for extra in wanted):
                    continue
            found.append((requirement.name, set(requirement.extras)))
        return found

    def closure(self, roots: Iterable[tuple[str, set[str]]]) -> dict[str, list[str]]:
        """Every installed distribution reachable from ``roots``: key -> the roots pulling it in.

        Example: ``closure([("pandas", set())])`` maps ``numpy`` to ``["pandas"]``.
        """
        pulled: dict[str, list[str]] = {}
        for root_name, root_extras in roots:
            queue: deque[tuple[str, set[str]]] = deque([(root_name, set(root_extras))])
            visited: set[tuple[str, frozenset[str]]] = set()
            while queue:
                name, extras = queue.popleft()
                marker = (normalize(name), frozenset(extras))
                if marker in visited:
                    continue
                visited.add(marker)
                dist = self.get(name)
                if dist is None:
                    continue
                owners = pulled.setdefault(dist.key, [])
                if root_name not in owners:
                    owners.append(root_name)
                queue.extend(self.dependencies(dist, extras))
        return pulled


def read_inventory(python: Path) -> Inventory:
    """Run the inventory script with ``python`` (an environment's interpreter)."""
    result = run([python, "-c", SCRIPT], what="reading the environment")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    inventory = Inventory(prefix=data["prefix"], environment=data["environment"])
    for item in data["dists"]:
        dist = Installed(name=item["name"], version=item["version"],
                         requires=tuple(item["requires"]), license=item["license"],
                         classifiers=tuple(item["classifiers"]), direct_url=item["direct_url"],
                         path=item["path"])
        inventory.dists[dist.key] = dist
    return inventory


def freeze_line(dist: Installed) -> str:
    """A ``pip freeze``-style line, for comparing environments."""
    source = dist.source
    if source == "index":
        return f"{dist.name}=={dist.version}"
    return f"{dist.name} @ {re.sub(r'^editable ', '', source)}"
