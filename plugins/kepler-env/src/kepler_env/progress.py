"""A progress line while an environment is built: which tool runs now, and how many have run.

Creating an environment runs a handful of long commands (uv or pip resolving and installing,
Kepler's own packages, the lock); without a sign of life a notebook cell looks hung for minutes.
``tqdm.auto`` draws the notebook widget in Jupyter and a text line in a terminal; nothing is drawn
when stderr is not a terminal and no notebook runs, so logs and CI stay clean. The count has no
total: how many commands a manager runs depends on the plan, and a made-up total would lie.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_current: ContextVar[Any] = ContextVar("kepler_env_progress", default=None)


def interactive() -> bool:
    """In a Jupyter kernel (not merely with ipykernel imported somewhere), or a terminal."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if type(shell).__name__ == "ZMQInteractiveShell":
        return True
    return hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


@contextmanager
def steps(label: str, enabled: bool | None = None, file: Any = None) -> Iterator[None]:
    """Show a step counter named ``label`` while the block runs (``enabled=None``: only when
    interactive). Nested blocks reuse the outer bar."""
    if _current.get() is not None or not (interactive() if enabled is None else enabled):
        yield
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency; a trimmed install may lack it
        yield
        return
    bar = tqdm(desc=label, unit=" step", file=file, bar_format="{desc}: {n} steps {postfix} "
               "[{elapsed}]")
    token = _current.set(bar)
    try:
        yield
    finally:
        _current.reset(token)
        bar.set_postfix_str("done")
        bar.close()


def step(what: str) -> None:
    """Record that ``what`` (a tool and its first arguments) starts now."""
    bar = _current.get()
    if bar is None:
        return
    bar.update(1)
    bar.set_postfix_str(what[:60])
