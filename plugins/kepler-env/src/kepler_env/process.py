"""Running pip, uv, poetry, conda, git and docker: one place for environment, logging, errors.

Every command gets the calling process's environment plus the plan's additions (index
credentials, ``GIT_SSH_COMMAND``); its output is kept, and shown — redacted, last lines only —
when it fails, so a failure says what the tool said and never what the credentials were.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import CommandFailedError
from .indexes import redact_text
from .progress import step

log = logging.getLogger("kepler.env")

TAIL_LINES = 40


def redact(text: str) -> str:
    from kepler.api import redact as redact_secrets

    return redact_text(redact_secrets(text))


def environ(updates: Mapping[str, str] | None = None,
            remove: Sequence[str] = ()) -> dict[str, str]:
    merged = {k: v for k, v in os.environ.items() if k not in remove}
    merged.update(updates or {})
    return merged


def _brief(arg: str) -> str:
    """An argument as the INFO log shows it: an embedded script (``python -c SCRIPT``) is one
    line and a count, never the code itself (DEBUG has the whole command's output)."""
    if "\n" not in arg:
        return arg
    first = arg.strip().splitlines()[0]
    return f"'{first[:60]}…' ({len(arg.strip().splitlines())} lines)"


def run(cmd: Sequence[str | Path], *, cwd: Path | None = None,
        env: Mapping[str, str] | None = None, what: str | None = None,
        check: bool = True, timeout: float | None = None,
        hint: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; on failure raise :class:`CommandFailedError` with its redacted output."""
    args = [str(part) for part in cmd]
    label = what or Path(args[0]).name
    log.info("running %s", redact(" ".join(_brief(arg) for arg in args)))
    step(redact(" ".join([label, *(_brief(arg) for arg in args[1:3])])))
    try:
        result = subprocess.run(args, cwd=cwd, env=dict(env) if env is not None else None,
                                capture_output=True, text=True, timeout=timeout, check=False,
                                stdin=subprocess.DEVNULL)
    except FileNotFoundError as exc:
        raise CommandFailedError(f"{label}: {args[0]} cannot be run: {exc.strerror}.",
                                 hint=hint or f"Install {label} or put it on PATH.") from None
    except subprocess.TimeoutExpired:
        raise CommandFailedError(f"{label} did not finish within {timeout:.0f} s.",
                                 hint=hint) from None
    log.debug("%s exited %s\n%s%s", label, result.returncode, redact(result.stdout),
              redact(result.stderr))
    if check and result.returncode != 0:
        raise CommandFailedError(
            f"{label} failed (exit {result.returncode}):\n{tail(result)}",
            hint=hint or "Read the tool's message above; rerun with --log-level DEBUG for its "
            "whole output.")
    return result


def tail(result: subprocess.CompletedProcess[str], lines: int = TAIL_LINES) -> str:
    text = "\n".join(part for part in (result.stdout.strip(), result.stderr.strip()) if part)
    kept = text.splitlines()[-lines:]
    return redact("\n".join("  " + line for line in kept))
