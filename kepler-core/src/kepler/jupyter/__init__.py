"""Kepler in Jupyter: ``%load_ext kepler`` (needs ``pip install 'kepler-core[jupyter]'``).

Loading the extension registers the magics (:mod:`kepler.jupyter.magics`) and the short display
of Kepler errors (:mod:`kepler.jupyter.errors`). IPython is imported here only, never by
``import kepler``; kernels that ``kepler env kernel`` registers load the extension themselves.
"""

from __future__ import annotations

from typing import Any

from . import errors, magics


def load_ipython_extension(shell: Any) -> None:
    """Called by ``%load_ext kepler``: register the magics and the error display."""
    magics.register(shell)
    errors.install(shell)


def unload_ipython_extension(shell: Any) -> None:
    """``%unload_ext kepler``: Kepler errors show full tracebacks again."""
    errors.uninstall(shell)


__all__ = ["load_ipython_extension", "unload_ipython_extension"]
