"""``kepler plugins list|info|enable|disable``."""

from __future__ import annotations

import click

from .output import echo_json, echo_table


def _short_hooks(hooks: tuple[str, ...]) -> str:
    return ", ".join(h.removeprefix("kepler_") for h in hooks) or "-"


@click.group()
def plugins() -> None:
    """List, inspect, enable and disable plugins."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(as_json: bool) -> None:
    """Every installed plugin: distribution, version, status and hooks."""
    from .. import plugins as api

    infos = api.list_plugins()
    conflicts = api.get_host().conflicts()
    if as_json:
        echo_json({"plugins": [i.to_dict() for i in infos],
                   "conflicts": [str(c) for c in conflicts]})
        return
    rows = []
    for info in infos:
        status = info.status if info.status != "failed" else f"failed: {info.error}"
        rows.append((info.name, info.distribution, info.version, status,
                     _short_hooks(info.hooks)))
    echo_table(("Name", "Distribution", "Version", "Status", "Hooks"), rows, max_width=70)
    for conflict in conflicts:
        click.secho(f"\nWarning: {conflict.message}\nHint: {conflict.hint}", fg="yellow", err=True)


@plugins.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info_command(name: str, as_json: bool) -> None:
    """Details of one plugin, including what it contributes."""
    from ..plugins import get_host
    from ..records import RECORD_TYPES

    host = get_host()
    info = host.plugin(name)
    provided = {
        kind.hook.removeprefix("kepler_"): sorted(
            r.label for r in host.records(kind) if r.plugin == name)
        for kind in RECORD_TYPES
    }
    provided = {k: v for k, v in provided.items() if v}
    if as_json:
        echo_json({**info.to_dict(), "provides": provided})
        return
    lines = [
        ("Name", info.name), ("Distribution", f"{info.distribution} {info.version}"),
        ("Module", info.module), ("Status", info.status),
        ("Plugin API", info.api or "-"), ("Hooks", _short_hooks(info.hooks)),
    ]
    if info.disabled_by:
        lines.append(("Disabled by", info.disabled_by))
    if info.error:
        lines.append(("Error", info.error))
    lines += [(f"Provides {k}", ", ".join(v)) for k, v in provided.items()]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        click.echo(f"{key.ljust(width)}  {value}")


@plugins.command("enable")
@click.argument("name")
@click.option("--project", "project_scope", is_flag=True,
              help="Record it in this project's kepler.yml instead of your user config.")
def enable_command(name: str, project_scope: bool) -> None:
    """Enable a plugin (works even when the plugin is broken)."""
    from .. import plugins as api

    path = api.enable(name, scope="project" if project_scope else "user")
    click.echo(f"Enabled {name!r} (recorded in {path}).")
    from ..paths import find_project

    still = api.state.read_state(find_project()).reasons.get(name)
    if still:
        click.secho(f"Note: {name!r} is still disabled by {still}.", fg="yellow", err=True)


@plugins.command("disable")
@click.argument("name")
@click.option("--project", "project_scope", is_flag=True,
              help="Record it in this project's kepler.yml instead of your user config.")
def disable_command(name: str, project_scope: bool) -> None:
    """Disable a plugin: it is not even imported from now on."""
    from .. import plugins as api

    path = api.disable(name, scope="project" if project_scope else "user")
    click.echo(f"Disabled {name!r} (recorded in {path}).")
