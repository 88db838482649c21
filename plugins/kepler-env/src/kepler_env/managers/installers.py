"""The two tools that put packages into a venv-style environment: pip and uv.

Both resolve every requirement before they touch the environment, so a conflict leaves it as it
was. They differ in speed (uv installs 10-100x faster from a warm cache) and in how they apply a
lock with hashes for some entries and not others (see :mod:`kepler_env.lockfile`).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import ToolMissingError
from ..lockfile import Lock
from ..plan import EnvPlan
from ..process import environ, run
from ..pythons import find_uv


class Installer:
    """What a pip-family manager needs from its installing tool."""

    name = "installer"

    def available(self) -> bool:
        return True

    def make_env(self, plan: EnvPlan, base_python: Path) -> None:
        raise NotImplementedError

    def install(self, plan: EnvPlan, args: Sequence[str]) -> None:
        raise NotImplementedError

    def install_lock(self, plan: EnvPlan, lock: Lock) -> None:
        """Make the environment hold exactly the lock's distributions, hashes checked."""
        raise NotImplementedError

    def uninstall(self, plan: EnvPlan, names: Sequence[str]) -> None:
        raise NotImplementedError


class PipInstaller(Installer):
    """``python -m venv``, then Kepler's own pip pointed at the new environment.

    A new venv carries the pip bundled with its Python, which can be too old for what a lock
    holds (PEP 508 direct references such as ``name @ git+file:///…@tag`` failed with the
    bundled pip 23.2). kepler-env depends on a recent pip; ``pip --python ENV`` (pip 22.3+)
    installs into the environment with it, offline, without touching the environment's pip.
    """

    name = "pip"

    def make_env(self, plan: EnvPlan, base_python: Path) -> None:
        run([base_python, "-m", "venv", plan.location], what="python -m venv")

    def _pip(self, plan: EnvPlan, *args: str | Path, what: str = "pip") -> None:
        run([sys.executable, "-m", "pip", "--python", plan.env_python, *args], cwd=plan.project,
            env=environ(plan.pip_environ()), what=what)

    def install(self, plan: EnvPlan, args: Sequence[str]) -> None:
        self._pip(plan, "install", *args, what="pip install")

    def install_lock(self, plan: EnvPlan, lock: Lock) -> None:
        with tempfile.TemporaryDirectory(prefix="kepler-env-lock-") as tmp:
            if lock.hashed:
                hashed = Path(tmp) / "hashed.txt"
                hashed.write_text(lock.requirements_text(lock.hashed), encoding="utf-8")
                self._pip(plan, "install", "--no-deps", "--require-hashes", "-r", hashed,
                          what="pip install (hash-checked)")
            if lock.unhashed:
                direct = Path(tmp) / "direct.txt"
                direct.write_text(lock.requirements_text(lock.unhashed), encoding="utf-8")
                self._pip(plan, "install", "--no-deps", "-r", direct,
                          what="pip install (git and local sources)")

    def uninstall(self, plan: EnvPlan, names: Sequence[str]) -> None:
        if names:
            self._pip(plan, "uninstall", "--yes", *names, what="pip uninstall")


class UvInstaller(Installer):
    """``uv venv`` and ``uv pip``: the same model as pip, much faster."""

    name = "uv"

    def available(self) -> bool:
        return find_uv() is not None

    def uv(self) -> Path:
        found = find_uv()
        if found is None:
            raise ToolMissingError(
                "uv is not installed (neither the 'uv' package beside Kepler nor 'uv' on PATH).",
                hint="pip install uv  — or use the pip-based manager: --manager venv")
        return found

    def _run(self, plan: EnvPlan, *args: str | Path, what: str) -> None:
        run([self.uv(), *args], cwd=plan.project, env=environ(plan.uv_environ()), what=what)

    def make_env(self, plan: EnvPlan, base_python: Path) -> None:
        self._run(plan, "venv", "--quiet", "--python", base_python, plan.location,
                  what="uv venv")

    def install(self, plan: EnvPlan, args: Sequence[str]) -> None:
        self._run(plan, "pip", "install", "--python", plan.env_python, *args,
                  what="uv pip install")

    def install_lock(self, plan: EnvPlan, lock: Lock) -> None:
        strict = ["--require-hashes"] if lock.entries and not lock.unhashed else []
        self._run(plan, "pip", "sync", "--python", plan.env_python, "--allow-empty-requirements",
                  *strict, lock.path,
                  what="uv pip sync")

    def uninstall(self, plan: EnvPlan, names: Sequence[str]) -> None:
        if names:
            self._run(plan, "pip", "uninstall", "--python", plan.env_python, *names,
                      what="uv pip uninstall")
