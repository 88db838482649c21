"""``kepler models compare``: rank registered models (any framework) by a metric, as a table,
JSON, and optionally a chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


def _expand(refs: tuple[str, ...]) -> list[str]:
    """``NAME:all`` becomes every version of NAME; other references stay as they are."""
    from kepler.api import list_models

    expanded: list[str] = []
    for ref in refs:
        if ref.endswith(":all"):
            name = ref.removesuffix(":all")
            # an unknown name gets the registry's error with suggestions
            expanded += [f"{name}:{entry.version}" for entry in list_models(name)]
        else:
            expanded.append(ref)
    return expanded


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return ""
    return str(value)


@click.command("compare")
@click.argument("refs", nargs=-1, required=True)
@click.option("--metric", help="Rank by this metric (default: the task's main metric).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a bar chart of the metrics (PNG, SVG, PDF) here.")
@click.option("--json", "as_json", is_flag=True, help="Print the leaderboard as JSON.")
def compare(refs: tuple[str, ...], metric: str | None, plot_path: Path | None,
            as_json: bool) -> None:
    """Rank models (NAME[:VERSION|ALIAS] or folders, any framework) by a metric.

    A bare NAME means its latest version; NAME:all takes every version of NAME.
    """
    from kepler.api import echo_json, echo_table

    from ._comparison import compare_models

    board = compare_models(_expand(refs), metric=metric)
    if plot_path is not None:
        board.plot().savefig(plot_path, dpi=120)
    if as_json:
        echo_json({"metric": board.metric, "task": board.task, "leaderboard": board.rows()})
        return
    rows = board.rows()
    columns = [c for c in rows[0] if c not in ("name", "version", "framework")]
    echo_table(columns, [[_cell(r[c]) for c in columns] for r in rows])
    click.echo(f"\nBest by {board.metric} ({'higher' if board.higher_is_better else 'lower'} "
               f"is better): {board.labels[0]}")
    if plot_path is not None:
        click.echo(f"Chart written to {plot_path}")


@click.command("groups")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the leaderboard as JSON.")
def groups(ref: str, as_json: bool) -> None:
    """A model group's per-group leaderboard: each member's main metric against its baseline,
    then the groups that failed (with why) and those skipped for too few rows."""
    from kepler.api import ModelError, echo_json, echo_table, json_safe, load_model

    from ._per_group import group_leaderboard

    model = load_model(ref)
    if model.manifest.format.name != "model-group":
        raise ModelError(f"{ref} is a single {model.algorithm} model, not a model group.",
                         hint="Train one with 'kepler train ALGORITHM --per-group COLUMN'.")
    board = group_leaderboard(model)
    if as_json:
        echo_json({"model": model.name, "version": model.version,
                   "groups": json_safe(board.to_dict("records"))})
        return
    columns = list(board.columns)
    echo_table(columns, [[_cell(row[c]) for c in columns] for row in board.to_dict("records")])
