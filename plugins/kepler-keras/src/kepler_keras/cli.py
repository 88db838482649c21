"""``kepler train keras``: the generic training options plus Keras's own.

Registered as an explicit ``CommandSpec(parent="train", name="keras")``, which wins over the
generic command core would make from the trainer record. Importing this module imports no Keras.
"""

from __future__ import annotations

from typing import Any

import click
from kepler.api import run_training, training_options

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")


@click.command(name="keras", help="""Train a Keras 3 network: the default MLP, or the
architecture of a .keras file (trained afresh).

\b
  kepler train keras --data pumps.parquet --target failure --epochs 30
  kepler train keras --data pumps.parquet --target efficiency --param hidden_layers=[32,16]
  KERAS_BACKEND=torch kepler train keras --data pumps.parquet --target failure

The backend: KERAS_BACKEND, else keras.backend in kepler.yml, else the first installed of
torch, tensorflow, jax. Saved only as .keras (loaded with safe_mode=True).""")
@click.option("--model", "network", default="mlp", show_default=True,
              metavar="mlp|FILE.keras", help="The default MLP, or a .keras file's architecture.")
@click.option("--epochs", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=1e-3,
              show_default=True, help="Learning rate.")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="adam", show_default=True)
@click.option("--early-stopping", type=click.IntRange(min=1), metavar="PATIENCE",
              help="Stop after PATIENCE epochs without a better validation loss (keeping the "
              "best weights).")
@click.option("--progress/--no-progress", default=False, show_default=True,
              help="One line per epoch (Keras's own log).")
@training_options(split_default=None, split_help="time: hold out the newest rows (what auto, "
                  "the default, does when the data has a time column).")
def keras_command(network: str, epochs: int, batch_size: int, lr: float, optimizer: str,
                  early_stopping: int | None, progress: bool, **options: Any) -> None:
    as_json = bool(options.get("as_json"))
    keywords: dict[str, Any] = {
        "model": None if network == "mlp" else network, "epochs": epochs,
        "batch_size": batch_size, "lr": lr, "optimizer": optimizer,
        "early_stopping": early_stopping, "progress": progress and not as_json}
    model = run_training("keras", options, **keywords)
    if as_json:
        return
    extra = model.manifest.extra
    losses = model.history.get("loss", [])
    line = f"Epochs: {extra.get('epochs_run', len(losses))} of {epochs} on {extra.get('backend')}"
    if losses:
        line += f", training loss {losses[0]:.4g} -> {losses[-1]:.4g}"
    if extra.get("stopped_early"):
        line += f"; stopped early, weights of epoch {extra.get('best_epoch')} kept"
    click.echo(line + ".")
