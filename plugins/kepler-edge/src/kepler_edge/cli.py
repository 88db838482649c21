"""``kepler models export MODEL --format onnx``."""

from __future__ import annotations

from pathlib import Path

import click

from .export import DEFAULT_TOLERANCE


@click.command("export")
@click.argument("model")
@click.option("--format", "fmt", type=click.Choice(["onnx"]), default="onnx", show_default=True,
              help="Export format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where the .onnx goes (default: MODEL-NAME.onnx here); the parity report "
              "goes next to it as .parity.json.")
@click.option("--tolerance", type=float, default=DEFAULT_TOLERANCE, show_default=True,
              help="Largest difference allowed between ONNX and native probabilities/values.")
@click.option("--rows", "rows_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Rows for the parity check (CSV or JSON Lines; default: drawn "
              "from the feature schema).")
@click.option("--force", is_flag=True, help="Write the export even when parity fails.")
@click.option("--opset", type=int, default=None, help="ONNX opset (default 17).")
def export(model: str, fmt: str, output: Path | None, tolerance: float, rows_file: Path | None,
           force: bool, opset: int | None) -> None:
    """Export MODEL (name[:version|:alias] or folder) to ONNX after a parity check."""
    from .export import to_onnx
    from .runner import read_rows

    rows = list(read_rows(rows_file)) if rows_file is not None else None
    exported = to_onnx(model, rows=rows, tolerance=tolerance, force=force, opset=opset)
    click.echo(str(exported))
    path = exported.save(output or Path(f"{exported.manifest['name']}.onnx"))
    if exported.parity.get("forced"):
        click.echo("warning: parity failed; written anyway (--force)", err=True)
    click.echo(f"wrote {path} and {path.with_suffix('.parity.json')}")
