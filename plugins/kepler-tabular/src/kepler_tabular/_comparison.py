"""A leaderboard of models of one task, ranked by a metric, with the best model and a chart.

``kp.train.compare`` (training candidates) and ``kp.models.compare`` (existing models of any
framework, :func:`compare_models`) both return a :class:`Comparison`. It is built from manifests
only, so ranking saved models never loads their payloads.

Example::

    board = kp.train.compare(df, target="failure", algorithms=["random_forest", "xgboost"])
    board.leaderboard          # pandas DataFrame, best first
    board.best.save()          # the winner into the registry
    board.plot()               # one bar chart per metric, baseline dashed
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from kepler.api import BASELINE_LABEL, ModelError, beats_baseline, higher_is_better

if TYPE_CHECKING:
    from kepler.api import Model


class Comparison:
    """Models of one task ranked by ``metric`` (default: the task's main metric)."""

    def __init__(self, models: Sequence[Model], metric: str | None = None, *,
                 workers: Sequence[int] = (), failures: Mapping[str, str] | None = None) -> None:
        if not models:
            raise ModelError("Nothing to compare: no models were given (or every candidate "
                             "failed).", hint="Pass at least one model." + (
                                 " Failures: " + "; ".join(f"{k}: {v}" for k, v in
                                                           (failures or {}).items())
                                 if failures else ""))
        tasks = sorted({m.task for m in models})
        if len(tasks) > 1:
            raise ModelError(
                f"Cannot rank models of different tasks together: {', '.join(tasks)}.",
                hint="Compare classification models with classification models, and so on.",
            )
        self.task = tasks[0]
        metric = metric or _common_main_metric(models)
        missing = [_label(m) for m in models if metric not in m.metrics]
        if missing:
            have = sorted(set.intersection(*(set(m.metrics) for m in models)))
            raise ModelError(
                f"Metric {metric!r} is not available for {', '.join(missing)}.",
                hint=f"Metrics every model has: {', '.join(have) or 'none'}.",
            )
        self.metric: str = metric
        self.higher_is_better = higher_is_better(metric)
        ordered = sorted(models, key=lambda m: m.metrics[metric],
                         reverse=self.higher_is_better)
        self.models: list[Model] = ordered
        self.labels: list[str] = _unique_labels(ordered)
        #: Process ids of the workers that trained the candidates (kp.train.compare).
        self.workers: tuple[int, ...] = tuple(sorted(set(workers)))
        #: Candidates that failed to train, with their errors.
        self.failures: dict[str, str] = dict(failures or {})
        self._frame: pd.DataFrame | None = None

    @property
    def best(self) -> Model:
        return self.models[0]

    def __iter__(self) -> Iterator[Model]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)

    def __getitem__(self, label: str) -> Model:
        for name, model in zip(self.labels, self.models, strict=True):
            if name == label:
                return model
        raise KeyError(f"{label!r} is not in this comparison: {', '.join(self.labels)}")

    def rows(self) -> list[dict[str, Any]]:
        """The leaderboard as plain dicts, best first (what ``--json`` prints)."""
        metric_names = _metric_columns(self.models, self.metric)
        rows = []
        for rank, (label, model) in enumerate(zip(self.labels, self.models, strict=True), 1):
            row: dict[str, Any] = {"rank": rank, "model": label, "algorithm": model.algorithm,
                                   "framework": model.manifest.trainer.framework}
            row.update({name: model.metrics.get(name) for name in metric_names})
            row[f"baseline_{self.metric}"] = model.baseline.get(self.metric)
            row["beats_baseline"] = beats_baseline(model.metrics, model.baseline, self.metric)
            row["fit_seconds"] = model.manifest.training.seconds
            row["name"] = model.name
            row["version"] = model.version
            rows.append(row)
        return rows

    @property
    def leaderboard(self) -> pd.DataFrame:
        """A pandas DataFrame, best first, indexed by rank."""
        if self._frame is None:
            self._frame = pd.DataFrame(self.rows()).set_index("rank")
        return self._frame

    def plot(self, metrics: Sequence[str] | None = None, *, ax: Any = None) -> Any:
        """Bar charts of the metrics (one panel each, the naive baseline dashed); returns the
        matplotlib Figure. ``fig.savefig("comparison.png")`` writes it out.

        The figure is built without pyplot, so it changes no global matplotlib state and needs
        no display; Jupyter shows the returned figure. With ``ax``, only the first metric is drawn
        on that axes."""
        from matplotlib.figure import Figure

        names = list(metrics) if metrics else _metric_columns(self.models, self.metric)
        names = [n for n in names if any(n in m.metrics for m in self.models)]
        if not names:
            raise ModelError("No metric to plot.", hint="Pass metrics=[...] the models have.")
        if ax is not None and len(names) > 1:
            names = names[:1]
        if ax is None:
            fig = Figure(figsize=(3.2 * len(names) + 1, 3.6))
            axes = fig.subplots(1, len(names), squeeze=False)
            panels = list(axes[0])
        else:
            fig, panels = ax.figure, [ax]
        positions = list(range(len(self.models)))
        for panel, name in zip(panels, names, strict=True):
            values = [m.metrics.get(name, float("nan")) for m in self.models]
            colours = ["tab:green" if i == 0 else "tab:blue" for i in positions]
            panel.bar(positions, values, color=colours)
            panel.set_xticks(positions, self.labels, rotation=35, ha="right", fontsize=8)
            arrow = "↑" if higher_is_better(name) else "↓"
            panel.set_title(f"{name} {arrow}" + (" (main)" if name == self.metric else ""),
                            fontsize=10)
            baselines = [m.baseline[name] for m in self.models if name in m.baseline]
            if baselines:
                panel.axhline(sum(baselines) / len(baselines), color="grey", linestyle="--",
                              linewidth=1,
                              label=f"baseline ({BASELINE_LABEL.get(self.task, 'naive')})")
                panel.legend(fontsize=7, loc="lower right")
        fig.suptitle(f"{self.task}: ranked by {self.metric}", fontsize=11)
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        lines = [f"Comparison of {len(self.models)} {self.task} model(s) by {self.metric} "
                 f"({'higher' if self.higher_is_better else 'lower'} is better):"]
        for rank, (label, model) in enumerate(zip(self.labels, self.models, strict=True), 1):
            base = model.baseline.get(self.metric)
            shown = f"  baseline {base:.4g}" if base is not None else ""
            lines.append(f"  {rank}. {label:<28} {self.metric}={model.metrics[self.metric]:.4g}"
                         f"{shown}")
        lines += [f"  failed: {k}: {v}" for k, v in self.failures.items()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = self.rows()
        columns = [c for c in rows[0] if c not in ("name", "version")]
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r[c]))}</td>" for c in columns)
                       + "</tr>" for r in rows)
        failed = "".join(f"<br><small>failed: {html.escape(k)}: {html.escape(v)}</small>"
                         for k, v in self.failures.items())
        return (f"<div><b>{html.escape(self.task)}</b>, ranked by "
                f"<b>{html.escape(self.metric)}</b><table><tr>{head}</tr>{body}</table>"
                f"{failed}{self._plot_html()}</div>")

    def _plot_html(self) -> str:
        """The chart inline under the leaderboard (a PNG), when matplotlib is installed; the
        leaderboard alone otherwise, never an error in a display."""
        import importlib.util

        if importlib.util.find_spec("matplotlib") is None:
            return ""
        import base64
        import io

        try:
            figure = self.plot()
        except ModelError:  # nothing to plot
            return ""
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=72)
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        return f'<br><img alt="comparison chart" src="data:image/png;base64,{encoded}">'


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _label(model: Model) -> str:
    if model.version is not None:
        return f"{model.name}:{model.version}"
    return model.algorithm


def _unique_labels(models: Sequence[Model]) -> list[str]:
    labels: list[str] = []
    for model in models:
        label = _label(model)
        candidate, n = label, 2
        while candidate in labels:
            candidate, n = f"{label}#{n}", n + 1
        labels.append(candidate)
    return labels


def _common_main_metric(models: Sequence[Model]) -> str:
    mains = {m.main_metric for m in models}
    if len(mains) == 1 and None not in mains:
        return str(mains.pop())
    raise ModelError(
        "These models have no common main metric to rank by"
        + (f" ({', '.join(sorted(str(m) for m in mains))})." if mains else "."),
        hint="Name one: compare(..., metric='accuracy').",
    )


def _metric_columns(models: Sequence[Model], main: str) -> list[str]:
    names: list[str] = [main]
    for model in models:
        names += [n for n in model.metrics if n not in names]
    return names


def compare_models(models: Sequence[Any], metric: str | None = None) -> Comparison:
    """Rank existing models of any framework by the task's main metric (or ``metric``):
    ``kp.models.compare``.

    Items are Model objects, registry references or artifact folders; only manifests are read.

    Example::

        board = kp.models.compare(["pumps:1", "pumps:2", "pumps-torch"])
        board.leaderboard, board.best, board.plot()
    """
    from kepler.api import resolve_models

    return Comparison(resolve_models(models), metric=metric)
