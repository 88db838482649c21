"""``kepler config show|check|validate|path``."""

from __future__ import annotations

import click

from ..errors import CheckFailedError, ConfigError
from .output import echo_json, echo_table

env_option = click.option("--env", "env", metavar="NAME",
                          help="Environment to resolve (overrides the global --env).")


@click.group()
def config() -> None:
    """Show, check and validate the configuration."""


@config.command("show")
@env_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (secrets masked).")
def show_command(env: str | None, as_json: bool) -> None:
    """The configuration in force, secrets masked, with where each value came from."""
    from ..config import load

    cfg = load(env=env, strict=False)
    errors = cfg.errors()
    if as_json:
        echo_json({"env": cfg.env, "project": str(cfg.project_dir or ""),
                   "files": [str(f) for f in cfg.files],
                   "values": [{"key": k, "value": v, "source": s} for k, v, s in cfg.rows()],
                   "errors": {name: exc.message for name, exc in errors.items()}})
    else:
        click.echo(f"Environment: {cfg.env}")
        click.echo(f"Project:     {cfg.project_dir or '(none: user config only)'}")
        echo_table(("Key", "Value", "Source"), cfg.rows(), max_width=80)
    if errors:
        for exc in errors.values():
            click.secho(f"\n{exc.message}", fg="red", err=True)
        raise ConfigError(
            f"{len(errors)} section(s) invalid: {', '.join(errors)}.",
            hint="Fix the values named above where they are set.",
        )


@config.command("path")
def path_command() -> None:
    """The files Kepler reads its configuration from."""
    from ..paths import PROJECT_FILE, find_project, user_config_file

    project = find_project()
    click.echo(f"user:    {user_config_file()}")
    click.echo(f"project: {project / PROJECT_FILE if project else '(none)'}")


@config.command("check")
@env_option
def check_command(env: str | None) -> None:
    """Fail when a secret sits in plain text in a file git tracks."""
    from ..config import check
    from ..config.check import tracked_files
    from ..paths import find_project

    findings = check(env=env)
    project = find_project()
    assert project is not None
    _, in_git = tracked_files(project)
    scope = "git-tracked files" if in_git else "files (not a git repository: all of them)"
    if not findings:
        click.echo(f"No secrets found in {project}'s {scope}.")
        return
    click.secho(f"Found {len(findings)} secret(s) in {project}'s {scope}:", fg="red", err=True)
    for finding in findings:
        click.echo(str(finding), err=True)
    raise CheckFailedError(
        f"{len(findings)} secret(s) in plain text.",
        hint="Apply each fix above; secrets belong in 'kepler secrets' or the environment.",
    )


@config.command("validate")
@env_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def validate_command(env: str | None, as_json: bool) -> None:
    """Run every enabled plugin's checks: connectivity, credentials, permissions."""
    from ..config import validate

    results = validate(env=env)
    if as_json:
        echo_json([{"plugin": r.plugin, "check": r.check, "status": r.status, "detail": r.detail,
                    "hint": r.hint} for r in results])
    else:
        echo_table(("Plugin", "Check", "Status", "Detail", "How to fix"),
                   [(r.plugin, r.check, r.status.upper(), r.detail,
                     r.hint if r.status != "pass" else "") for r in results], max_width=120)
    failed = [r for r in results if r.status == "fail"]
    if failed:
        raise CheckFailedError(f"{len(failed)} of {len(results)} check(s) failed.",
                               hint="Apply the fixes listed above and run it again.")
