"""A model's recorded requirements: parsed, checked against what is installed, and pinned.

The code imports these packages when it loads, so Kepler checks them before importing it (a
clear "install X" beats an ImportError deep in the user's code), records the exact installed
versions in the manifest's environment (what a deployment image installs), and keeps the
requirement strings as given.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable

from kepler.api import ModelError
from packaging.requirements import InvalidRequirement, Requirement


def parse(requirements: Iterable[str]) -> list[Requirement]:
    """The requirements as ``packaging`` objects; a malformed one is refused."""
    parsed = []
    for text in requirements:
        try:
            parsed.append(Requirement(str(text)))
        except InvalidRequirement as exc:
            raise ModelError(f"Requirement {text!r} is not valid: {exc}",
                             hint="Write requirements as pip does: 'statsmodels>=0.14', "
                             "'prophet==1.1.5'.") from exc
    return parsed


def unmet(requirements: Iterable[Requirement]) -> list[str]:
    """Each requirement not satisfied here, with what is installed instead."""
    problems = []
    for requirement in requirements:
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            installed = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{requirement} (not installed)")
            continue
        if requirement.specifier and not requirement.specifier.contains(installed,
                                                                         prereleases=True):
            problems.append(f"{requirement} (installed: {installed})")
    return problems


def check(requirements: Iterable[str], *, model: str = "this model") -> list[Requirement]:
    """Parse and check; raise with the pip command that fixes it when one is not met."""
    parsed = parse(requirements)
    problems = unmet(parsed)
    if problems:
        command = " ".join(f"'{r}'" for r in parsed)
        raise ModelError(f"The requirements of {model} are not met here: {'; '.join(problems)}.",
                         hint=f"Install them first: pip install {command} (a package that does "
                         "not install needs a different version or name in requirements).")
    return parsed


def pinned(requirements: Iterable[Requirement]) -> dict[str, str]:
    """Installed version of each requirement, for the manifest's environment."""
    found = {}
    for requirement in requirements:
        try:
            found[requirement.name] = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found
