"""Libraries core uses but does not depend on, imported on first use.

Core's model code (schema inference, leaderboards, charts) works on pandas DataFrames and
matplotlib figures, but ``pip install kepler-core`` must stay light and ``import kepler`` must not
import them: every trainer plugin brings them. Importing through here also keeps mypy from
requiring their stubs where they are not installed.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import KeplerError


def optional_import(module: str, purpose: str, install: str) -> Any:
    """Import ``module`` or raise a :class:`KeplerError` saying what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise KeplerError(f"{purpose} needs {module.split('.')[0]}, which is not installed.",
                          hint=f"pip install {install}") from exc


def pandas() -> Any:
    return optional_import("pandas", "Working with tables", "pandas (or a trainer plugin such "
                           "as kepler-sklearn, which brings it)")
