"""``kepler deploy``: ship a model to any installed target and operate the deployment.

Generic over the ``kepler_deployers`` records, as ``kepler train`` is over trainers: a plugin that
adds a target (``cloud-run``) gets every command here through ``--target`` without writing one.
Plugins may still add commands with ``CommandSpec(parent="deploy", ...)``.

::

    kepler deploy MODEL [--target T] [--name NAME] [--port N] [-o KEY=VALUE]...
    kepler deploy update NAME MODEL            kepler deploy list [--target T] [--json]
    kepler deploy status NAME [--json]         kepler deploy logs NAME [-n 100]
    kepler deploy predict NAME --data FILE     kepler deploy delete NAME
    kepler deploy build MODEL --out DIR        kepler deploy targets

``kepler deploy MODEL`` is short for ``kepler deploy create MODEL`` (a model named like a
subcommand needs the long form).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .lazy import LazyGroup
from .output import echo_json, echo_table


def _options(pairs: tuple[str, ...], port: int | None) -> dict[str, Any]:
    from .train_cmd import parse_params

    options = parse_params(pairs)
    if port is not None:
        options["port"] = port
    return options


class DeployGroup(LazyGroup):
    """``kepler deploy``: its own subcommands, plugin commands under ``deploy``, and
    ``kepler deploy MODEL`` as the short form of ``kepler deploy create MODEL``."""

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        first = args[0] if args else ""
        if first and not first.startswith("-") and self.get_command(ctx, first) is None:
            return "create", self.commands["create"], args
        return super().resolve_command(ctx, args)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """``kepler deploy --help`` shows the options of ``kepler deploy MODEL`` too: that is
        the command most people came for."""
        super().format_options(ctx, formatter)
        create = self.commands["create"]
        rows = [record for param in create.get_params(ctx) if isinstance(param, click.Option)
                and not param.hidden and (record := param.get_help_record(ctx)) is not None]
        with formatter.section("Options of 'kepler deploy MODEL' (= kepler deploy create MODEL)"):
            formatter.write_dl(rows)


@click.group(cls=DeployGroup, path="deploy", subcommand_metavar="MODEL | COMMAND [ARGS]...")
def deploy() -> None:
    """Deploy a model: kepler deploy MODEL --target TARGET.

    MODEL is NAME, NAME:VERSION, NAME:ALIAS or an artifact folder. Targets come from plugins:
    'kepler deploy targets' lists those installed; without --target, deploy.target from the
    configuration is used, or the only installed target.
    """


_model_options = [
    click.option("--target", help="Where to deploy ('kepler deploy targets' lists them; "
                 "default: deploy.target, or the only one installed)."),
    click.option("--port", type=click.IntRange(1, 65535), help="Port to serve on (local)."),
    click.option("--option", "-o", "pairs", multiple=True, metavar="KEY=VALUE",
                 help="A target option, e.g. -o api_key_env=MY_KEY (repeatable)."),
    click.option("--json", "as_json", is_flag=True, help="Print the deployment as JSON."),
    click.option("--canary", type=click.IntRange(1, 99), metavar="PERCENT",
                 help="Give the new revision only this share of traffic (targets with "
                 "revisions, e.g. cloud-run); then 'kepler deploy promote NAME'."),
    click.option("--dry-run", is_flag=True,
                 help="Print every request the target would send; send nothing."),
]


def _with_model_options(function: Any) -> Any:
    for option in reversed(_model_options):
        function = option(function)
    return function


def _show(deployment: Any, as_json: bool) -> None:
    from ..deployments import as_dict

    if as_json:
        echo_json(as_dict(deployment))
        return
    version = f" version {deployment.version}" if deployment.version else ""
    click.echo(f"{deployment.name}: {deployment.model}{version} on {deployment.target}, "
               f"{deployment.status}" + (f" at {deployment.url}" if deployment.url else ""))
    for key, value in sorted((deployment.details or {}).items()):
        if value not in (None, "", [], {}):
            click.echo(f"  {key}: {value}")


@deploy.command("create", short_help="Deploy MODEL (what kepler deploy MODEL runs).")
@click.argument("model")
@click.option("--name", help="Deployment name (default: the model's name).")
@click.option("--replace", is_flag=True, help="Update the deployment if the name exists.")
@_with_model_options
def create_command(model: str, name: str | None, replace: bool, target: str | None,
                   port: int | None,
                   pairs: tuple[str, ...], as_json: bool, canary: int | None,
                   dry_run: bool) -> None:
    """Deploy MODEL to a target; wait until it answers."""
    from ..deployments import create, plan

    options = _options(pairs, port)
    if canary is not None:
        options["canary"] = canary
        replace = True  # a canary is a new revision of a deployment that exists
    if dry_run:
        _print_plan(plan(model, target=target, name=name, **options), as_json)
        return
    deployment = create(model, target=target, name=name, replace=replace, **options)
    _show(deployment, as_json)


def _print_plan(requests: list[Any], as_json: bool) -> None:
    if as_json:
        echo_json([r.as_dict() for r in requests])
        return
    for number, request in enumerate(requests, start=1):
        click.echo(f"# request {number} of {len(requests)} (dry run: not sent)")
        click.echo(request.render())
        click.echo()


@deploy.command("update", short_help="Serve another model or version as NAME.")
@click.argument("name")
@click.argument("model")
@click.option("--target", help="The deployment's target (default: where it lives).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to serve on (local).")
@click.option("--option", "-o", "pairs", multiple=True, metavar="KEY=VALUE",
              help="A target option (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the deployment as JSON.")
@click.option("--canary", type=click.IntRange(1, 99), metavar="PERCENT",
              help="Give the new revision only this share of traffic.")
@click.option("--dry-run", is_flag=True, help="Print the requests; send nothing.")
def update_command(name: str, model: str, target: str | None, port: int | None,
                   pairs: tuple[str, ...], as_json: bool, canary: int | None,
                   dry_run: bool) -> None:
    """Serve another MODEL (or version) as deployment NAME."""
    from ..deployments import locate, plan, update

    options = _options(pairs, port)
    if canary is not None:
        options["canary"] = canary
    if dry_run:
        name, where = locate(name, target)
        _print_plan(plan(model, target=where, name=name, action="update", **options), as_json)
        return
    _show(update(name, model, target=target, **options), as_json)


@deploy.command("rollback", short_help="Return NAME's traffic to an earlier revision.")
@click.argument("name")
@click.option("--to", "revision", help="The revision (default: the one before the current).")
@click.option("--target", help="The deployment's target (default: where it lives).")
@click.option("--json", "as_json", is_flag=True, help="Print the deployment as JSON.")
def rollback_command(name: str, revision: str | None, target: str | None,
                     as_json: bool) -> None:
    """Send all of NAME's traffic back to an earlier revision (a running canary is dropped)."""
    from ..deployments import rollback

    _show(rollback(name, revision, target=target), as_json)


@deploy.command("promote", short_help="Give NAME's canary all the traffic.")
@click.argument("name")
@click.option("--revision", help="The revision (default: the canary).")
@click.option("--target", help="The deployment's target (default: where it lives).")
@click.option("--json", "as_json", is_flag=True, help="Print the deployment as JSON.")
def promote_command(name: str, revision: str | None, target: str | None,
                    as_json: bool) -> None:
    """Send all of NAME's traffic to its new (canary) revision."""
    from ..deployments import promote

    _show(promote(name, revision, target=target), as_json)


@deploy.command("list")
@click.option("--target", help="Only this target.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(target: str | None, as_json: bool) -> None:
    """Every deployment of every installed target."""
    from .. import deployments

    found = deployments.list(target)
    if as_json:
        echo_json({"deployments": [deployments.as_dict(d) for d in found],
                   "errors": found.errors})
        return
    for where, message in sorted(found.errors.items()):
        click.secho(f"Warning: target {where!r} did not answer: {message}", fg="yellow",
                    err=True)
    if not found:
        click.echo("No deployments. Create one: kepler deploy MODEL --target TARGET")
        return
    echo_table(("Name", "Target", "Model", "Version", "Status", "URL"),
               [(d.name, d.target, d.model, d.version or "", d.status, d.url or "")
                for d in found])


@deploy.command("status")
@click.argument("name")
@click.option("--target", help="The deployment's target (default: where it lives).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status_command(name: str, target: str | None, as_json: bool) -> None:
    """The live state of deployment NAME.

    Exit code 1 when it is not running.
    """
    from ..deployments import status

    deployment = status(name, target=target)
    _show(deployment, as_json)
    if deployment.status != "running":
        click.get_current_context().exit(1)


@deploy.command("logs")
@click.argument("name")
@click.option("--lines", "-n", type=click.IntRange(min=1), default=100, show_default=True,
              help="How many of the last lines.")
@click.option("--target", help="The deployment's target (default: where it lives).")
def logs_command(name: str, lines: int, target: str | None) -> None:
    """The last lines of deployment NAME's log."""
    from ..deployments import logs

    for line in logs(name, lines, target=target):
        click.echo(line)


def read_inputs(path: Path) -> Any:
    """Prediction inputs from a file: JSON (a record, a list of records, or
    ``{"instances": [...]}``), JSON lines, or any table ``kepler train --data`` reads."""
    from ..errors import KeplerError

    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        text = path.read_text(encoding="utf-8")
        try:
            if suffix == ".json":
                return json.loads(text)
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise KeplerError(f"{path} is not valid JSON: {exc}",
                              hint='Write {"instances": [{"feature": value, ...}]} or a list '
                              "of records.") from exc
    from ..capabilities import read_data

    return read_data(str(path), connector="file")


@deploy.command("predict", short_help="Score rows of a file with deployment NAME.")
@click.argument("name")
@click.option("--data", "data", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='Inputs: JSON ({"instances": [...]}, a list of records or one record), '
              "JSON lines, CSV or Parquet.")
@click.option("--target", help="The deployment's target (default: where it lives).")
def predict_command(name: str, data: Path, target: str | None) -> None:
    """Score the rows in --data with deployment NAME.

    Prints the deployment's answer as JSON.
    """
    from ..deployments import predict

    echo_json(predict(name, read_inputs(data), target=target))


@deploy.command("delete")
@click.argument("name")
@click.option("--target", help="The deployment's target (default: where it lives).")
def delete_command(name: str, target: str | None) -> None:
    """Stop deployment NAME and forget it."""
    from ..deployments import delete

    delete(name, target=target)
    click.echo(f"Deleted deployment {name!r}.")


@deploy.command("build")
@click.argument("model")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the build context into (new or empty).")
@click.option("--target", help="Whose build context ('kepler deploy targets'; default: "
              "deploy.target, or the only one installed).")
@click.option("--option", "-o", "pairs", multiple=True, metavar="KEY=VALUE",
              help="A build option, e.g. -o wheels=all for an offline build (repeatable).")
def build_command(model: str, out: Path, target: str | None, pairs: tuple[str, ...]) -> None:
    """Write a container build context for MODEL.

    Dockerfile, the model, a lock of the packages it needs, the entrypoint.
    """
    from ..deployments import build

    folder = build(model, out, target=target, **_options(pairs, None))
    click.echo(f"Build context written to {folder}")
    click.echo(f"Build and run it: docker build -t {folder.name} {folder} && "
               f"docker run -p 8080:8080 {folder.name}")


@deploy.command("targets")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def targets_command(as_json: bool) -> None:
    """The installed deployment targets."""
    from ..deployments import targets

    found = targets()
    if as_json:
        echo_json([{"name": r.name, "plugin": r.plugin, "distribution": r.distribution,
                    "description": r.description} for r in found])
        return
    if not found:
        from ..catalogue import install_hint

        click.echo("No deployment target is installed. " + install_hint("deployers"))
        return
    echo_table(("Target", "Distribution", "Description"),
               [(r.name, r.distribution, r.description) for r in found])
