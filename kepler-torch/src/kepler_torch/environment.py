"""The exact versions a PyTorch model needs to load, for its manifest."""

from __future__ import annotations

import functools

from kepler.api import Environment
from kepler_tabular import distribution_of

#: Import names every kepler-torch model needs: the network, its preprocessing, Kepler.
MODULES = ("kepler", "kepler_tabular", "kepler_torch", "torch", "safetensors", "sklearn",
           "skops", "numpy", "scipy", "pandas")


@functools.cache
def _packages() -> tuple[tuple[str, str], ...]:
    return tuple(sorted(found for found in map(distribution_of, MODULES) if found))


def environment() -> Environment:
    """Package versions only: a custom module is saved as TorchScript, whose archive holds its
    code, so loading needs none of the user's own modules."""
    return Environment(packages=dict(_packages()))
