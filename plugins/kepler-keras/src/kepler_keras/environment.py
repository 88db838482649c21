"""The exact versions a Keras model needs to load, for its manifest (and a deployment's image)."""

from __future__ import annotations

from kepler.api import Environment
from kepler_tabular import distribution_of

#: Import names every kepler-keras model needs: Keras, its preprocessing, Kepler.
MODULES = ("kepler", "kepler_tabular", "kepler_keras", "keras", "sklearn", "skops", "numpy",
           "scipy", "pandas", "h5py", "ml_dtypes", "namex", "optree", "absl", "rich")


def environment(backend: str) -> Environment:
    """Package versions, the backend's included (a .keras file loads on any backend, but the
    server runs the one recorded)."""
    found = [distribution_of(name) for name in (*MODULES, backend)]
    return Environment(packages=dict(item for item in found if item))
