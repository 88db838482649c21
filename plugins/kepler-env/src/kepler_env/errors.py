"""The errors ``kepler env`` raises: each says what happened and what to do next.

All are :class:`kepler.errors.KeplerError` subclasses, so the CLI prints ``Error: …`` and
``Hint: …`` and exits with the class's code; the SDK lets them propagate.
"""

from __future__ import annotations

from collections.abc import Sequence

from kepler.api import EXIT_CHECK_FAILED, KeplerError


class EnvError(KeplerError):
    """Base of every kepler-env error."""


class EnvNotFoundError(EnvError):
    """The project's environment does not exist (yet)."""


class EnvExistsError(EnvError):
    """``create`` found an environment already there."""


class ToolMissingError(EnvError):
    """A manager's tool (uv, poetry, conda, docker…) is not installed."""


class DockerEngineUnavailableError(ToolMissingError):
    """The docker CLI is there but no Docker engine answers it."""


class PythonNotFoundError(EnvError):
    """No interpreter of the requested Python version could be found."""


class RequirementsError(EnvError):
    """A requirements file is missing or has a line Kepler cannot use."""


class LockError(EnvError):
    """The lock file is missing, stale, or the environment does not match it."""


class CommandFailedError(EnvError):
    """pip, uv, poetry, conda or docker failed; the message carries its (redacted) output."""


class EnvConflictError(EnvError):
    """The requirements cannot all be installed together; ``conflicts`` lists why, one per line."""

    exit_code = EXIT_CHECK_FAILED

    def __init__(self, message: str, hint: str | None = None,
                 conflicts: Sequence[str] = ()) -> None:
        super().__init__(message, hint)
        self.conflicts = list(conflicts)
