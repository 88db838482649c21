"""``kepler train pytorch``: the generic training options plus PyTorch's own.

Registered as an explicit ``CommandSpec(parent="train", name="pytorch")``, which wins over the
generic command core would make from the trainer record; the shared options (data, split,
registry, output) come from core's :func:`kepler.cli.train_cmd.training_options`, so they read
exactly as for every other trainer. Importing this module imports no PyTorch.
"""

from __future__ import annotations

from typing import Any

import click
from kepler.api import run_training, training_options

OPTIMIZERS = ("adamw", "adam", "sgd", "rmsprop")
LOSSES = ("cross_entropy", "mse", "mae", "huber", "smooth_l1")


@click.command(name="pytorch", help="""Train a PyTorch network: an MLP for tables, an LSTM or a
1-D CNN for windows of sensor readings, or your own nn.Module.

\b
  kepler train pytorch --data pumps.parquet --target failure --epochs 30
  kepler train pytorch --data signal.csv --target temperature --model lstm \\
      --window 48 --horizon 6 --early-stopping 5
  kepler train pytorch --data pumps.parquet --target failure --model mypkg.nets:Net

Tasks: classification, regression, forecasting. Network parameters go in --param KEY=VALUE
(e.g. --param hidden_layers=[128,64], --param hidden_size=32).""")
@click.option("--model", "network", default="mlp", show_default=True,
              metavar="mlp|lstm|cnn1d|MODULE:CLASS",
              help="A built-in architecture, or the import path of your nn.Module class.")
@click.option("--epochs", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=1e-3,
              show_default=True, help="Learning rate.")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="adamw", show_default=True)
@click.option("--loss", type=click.Choice(LOSSES),
              help="Default: cross_entropy for classification, mse otherwise.")
@click.option("--early-stopping", type=click.IntRange(min=1), metavar="PATIENCE",
              help="Stop after PATIENCE epochs without a better validation loss (keeping the "
              "best weights).")
@click.option("--device", default="auto", show_default=True,
              help="auto (CUDA when present, else CPU), cpu, cuda or cuda:N.")
@click.option("--window", type=click.IntRange(min=1),
              help="Sequence models: readings per window (default 24).")
@click.option("--horizon", type=click.IntRange(min=0),
              help="Sequence models: predict this many rows after the window (forecasting "
              "default 1).")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="A progress bar per epoch (on stderr).")
@training_options(split_default=None,
                  split_help="time: hold out the newest rows (what auto, the default, does for "
                  "lstm and cnn1d, and for mlp when the data has a time column).")
def pytorch(network: str, epochs: int, batch_size: int, lr: float, optimizer: str,
            loss: str | None, early_stopping: int | None, device: str, window: int | None,
            horizon: int | None, progress: bool, **options: Any) -> None:
    as_json = bool(options.get("as_json"))
    keywords: dict[str, Any] = {
        "model": network, "epochs": epochs, "batch_size": batch_size, "lr": lr,
        "optimizer": optimizer, "loss": loss, "early_stopping": early_stopping,
        "device": device, "window": window, "horizon": horizon, "progress": progress}
    model = run_training("pytorch", options, **keywords)
    if as_json:
        return
    extra = model.manifest.extra
    losses = model.history.get("loss", [])
    line = f"Epochs: {extra.get('epochs_run', len(losses))} of {epochs} on {extra.get('device')}"
    if losses:
        line += f", training loss {losses[0]:.4g} -> {losses[-1]:.4g}"
    if extra.get("stopped_early"):
        line += f"; stopped early, weights of epoch {extra.get('best_epoch')} kept"
    click.echo(line + ". The curve: kp.models.load(...).plot_history().")
