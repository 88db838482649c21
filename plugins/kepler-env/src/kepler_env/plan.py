"""Everything one ``kepler env`` operation needs, worked out once: the :class:`EnvPlan`.

The plan merges the command's options with the ``env`` configuration section (layered: user
file, kepler.yml, ``environments.<env>``, ``KEPLER_ENV__*``) and the environment's remembered
state. Managers receive it as their ``options`` mapping (``EnvPlan`` *is* a ``Mapping``, so the
``kepler.protocols.EnvManager`` signature holds), and a manager called with a plain dict — a
third party's test, say — gets a plan built from that dict with :func:`as_plan`.

Conventions (all overridable in ``env:``):

* environment folder: ``<project>/.kepler/envs/<env>`` (``.kepler/`` is git-ignored);
* requirements: ``requirements.txt`` plus ``requirements-<env>.txt`` when it exists, so dev gets
  ``requirements-dev.txt`` and prod never does;
* lock: ``requirements.lock`` for ``requirements.txt`` alone, ``requirements-<env>.lock`` when
  the environment adds a file of its own (``requirements-dev.lock``): the lock mirrors the
  requirement files, and production's lock never holds a dev-only package.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from kepler.api import ProjectError

from .errors import EnvError
from .indexes import Index, from_settings, pip_environ, poetry_environ, uv_environ
from .settings import EnvSettings

BASE_REQUIREMENTS = "requirements.txt"
BASE_LOCK = "requirements.lock"


@dataclass(frozen=True, eq=False)
class EnvPlan(Mapping[str, Any]):
    """One operation's inputs, resolved. Read it as attributes or as a mapping."""

    project: Path
    env: str
    manager: str
    location: Path
    envs_dir: Path
    requirement_files: tuple[Path, ...]
    lock_path: Path
    python: str | None = None
    indexes: tuple[Index, ...] = ()
    ssh_key: Path | None = None
    install_kepler: bool = True
    kepler_lines: tuple[str, ...] = ()
    gpu: bool = False
    base_image: str | None = None
    locked: bool = False
    project_name: str = ""
    settings: EnvSettings = field(default_factory=EnvSettings)

    # --- Mapping ------------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(f.name for f in fields(self))

    def __len__(self) -> int:
        return len(fields(self))

    def __repr__(self) -> str:
        return (f"EnvPlan(project={str(self.project)!r}, env={self.env!r}, "
                f"manager={self.manager!r}, location={str(self.location)!r})")

    # --- derived ------------------------------------------------------------------------------

    @property
    def env_python(self) -> Path:
        """The interpreter inside a venv-style environment at :attr:`location`."""
        if os.name == "nt":  # a conda prefix keeps python.exe at its root
            return self.location / ("python.exe" if self.manager == "conda" else
                                    "Scripts/python.exe")
        return self.location / "bin" / "python"

    def relative(self, path: Path) -> str:
        """``path`` relative to the project when inside it (for files and messages)."""
        try:
            return path.resolve().relative_to(self.project.resolve()).as_posix()
        except ValueError:
            return str(path)

    def git_environ(self) -> dict[str, str]:
        """``GIT_SSH_COMMAND`` using the key where it lies (the key is never copied)."""
        if self.ssh_key is None:
            return {}
        key = shlex.quote(str(self.ssh_key))
        return {"GIT_SSH_COMMAND": f"ssh -i {key} -o IdentitiesOnly=yes"}

    def pip_environ(self) -> dict[str, str]:
        return {**pip_environ(self.indexes), **self.git_environ(),
                "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}

    def uv_environ(self) -> dict[str, str]:
        return {**uv_environ(self.indexes), **self.git_environ()}

    def poetry_environ(self) -> dict[str, str]:
        return {**poetry_environ(self.indexes), **self.git_environ()}

    def with_(self, **changes: Any) -> EnvPlan:
        from dataclasses import replace

        return replace(self, **changes)


def default_manager() -> str:
    """uv when it is installed (the ``uv`` package or on PATH), else venv + pip."""
    from .pythons import find_uv

    return "uv" if find_uv() is not None else "venv"


def requirement_files(project: Path, env: str, settings: EnvSettings) -> tuple[Path, ...]:
    if settings.requirements is not None:
        return tuple(project / name for name in settings.requirements)
    files = [project / BASE_REQUIREMENTS]
    own = project / f"requirements-{env}.txt"
    if own.is_file():
        files.append(own)
    return tuple(files)


def lock_path(project: Path, env: str, settings: EnvSettings, files: tuple[Path, ...]) -> Path:
    if settings.lock_file:
        return project / settings.lock_file
    if list(files) == [project / BASE_REQUIREMENTS]:
        return project / BASE_LOCK
    return project / f"requirements-{env}.lock"


def find_project_dir(project: Path | str | None) -> Path:
    from kepler.api import find_project

    found = find_project(project) if project is not None else find_project()
    if found is None:
        where = project if project is not None else Path.cwd()
        raise ProjectError(
            f"No Kepler project at {where} (no kepler.yml there or above).",
            hint="Run it inside a project, pass --project PATH, or create one: "
            "kepler init NAME --template classification")
    return found


def plan_for(project: Path | str | None = None, *, env: str | None = None,
             manager: str | None = None, python: str | None = None, gpu: bool | None = None,
             ssh_key: str | Path | None = None, install_kepler: bool | None = None,
             base_image: str | None = None, locked: bool = False) -> EnvPlan:
    """Build the plan for one operation on the project's environment ``env``."""
    from kepler.api import load_config as load

    from .state import read_state

    project_dir = find_project_dir(project)
    config = load(env=env, project=project_dir)
    settings = config.section("env")
    if not isinstance(settings, EnvSettings):  # the section's model is ours; be sure
        settings = EnvSettings.model_validate(settings)
    name = config.env
    envs_dir = project_dir / settings.envs_dir
    state = read_state(envs_dir, name)
    chosen = manager or (state.manager if state else None) or settings.manager or default_manager()
    files = requirement_files(project_dir, name, settings)
    key = ssh_key if ssh_key is not None else settings.ssh_key
    key_path = Path(key).expanduser().resolve() if key else None
    if key_path is not None and not key_path.is_file():
        raise EnvError(f"SSH key {key_path} does not exist.",
                       hint="Pass --ssh-key with the path of your private key (it is used where "
                       "it lies, never copied).")
    wants_kepler = settings.install_kepler if install_kepler is None else install_kepler
    kepler_lines: tuple[str, ...] = ()
    if wants_kepler:
        from .kepler_dists import kepler_requirements

        kepler_lines = tuple(kepler_requirements(project_dir))
    location = Path(state.location) if state and state.location else envs_dir / name
    project_name = _project_name(config, project_dir)
    return EnvPlan(
        project=project_dir, env=name, manager=chosen, location=location, envs_dir=envs_dir,
        requirement_files=files, lock_path=lock_path(project_dir, name, settings, files),
        python=python or settings.python or (state.python if state and state.python else None),
        indexes=tuple(from_settings(settings.indexes)), ssh_key=key_path,
        install_kepler=wants_kepler, kepler_lines=kepler_lines,
        gpu=settings.gpu if gpu is None else gpu,
        base_image=base_image or settings.base_image, locked=locked,
        project_name=project_name, settings=settings)


def _project_name(config: Any, project_dir: Path) -> str:
    from kepler.api import read_yaml

    data = read_yaml(project_dir / "kepler.yml")
    section = data.get("project") if isinstance(data, Mapping) else None
    name = section.get("name") if isinstance(section, Mapping) else None
    return str(name) if name else project_dir.name


def as_plan(project: Path, options: Mapping[str, Any]) -> EnvPlan:
    """``options`` itself when it is a plan, else a plan for ``project`` built from it."""
    if isinstance(options, EnvPlan):
        return options
    allowed = {"env", "manager", "python", "gpu", "ssh_key", "install_kepler", "base_image",
               "locked"}
    unknown = set(options) - allowed
    if unknown:
        raise EnvError(f"Unknown environment option(s): {', '.join(sorted(unknown))}.",
                       hint=f"Known options: {', '.join(sorted(allowed))}.")
    return plan_for(project, **dict(options))


def python_version() -> str:
    return ".".join(str(part) for part in sys.version_info[:2])
