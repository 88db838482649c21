"""``kp.models.from_code``: register a model of any Python library from its code.

Every check runs before anything is written: the code imports, the class has ``load`` and
``predict``, ``load`` reads the artifacts, ``predict`` answers the input example with one
prediction per row, and the requirements are installed. Then the code and artifacts are copied
into a normal Kepler artifact (sha256 of every file, a manifest with the schema inferred from
the input example) and saved in the registry as the next version of ``name``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kepler.api import ModelError

from .code import check_source, code_digest
from .requirements import check, pinned

if TYPE_CHECKING:  # numpy loads when a model is registered, not when the CLI starts
    from .predictor import CodeModel

TASKS = ("classification", "regression", "forecasting", "anomaly", "clustering", "other")
KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
#: Modules whose versions every model from code needs to load, for its environment.
RUNTIME = ("kepler", "kepler_pyfunc", "kepler_tabular", "pandas", "numpy")


def from_code(path: Path | str, *, name: str, input_example: Any,
              artifacts: Mapping[str, Path | str] | None = None,
              requirements: Sequence[str] = (), class_name: str | None = None,
              task: str | None = None, target: str | None = None, description: str = "",
              save: bool = True) -> Any:
    """Register the model that ``path`` (a ``.py`` file or package folder) defines.

    The code defines one class (or pass ``class_name``) built without arguments, with
    ``load(self, artifacts: dict[str, Path])`` (``artifacts`` maps each key you give here to
    the stored file or folder) and ``predict(self, frame)`` returning one value per row;
    ``predict_proba(self, frame)`` and a ``classes`` attribute make it a classifier with
    probabilities. ``input_example`` (a DataFrame, or a table file) gives the feature schema
    the server checks requests against. ``requirements`` (pip strings) must be installed here;
    their installed versions are recorded. ``task`` defaults to "classification" when the class
    has ``predict_proba``, else "regression" for numeric predictions, else "other".
    ``save=False`` returns the model without registering it.

    Example::

        model = kp.models.from_code("pump_ols.py", name="pump-temperature",
                                    artifacts={"params": "ols.json"},
                                    requirements=["statsmodels>=0.14"], input_example=df.head())
        model.predict(df); kp.models.alias("pump-temperature", 1, "prod")
    """
    from kepler.api import check_model_name

    from .predictor import CodeModel

    started = time.perf_counter()
    check_model_name(name)
    source = check_source(path)
    parsed = check(requirements, model=name)
    example = _example(input_example)
    predictor = CodeModel.load_from(source, class_name, _artifacts(artifacts or {}),
                                    [str(r) for r in parsed])
    predictions = _try_example(predictor, example)
    task = _task(task, predictor, predictions)
    manifest = _manifest(predictor, example, name=name, task=task, target=target,
                         description=description, versions=pinned(parsed), started=started,
                         source=source)
    from kepler.api import Model

    model = Model(manifest, predictor)
    return model.save() if save else model


def _example(data: Any) -> Any:
    from kepler_tabular import as_frame, read_table

    if isinstance(data, (str, Path)):
        return read_table(data)
    if data is None:
        raise ModelError("An input example is needed: it gives the features the model reads.",
                         hint="Pass input_example=df.head() (CLI: --input-example FILE).")
    frame = as_frame(data)
    if frame.empty:
        raise ModelError("The input example has no rows.",
                         hint="Pass a few real rows: input_example=df.head().")
    return frame


def _artifacts(artifacts: Mapping[str, Path | str]) -> dict[str, Path]:
    found = {}
    for key, value in artifacts.items():
        if not isinstance(key, str) or not KEY.match(key):
            raise ModelError(f"Artifact key {key!r} is not valid.",
                             hint="Use letters, digits, '_', '.' or '-' (e.g. 'weights').")
        path = Path(value).expanduser().resolve()
        if not path.exists():
            raise ModelError(f"Artifact {key!r}: {path} does not exist.",
                             hint="Pass the path of a file or folder your load() reads.")
        found[key] = path
    return found


def _try_example(predictor: CodeModel, example: Any) -> Any:
    """Predict the input example (and its probabilities): a model that cannot is refused."""
    try:
        predictions = predictor.predict(example)
        if predictor.has_proba:
            predictor.predict_proba(example)
    except ModelError as exc:
        raise ModelError(f"The model fails on its input example: {exc.message}",
                         hint="Fix predict() (or the example: it must look like the data the "
                         "model will score) and register it again.") from exc
    return predictions


def _task(task: str | None, predictor: CodeModel, predictions: Any) -> str:
    if task is not None:
        if task not in TASKS:
            raise ModelError(f"Unknown task {task!r}.", hint=f"One of: {', '.join(TASKS)}.")
        return task
    if predictor.has_proba:
        return "classification"
    return "regression" if predictions.dtype.kind in "fiu" else "other"


def _manifest(predictor: CodeModel, example: Any, *, name: str, task: str, target: str | None,
              description: str, versions: dict[str, str], started: float,
              source: Path) -> Any:
    from kepler.api import (
        Environment,
        FormatInfo,
        ModelManifest,
        TargetInfo,
        TrainerInfo,
        TrainingInfo,
    )
    from kepler_tabular import describe_data, distribution_of, infer_schema

    from . import __version__

    packages = dict(found for found in map(distribution_of, RUNTIME) if found)
    classes = predictor.classes if task == "classification" else None
    return ModelManifest(
        name=name, task=task, algorithm=predictor.class_name,
        description=description or f"{predictor.class_name} from code ({source.name})",
        target=TargetInfo(name=target, classes=classes),
        trainer=TrainerInfo(name="from_code", plugin="pyfunc", distribution="kepler-pyfunc",
                            version=__version__, framework="python"),
        features=infer_schema(example),
        params={"code": source.name, "class": predictor.class_name,
                "code_sha256": code_digest(source),
                "artifacts": {k: _digest(p) for k, p in sorted(predictor.artifacts.items())},
                "requirements": predictor.requirements},
        training=TrainingInfo(seconds=round(time.perf_counter() - started, 4),
                              evaluated_on="none",
                              notes=["registered from code: no metrics (Kepler did not train "
                                     "it)"]),
        lineage=describe_data(example, source="input_example"),
        environment=Environment(packages={**packages, **versions}),
        format=FormatInfo(name="python-code"),
        extra={"requirements": predictor.requirements},
    )


def _digest(path: Path) -> str:
    """sha256 of an artifact file, or over a folder's files: a changed artifact is a new
    version, never taken for the registered one."""
    import hashlib

    from kepler.api import sha256_file

    if path.is_file():
        return str(sha256_file(path))
    digest = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{item.relative_to(path).as_posix()}:{sha256_file(item)}".encode())
    return digest.hexdigest()
