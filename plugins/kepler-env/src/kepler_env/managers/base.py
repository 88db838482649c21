"""What every venv-style manager does, whichever tool installs: the venv and uv managers.

Implements ``kepler.protocols.EnvManager``. ``options`` is an :class:`~kepler_env.plan.EnvPlan`
when ``kepler env`` calls, or a plain mapping (``{"env": "prod"}``) when you call a manager
yourself.

* ``create`` makes the environment and installs the requirement files plus Kepler's own lines in
  one resolver run; if anything fails, the new environment is deleted — nothing half-installed.
* ``update`` installs what the changed requirements need (the tool keeps what already fits) and
  uninstalls what nothing requires any more.
* ``lock`` writes the lock from pip's resolution report; ``sync`` makes the environment hold
  exactly the lock (hash-checked, ``--no-deps``) and verifies the result against it.
* ``check`` runs the resolver dry and ``pip check``; it returns one sentence per conflict.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..conflicts import pip_check_sentences
from ..errors import (
    CommandFailedError,
    EnvConflictError,
    EnvError,
    EnvExistsError,
    EnvNotFoundError,
    LockError,
    RequirementsError,
)
from ..inventory import Inventory, read_inventory
from ..lockfile import Lock, build_lock, read_lock, write_lock
from ..plan import EnvPlan, as_plan
from ..process import environ, run
from ..pythons import find_python, probe
from ..resolver import pip_command, requirement_args, resolve
from ..sources import ReqLine, digest, normalize, read_requirements
from ..state import EnvState, delete_state, read_state, write_state
from .installers import Installer

log = logging.getLogger("kepler.env")

#: Output of pip or uv that means "the requirements cannot be resolved" (then pip explains).
RESOLUTION_FAILURE = ("ResolutionImpossible", "No solution found when resolving",
                      "Could not find a version that satisfies", "not found in the package",
                      "conflicting dependencies")


def plan_digest(plan: EnvPlan, lines: Sequence[ReqLine]) -> str:
    """The fingerprint a fresh lock of ``plan`` carries: requirements, Kepler's lines, indexes."""
    extra = [*plan.kepler_lines,
             *(f"index {i.name} {i.url} default={i.default}" for i in plan.indexes)]
    return digest(lines, extra)


def verify(inventory: Inventory, lock: Lock) -> list[str]:
    """Differences between an environment and its lock; empty when they match."""
    problems = []
    for entry in lock.entries:
        found = inventory.get(entry.name)
        if found is None:
            problems.append(f"{entry.name} {entry.version} is missing")
        elif found.version != entry.version:
            problems.append(f"{entry.name} is {found.version}, the lock says {entry.version}")
        elif entry.commit and (found.direct_url or {}).get("vcs_info", {}).get(
                "commit_id") != entry.commit:
            problems.append(f"{entry.name} is not at commit {entry.commit[:12]}")
    locked = set(lock.by_key())
    for dist in inventory.project_dists():
        if dist.key not in locked:
            problems.append(f"{dist.name} {dist.version} is installed but not in the lock")
    return problems


@dataclass
class TopLevel:
    """The installed distributions the requirements name, and where each was asked for."""

    roots: list[tuple[str, set[str]]] = field(default_factory=list)
    #: normalized name -> "requirements.txt" (the file asking for it) or "Kepler".
    labels: dict[str, str] = field(default_factory=dict)
    #: requirement lines that match no installed distribution.
    unmatched: list[str] = field(default_factory=list)


def top_level(lines: Sequence[ReqLine], kepler_lines: Sequence[str],
              inventory: Inventory) -> TopLevel:
    """Match each requirement (named, git, path, editable) to the distribution it installed."""
    from urllib.parse import unquote, urlsplit

    found = TopLevel()

    def by_source(url: str | None, path: Path | None) -> str | None:
        for dist in inventory.dists.values():
            info = dist.direct_url or {}
            where = str(info.get("url", ""))
            if url and where and url.split("+", 1)[-1].rstrip("/") == where.rstrip("/"):
                return dist.name
            if path is not None and where.startswith("file:") and \
                    Path(unquote(urlsplit(where).path)).resolve() == path.resolve():
                return dist.name
        return None

    def add(name: str | None, extras: set[str], label: str, text: str) -> None:
        if name is None:
            found.unmatched.append(text)
            return
        found.roots.append((name, extras))
        found.labels.setdefault(normalize(name), label)

    for line in lines:
        if not line.is_option:
            add(line.name or by_source(line.url, line.path), set(line.extras), line.file.name,
                line.text)
    for text in kepler_lines:
        if text.startswith("-e "):
            name = by_source(None, Path(text[3:].strip()))
        else:
            name = text.split("@")[0].split("==")[0].strip() or None
        add(name, set(), "Kepler", text)
    return found


def blame_indexes(plan: EnvPlan) -> None:
    """Raise a credentials error when a configured index refuses them (pip and uv only say
    "not found" for a 401)."""
    from ..indexes import refusing

    refused = refusing(plan.indexes)
    if refused:
        names = ", ".join(f"{index.name} ({index.url}: HTTP {status})" for index, status in refused)
        raise EnvError(f"The package index {names} refused Kepler's credentials.",
                       hint="Check env.indexes.<name>.username and the secret its password "
                       "refers to (kepler secrets set NAME).")


class PipFamilyManager:
    """Base of the managers whose environment is a venv filled by pip or uv."""

    name = "pip-family"
    installer: Installer

    def __init__(self, config: Any = None) -> None:
        self.config = config

    def tool_status(self) -> tuple[bool, str, str]:
        """``(available, detail, hint)`` for ``kepler config validate``."""
        if self.installer.available():
            return True, f"{self.name} manager ready", ""
        return False, f"{self.installer.name} is not installed", (
            f"pip install {self.installer.name}  — or choose another manager with --manager")

    # --- helpers ------------------------------------------------------------------------------

    def _lines(self, plan: EnvPlan) -> list[ReqLine]:
        return read_requirements(plan.requirement_files, plan.project)

    def _require_env(self, plan: EnvPlan) -> None:
        if not plan.env_python.exists():
            raise EnvNotFoundError(
                f"The {plan.env} environment does not exist ({plan.relative(plan.location)}).",
                hint=f"Create it: kepler env create --env {plan.env}")

    def _resolver_python(self, plan: EnvPlan, lock: Lock | None = None) -> Path:
        if plan.env_python.exists():
            return plan.env_python
        wanted = plan.python
        if wanted is None and lock is not None and lock.python:
            wanted = ".".join(lock.python.split()[0].split(".")[:2])
        return find_python(wanted)

    def _install(self, plan: EnvPlan, lines: Sequence[ReqLine]) -> None:
        args = requirement_args(plan.requirement_files, plan.kepler_lines)
        try:
            self.installer.install(plan, args)
        except CommandFailedError as exc:
            if any(marker in exc.message for marker in RESOLUTION_FAILURE):
                self._explain(plan, lines)  # raises the conflict report when pip agrees
            raise

    def _explain(self, plan: EnvPlan, lines: Sequence[ReqLine]) -> None:
        try:
            resolve(self._resolver_python(plan), plan.requirement_files, plan.kepler_lines,
                    cwd=plan.project, env=environ(plan.pip_environ()), lines_for_hints=lines)
        except RequirementsError:
            blame_indexes(plan)
            raise

    def _make_env(self, plan: EnvPlan, lock: Lock | None = None) -> None:
        if plan.location.exists():
            shutil.rmtree(plan.location)  # a leftover without an interpreter
        plan.location.parent.mkdir(parents=True, exist_ok=True)
        self.installer.make_env(plan, self._resolver_python(plan, lock))

    def _remember(self, plan: EnvPlan) -> None:
        found = probe(str(plan.env_python))
        previous = read_state(plan.envs_dir, plan.env)
        write_state(plan.envs_dir, EnvState(
            env=plan.env, manager=self.name, location=str(plan.location),
            python=found[0] if found else "",
            kernel=previous.kernel if previous else None))

    # --- the protocol -------------------------------------------------------------------------

    def python(self, project: Path, options: Mapping[str, Any]) -> Path:
        """The environment's interpreter (it may not exist yet)."""
        return as_plan(project, options).env_python

    def create(self, project: Path, options: Mapping[str, Any]) -> Path:
        plan = as_plan(project, options)
        if plan.env_python.exists():
            raise EnvExistsError(
                f"The {plan.env} environment already exists ({plan.relative(plan.location)}).",
                hint="Bring it up to date with 'kepler env update', or 'kepler env remove' it "
                "first.")
        lines = self._lines(plan)
        try:
            self._make_env(plan)
            self._install(plan, lines)
        except BaseException:
            shutil.rmtree(plan.location, ignore_errors=True)
            raise
        self._remember(plan)
        return plan.location

    def update(self, project: Path, options: Mapping[str, Any]) -> None:
        plan = as_plan(project, options)
        self._require_env(plan)
        lines = self._lines(plan)
        self._install(plan, lines)
        inventory = read_inventory(plan.env_python)
        top = top_level(lines, plan.kepler_lines, inventory)
        if top.unmatched:
            log.warning("not removing anything: cannot tell which installed package %s is",
                        ", ".join(top.unmatched))
        else:
            keep = inventory.closure(top.roots)
            orphans = [d.name for d in inventory.project_dists() if d.key not in keep]
            self.installer.uninstall(plan, orphans)
        self._remember(plan)

    def lock(self, project: Path, options: Mapping[str, Any]) -> Path:
        plan = as_plan(project, options)
        lines = self._lines(plan)
        resolution = resolve(self._resolver_python(plan), plan.requirement_files,
                             plan.kepler_lines, cwd=plan.project, env=environ(plan.pip_environ()),
                             lines_for_hints=lines)
        lock = build_lock(resolution, lines, project=plan.project, env=plan.env,
                          digest=plan_digest(plan, lines), path=plan.lock_path)
        return write_lock(lock)

    def current_lock(self, plan: EnvPlan) -> Lock:
        """The lock to install: must exist and be fresh with ``--locked``; else (re)written."""
        lines = self._lines(plan)
        wanted = plan_digest(plan, lines)
        if not plan.lock_path.exists():
            if plan.locked:
                raise LockError(
                    f"There is no {plan.relative(plan.lock_path)}; --locked never writes one.",
                    hint=f"Write it with 'kepler env lock --env {plan.env}' and commit it.")
            self.lock(plan.project, plan)
        lock = read_lock(plan.lock_path)
        if lock.digest != wanted:
            if plan.locked:
                files = ", ".join(plan.relative(f) for f in plan.requirement_files)
                raise LockError(
                    f"{plan.relative(plan.lock_path)} is out of date: {files} (or Kepler's own "
                    "requirements, or env.indexes) changed since it was written.",
                    hint=f"Lock again with 'kepler env lock --env {plan.env}', review and commit "
                    "it; --locked installs only what a current lock says.")
            self.lock(plan.project, plan)
            lock = read_lock(plan.lock_path)
        return lock

    def sync(self, project: Path, options: Mapping[str, Any]) -> None:
        plan = as_plan(project, options)
        lock = self.current_lock(plan)
        fresh = not plan.env_python.exists()
        if fresh:
            self._make_env(plan, lock)
        try:
            self.installer.install_lock(plan, lock)
            inventory = read_inventory(plan.env_python)
            extra = [d.name for d in inventory.project_dists() if d.key not in lock.by_key()]
            if extra:
                self.installer.uninstall(plan, extra)
                inventory = read_inventory(plan.env_python)
            problems = verify(inventory, lock)
            if problems:
                raise LockError(
                    f"The {plan.env} environment does not match {plan.relative(lock.path)}: "
                    + "; ".join(problems) + ".",
                    hint="A local folder may have changed version since the lock was written: "
                    "lock again with 'kepler env lock'.")
        except BaseException:
            if fresh:
                shutil.rmtree(plan.location, ignore_errors=True)
            raise
        self._remember(plan)

    def check(self, project: Path, options: Mapping[str, Any]) -> list[str]:
        plan = as_plan(project, options)
        lines = self._lines(plan)
        found: list[str] = []
        try:
            self._explain(plan, lines)
        except EnvConflictError as exc:
            found.extend(exc.conflicts)
            if exc.hint and found:
                found[-1] += " — " + exc.hint[0].lower() + exc.hint[1:]
        except RequirementsError as exc:
            found.append(exc.message)
        if plan.env_python.exists():
            result = run([*pip_command(plan.env_python), "check"], check=False,
                         what="pip check", env=environ(plan.pip_environ()))
            found.extend(f"installed: {s}" for s in pip_check_sentences(result.stdout))
        return found

    def remove(self, project: Path, options: Mapping[str, Any]) -> None:
        plan = as_plan(project, options)
        state = read_state(plan.envs_dir, plan.env)
        if not plan.location.exists() and state is None:
            raise EnvNotFoundError(f"There is no {plan.env} environment to remove.",
                                   hint="'kepler env list' shows the project's environments.")
        from ..kernel import forget_kernel

        forget_kernel(state)
        shutil.rmtree(plan.location, ignore_errors=True)
        delete_state(plan.envs_dir, plan.env)

    def run(self, project: Path, command: list[str], options: Mapping[str, Any]) -> int:
        plan = as_plan(project, options)
        self._require_env(plan)
        return run_in(plan.env_python.parent, command, extra={"VIRTUAL_ENV": str(plan.location)})


def run_in(bin_dir: Path, command: Sequence[str], extra: Mapping[str, str]) -> int:
    """Run ``command`` with ``bin_dir`` first on PATH; stream its output; return its exit code."""
    if not command:
        raise EnvError("No command given.", hint="kepler env run -- python -c 'import sys'")
    env = environ({**extra, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
                  remove=["PYTHONHOME"])
    executable = shutil.which(command[0], path=env["PATH"])
    if executable is None:
        raise EnvError(f"{command[0]!r} is not a command in the environment or on PATH.",
                       hint="Install it into the environment (add it to requirements.txt and run "
                       "'kepler env update') or check the spelling.")
    streams: dict[str, Any] = {}
    try:
        sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # captured (tests, notebooks): relay output
        streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    result = subprocess.run([executable, *command[1:]], env=env, check=False, **streams)
    if streams:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
    return result.returncode
