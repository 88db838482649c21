"""Names and versions for a model's manifest: its default registry name, and which installed
distribution (at which version) provides a module it needs to load."""

from __future__ import annotations

import functools
import importlib.metadata
import re
from collections.abc import Mapping

#: Import names whose distribution is named differently (editable installs are not mapped by
#: ``packages_distributions``).
KNOWN_DISTRIBUTIONS = {"kepler": "kepler-core", "sklearn": "scikit-learn"}


def default_name(target: str | None, algorithm: str, task: str) -> str:
    """The registry name of a model nobody named: ``<target or task>-<algorithm>``, cleaned to
    what registry names allow."""
    base = f"{target or task}-{algorithm}".lower()
    cleaned = re.sub(r"[^a-z0-9._-]+", "-", base).strip("-._") or "model"
    return cleaned[:100]


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distribution_of(module: str) -> tuple[str, str] | None:
    """(distribution, version) installing top-level ``module``, or None for local code."""
    top = module.split(".")[0]
    guesses = [*_distributions().get(top, []), KNOWN_DISTRIBUTIONS.get(top, ""),
               top.replace("_", "-"), top]
    for dist in filter(None, guesses):
        try:
            return dist, importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None
