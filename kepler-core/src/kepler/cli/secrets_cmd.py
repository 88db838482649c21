"""``kepler secrets set|get|list|delete``: the user's encrypted secrets file.

Values are never taken as command-line arguments (they would land in shell history): ``set``
prompts without echo, or reads standard input when it is not a terminal.
"""

from __future__ import annotations

import sys

import click

from ..config.model import MASK
from .lazy import LazyGroup


@click.group(cls=LazyGroup, path="secrets")
def secrets() -> None:
    """Manage secrets in your encrypted secrets file (outside every project)."""


@secrets.command("set")
@click.argument("name")
def set_command(name: str) -> None:
    """Store NAME: prompts for the value (or reads it from standard input)."""
    from ..secrets import get_store

    if sys.stdin.isatty():
        value = click.prompt(f"Value for {name}", hide_input=True, confirmation_prompt=True)
    else:
        value = sys.stdin.read().rstrip("\r\n")
    store = get_store()
    store.set(name, value)
    click.echo(f"Stored {name!r} (encrypted in {store.path}). Reference it as ${{secret:{name}}}.")


@secrets.command("get")
@click.argument("name")
@click.option("--reveal", is_flag=True, help="Print the value itself instead of a mask.")
def get_command(name: str, reveal: bool) -> None:
    """Show NAME, masked unless --reveal."""
    from ..secrets import get_store

    value = get_store().get(name)
    click.echo(value if reveal else MASK)


@secrets.command("list")
def list_command() -> None:
    """Names of the stored secrets (never their values)."""
    from ..secrets import get_store

    store = get_store()
    names = store.names()
    if not names:
        click.echo(f"No secrets stored ({store.path}).")
    for name in names:
        click.echo(name)
    if names:
        click.echo(f"(encrypted in {store.path}; key in {store.backend})", err=True)


@secrets.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_command(name: str, yes: bool) -> None:
    """Delete NAME."""
    from ..secrets import get_store

    if not yes and sys.stdin.isatty():
        click.confirm(f"Delete secret {name!r}?", abort=True)
    get_store().delete(name)
    click.echo(f"Deleted {name!r}.")
