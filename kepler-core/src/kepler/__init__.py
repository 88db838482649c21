"""Kepler: pull Splunk data with your own SPL, train with any library, ship with one command.

Example::

    import kepler as kp
    df = kp.data.from_splunk("search index=pumps", earliest="-7d")   # kepler-splunk
    model = kp.train.random_forest(df, target="failure")              # kepler-sklearn

In Jupyter, ``%load_ext kepler`` adds the ``%%spl`` magic (one per connector's query option),
``%kepler <command>`` and short error messages (:mod:`kepler.jupyter`).

Everything here is loaded lazily: ``import kepler`` imports no plugin and no heavy library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from . import config, plugins
    from .errors import KeplerError
    from .hookspecs import hookimpl
    from .sdk import Namespace

    data: Namespace
    train: Namespace
    models: Namespace
    deploy: Namespace
    results: Namespace
    env: Namespace

__all__ = [
    "KeplerError",
    "__version__",
    "config",
    "data",
    "deploy",
    "env",
    "hookimpl",
    "models",
    "plugins",
    "results",
    "train",
]

_MODULES = ("config", "plugins")
_LAZY = {
    "KeplerError": ("kepler.errors", "KeplerError"),
    "hookimpl": ("kepler.hookspecs", "hookimpl"),
    # ``%load_ext kepler``: IPython looks these up on the package; kepler.jupyter imports
    # nothing heavy itself, and IPython only when the magics are registered.
    "load_ipython_extension": ("kepler.jupyter", "load_ipython_extension"),
    "unload_ipython_extension": ("kepler.jupyter", "unload_ipython_extension"),
}


def __getattr__(name: str) -> Any:
    from .namespaces import NAMESPACES

    if name in NAMESPACES:
        from .sdk import Namespace

        value: Any = Namespace(name)
    elif name in _MODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    elif name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
    else:
        raise AttributeError(f"module 'kepler' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
