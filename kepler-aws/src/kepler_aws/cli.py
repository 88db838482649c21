"""``kepler aws``: what only AWS has, beside the generic deployment commands.

::

    kepler aws provision [--env prod] [--dry-run] [--json]
    kepler aws revisions NAME [--env prod] [--json]

Deploying, canaries, promoting and rolling back are core's, as for every target::

    kepler deploy MODEL --target aws [-o image=URI] [--canary N] [--dry-run]
    kepler deploy promote|rollback|status|list|logs|delete NAME
"""

from __future__ import annotations

import json

import click

_env_option = click.option("--env", "env", metavar="NAME",
                           help="Configuration environment (dev, staging, prod; default: "
                           "kepler --env, else the project's default).")


@click.group()
def aws() -> None:
    """AWS: provision what deployments need; list a deployment's task definitions.

    Deploy, canary, promote and roll back with 'kepler deploy ... --target aws'.
    """


@aws.command("provision")
@_env_option
@click.option("--dry-run", is_flag=True, help="Print every request; send none.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def provision_command(env: str | None, dry_run: bool, as_json: bool) -> None:
    """Create what deployments need, if missing: ECR repository, ECS cluster, log group, IAM
    roles, build bucket and CodeBuild project, security groups, load balancer, secrets
    (idempotent)."""
    from kepler.api import load_config

    from .provision import provision

    config = load_config(env=env)
    steps, requests = provision(config.section("aws"), env=config.env, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps({"env": config.env, "dry_run": dry_run,
                               "steps": [s.__dict__ for s in steps],
                               "requests": [r.as_dict() for r in requests]}, indent=2,
                              default=str))
        return
    if dry_run:
        click.echo(f"Dry run (environment {config.env}): these requests would be sent; "
                   "none was.\n")
        click.echo("\n\n".join(r.render() for r in requests))
        click.echo("")
    for step in steps:
        click.echo(f"{step.resource}: {step.name} ({step.action})"
                   + (f" - {step.detail}" if step.detail else ""))


@aws.command("revisions")
@click.argument("name")
@_env_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def revisions_command(name: str, env: str | None, as_json: bool) -> None:
    """The task definitions of deployment NAME, newest first, with their traffic.

    'kepler deploy rollback NAME --to family:N' runs one of them again.
    """
    from kepler.api import echo_table

    from .sdk import revisions

    found = revisions(name, env=env)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    echo_table(("Revision", "Model", "Version", "Traffic", "Created"),
               [(r["name"], r["model"] or "", r["version"] or "", f"{r['traffic']}%",
                 r["created"] or "") for r in found])
