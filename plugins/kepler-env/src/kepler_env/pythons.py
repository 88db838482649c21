"""Finding an interpreter for ``--python 3.11``.

Looked for, in order: the Python running Kepler (when it matches), ``pythonX.Y`` on PATH, pyenv's
installs (``$PYENV_ROOT/versions``), then ``uv python find``. Each candidate is *run* to learn its
real version and executable, because a pyenv shim on PATH may exist and still refuse to start.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import PythonNotFoundError

_PROBE = "import sys; print(sys.version.split()[0]); print(sys.executable)"


def matches(version: str, wanted: str) -> bool:
    """``3.11.7`` matches ``3.11`` and ``3.11.7``, not ``3.1`` or ``3.12``."""
    return version.split(".")[: len(wanted.split("."))] == wanted.split(".")


@functools.cache
def probe(executable: str) -> tuple[str, Path] | None:
    """``(version, real executable)`` of an interpreter, or None when it does not run."""
    try:
        result = subprocess.run([executable, "-c", _PROBE], capture_output=True, text=True,
                                timeout=20, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = result.stdout.split()
    if result.returncode != 0 or len(lines) < 2:
        return None
    return lines[0], Path(lines[1])


def _candidates(wanted: str) -> list[str]:
    short = ".".join(wanted.split(".")[:2])
    found: list[str] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        for name in (f"python{short}", f"python{short}.exe"):
            path = Path(folder) / name
            if path.is_file() and os.access(path, os.X_OK):
                found.append(str(path))
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if root.is_dir():
        for install in sorted(root.glob(f"{short}*"), reverse=True):
            candidate = install / "bin" / f"python{short}"
            if candidate.is_file():
                found.append(str(candidate))
    uv = find_uv()
    if uv is not None:
        try:
            result = subprocess.run([str(uv), "python", "find", wanted], capture_output=True,
                                    text=True, timeout=30, stdin=subprocess.DEVNULL, check=False)
        except (OSError, subprocess.TimeoutExpired):
            result = None
        if result is not None and result.returncode == 0 and result.stdout.strip():
            found.append(result.stdout.strip())
    return found


def find_python(wanted: str | None) -> Path:
    """The interpreter to build an environment from.

    Example::

        find_python("3.11")    # PosixPath('/usr/bin/python3.11')
        find_python(None)      # the Python running Kepler
    """
    if not wanted:
        return Path(sys.executable)
    if os.sep in wanted or wanted.startswith("."):
        found = probe(str(Path(wanted).expanduser()))
        if found is None:
            raise PythonNotFoundError(f"{wanted} is not a Python interpreter that runs.",
                                      hint="Give a version such as 3.11 or a working path.")
        return Path(wanted).expanduser()
    current = ".".join(str(part) for part in sys.version_info[:3])
    if matches(current, wanted):
        return Path(sys.executable)
    for candidate in _candidates(wanted):
        found = probe(candidate)
        if found is not None and matches(found[0], wanted):
            return found[1]
    raise PythonNotFoundError(
        f"No Python {wanted} found (looked on PATH, in pyenv's versions and with uv).",
        hint=f"Install it (e.g. 'uv python install {wanted}' or 'pyenv install {wanted}'), or "
        "pass --python with the path of an interpreter.")


def find_uv() -> Path | None:
    """uv's binary: the one the ``uv`` package ships next to Kepler, else ``uv`` on PATH."""
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

        return Path(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file():
        return beside
    found = shutil.which("uv")
    return Path(found) if found else None
