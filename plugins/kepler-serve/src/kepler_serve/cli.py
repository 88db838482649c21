"""kepler-serve's commands: ``kepler serve``, ``kepler predict`` and ``kepler pipeline``.

Imported only when one of them runs (their records carry the help ``kepler --help`` prints).
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

import click


@click.command()
@click.argument("model")
@click.option("--port", type=click.IntRange(1, 65535),
              help="Port (default: $PORT, else serve.port, 8080).")
@click.option("--host", help="Interface to bind (default: serve.host, 127.0.0.1).")
@click.option("--api-key-env", metavar="VARIABLE",
              help="Require the API key held in this environment variable (or serve.api_key).")
@click.option("--log-sink", help="Send every prediction through this sink (default: "
              "serve.log_sink).")
@click.option("--log-to-splunk/--no-log-to-splunk", default=None,
              help="Shorthand: --log-sink splunk-hec (default: serve.log_to_splunk).")
@click.option("--index", help="HEC index for the prediction log (default: serve.index).")
@click.option("--fast-path/--no-fast-path", default=None,
              help="Score with the compiled fast path where possible (default: on).")
@click.option("--compiler", default=None, metavar="NAME",
              help="Compiled scorer: auto (installed compilers such as onnxruntime, then the "
              "model format's own), a compiler's name, or format (default: serve.compiler, "
              "auto). Each is checked against the model at start.")
@click.option("--strict-inputs/--lenient-inputs", default=None,
              help="Refuse (422) numeric strings, nulls the schema does not allow, unseen "
              "categories and fields that are not features (default: serve.strict_inputs, off: "
              "they are coerced, imputed, scored as unseen and ignored).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes sharing the port, one per core (default: serve.workers, "
              "1). Each logs its own predictions; /metadata counts per worker.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve(model: str, port: int | None, host: str | None, api_key_env: str | None,
          log_sink: str | None, log_to_splunk: bool | None, index: str | None,
          fast_path: bool | None, compiler: str | None, strict_inputs: bool | None,
          workers: int | None, log_level: str) -> None:
    """Serve MODEL (NAME, NAME:VERSION, NAME:ALIAS or a folder) as a REST API, in the foreground.

    POST /predict with {"instances": [{feature: value, ...}]}; Open Inference Protocol under
    /v2; /health, /ready, /metadata; the request schema in /docs. Stop with Ctrl-C or SIGTERM:
    requests in flight finish and queued predictions are sent.
    """
    from kepler.api import ConfigError

    from .server import run, settings_from_config

    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise ConfigError(f"--api-key-env {api_key_env}: that variable is not set.",
                              hint=f"export {api_key_env}=<a long random key> first.")
    settings = settings_from_config(api_key=api_key, log_sink=log_sink,
                                    log_to_splunk=log_to_splunk, index=index, fast_path=fast_path,
                                    compiler=compiler, strict_inputs=strict_inputs,
                                    workers=workers)
    run(model, host=host, port=port, settings=settings, log_level=log_level,
        announce=lambda text: click.echo(text, err=True))


# --- batch scoring ----------------------------------------------------------------------------


def _show(report: Any, as_json: bool, preview: int = 0) -> None:
    from kepler.api import echo_json, echo_table

    if as_json:
        echo_json(report.to_dict())
        return
    click.echo(report.summary())
    if preview and report.frame is not None and len(report.frame):
        frame = report.frame.head(preview)
        columns = [c for c in frame.columns if c not in ("features",)][:10]
        click.echo()
        echo_table(columns, frame[columns].astype(str).values.tolist(), max_width=24)


@click.command()
@click.argument("model")
@click.option("--connector", help="The connector that reads --query (default: data.connector, "
              "or the only one installed).")
@click.option("--query", help="What the connector reads (a search, a path, a table...).")
@click.option("--spl", help="Shorthand: --query for the Splunk connector (kepler-splunk).")
@click.option("--earliest", help="Earliest time, for time-ranged sources (-1h, @d, ISO 8601...).")
@click.option("--latest", help="Latest time.")
@click.option("--connection", help="Named Splunk connection (splunk.connections.NAME).")
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False,
                                                       path_type=Path),
              help="Shorthand: a table to score (.parquet, .csv, .json, .jsonl), read by the "
              "file connector.")
@click.option("--sink", help="Write one prediction event per row through this sink.")
@click.option("--sink-option", "sink_option", multiple=True, metavar="KEY=VALUE",
              help="An option of the sink's write (repeatable; values read as YAML).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the scored table here (.parquet, .csv or .jsonl).")
@click.option("--to-splunk", is_flag=True, help="Shorthand: --sink splunk-hec.")
@click.option("--index", help="With --to-splunk: the HEC index.")
@click.option("--sourcetype", default="_json", show_default=True)
@click.option("--keep", help="Comma-separated columns to copy next to each prediction "
              "(asset ids...).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--target", help="Run the batch as a job on this deployment target (one with "
              "batch support, e.g. azure-aci) instead of here.")
@click.option("--name", "job_name", help="With --target: the job's name (default: the model's).")
@click.option("--executor", help="Score in time slices on this executor (local, dask, "
              "dask://scheduler:8786): each worker reads, scores and writes its slice.")
@click.option("--partitions", type=click.IntRange(min=1), default=8, show_default=True,
              help="With --executor: how many time slices to cut --earliest..--latest into.")
def predict(model: str, as_json: bool, target: str | None, job_name: str | None,
            executor: str | None, partitions: int, **given: Any) -> None:
    """Batch-score MODEL on a connector's data or a table; predictions to a sink or a file.

    \b
    kepler predict pump-failure:prod --connector splunk --query "search index=pumps" \\
        --earliest -1h --sink splunk-hec --sink-option index=ml_predictions --keep asset_id
    kepler predict pump-failure:prod --spl "search index=pumps" --earliest -1h \\
        --to-splunk --index ml_predictions --keep asset_id
    kepler predict pump-failure --input new.parquet --output scored.parquet
    """
    from kepler.api import KeplerError

    from .batch import batch_score

    options = _predict_options(**given)
    if executor:
        _partitioned(model, executor, partitions, options, as_json)
        return
    if target:
        _remote_batch(model, target, job_name, given, as_json)
        return
    try:
        report = batch_score(model, **options)
    except KeplerError as exc:
        if "exactly one of" in exc.message:
            raise click.UsageError("Give the data with exactly one of --connector/--query, "
                                   "--spl SEARCH or --input FILE.") from None
        if "to one place" in exc.message:
            raise click.UsageError("Give one of --sink, --to-splunk or --output.") from None
        raise
    _show(report, as_json, preview=0 if (options["output"] or options["to_splunk"] or
                                         options["sink"]) else 10)


def _partitioned(model: str, executor: str, partitions: int, options: dict[str, Any],
                 as_json: bool) -> None:
    """``kepler predict --executor``: slices scored on the executor; a partition that failed
    twice makes the exit code non-zero after the report is shown."""
    from kepler.api import EXIT_ERROR, echo_json

    from .partitions import batch_score_partitioned

    if options.pop("input") is not None or options.pop("output") is not None:
        raise click.UsageError("--executor scores a connector's time range (--spl/--query with "
                               "--earliest) into a sink; --input/--output score here.")
    report = batch_score_partitioned(model, executor=executor, partitions=partitions, **options)
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(report.summary())
        for part in report.partitions:
            written = part["written"] or {}
            sent = written.get("sent", "") if isinstance(written, dict) else written
            click.echo(f"  partition {part['partition']}: {part['earliest']} .. "
                       f"{part['latest']}: {part['rows']} rows, sent {sent}")
        for failure in report.failed:
            click.secho(f"  partition {failure['partition']} FAILED: {failure['error']}",
                        fg="red", err=True)
    if not report.ok:
        raise SystemExit(EXIT_ERROR)


def _predict_options(*, connector: str | None, query: str | None, spl: str | None,
                     earliest: str | None, latest: str | None, connection: str | None,
                     input_path: Path | None, sink: str | None, sink_option: tuple[str, ...],
                     output: Path | None, to_splunk: bool, index: str | None,
                     sourcetype: str, keep: str | None) -> dict[str, Any]:
    """``kepler predict``'s options as :func:`~kepler_serve.batch.batch_score` arguments,
    refusing combinations that mean nothing."""
    from kepler.api import parse_key_values

    if index and not to_splunk:
        raise click.UsageError("--index goes with --to-splunk (or --sink-option index=...).")
    if sink_option and not sink:
        raise click.UsageError("--sink-option goes with --sink.")
    if connector and not query:
        raise click.UsageError("--connector goes with --query.")
    if connection and not (spl or to_splunk):
        raise click.UsageError("--connection goes with --spl or --to-splunk.")
    if (earliest or latest) and not (spl or query):
        raise click.UsageError("--earliest and --latest go with --query or --spl.")
    return {"query": query, "connector": connector, "spl": spl, "earliest": earliest,
            "latest": latest, "connection": connection, "input": input_path, "sink": sink,
            "sink_options": parse_key_values(sink_option), "output": output,
            "to_splunk": to_splunk, "index": index, "sourcetype": sourcetype,
            "keep": [c.strip() for c in keep.split(",") if c.strip()] if keep else ()}


#: ``kepler predict`` options passed on to the job's own ``kepler predict`` (--target).
_REMOTE_FLAGS = {"connector": "--connector", "query": "--query", "spl": "--spl",
                 "earliest": "--earliest", "latest": "--latest", "connection": "--connection",
                 "sink": "--sink", "index": "--index", "keep": "--keep"}


def _remote_batch(model: str, target: str, name: str | None, given: dict[str, Any],
                  as_json: bool) -> None:
    """Hand the batch to the target's optional ``run_batch`` (see the Deployer protocol): the
    model's image runs ``kepler predict`` there with the same data and sink options."""
    import json

    from kepler.api import (
        DeploymentError,
        default_deployment_name,
        deployer,
        resolve_model_folder,
    )

    if given.get("output"):
        raise click.UsageError("--output writes a file here; with --target send the "
                               "predictions through --sink or --to-splunk.")
    backend = deployer(target)
    run_batch = getattr(backend, "run_batch", None)
    if run_batch is None:
        raise DeploymentError(f"Target {target!r} does not run batch jobs.",
                              hint="Leave --target out to score here, or use a target with "
                              "batch support ('kepler deploy targets').")
    args: list[str] = []
    for key, flag in _REMOTE_FLAGS.items():
        if given.get(key):
            args += [flag, str(given[key])]
    args += [item for option in given.get("sink_option") or () for item in
             ("--sink-option", option)]
    if given.get("to_splunk"):
        args.append("--to-splunk")
    if given.get("sourcetype") not in (None, "_json"):
        args += ["--sourcetype", str(given["sourcetype"])]
    folder, manifest = resolve_model_folder(model)
    config: dict[str, Any] = {"args": args}
    if given.get("input_path"):
        config["input"] = str(given["input_path"])
    report = run_batch(name or default_deployment_name(manifest.name), str(folder), config)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    click.echo(f"Batch {report.get('group') or report.get('name', '')} on {target}: "
               f"{report.get('state', 'done')}")
    for line in report.get("logs") or []:
        click.echo(line)


# --- pipelines --------------------------------------------------------------------------------


@click.group()
def pipeline() -> None:
    """Batch scoring pipelines configured under 'pipelines:' in kepler.yml.

    \b
    pipelines:
      hourly-pump-scores:
        model: pump-failure:prod
        connector: splunk
        query: search index=pumps
        earliest: -1h
        schedule: "5 * * * *"
        destination: {sink: splunk-hec, options: {index: ml_predictions}}
    """


def _pipelines() -> dict[str, Any]:
    from kepler.api import load_config as load

    return dict(load().section("pipelines").root)


@pipeline.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(as_json: bool) -> None:
    """The pipelines of kepler.yml."""
    from kepler.api import echo_json, echo_table

    pipelines = _pipelines()
    if as_json:
        echo_json({name: p.model_dump() for name, p in pipelines.items()})
        return
    if not pipelines:
        click.echo("No pipelines. Add one under 'pipelines:' in kepler.yml "
                   "(kepler pipeline --help shows an example).")
        return
    rows = []
    for name, p in pipelines.items():
        source = f"spl: {p.spl}" if p.spl else f"file: {p.input}" if p.input else \
            f"{p.connector or 'connector'}: {p.query}"
        rows.append((name, p.model, source, p.schedule or "-", p.destination.label()))
    echo_table(("Pipeline", "Model", "Data", "Schedule", "Destination"), rows)


@pipeline.command("run")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def run_command(name: str, as_json: bool) -> None:
    """Run pipeline NAME once: extract, score, write."""
    from .batch import run_pipeline

    _show(run_pipeline(name), as_json)


@pipeline.command("cron")
def cron_command() -> None:
    """Crontab lines running each scheduled pipeline (paste into 'crontab -e')."""
    from kepler.api import load_config as load

    config = load()
    project = config.project_dir or Path.cwd()
    kepler = Path(sys.executable).parent / "kepler"
    found = False
    for name, p in _pipelines().items():
        if not p.schedule:
            continue
        found = True
        log = project / config.section("core").state_dir / "logs" / f"pipeline-{name}.log"
        click.echo(f"{p.schedule} cd {shlex.quote(str(project))} && "
                   f"{shlex.quote(str(kepler))} pipeline run {shlex.quote(name)} "
                   f">> {shlex.quote(str(log))} 2>&1")
    if not found:
        click.echo("# no pipeline has a schedule", err=True)
