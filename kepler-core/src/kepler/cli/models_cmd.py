"""``kepler models list|show|promote|delete``: the local model registry.

Models are named ``NAME`` (latest), ``NAME:VERSION`` or ``NAME:ALIAS``; ``show`` also takes an
artifact folder. Listing reads manifests only: no framework is imported. Plugins add commands
here with ``CommandSpec(parent="models", ...)`` (kepler-tabular's ``kepler models compare``).
"""

from __future__ import annotations

from typing import Any

import click

from .lazy import LazyGroup
from .output import echo_json, echo_table


@click.group(cls=LazyGroup, path="models")
def models() -> None:
    """List, show, promote and delete registered models (plugins add more)."""


def _score(value: Any) -> str:
    return "" if value is None else f"{value:.4g}"


@models.command("list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(name: str | None, as_json: bool) -> None:
    """Every version of every model (or of NAME), with aliases and main metric."""
    from ..registry import Registry

    registry = Registry.default()
    entries = registry.entries(name)
    if as_json:
        echo_json({"registry": str(registry.root), "models": [e.to_dict() for e in entries]})
        return
    if not entries:
        click.echo(f"No models yet in {registry.root}. Train one: kepler train ALGORITHM "
                   "--data FILE --target COLUMN")
        return
    rows = [(e.name, e.version, ", ".join(e.aliases), e.task, e.algorithm,
             f"{e.main_metric}={_score(e.score)}" if e.main_metric else "",
             {True: "yes", False: "NO", None: ""}[e.beats_baseline], e.created[:19])
            for e in entries]
    echo_table(("Name", "Version", "Aliases", "Task", "Algorithm", "Main metric",
                "Beats baseline", "Created"), rows)


@models.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the whole summary as JSON.")
def show_command(ref: str, as_json: bool) -> None:
    """Details of one model: NAME[:VERSION|ALIAS] or an artifact folder."""
    from ..registry import resolve_models

    [model] = resolve_models([ref])
    info = model.info()
    if as_json:
        echo_json(info)
        return
    training, lineage = info["training"], info["lineage"]
    lines = [
        ("Name", f"{info['name']}" + (f" version {info['version']}" if info["version"] else "")),
        ("Path", info["path"]), ("Task", info["task"]), ("Algorithm", info["algorithm"]),
        ("Target", info["target"] or "-"), ("Trainer", info["trainer"]),
        ("Framework", info["framework"]), ("Created", info["created"]),
        ("Training", f"{training['rows_train']} rows, {training['seconds']:.2f} s, split "
                     f"{training['split']}, evaluated on {training['evaluated_on']}"),
        ("Data", f"{lineage['source']}, {lineage['rows']} rows, sha256 "
                 f"{(lineage['data_sha256'] or '')[:16]}…"),
        ("Format", f"{info['format']}, {info['size_bytes']} bytes in {len(info['files'])} "
                   "file(s)"),
    ]
    spl = lineage["details"].get("spl")
    if spl:
        lines.append(("SPL", spl))
    lines += [("Note", note) for note in training.get("notes", [])]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        click.echo(f"{key.ljust(width)}  {value}")
    click.echo()
    main = info["main_metric"]
    echo_table(("metric", "model", f"baseline ({info['baseline_is']})"),
               [(m + (" (main)" if m == main else ""), _score(v),
                 _score(info["baseline"].get(m)))
                for m, v in sorted(info["metrics"].items(), key=lambda kv: (kv[0] != main,
                                                                            kv[0]))])
    click.echo()
    echo_table(("feature", "kind", "required", "range / categories"),
               [(f["name"], f["kind"], "yes" if f.get("required") else "no", _feature_range(f))
                for f in info["features"]])


def _feature_range(feature: dict[str, Any]) -> str:
    if feature.get("categories") is not None:
        return ", ".join(feature["categories"])
    if feature.get("min") is not None:
        low, high = feature["min"], feature.get("max")
        if isinstance(low, float):
            return f"{low:.4g} .. {high:.4g}"
        return f"{low} .. {high}"
    return ""


@models.command("promote")
@click.argument("name")
@click.argument("version")
@click.option("--alias", default="prod", show_default=True,
              help="The alias to point at VERSION (prod, staging, champion...).")
def promote_command(name: str, version: str, alias: str) -> None:
    """Point an alias at a version: kepler models promote NAME VERSION --alias prod."""
    from ..registry import promote

    number = promote(name, version, alias)
    click.echo(f"{name}:{alias} -> version {number}")


@models.command("delete")
@click.argument("ref")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Also delete versions an alias points at (and the "
              "aliases).")
def delete_command(ref: str, yes: bool, force: bool) -> None:
    """Delete NAME:VERSION, or every version of NAME."""
    from ..registry import Registry, parse_ref

    name, version = parse_ref(ref)
    registry = Registry.default()
    numbers = [registry.resolve(name, version)[0]] if version else registry.versions(name)
    if not numbers:
        registry.resolve(name)  # raises the "no model named" error with suggestions
    what = (f"{name} version {numbers[0]}" if version
            else f"all {len(numbers)} version(s) of {name}")
    if not yes:
        click.confirm(f"Delete {what}?", abort=True)
    deleted = registry.delete(name, version, force=force)
    click.echo(f"Deleted {name} version(s) {', '.join(map(str, deleted))}.")
