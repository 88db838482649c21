"""``kepler init NAME [--template T]``."""

from __future__ import annotations

from pathlib import Path

import click

from ..records import ProjectTemplateSpec


def _list_templates(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from ..plugins import get_host
    from .output import echo_table

    records = get_host().records(ProjectTemplateSpec)
    echo_table(("Template", "From", "Description"),
               [(r.name, r.distribution, r.description) for r in records], max_width=80)
    ctx.exit(0)


@click.command()
@click.argument("name")
@click.option("--template", "-t", default="default", show_default=True,
              help="Project template (see --list-templates).")
@click.option("--dir", "parent", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to create the project in (default: the current one).")
@click.option("--list-templates", is_flag=True, expose_value=False, is_eager=True,
              callback=_list_templates, help="List the available templates and exit.")
@click.option("--git/--no-git", "use_git", default=True, show_default=True,
              help="Make the project a git repository (when git is installed), so "
              "'kepler config check' can tell tracked files.")
def init(name: str, template: str, parent: Path | None, use_git: bool) -> None:
    """Create project NAME: kepler.yml (dev/staging/prod), .gitignore, requirements, notebooks."""
    from ..project import create_project, init_git

    target = create_project(name, template=template, parent=parent)
    click.echo(f"Created project {name!r} in {target} (template {template!r}).")
    if use_git:
        note = init_git(target)
        click.echo(note)
    click.echo(f"Next: cd {target} && kepler config show")
