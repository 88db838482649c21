"""``kepler-model.json``: everything known about a model, next to its payload files.

One manifest describes a model of any framework: what it predicts and from which inputs (the
feature schema), how good it is (metrics against a naive baseline), how it was trained, from which
data (lineage), what it needs to load (Python and package versions, the payload format and the
plugin that reads it) and the sha256 of every payload file.

Example of reading one without loading the model::

    from kepler.artifact import read_manifest
    manifest = read_manifest("models/pump-failures/3")
    manifest.metrics["f1"], manifest.features.names, manifest.lineage.details.get("spl")
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..lineage import Lineage
from ..schema import FeatureSchema

MANIFEST_FILE = "kepler-model.json"
#: The manifest layout's version; a reader refuses a manifest written for a newer one.
FORMAT_VERSION = 1


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TargetInfo(_Part):
    """What the model predicts."""

    name: str | None = None
    dtype: str | None = None
    #: Classifiers: the classes, in the column order of ``predict_proba``.
    classes: list[Any] | None = None


class TrainerInfo(_Part):
    """Which trainer made the model, from which plugin, with which framework."""

    name: str
    plugin: str = ""
    distribution: str = ""
    version: str = ""
    framework: str = ""
    framework_version: str = ""


class FormatInfo(_Part):
    """The payload format, looked up among ``kepler_model_formats`` records when loading."""

    name: str
    #: The distribution whose plugin provides the format, and what to pip install when missing.
    distribution: str = ""
    install: str = ""
    #: Whatever the format's ``save`` returned (e.g. skops' trusted types); given to ``load``.
    options: dict[str, Any] = Field(default_factory=dict)


class FileEntry(_Part):
    sha256: str
    size: int


class TrainingInfo(_Part):
    """How the model was fitted and evaluated."""

    seconds: float = 0.0
    rows_train: int = 0
    rows_test: int = 0
    #: The split in force: "random", "time" (newest rows held out) or "group" (whole groups);
    #: a trainer's ``split="auto"`` is recorded as the split it chose.
    split: str = "random"
    test_size: float | None = None
    cv: int | None = None
    random_state: int | None = None
    time_column: str | None = None
    #: split="group": the column whose values stay on one side.
    groups: str | None = None
    #: Columns of the data that are no feature, and why ("Splunk field", "lists (multivalue)",
    #: "text", ...): what the trainer left out when the user named no features.
    left_out: dict[str, str] = Field(default_factory=dict)
    #: "holdout" or "cv": what the metrics were computed on.
    evaluated_on: str = "holdout"
    #: What the trainer did that the user should know (rows dropped, columns left out, ...).
    notes: list[str] = Field(default_factory=list)
    #: Iterative trainers (neural networks, boosting): one value per epoch or round for each
    #: curve, e.g. ``{"loss": [...], "val_loss": [...]}`` (a missing value is None); what
    #: :meth:`kepler.model.Model.plot_history` draws. Empty for models fitted in one go.
    history: dict[str, list[float | None]] = Field(default_factory=dict)


class Environment(_Part):
    """The seed of the model's deployment environment: exact versions needed to load it."""

    python: str = Field(default_factory=platform.python_version)
    packages: dict[str, str] = Field(default_factory=dict)
    #: Top-level modules the model needs that no installed distribution provides (a user's own
    #: code): a deployment must ship them alongside.
    local_modules: list[str] = Field(default_factory=list)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)


class ModelManifest(_Part):
    """The content of ``kepler-model.json``."""

    kepler_model_format: int = FORMAT_VERSION
    name: str
    #: Set by the registry when the model is saved there; None for an unsaved or exported model.
    version: int | None = None
    created: _dt.datetime = Field(default_factory=_now)
    description: str = ""
    #: "classification", "regression", "anomaly", "clustering", "forecasting".
    task: str
    algorithm: str
    target: TargetInfo = Field(default_factory=TargetInfo)
    trainer: TrainerInfo
    features: FeatureSchema = Field(default_factory=FeatureSchema)
    #: Scalar metrics on held-out data, and the naive baseline's on the same rows.
    metrics: dict[str, float] = Field(default_factory=dict)
    baseline: dict[str, float] = Field(default_factory=dict)
    main_metric: str | None = None
    #: Non-scalar results: confusion matrix, score distribution, per-fold scores, ...
    evaluation: dict[str, Any] = Field(default_factory=dict)
    #: The algorithm's effective parameters.
    params: dict[str, Any] = Field(default_factory=dict)
    training: TrainingInfo = Field(default_factory=TrainingInfo)
    lineage: Lineage = Field(default_factory=Lineage)
    environment: Environment = Field(default_factory=Environment)
    format: FormatInfo
    #: Payload files (paths relative to the artifact folder, "/"-separated) and their hashes.
    files: dict[str, FileEntry] = Field(default_factory=dict)
    size_bytes: int = 0
    #: Framework-specific facts (a loss curve, ...).
    extra: dict[str, Any] = Field(default_factory=dict)
    #: sha256 of what determines the model (see :func:`fingerprint_of`); the registry keeps one
    #: version per fingerprint. None when the trainer recorded no data hash.
    fingerprint: str | None = None

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"


def fingerprint_of(manifest: ModelManifest) -> str | None:
    """sha256 of what makes two trainings give the same model: the data (the lineage's
    ``data_sha256``, which the trainer computes), task, algorithm, target, parameters, features,
    split settings and the trainer's, framework's and packages' versions. Timings, the creation
    time and the name are not part of it. None without a data hash: then nothing tells whether
    two trainings saw the same rows."""
    if not manifest.lineage.data_sha256:
        return None
    t, trainer = manifest.training, manifest.trainer
    facts = {
        "data": manifest.lineage.data_sha256, "task": manifest.task,
        "algorithm": manifest.algorithm, "target": manifest.target.name,
        "params": manifest.params, "features": manifest.features.names,
        "split": {"split": t.split, "test_size": t.test_size, "cv": t.cv,
                  "random_state": t.random_state, "time_column": t.time_column,
                  "groups": t.groups},
        "trainer": [trainer.name, trainer.distribution, trainer.version, trainer.framework,
                    trainer.framework_version],
        "format": manifest.format.name, "python": manifest.environment.python,
        "packages": manifest.environment.packages,
    }
    text = json.dumps(facts, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
