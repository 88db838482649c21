"""CLI: ``kepler data splunk``, ``kepler data cache``, ``kepler splunk catalog``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click


def _print_frame(frame: Any, limit: int) -> None:
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20):
        click.echo(frame.head(limit).to_string() if len(frame) else "(no rows)")


@click.command("splunk")
@click.argument("spl")
@click.option("--earliest", help="Earliest time: -24h, -7d@d, @d, ISO or epoch.")
@click.option("--latest", help="Latest time (default: now).")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the rows to this .parquet or .csv file (streamed, any size).",
)
@click.option("--connection", help="A named connection of the splunk config section.")
@click.option(
    "--cache/--no-cache",
    default=None,
    help="Reuse cached results of identical past searches (default: splunk.cache).",
)
@click.option("--keep-internal", is_flag=True, help="Keep Splunk's internal fields (_bkt, _cd...).")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a tty).")
@click.option(
    "--parallel",
    type=click.IntRange(1, 32),
    default=None,
    help="Cut the time range into N slices searched as N concurrent jobs (default: "
    "splunk.parallel). Plain event searches only.",
)
@click.option(
    "--head", "head", default=10, show_default=True, help="Rows to preview when --out is not given."
)
@click.option("--allow-empty", is_flag=True,
              help="With --out: zero rows is a success (exit 0), not exit code 8.")
def data_splunk(
    spl: str,
    earliest: str | None,
    latest: str | None,
    out: Path | None,
    connection: str | None,
    cache: bool | None,
    keep_internal: bool,
    progress: bool | None,
    parallel: int | None,
    head: int,
    allow_empty: bool,
) -> None:
    """Run SPL against Splunk; save every result to --out, or preview it.

    With --out, zero rows exits with code 8 (after a warning that names any index the search
    asks for that does not exist), unless --allow-empty.
    """
    from .extract import from_splunk

    if out is not None:
        path = from_splunk(
            spl,
            earliest,
            latest,
            connection=connection,
            output=out,
            keep_internal=keep_internal,
            progress=progress,
            parallel=parallel,
        )
        if _has_rows(Path(path)):
            click.echo(f"Wrote {path}.")
            return
        _warn_empty(spl, connection, f"{path} holds no rows")
        if not allow_empty:
            from kepler.api import EmptyResultError

            raise EmptyResultError(
                f"The search returned no rows for {earliest or 'all time'} .. {latest or 'now'}; "
                f"{path} is empty.",
                hint="Check the index, the time range (--earliest/--latest) and the SPL in "
                "Splunk's search page; --allow-empty accepts an empty result.")
        return
    frame = from_splunk(
        spl,
        earliest,
        latest,
        connection=connection,
        cache=cache,
        keep_internal=keep_internal,
        progress=progress,
        parallel=parallel,
    )
    _print_frame(frame, head)
    if not len(frame):
        _warn_empty(spl, connection, "no rows")
    attrs = frame.attrs
    click.echo(
        f"\n{len(frame)} rows, {len(frame.columns)} columns; sid {attrs.get('sid', '-')}"
        f"; range {attrs.get('earliest_utc') or '-'} .. {attrs.get('latest_utc') or '-'}"
        + (f"; cache {attrs['cache']}" if "cache" in attrs else "")
    )
    for message in attrs.get("messages", []):
        click.echo(f"Splunk {message['type'].lower()}: {message['text']}", err=True)


def _has_rows(path: Path) -> bool:
    """Whether a file --out wrote holds at least one row (Parquet: its metadata; CSV: a line
    after the header)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return bool(pq.read_metadata(path).num_rows)
    with path.open("rb") as handle:
        lines = (line for line in handle if line.strip())
        return next(lines, None) is not None and next(lines, None) is not None


_INDEX = re.compile(r"""(?<![\w.])index\s*=\s*(?:"([^"]+)"|'([^']+)'|([^\s|)]+))""")


def _warn_empty(spl: str, connection: str | None, what: str) -> None:
    """An empty result most often means a mistyped index: name the ones that do not exist."""
    missing = _missing_indexes(spl, connection)
    if missing:
        click.secho(f"Warning: {what}: index {', '.join(map(repr, missing))} does not exist "
                    "on this Splunk (kepler splunk catalog lists the indexes).", fg="yellow",
                    err=True)
    else:
        click.secho(f"Warning: {what}.", fg="yellow", err=True)


def _missing_indexes(spl: str, connection: str | None) -> list[str]:
    named = {next(g for g in match.groups() if g) for match in _INDEX.finditer(spl)}
    named = {name for name in named if "*" not in name}
    if not named:
        return []
    try:
        from .metrics import splunk_catalog

        existing = set(splunk_catalog(connection, metric_names=False)["index"])
    except Exception:  # listing indexes may be refused; the warning then says less
        return []
    return sorted(named - existing)


@click.group("cache")
def data_cache() -> None:
    """Cached Splunk results (searches whose time range lies in the past)."""


def _store() -> Any:
    from kepler.api import load_config as load

    from .cache import ResultCache, cache_dir

    return ResultCache(cache_dir(load().section("splunk").cache_dir))


@data_cache.command("list")
@click.option("--json", "as_json", is_flag=True)
def cache_list(as_json: bool) -> None:
    """Cached searches: SPL, time range, rows, size."""
    from kepler.api import echo_table

    entries = _store().entries()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "key": e.key,
                        "spl": e.meta.get("spl"),
                        "rows": e.meta.get("rows"),
                        "bytes": e.size,
                        **{
                            k: e.meta.get("attrs", {}).get(k)
                            for k in ("earliest_utc", "latest_utc")
                        },
                    }
                    for e in entries
                ],
                indent=2,
            )
        )
        return
    if not entries:
        click.echo(f"No cached results ({_store().folder}).")
        return
    echo_table(
        ("Key", "SPL", "Earliest", "Latest", "Rows", "Size"),
        [
            (
                e.key[:12],
                e.meta.get("spl"),
                e.meta.get("attrs", {}).get("earliest_utc"),
                e.meta.get("attrs", {}).get("latest_utc"),
                e.meta.get("rows"),
                f"{e.size / 1e6:.1f} MB",
            )
            for e in entries
        ],
    )


@data_cache.command("clear")
@click.option("--older-than", type=float, metavar="DAYS", help="Only entries older than DAYS.")
def cache_clear(older_than: float | None) -> None:
    """Delete cached results."""
    store = _store()
    removed = store.clear(None if older_than is None else older_than * 86400)
    click.echo(f"Removed {removed} cached result(s) from {store.folder}.")


@click.group("splunk")
def splunk() -> None:
    """Splunk: catalog of indexes and metrics, dashboards and alerts."""


@splunk.command("catalog")
@click.option("--connection", help="A named connection of the splunk config section.")
@click.option("--json", "as_json", is_flag=True)
def catalog(connection: str | None, as_json: bool) -> None:
    """Indexes (event and metric) and each metric index's metric names."""
    from kepler.api import echo_table

    from .metrics import splunk_catalog

    frame = splunk_catalog(connection)
    if as_json:
        click.echo(frame.to_json(orient="records", indent=2))
        return
    echo_table(
        ("Index", "Type", "Events", "Size MB", "Metric names"),
        [
            (
                r["index"],
                r["datatype"],
                r["events"],
                f"{r['size_mb']:.1f}",
                ", ".join(r["metric_names"]) or "-",
            )
            for _, r in frame.iterrows()
        ],
        max_width=80,
    )


# --- results ----------------------------------------------------------------------------------

def _read_table(path: Path) -> Any:
    import pandas as pd
    from kepler.api import KeplerError

    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix == ".csv":
        return pd.read_csv(path, engine="pyarrow")
    if suffix in (".jsonl", ".ndjson"):
        return pd.read_json(path, lines=True)
    raise KeplerError(f"Cannot read {path}: unknown format {suffix or '(none)'}.",
                      hint="Use a .parquet, .csv or .jsonl file.")


def _report(report: Any) -> None:
    from kepler.api import KeplerError, ServiceError

    click.echo(report.summary())
    for failed in report.failed[:20]:
        click.echo(f"  row {failed.row}: {failed.reason} (code {failed.code})", err=True)
    if len(report.failed) > 20:
        click.echo(f"  ... and {len(report.failed) - 20} more failed rows", err=True)
    if report.spooled:
        raise ServiceError(f"{report.spooled:,} row(s) could not be delivered now and wait in "
                           "the spool.",
                           hint="They go out with the next write, or run: kepler results flush")
    if report.failed:
        raise KeplerError(f"Splunk refused {len(report.failed):,} row(s) (listed above).",
                          hint="Those rows cannot be indexed as they are; fix them and resend.")


@click.command("to-splunk")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--index", help="Target index (default: the HEC token's).")
@click.option("--sourcetype", default="_json", show_default=True)
@click.option("--source", default="kepler", show_default=True)
@click.option("--host")
@click.option("--time-field", help="Column with each event's time (default: _time if present).")
@click.option("--fields", help="Comma-separated columns to send as indexed fields.")
@click.option("--ack/--no-ack", default=None, help="Indexer acknowledgement (default: config).")
@click.option("--metrics", help="Comma-separated metric columns: send metric data points.")
@click.option("--dimensions", help="With --metrics: comma-separated dimension columns.")
@click.option("--connection", help="A named connection of the splunk config section.")
@click.option("--progress/--no-progress", default=None)
def results_to_splunk(file: Path, index: str | None, sourcetype: str, source: str,
                      host: str | None, time_field: str | None, fields: str | None,
                      ack: bool | None, metrics: str | None, dimensions: str | None,
                      connection: str | None, progress: bool | None) -> None:
    """Send the rows of a Parquet/CSV file to Splunk through HEC, nothing lost."""
    from .results import metrics_to_splunk, to_splunk

    frame = _read_table(file)

    def split(text: str | None) -> list[str] | None:
        return [c.strip() for c in text.split(",") if c.strip()] if text else None

    if metrics:
        report = metrics_to_splunk(frame, split(metrics) or [], split(dimensions) or [],
                                   index=index, time_field=time_field, host=host, source=source,
                                   ack=ack, connection=connection, progress=progress)
    else:
        report = to_splunk(frame, index=index, sourcetype=sourcetype, source=source, host=host,
                           time_field=time_field, fields=split(fields), ack=ack,
                           connection=connection, progress=progress)
    _report(report)


@click.command("flush")
@click.option("--index", help="Send the spooled events to this index instead.")
@click.option("--connection", help="A named connection of the splunk config section.")
def results_flush(index: str | None, connection: str | None) -> None:
    """Deliver the rows spooled while Splunk was unreachable."""
    from .results import flush

    report = flush(connection=connection, index=index)
    if not report.rows:
        click.echo("The spool is empty.")
        return
    _report(report)


# --- dashboards, alerts, token rotation -------------------------------------------------------

def _model(reference: str) -> Any:
    """A registry model name[:version], a model folder, or a JSON file of statistics."""
    candidate = Path(reference)
    if candidate.suffix == ".json" and candidate.is_file():
        return json.loads(candidate.read_text())
    from kepler.api import load_model

    name, _, version = reference.partition(":")
    if candidate.is_dir():
        return load_model(str(candidate))
    return load_model(name, version=version or "latest")


@splunk.group("dashboard")
def dashboard() -> None:
    """Monitoring dashboards for models' predictions."""


@dashboard.command("create")
@click.argument("model")
@click.option("--index", required=True, help="Index the predictions are written to.")
@click.option("--name", help="Dashboard (view) name; default kepler_<model>.")
@click.option("--app", help="Splunk app (default: splunk.app or search).")
@click.option("--dry-run", is_flag=True, help="Print the definition, send nothing.")
@click.option("--connection", help="A named connection of the splunk config section.")
def dashboard_create(model: str, index: str, name: str | None, app: str | None, dry_run: bool,
                     connection: str | None) -> None:
    """Create or update MODEL's dashboard (MODEL: registry name[:version], folder or .json)."""
    from .dashboards import create_dashboard

    result = create_dashboard(_model(model), index, name=name, app=app, dry_run=dry_run,
                              connection=connection)
    if dry_run:
        click.echo(json.dumps(result.definition, indent=2))
        return
    click.echo(str(result))


@splunk.group("alert")
def alert() -> None:
    """Alerts on models' predictions (scheduled saved searches)."""


@alert.command("create")
@click.argument("model")
@click.option("--index", required=True, help="Index the predictions are written to.")
@click.option("--condition", required=True,
              help="e.g. 'anomaly_rate > 0.05', 'p95_latency_ms > 200', 'predictions < 10'.")
@click.option("--name", help="Saved search name.")
@click.option("--cron", default="*/15 * * * *", show_default=True)
@click.option("--window", default="-15m", show_default=True, help="Look-back of each run.")
@click.option("--email", help="Send an email to this address when it fires.")
@click.option("--dry-run", is_flag=True, help="Print the search, send nothing.")
@click.option("--connection", help="A named connection of the splunk config section.")
def alert_create(model: str, index: str, condition: str, name: str | None, cron: str,
                 window: str, email: str | None, dry_run: bool, connection: str | None) -> None:
    """Alert when CONDITION holds on MODEL's recent predictions."""
    from .dashboards import create_alert

    result = create_alert(_model(model), index, condition, name=name, cron=cron, window=window,
                          email=email, dry_run=dry_run, connection=connection)
    if dry_run:
        click.echo(result.search)
        return
    click.echo(f"Alert {result.name!r} {'created' if result.created else 'updated'}.")


@click.command("splunk-hec")
@click.option("--purge", is_flag=True, help="Also delete the tokens Kepler rotated out before.")
@click.option("--connection", help="A named connection of the splunk config section.")
def rotate_hec(purge: bool, connection: str | None) -> None:
    """Replace the HEC token: create, store, verify the new one, then disable the old one."""
    from .rotation import rotate_hec_token

    click.echo(str(rotate_hec_token(connection, purge=purge)))
