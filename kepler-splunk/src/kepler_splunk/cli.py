"""CLI: ``kepler data splunk``, ``kepler data cache``, ``kepler splunk catalog``."""

from __future__ import annotations

import json
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
    "--head", "head", default=10, show_default=True, help="Rows to preview when --out is not given."
)
def data_splunk(
    spl: str,
    earliest: str | None,
    latest: str | None,
    out: Path | None,
    connection: str | None,
    cache: bool | None,
    keep_internal: bool,
    progress: bool | None,
    head: int,
) -> None:
    """Run SPL against Splunk; save every result to --out, or preview it."""
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
        )
        click.echo(f"Wrote {path}.")
        return
    frame = from_splunk(
        spl,
        earliest,
        latest,
        connection=connection,
        cache=cache,
        keep_internal=keep_internal,
        progress=progress,
    )
    _print_frame(frame, head)
    attrs = frame.attrs
    click.echo(
        f"\n{len(frame)} rows, {len(frame.columns)} columns; sid {attrs.get('sid', '-')}"
        f"; range {attrs.get('earliest_utc') or '-'} .. {attrs.get('latest_utc') or '-'}"
        + (f"; cache {attrs['cache']}" if "cache" in attrs else "")
    )
    for message in attrs.get("messages", []):
        click.echo(f"Splunk {message['type'].lower()}: {message['text']}", err=True)


@click.group("cache")
def data_cache() -> None:
    """Cached Splunk results (searches whose time range lies in the past)."""


def _store() -> Any:
    from kepler.config import load

    from .cache import ResultCache, cache_dir

    return ResultCache(cache_dir(load().section("splunk").cache_dir))


@data_cache.command("list")
@click.option("--json", "as_json", is_flag=True)
def cache_list(as_json: bool) -> None:
    """Cached searches: SPL, time range, rows, size."""
    from kepler.cli.output import echo_table

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
    """Splunk: catalog of indexes and metrics."""


@splunk.command("catalog")
@click.option("--connection", help="A named connection of the splunk config section.")
@click.option("--json", "as_json", is_flag=True)
def catalog(connection: str | None, as_json: bool) -> None:
    """Indexes (event and metric) and each metric index's metric names."""
    from kepler.cli.output import echo_table

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
