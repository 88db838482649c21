"""``kepler gcp``: provisioning and the Cloud Run rollout commands.

::

    kepler gcp provision [--env prod] [--dry-run] [--json]
    kepler gcp deploy MODEL [--name N] [--image IMG] [--canary 10] [--dry-run] [-o KEY=VALUE]
    kepler gcp promote NAME [--revision R]
    kepler gcp rollback NAME [--to R]
    kepler gcp revisions NAME [--json]

``kepler deploy MODEL --target cloud-run`` and ``kepler deploy status|list|logs|predict|delete``
work as for every target; these add what only Cloud Run has.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

_env_option = click.option("--env", "env", metavar="NAME",
                           help="Configuration environment (dev, staging, prod).")


def _use_env(env: str | None) -> None:
    if env:
        os.environ["KEPLER_ENV"] = env


def _show(deployment: Any, as_json: bool) -> None:
    from kepler.deployments import as_dict

    if as_json:
        click.echo(json.dumps(as_dict(deployment), indent=2, default=str))
        return
    version = f" version {deployment.version}" if deployment.version else ""
    click.echo(f"{deployment.name}: {deployment.model}{version} on {deployment.target}, "
               f"{deployment.status}" + (f" at {deployment.url}" if deployment.url else ""))
    for key, value in sorted((deployment.details or {}).items()):
        if value not in (None, "", [], {}):
            click.echo(f"  {key}: {value}")


@click.group()
def gcp() -> None:
    """Google Cloud Run: provision, deploy (--dry-run, --canary), promote, rollback.

    Deployments themselves are 'kepler deploy MODEL --target cloud-run'.
    """


@gcp.command("provision")
@_env_option
@click.option("--dry-run", is_flag=True, help="Print every request; send none.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def provision_command(env: str | None, dry_run: bool, as_json: bool) -> None:
    """Create what deployments need, if missing: Artifact Registry repository, build bucket,
    runtime service account, Secret Manager secrets (idempotent)."""
    from kepler.config import load

    from .provision import provision

    _use_env(env)
    config = load()
    steps, requests = provision(config.section("gcp"), dry_run=dry_run)
    if as_json:
        click.echo(json.dumps({"env": config.env, "dry_run": dry_run,
                               "steps": [s.__dict__ for s in steps],
                               "requests": [r.as_dict() for r in requests]}, indent=2))
        return
    if dry_run:
        click.echo(f"Dry run (environment {config.env}): these requests would be sent; "
                   "none was.\n")
        click.echo("\n\n".join(r.render() for r in requests))
        click.echo("")
    for step in steps:
        click.echo(f"{step.resource}: {step.name} ({step.action})"
                   + (f" - {step.detail}" if step.detail else ""))


@gcp.command("deploy")
@click.argument("model")
@click.option("--name", help="Deployment name (default: the model's name).")
@click.option("--image", help="An image pushed already (no build).")
@click.option("--canary", type=click.IntRange(1, 99), help="Percent of traffic for the new "
              "revision of an existing deployment (then: kepler gcp promote NAME).")
@click.option("--dry-run", is_flag=True, help="Print every request (the full Service spec); "
              "send none.")
@click.option("--update", "action", flag_value="update", help="Plan an update (--dry-run).")
@click.option("--option", "-o", "pairs", multiple=True, metavar="KEY=VALUE",
              help="A gcp field for this deployment, e.g. -o min_instances=1 (repeatable).")
@_env_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def deploy_command(model: str, name: str | None, image: str | None, canary: int | None,
                   dry_run: bool, action: str | None, pairs: tuple[str, ...], env: str | None,
                   as_json: bool) -> None:
    """Deploy MODEL to Cloud Run (create, or update when it exists)."""
    from kepler.cli.train_cmd import parse_params

    from .sdk import plan, to_cloud_run

    _use_env(env)
    options = parse_params(pairs)
    if image:
        options["image"] = image
    if canary is not None:
        options["canary"] = canary
    if dry_run:
        requests = plan(model, name=name, action=action, **options)
        if as_json:
            click.echo(json.dumps(requests.as_dicts(), indent=2))
            return
        click.echo(f"Dry run: {len(requests)} request(s) would be sent; none was.\n")
        click.echo(str(requests))
        return
    _show(to_cloud_run(model, name=name, **options), as_json)


@gcp.command("promote")
@click.argument("name")
@click.option("--revision", help="The revision to promote (default: the canary).")
@_env_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def promote_command(name: str, revision: str | None, env: str | None, as_json: bool) -> None:
    """Send all traffic to the canary (or --revision)."""
    from .sdk import promote

    _use_env(env)
    _show(promote(name, revision), as_json)


@gcp.command("rollback")
@click.argument("name")
@click.option("--to", "revision", help="The revision to return to (default: the previous).")
@_env_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def rollback_command(name: str, revision: str | None, env: str | None, as_json: bool) -> None:
    """Return all traffic to the previous revision (or --to)."""
    from .sdk import rollback

    _use_env(env)
    _show(rollback(name, revision), as_json)


@gcp.command("revisions")
@click.argument("name")
@_env_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def revisions_command(name: str, env: str | None, as_json: bool) -> None:
    """The revisions of deployment NAME, newest first, with their traffic."""
    from kepler.cli.output import echo_table

    from .sdk import revisions

    _use_env(env)
    found = revisions(name)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    echo_table(("Revision", "Model", "Version", "Ready", "Traffic", "Created"),
               [(r["name"], r["model"] or "", r["version"] or "", "yes" if r["ready"] else "no",
                 f"{r['traffic']}%", r["created"] or "") for r in found])
