"""``kp.env``: the project's isolated environments from Python (the CLI calls the same functions).

Example::

    import kepler as kp
    kp.env.create(env="dev")                  # .kepler/envs/dev, uv if installed, else venv+pip
    kp.env.lock(env="prod")                   # requirements.lock: versions, hashes, git commits
    kp.env.sync(env="prod", locked=True)      # exactly the lock; fails if it is stale
    kp.env.check()                            # ["alpha 1.2 needs beta<2, but gamma 3.0 needs …"]
    kp.env.doc()                              # DEPENDENCIES.md: source, license, required by
    kp.env.run(["python", "-m", "pytest"])    # inside the environment; returns the exit code
    kp.env.kernel()                           # a Jupyter kernel named after the project
    [e.env for e in kp.env.list() if e.exists]

Every function takes ``env`` (dev, staging, prod… default: ``KEPLER_ENV`` or kepler.yml's
``default_env``) and ``project`` (default: the kepler.yml found from the working directory).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import EnvError, EnvNotFoundError, LockError
from .plan import EnvPlan, plan_for

ProjectArg = Path | str | None


@dataclass(frozen=True)
class EnvInfo:
    """One environment of the project, as ``kepler env list`` shows it."""

    env: str
    manager: str
    location: Path
    exists: bool
    python: str = ""
    packages: int | None = None
    lock: Path | None = None
    #: "in sync", "differs: …", "stale" (requirements changed since), "missing", or "" when the
    #: environment does not exist.
    lock_status: str = ""
    kernel: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"env": self.env, "manager": self.manager, "location": str(self.location),
                "exists": self.exists, "python": self.python, "packages": self.packages,
                "lock": str(self.lock) if self.lock else None, "lock_status": self.lock_status,
                "kernel": self.kernel}

    def _repr_html_(self) -> str:
        """A notebook's view of the environment: where it is, its Python, lock and kernel."""
        from kepler.api import Card

        card = Card(f"Environment {self.env} ({self.manager})")
        card.add("location", str(self.location) + ("" if self.exists else " (not created)"))
        card.add("python", self.python).add("packages", self.packages)
        card.add("lock", f"{self.lock} ({self.lock_status})" if self.lock else self.lock_status)
        card.add("kernel", self.kernel)
        return str(card.html())


@dataclass(frozen=True)
class Changes:
    """What ``update`` changed in the environment."""

    added: builtins.list[tuple[str, str]] = field(default_factory=builtins.list)
    removed: builtins.list[tuple[str, str]] = field(default_factory=builtins.list)
    changed: builtins.list[tuple[str, str, str]] = field(default_factory=builtins.list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def lines(self) -> builtins.list[str]:
        return ([f"+ {n} {v}" for n, v in self.added] + [f"- {n} {v}" for n, v in self.removed]
                + [f"~ {n} {old} -> {new}" for n, old, new in self.changed])


def manager_for(plan: EnvPlan) -> Any:
    """The manager object ``plan.manager`` names, built from its plugin record."""
    from kepler.api import EnvManagerSpec, find_record, records
    from kepler.api import load_config as load

    spec = find_record(EnvManagerSpec, plan.manager)
    if spec is None:
        names = sorted(r.name for r in records(EnvManagerSpec))
        raise EnvError(f"There is no environment manager {plan.manager!r}.",
                       hint=f"Available: {', '.join(names)} (plugins can add more).")
    return spec.create(load(env=plan.env, project=plan.project))


def _python_of(manager: Any, plan: EnvPlan) -> Path | None:
    getter = getattr(manager, "python", None)
    if getter is None:
        return None
    try:
        path = Path(getter(plan.project, plan))
    except EnvError:
        return None
    return path if path.exists() else None


def create(*, env: str | None = None, manager: str | None = None, python: str | None = None,
           gpu: bool | None = None, ssh_key: str | Path | None = None,
           install_kepler: bool | None = None, base_image: str | None = None,
           project: ProjectArg = None, progress: bool | None = None) -> EnvInfo:
    """Create the environment and install the requirements plus Kepler and its plugins.

    ``progress``: a step counter naming the tool that runs (default: in Jupyter and terminals).
    """
    from .progress import steps

    plan = plan_for(project, env=env, manager=manager, python=python, gpu=gpu, ssh_key=ssh_key,
                    install_kepler=install_kepler, base_image=base_image)
    with steps(f"env create {plan.env}", enabled=progress):
        manager_for(plan).create(plan.project, plan)
    return info(env=plan.env, project=plan.project)


def update(*, env: str | None = None, ssh_key: str | Path | None = None,
           install_kepler: bool | None = None, project: ProjectArg = None) -> Changes:
    """Reconcile the environment with changed requirements; return what changed."""
    from .inventory import read_inventory

    plan = plan_for(project, env=env, ssh_key=ssh_key, install_kepler=install_kepler)
    manager = manager_for(plan)
    python = _python_of(manager, plan)
    before = read_inventory(python) if python else None
    manager.update(plan.project, plan)
    python = _python_of(manager, plan)
    if before is None or python is None:
        return Changes()
    after = read_inventory(python)
    old = {d.key: d for d in before.project_dists()}
    new = {d.key: d for d in after.project_dists()}
    return Changes(
        added=[(new[k].name, new[k].version) for k in sorted(new.keys() - old.keys())],
        removed=[(old[k].name, old[k].version) for k in sorted(old.keys() - new.keys())],
        changed=[(new[k].name, old[k].version, new[k].version)
                 for k in sorted(new.keys() & old.keys()) if old[k].version != new[k].version])


def lock(*, env: str | None = None, install_kepler: bool | None = None,
         project: ProjectArg = None) -> Path:
    """Write the lock file (exact versions, hashes, git commits) and return its path."""
    plan = plan_for(project, env=env, install_kepler=install_kepler)
    return Path(manager_for(plan).lock(plan.project, plan))


def sync(*, env: str | None = None, locked: bool = False, manager: str | None = None,
         ssh_key: str | Path | None = None, install_kepler: bool | None = None,
         project: ProjectArg = None, progress: bool | None = None) -> EnvInfo:
    """Make the environment hold exactly the lock (created if missing).

    ``locked=True`` never writes the lock: it fails when the lock is missing or older than the
    requirements — what CI and deployments want.
    """
    from .progress import steps

    plan = plan_for(project, env=env, manager=manager, ssh_key=ssh_key, locked=locked,
                    install_kepler=install_kepler)
    with steps(f"env sync {plan.env}", enabled=progress):
        manager_for(plan).sync(plan.project, plan)
    return info(env=plan.env, project=plan.project)


def check(*, env: str | None = None, project: ProjectArg = None) -> builtins.list[str]:
    """Conflicts, one sentence each ("A 1.2 needs B<2, but C 3.0 needs B>=2"); empty: none."""
    plan = plan_for(project, env=env)
    return builtins.list(manager_for(plan).check(plan.project, plan))


def doc(*, env: str | None = None, output: str | Path | None = None,
        project: ProjectArg = None) -> Path:
    """Write DEPENDENCIES.md (DEPENDENCIES-<env>.md beside a per-env lock) and return it."""
    from .docgen import write_doc
    from .inventory import read_inventory
    from .sources import read_requirements

    plan = plan_for(project, env=env)
    python = _python_of(manager_for(plan), plan)
    if python is None:
        raise EnvNotFoundError(f"The {plan.env} environment does not exist; there is nothing "
                               "to document.", hint=f"kepler env create --env {plan.env}")
    if output is None:
        stem = plan.lock_path.stem.replace("requirements", "DEPENDENCIES", 1)
        output = plan.project / f"{stem}.md"
    lines = read_requirements(plan.requirement_files, plan.project)
    return write_doc(plan, read_inventory(python), lines, Path(output))


def info(*, env: str | None = None, project: ProjectArg = None) -> EnvInfo:
    """The environment's manager, location, Python, package count and lock status."""
    from .state import read_state

    plan = plan_for(project, env=env, install_kepler=None)
    state = read_state(plan.envs_dir, plan.env)
    manager = manager_for(plan)
    python = _python_of(manager, plan)
    exists = python is not None or (state is not None and plan.manager == "docker")
    packages = None
    status = ""
    lock_path = plan.lock_path
    if python is not None and plan.manager == "poetry":
        from .inventory import read_inventory

        lock_path = plan.project / "poetry.lock"
        current = lock_path.exists() and manager._lock_is_current(plan)
        status = "in sync" if current else ("stale" if lock_path.exists() else "missing")
        packages = len(read_inventory(python).project_dists())
    elif python is not None:
        status, packages = _lock_status(plan, python)
    return EnvInfo(env=plan.env, manager=plan.manager, location=plan.location, exists=exists,
                   python=state.python if state else "", packages=packages,
                   lock=lock_path if lock_path.exists() else None, lock_status=status,
                   kernel=(state.kernel or {}).get("name") if state else None)


def _lock_status(plan: EnvPlan, python: Path) -> tuple[str, int]:
    from .inventory import read_inventory
    from .lockfile import read_lock
    from .managers.base import plan_digest, verify
    from .sources import read_requirements

    inventory = read_inventory(python)
    count = len(inventory.project_dists())
    if not plan.lock_path.exists():
        return "missing", count
    try:
        current = read_lock(plan.lock_path)
    except LockError:
        return "unreadable", count
    try:
        lines = read_requirements(plan.requirement_files, plan.project)
    except EnvError:
        return "requirements unreadable", count
    if current.digest != plan_digest(plan, lines):
        return "stale", count
    problems = verify(inventory, current)
    return ("in sync" if not problems else "differs: " + "; ".join(problems)), count


def list_envs(*, project: ProjectArg = None) -> builtins.list[EnvInfo]:
    """Every environment of the project: dev, staging, prod, kepler.yml's own, and those built."""
    from kepler.api import STANDARD_ENVS, ConfigError, read_yaml

    from .state import all_states

    first = plan_for(project)
    data = read_yaml(first.project / "kepler.yml")
    configured = builtins.list((data.get("environments") or {}) if isinstance(data, dict) else {})
    names = builtins.list(dict.fromkeys([*STANDARD_ENVS, *map(str, configured),
                                         *(s.env for s in all_states(first.envs_dir))]))
    found = []
    for name in names:
        try:
            found.append(info(env=name, project=first.project))
        except ConfigError:  # an environment kepler.yml does not define
            continue
    return found


def remove(*, env: str | None = None, project: ProjectArg = None) -> None:
    """Delete the environment (and its Jupyter kernel); requirements and lock stay."""
    plan = plan_for(project, env=env, install_kepler=False)
    manager_for(plan).remove(plan.project, plan)


def run(command: Sequence[str], *, env: str | None = None, project: ProjectArg = None) -> int:
    """Run ``command`` inside the environment and return its exit code."""
    plan = plan_for(project, env=env, install_kepler=False)
    return int(manager_for(plan).run(plan.project, builtins.list(command), plan))


def kernel(*, env: str | None = None, name: str | None = None, install: bool = True,
           project: ProjectArg = None) -> Path:
    """Register the environment as a Jupyter kernel named after the project; return its spec."""
    from .kernel import register_kernel

    plan = plan_for(project, env=env, install_kepler=False)
    manager = manager_for(plan)
    python = _python_of(manager, plan)
    if python is None:
        raise EnvNotFoundError(f"The {plan.env} environment does not exist.",
                               hint=f"kepler env create --env {plan.env}")
    return register_kernel(plan, manager, python, name=name, install=install)


# ``kp.env.list()`` reads better than ``list_envs`` in a notebook.
list = list_envs  # noqa: A001
