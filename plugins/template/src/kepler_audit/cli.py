"""``kepler audit show``."""

from __future__ import annotations

import json

import click


@click.group()
def audit() -> None:
    """The project's audit log of extracts, trainings, deployments and predictions."""


@audit.command("show")
@click.option("--last", type=click.IntRange(min=0), default=20, show_default=True,
              help="How many of the newest events to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines.")
def show(last: int, as_json: bool) -> None:
    """Show the newest audit events."""
    from kepler.api import load_config as load

    from .log import log_path, read

    config = load()
    events = read(config, last=last)
    if as_json:
        for event in events:
            click.echo(json.dumps(event, sort_keys=True))
        return
    if not events:
        click.echo(f"No audit events yet ({log_path(config)}).")
    for event in events:
        detail = {k: v for k, v in event.items() if k not in {"time", "event", "env"}}
        click.echo(f"{event['time']}  {event['env']:<8} {event['event']:<12} "
                   + ", ".join(f"{k}={v}" for k, v in sorted(detail.items())))
