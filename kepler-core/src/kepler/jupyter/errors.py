"""Kepler errors in a notebook: the message and the hint, without the traceback.

A :class:`~kepler.errors.KeplerError` is raised on purpose with an actionable message; forty
lines of frames above it bury that message. While the extension is loaded such errors print as
the CLI prints them; ``%kepler_debug on`` (or ``KEPLER_DEBUG=1``) brings tracebacks back. The cell
still fails (IPython records the error), so nbclient and "run all" stop as before.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import KeplerError


class DebugSwitch:
    """Whether to show full tracebacks; starts from ``KEPLER_DEBUG`` like the CLI's ``--debug``."""

    def __init__(self) -> None:
        self.on = os.environ.get("KEPLER_DEBUG", "") not in ("", "0")


DEBUG = DebugSwitch()


def short_traceback(value: BaseException) -> list[str]:
    """The lines shown instead of the traceback: ``Type: message`` and ``Hint: ...``."""
    from ..logs import redact

    message = getattr(value, "message", str(value))
    lines = [f"{type(value).__name__}: {redact(str(message))}"]
    hint = getattr(value, "hint", None)
    if hint:
        lines.append(f"Hint: {redact(str(hint))}")
    return lines


def handler(shell: Any, etype: type[BaseException], value: BaseException, tb: Any,
            tb_offset: int | None = None) -> list[str]:
    """IPython's custom exception handler for KeplerError (``set_custom_exc``)."""
    if DEBUG.on:
        stb: list[str] = shell.InteractiveTB.structured_traceback(etype, value, tb,
                                                                 tb_offset=tb_offset)
    else:
        stb = short_traceback(value)
    shell._showtraceback(etype, value, stb)  # the kernel sends it as the cell's error output
    return stb


def install(shell: Any) -> None:
    shell.set_custom_exc((KeplerError,), handler)


def uninstall(shell: Any) -> None:
    if KeplerError in getattr(shell, "custom_exceptions", ()):
        shell.set_custom_exc((), None)


__all__ = ["DEBUG", "handler", "install", "short_traceback", "uninstall"]
