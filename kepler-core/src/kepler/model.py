"""``Model``: a trained model of any framework, with its manifest, ready to predict and save.

Every ``kp.train.*`` returns one; ``kp.models.load`` gives one back from the registry or from an
artifact folder. It pairs the manifest (what the model is, how good, from which data) with the
*predictor*, the object a format plugin wrote and reads back, which takes raw records because
preprocessing is part of it.

Example::

    model = kp.train.random_forest(df, target="failure", split="time")
    model.metrics["f1"], model.baseline["f1"]   # versus the majority class
    model.predict(new_rows)
    model.save()                                 # registry: next version of "failure-random_forest"
    model.version, model.path

Iterative trainers (kepler-torch) keep a curve per epoch in the manifest (``training.history``):
``model.history`` gives it and ``model.plot_history()`` draws it.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .artifact.manifest import ModelManifest, fingerprint_of
from .errors import ModelError
from .metrics import BASELINE_LABEL, beats_baseline, higher_is_better
from .schema import FeatureSchema

log = logging.getLogger(__name__)


class Model:
    """A trained model: its manifest plus a predictor, loaded from the artifact on first use."""

    def __init__(self, manifest: ModelManifest, predictor: Any = None, *,
                 path: Path | str | None = None, load_options: dict[str, Any] | None = None
                 ) -> None:
        if predictor is None and path is None:
            raise ValueError("a Model needs a predictor or the path of its artifact")
        if path is None and manifest.fingerprint is None:  # fresh from a trainer
            manifest = manifest.model_copy(update={"fingerprint": fingerprint_of(manifest)})
        self._manifest = manifest
        #: The registry version this model turned out identical to when saved, if any.
        self._identical_to: int | None = None
        self._predictor = predictor
        self._path = Path(path) if path is not None else None
        self._load_options = dict(load_options or {})
        self._prepare: Any = None

    # --- what it is ---------------------------------------------------------------------------

    @property
    def manifest(self) -> ModelManifest:
        return self._manifest

    @property
    def name(self) -> str:
        return self._manifest.name

    @property
    def version(self) -> int | None:
        """The registry version, once saved there."""
        return self._manifest.version

    @property
    def path(self) -> Path | None:
        """The artifact folder, once saved."""
        return self._path

    @property
    def task(self) -> str:
        return self._manifest.task

    @property
    def algorithm(self) -> str:
        return self._manifest.algorithm

    @property
    def target(self) -> str | None:
        return self._manifest.target.name

    @property
    def classes(self) -> list[Any] | None:
        """Classifiers: the classes, in the column order of :meth:`predict_proba`."""
        return self._manifest.target.classes

    @property
    def schema(self) -> FeatureSchema:
        """The feature schema: names, kinds, categories and training statistics."""
        return self._manifest.features

    @property
    def features(self) -> list[str]:
        return self._manifest.features.names

    @property
    def metrics(self) -> dict[str, float]:
        """Scalar metrics on held-out data (or cross-validated)."""
        return dict(self._manifest.metrics)

    @property
    def baseline(self) -> dict[str, float]:
        """The naive baseline's metrics on the same rows (majority class, training mean...)."""
        return dict(self._manifest.baseline)

    @property
    def main_metric(self) -> str | None:
        return self._manifest.main_metric

    @property
    def beats_baseline(self) -> bool | None:
        """Whether the model beats its naive baseline on the main metric."""
        m = self._manifest
        return beats_baseline(m.metrics, m.baseline, m.main_metric)

    @property
    def predictor(self) -> Any:
        """The framework object behind the model (loaded from the artifact on first use)."""
        if self._predictor is None:
            from .artifact import load_payload

            assert self._path is not None
            self._predictor = load_payload(self._path, self._manifest, **self._load_options)
        return self._predictor

    # --- predicting ---------------------------------------------------------------------------

    def _inputs(self, data: Any) -> Any:
        """What the predictor takes: the model format's ``prepare`` checks and orders the
        features (tabular formats build a DataFrame); a format without one gets ``data`` as is."""
        if not self._manifest.features.features:
            return data  # a model without a schema takes whatever its predictor takes
        if self._prepare is None:
            from .artifact import format_spec
            from .records import import_string

            spec = format_spec(self._manifest.format.name, self._manifest.format)
            self._prepare = import_string(spec.prepare) if spec.prepare else _as_given
        return self._prepare(self._manifest.features, data)

    def compiled(self) -> Any | None:
        """The format's compiled scorer for this model (``ModelFormatSpec.compiled``), or None
        when the format has none or this model cannot be compiled. Servers check it against
        :meth:`predict` before trusting it."""
        from .artifact import format_spec
        from .records import import_string

        spec = format_spec(self._manifest.format.name, self._manifest.format)
        if not spec.compiled:
            return None
        return import_string(spec.compiled)(self)

    def predict(self, data: Any) -> Any:
        """One prediction per row of ``data`` (DataFrame, list of records, or one record).

        Columns the model does not use are ignored; a missing required feature or a value of the
        wrong kind raises :class:`~kepler.errors.ModelInputError` naming the column.
        """
        return self.predictor.predict(self._inputs(data))

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities, one column per class in the order of :attr:`classes`."""
        predictor = self.predictor
        if not callable(getattr(predictor, "predict_proba", None)):
            raise ModelError(
                f"Model {self.name!r} ({self.algorithm}, {self.task}) gives no probabilities.",
                hint="predict_proba exists for classifiers whose algorithm estimates them.",
            )
        return predictor.predict_proba(self._inputs(data))

    def score_samples(self, data: Any) -> Any:
        """Anomaly models: a score per row, lower means more anomalous."""
        predictor = self.predictor
        if not callable(getattr(predictor, "score_samples", None)):
            raise ModelError(f"Model {self.name!r} ({self.algorithm}) gives no anomaly scores.",
                             hint="score_samples exists for anomaly models.")
        return predictor.score_samples(self._inputs(data))

    # --- saving -------------------------------------------------------------------------------

    def save(self, path: Path | str | None = None, *, name: str | None = None,
             force: bool = False) -> Model:
        """Save to the registry as the next version of its name (or of ``name``), or, with
        ``path``, export the artifact to that folder. Returns the model, now with
        :attr:`version` and :attr:`path`. Saving an already saved model again is a no-op.

        A model identical to a version already in the registry (same fingerprint: same data,
        algorithm, parameters, features, target, split and versions) is not saved again: the
        model takes that version and path, a warning and a note say so. ``force=True`` saves a
        new version anyway."""
        if name is not None and name != self.name:
            from .registry import check_name

            self._manifest = self._manifest.model_copy(
                update={"name": check_name(name), "version": None})
            self._path = None
        if path is None and self._path is not None and self._manifest.version is not None:
            return self  # already in the registry
        predictor = self.predictor
        if path is not None:
            from .artifact import write_artifact

            target = Path(path).expanduser().resolve()
            self._manifest = write_artifact(target, self._manifest.model_copy(
                update={"version": None}), predictor)
            self._path = target
            return self
        from .registry import Registry

        registry = Registry.default()
        if not force and self._reuse(registry):
            return self
        self._manifest, self._path = registry.save(self._manifest, predictor)
        return self

    def _reuse(self, registry: Any) -> bool:
        """Take the registry version identical to this model, if there is one."""
        number = registry.find_identical(self.name, self._manifest.fingerprint)
        if number is None:
            return False
        message = (f"identical to version {number} of {self.name!r} (same data, algorithm, "
                   "parameters, features, target, split and versions): not saved again; "
                   "save(force=True) adds a new version anyway")
        log.warning("%s", message[0].upper() + message[1:])
        stored, folder = registry.manifest(self.name, number), registry.resolve(self.name,
                                                                               number)[1]
        training = stored.training.model_copy(update={"notes": [*stored.training.notes,
                                                                message]})
        self._manifest = stored.model_copy(update={"training": training})
        self._path, self._identical_to = folder, number
        return True

    @property
    def identical_to(self) -> int | None:
        """The registry version :meth:`save` found identical and reused instead of saving."""
        return self._identical_to

    @classmethod
    def load(cls, path: Path | str, **options: Any) -> Model:
        """Load the artifact in folder ``path``, verifying every payload file's sha256."""
        from .artifact import load_payload, read_manifest

        folder = Path(path).expanduser().resolve()
        manifest = read_manifest(folder)
        predictor = load_payload(folder, manifest, **options)
        return cls(manifest, predictor, path=folder, load_options=options)

    # --- showing ------------------------------------------------------------------------------

    @property
    def history(self) -> dict[str, list[float | None]]:
        """Per-epoch curves of iterative trainers (``{"loss": [...], "val_loss": [...]}``);
        empty for models fitted in one go."""
        return {k: list(v) for k, v in self._manifest.training.history.items()}

    def plot_history(self, curves: Sequence[str] | None = None, *, ax: Any = None) -> Any:
        """The training curves (loss per epoch, validation loss where there is one) as a
        matplotlib Figure; ``fig.savefig("loss.png")`` writes it out. Drawn by
        ``kp.models.plot_history`` (kepler-tabular), so core imports no matplotlib; without it
        the error says what to install. With ``ax``, the curves are drawn on that axes."""
        from .sdk import Namespace

        return Namespace("models").plot_history(self, curves, ax=ax)

    def info(self) -> dict[str, Any]:
        """A summary fit for printing or JSON: identity, metrics against baseline, data, files."""
        m = self._manifest
        return {
            "name": m.name, "version": m.version, "path": str(self._path) if self._path else None,
            "task": m.task, "algorithm": m.algorithm, "target": m.target.name,
            "classes": m.target.classes,
            "trainer": f"{m.trainer.distribution or m.trainer.plugin} {m.trainer.version}".strip(),
            "framework": f"{m.trainer.framework} {m.trainer.framework_version}".strip(),
            "created": m.created.isoformat(),
            "main_metric": m.main_metric, "beats_baseline": self.beats_baseline,
            "metrics": m.metrics, "baseline": m.baseline,
            "baseline_is": BASELINE_LABEL.get(m.task, "naive"),
            "features": [f.model_dump(exclude_none=True) for f in m.features],
            "params": m.params, "training": m.training.model_dump(),
            "lineage": m.lineage.model_dump(), "environment": m.environment.model_dump(),
            "format": m.format.name, "size_bytes": m.size_bytes,
            "files": {k: v.sha256 for k, v in m.files.items()},
            "fingerprint": m.fingerprint, "identical_to": self._identical_to,
        }

    def __repr__(self) -> str:
        version = f" v{self.version}" if self.version is not None else " (unsaved)"
        shown = ""
        if self.main_metric is not None:
            shown = f", {self.main_metric}={self.metrics[self.main_metric]:.4g}"
        inputs = ""
        if self._manifest.features.features:
            left = self._manifest.training.left_out
            names = list(left)[:5] + ([f"{len(left) - 5} more"] if len(left) > 5 else [])
            inputs = (f"; {len(self._manifest.features.features)} features"
                      + (f", left out: {', '.join(names)}" if left else ""))
        return f"<Model {self.name}{version}: {self.algorithm} {self.task}{shown}{inputs}>"

    def _repr_html_(self) -> str:
        m = self._manifest
        esc = html.escape
        version = f"v{m.version}" if m.version is not None else "unsaved"
        rows = []
        for metric in sorted(m.metrics, key=lambda k: (k != m.main_metric, k)):
            ours = m.metrics[metric]
            theirs = m.baseline.get(metric)
            mark = ""
            if theirs is not None:
                won = ours > theirs if higher_is_better(metric) else ours < theirs
                mark = "✔" if won else "✘"
            rows.append(f"<tr><td>{esc(metric)}{' (main)' if metric == m.main_metric else ''}"
                        f"</td><td>{ours:.4g}</td>"
                        f"<td>{'' if theirs is None else f'{theirs:.4g}'}</td><td>{mark}</td></tr>")
        features = ", ".join(f"{esc(f.name)} <i>{esc(f.kind)}</i>" for f in m.features)
        left_out = ", ".join(f"{esc(name)} <i>({esc(why)})</i>"
                             for name, why in m.training.left_out.items())
        notes = "".join(f"<li>{esc(note)}</li>" for note in m.training.notes)
        where = esc(str(self._path)) if self._path else "not saved: model.save()"
        return (
            f"<div><b>{esc(m.name)}</b> {version} — {esc(m.algorithm)} ({esc(m.task)}"
            f"{', target ' + esc(m.target.name) if m.target.name else ''})<br>"
            f"<small>{esc(where)} · trained on {m.training.rows_train} rows, evaluated on "
            f"{m.training.rows_test} ({esc(m.training.evaluated_on)}, split "
            f"{esc(m.training.split)}) in {m.training.seconds:.2f} s</small>"
            f"<table><tr><th>metric</th><th>model</th>"
            f"<th>baseline ({esc(BASELINE_LABEL.get(m.task, 'naive'))})</th><th></th></tr>"
            + "".join(rows) + f"</table><small>features: {features}"
            + (f"<br>left out: {left_out}" if left_out else "") + "</small>"
            + (f"<small><ul>{notes}</ul></small>" if notes else "") + "</div>"
        )


def _as_given(schema: FeatureSchema, data: Any) -> Any:
    return data
