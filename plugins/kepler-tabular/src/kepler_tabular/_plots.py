"""Training curves as a chart: ``model.plot_history()`` (``kp.models.plot_history``).

Iterative trainers (kepler-torch) keep a curve per epoch in the manifest (``training.history``);
core's ``Model.plot_history`` forwards here, so core itself never imports matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kepler.api import ModelError

if TYPE_CHECKING:
    from kepler.api import Model


def _curves(model: Model, curves: Sequence[str] | None) -> list[str]:
    """The curves to draw, refusing a model without any or a name it does not have."""
    history = model.history
    names = list(curves) if curves else list(history)
    unknown = [n for n in names if n not in history]
    if not history or unknown:
        raise ModelError(
            f"Model {model.name!r} ({model.algorithm}) has no training curve"
            + (f" named {', '.join(map(repr, unknown))}." if history and unknown else "."),
            hint=f"Curves: {', '.join(history)}." if history else
            "Only iterative trainers (PyTorch, ...) record one per epoch.",
        )
    return names


def plot_history(model: Model, curves: Sequence[str] | None = None, *, ax: Any = None) -> Any:
    """The training curves of ``model`` (loss per epoch, validation loss where there is one) as
    a matplotlib Figure; ``fig.savefig("loss.png")`` writes it out.

    Built without pyplot (no global state, no display needed); Jupyter shows the returned
    figure. With ``ax``, the curves are drawn on that axes. A curve whose name starts with
    ``val_`` is dashed; the epoch with the lowest validation loss is marked."""
    names = _curves(model, curves)
    history = model.history
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6.4, 3.8))
        ax = fig.subplots()
    else:
        fig = ax.figure
    for name in names:
        points = [(i, v) for i, v in enumerate(history[name], 1) if v is not None]
        ax.plot([p[0] for p in points], [p[1] for p in points], label=name,
                linestyle="--" if name.startswith("val_") else "-", marker=".")
    validation = [(v, i) for i, v in enumerate(history.get("val_loss", []), 1) if v is not None]
    if "val_loss" in names and validation:
        best, epoch = min(validation)
        ax.axvline(epoch, color="grey", linestyle=":", linewidth=1,
                   label=f"best epoch ({epoch}: {best:.4g})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(f"{model.name}: {model.algorithm} ({model.task})", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
