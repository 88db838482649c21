"""Configuration (``kp.config``): load it, show it, check it for leaked secrets, validate it.

Example::

    import kepler as kp
    cfg = kp.config.load(env="prod")
    print(cfg.splunk.host, cfg.source_of("splunk.host"))
    for finding in kp.config.check():
        print(finding)
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ProjectError
from ..paths import find_project
from ..records import CheckResult
from .check import Finding, find_secret_literals
from .model import Config, CoreSettings, load

__all__ = ["Config", "CoreSettings", "Finding", "check", "load", "validate"]


def known_secret_values(config: Config | None) -> dict[str, str]:
    """Secret values worth searching for: the secrets store's, plus those the config resolves."""
    from ..errors import KeplerError
    from ..secrets import get_store

    values: dict[str, str] = {}
    try:
        store = get_store()
        for name in store.names():
            values[name] = store.get(name)
    except KeplerError:
        pass
    if config is not None:
        from pydantic import BaseModel, SecretStr

        from .model import secret_paths

        for section_name in config.section_names:
            try:
                section = config.section(section_name)
            except KeplerError:
                continue
            if not isinstance(section, BaseModel):
                continue
            for path in secret_paths(type(section)):
                value: object = section
                for part in path:
                    value = getattr(value, part, None)
                secret = value.get_secret_value() if isinstance(value, SecretStr) else ""
                if secret and secret not in values.values():  # report each secret once
                    values[".".join((section_name, *path))] = secret
    return values


def check(project: Path | str | None = None, env: str | None = None) -> list[Finding]:
    """Secrets written in plain text in the project's git-tracked files (empty list: all clear)."""
    project_dir = find_project(project) if project is not None else find_project()
    if project_dir is None:
        raise ProjectError(
            "No Kepler project here (no kepler.yml in this folder or above).",
            hint="Run it inside a project, pass --project PATH, or create one: kepler init NAME",
        )
    config = load(env=env, project=project_dir, strict=False)
    findings, _ = find_secret_literals(project_dir, config.models, known_secret_values(config))
    return findings


def validate(env: str | None = None, project: Path | str | None = None) -> list[CheckResult]:
    """Run every enabled plugin's checks (connectivity, credentials, permissions)."""
    from ..plugins import get_host

    config = load(env=env, project=project, strict=False)
    return get_host().call_validate(config)
