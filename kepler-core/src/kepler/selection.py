"""Which configuration environment and project a command works on, passed down explicitly.

``kepler --env prod --project ../pumps ...`` records its choice here for the duration of the
command (a :class:`contextvars.ContextVar`, so threads and in-process test runs do not leak it),
and :func:`kepler.config.load` and :func:`kepler.paths.find_project` read it before the
``KEPLER_ENV`` / ``KEPLER_PROJECT`` variables a user may have exported. Nothing writes
``os.environ``: a child process that needs the choice is given it in its own arguments or
environment by whoever starts it (:func:`child_environment`).

Example::

    with use(env="prod"):
        config = kepler.api.load_config()      # environments.prod applied
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Selection:
    env: str | None = None
    project: Path | None = None


_NONE = Selection()
_current: ContextVar[Selection | None] = ContextVar("kepler_selection", default=None)


def current() -> Selection:
    """The environment and project chosen by the running command (None: not chosen)."""
    return _current.get() or _NONE


@contextlib.contextmanager
def use(env: str | None = None, project: Path | str | None = None) -> Iterator[Selection]:
    """Work on ``env`` and/or ``project`` inside the ``with`` block (unset values inherit)."""
    before = current()
    chosen = Selection(env=env or before.env,
                       project=Path(project).expanduser().resolve() if project else before.project)
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def choose(env: str | None = None, project: Path | str | None = None) -> None:
    """Set the choice for the rest of this context (the CLI's root command does this once)."""
    before = current()
    _current.set(Selection(env=env or before.env,
                           project=Path(project).expanduser().resolve() if project
                           else before.project))


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """Forget any choice made inside the block when it ends (one CLI run in a test process)."""
    token = _current.set(_current.get())
    try:
        yield
    finally:
        _current.reset(token)


def child_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables for a child process (a model server, a build) that must see the
    same environment and project as this command."""
    environment = dict(os.environ if base is None else base)
    chosen = current()
    if chosen.env:
        environment["KEPLER_ENV"] = chosen.env
    if chosen.project:
        environment["KEPLER_PROJECT"] = str(chosen.project)
    return environment
