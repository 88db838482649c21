"""``kepler env``: the CLI face of :mod:`kepler_env.api` (imported only when ``env`` runs)."""

from __future__ import annotations

from pathlib import Path

import click
from kepler.api import echo_json, echo_table

env_option = click.option(
    "--env", "env", metavar="NAME", envvar="KEPLER_ENV",
    help="dev, staging, prod… (default: KEPLER_ENV, then kepler.yml's default_env).")
ssh_key_option = click.option(
    "--ssh-key", type=click.Path(dir_okay=False, path_type=Path),
    help="Private key for git+ssh:// requirements, used in place via GIT_SSH_COMMAND.")
kepler_option = click.option(
    "--kepler/--no-kepler", "install_kepler", default=None,
    help="Also install Kepler and the project's plugins (default: env.install_kepler, true).")


def _describe(found: object) -> str:
    from .api import EnvInfo

    assert isinstance(found, EnvInfo)
    parts = [found.manager]
    if found.python:
        parts.append(f"Python {found.python}")
    if found.packages is not None:
        parts.append(f"{found.packages} packages")
    return ", ".join(parts)


@click.group()
def env() -> None:
    """Isolated per-project Python environments, from any pip source, locked and reproducible.

    Requirements: requirements.txt, plus requirements-<env>.txt for that environment (dev gets
    requirements-dev.txt; prod never does). Environments live in .kepler/envs/<env>.
    """


@env.command()
@click.option("--manager", metavar="NAME",
              help="venv, uv, poetry, conda, docker (default: env.manager, else uv when "
              "installed, else venv).")
@click.option("--python", "python", metavar="VERSION", help="Python version or interpreter.")
@click.option("--gpu/--no-gpu", default=None, help="Add CUDA packages (conda) where supported.")
@ssh_key_option
@click.option("--base-image", metavar="IMAGE", help="Docker base image (docker manager).")
@kepler_option
@env_option
def create(manager: str | None, python: str | None, gpu: bool | None, ssh_key: Path | None,
           base_image: str | None, install_kepler: bool | None, env: str | None) -> None:
    """Create the environment: requirements plus Kepler and the project's plugins."""
    from . import api

    found = api.create(env=env, manager=manager, python=python, gpu=gpu, ssh_key=ssh_key,
                       base_image=base_image, install_kepler=install_kepler)
    click.echo(f"Created the {found.env} environment in {found.location} ({_describe(found)}).")
    click.echo(f"Next: kepler env lock --env {found.env}   (then commit the lock)")


@env.command()
@ssh_key_option
@kepler_option
@env_option
def update(ssh_key: Path | None, install_kepler: bool | None, env: str | None) -> None:
    """Reconcile the environment with changed requirements (only what changed)."""
    from . import api

    changes = api.update(env=env, ssh_key=ssh_key, install_kepler=install_kepler)
    for line in changes.lines():
        click.echo(line)
    click.echo("Up to date." if not changes else f"{len(changes.lines())} change(s).")


@env.command()
@kepler_option
@env_option
def lock(install_kepler: bool | None, env: str | None) -> None:
    """Write the lock: exact versions, hashes for index packages, commits for git sources."""
    from . import api
    from .lockfile import read_lock

    path = api.lock(env=env, install_kepler=install_kepler)
    if path.suffix == ".lock" and path.name.startswith("requirements"):
        written = read_lock(path)
        kinds: dict[str, int] = {}
        for entry in written.entries:
            kinds[entry.kind] = kinds.get(entry.kind, 0) + 1
        detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        click.echo(f"Wrote {path} ({len(written.entries)} packages: {detail}).")
    else:
        click.echo(f"Wrote {path}.")


@env.command()
@click.option("--locked", is_flag=True,
              help="Never write the lock: fail when it is missing or out of date (CI, deploys).")
@click.option("--manager", metavar="NAME", help="Manager to build a missing environment with.")
@ssh_key_option
@kepler_option
@env_option
def sync(locked: bool, manager: str | None, ssh_key: Path | None, install_kepler: bool | None,
         env: str | None) -> None:
    """Make the environment hold exactly the lock (creating it if needed)."""
    from . import api

    found = api.sync(env=env, locked=locked, manager=manager, ssh_key=ssh_key,
                     install_kepler=install_kepler)
    lock_name = found.lock.name if found.lock else "its lock"
    click.echo(f"The {found.env} environment matches {lock_name} ({_describe(found)}).")


@env.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@env_option
def check(as_json: bool, env: str | None) -> None:
    """Report conflicts before they bite: resolver dry run plus pip check."""
    from kepler.api import CheckFailedError

    from . import api

    conflicts = api.check(env=env)
    if as_json:
        echo_json({"conflicts": conflicts})
    elif not conflicts:
        click.echo("No conflicts: the requirements resolve and the environment is consistent.")
    for line in conflicts if not as_json else ():
        click.echo(f"- {line}")
    if conflicts:
        raise CheckFailedError(f"{len(conflicts)} conflict(s).",
                               hint="Change the requirements as suggested above, then run "
                               "'kepler env check' again.")


@env.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: DEPENDENCIES.md beside the lock).")
@env_option
def doc(output: Path | None, env: str | None) -> None:
    """Write DEPENDENCIES.md: package, version, source, license, what pulled it in."""
    from . import api

    click.echo(f"Wrote {api.doc(env=env, output=output)}.")


@env.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(as_json: bool) -> None:
    """The project's environments: manager, Python, packages, lock status."""
    from . import api

    found = api.list_envs()
    if as_json:
        echo_json([item.to_dict() for item in found])
        return
    echo_table(("Env", "Exists", "Manager", "Python", "Packages", "Lock", "Location"),
               [(i.env, "yes" if i.exists else "no", i.manager, i.python or "-",
                 "-" if i.packages is None else i.packages,
                 i.lock_status or ("-" if not i.lock else "present"), i.location)
                for i in found], max_width=70)


@env.command()
@env_option
def remove(env: str | None) -> None:
    """Delete the environment (and its Jupyter kernel); requirements and lock stay."""
    from . import api

    api.remove(env=env)
    click.echo("Removed.")


@env.command(context_settings={"ignore_unknown_options": True,
                               "allow_interspersed_args": False})
@env_option
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def run(ctx: click.Context, env: str | None, command: tuple[str, ...]) -> None:
    """Run a command inside the environment: kepler env run -- python -m pytest"""
    from . import api

    code = api.run(list(command), env=env)
    if code:
        ctx.exit(code)


@env.command()
@click.option("--name", metavar="NAME", help="Kernel name (default: the project's name).")
@click.option("--no-install", is_flag=True, help="Fail instead of installing ipykernel.")
@env_option
def kernel(name: str | None, no_install: bool, env: str | None) -> None:
    """Register the environment as a Jupyter kernel named after the project."""
    from . import api

    folder = api.kernel(env=env, name=name, install=not no_install)
    click.echo(f"Registered kernel {folder.name!r} ({folder}).")
