"""The shapes of the objects behind plugin records.

A record's ``factory`` is called with the resolved :class:`kepler.config.Config` and returns an
object of one of these Protocols. They are deliberately small: a plugin may offer more, but core and
the other plugins rely only on what is here.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .records import Deployment


@runtime_checkable
class Connector(Protocol):
    """Pulls data out of a source with the source's own query language."""

    def query(self, query: str, **options: Any) -> Any:
        """Run ``query`` and return the rows (a pandas DataFrame for tabular sources)."""
        ...


@runtime_checkable
class Trainer(Protocol):
    """Trains one algorithm; ``kp.train.<name>(data, target=...)`` calls :meth:`train`.

    Every first-party trainer accepts the same keywords, so ``kp.train.compare`` and
    ``kepler train`` drive any of them alike: ``features=None, task="auto", test_size=0.2,
    split="random"|"time", cv=None, random_state=0, name=None``; every other keyword is a
    parameter of the algorithm, and an unknown one is a :class:`~kepler.errors.TrainingError`
    listing the valid ones. ``save=True`` is handled by core, not the trainer.
    """

    def train(self, data: Any, *, target: str | None = None, **params: Any) -> Any:
        """Fit on ``data`` and return a :class:`kepler.model.Model` (evaluated, not yet saved)."""
        ...


@runtime_checkable
class Predictor(Protocol):
    """What a model format's ``load`` returns and :class:`kepler.model.Model` calls.

    It takes the raw feature table (preprocessing is part of the predictor) and returns one
    prediction per row. Classifiers also offer ``predict_proba(data)`` (one column per class, in
    the order of the manifest's ``target.classes``); anomaly detectors ``score_samples(data)``.
    """

    def predict(self, data: Any) -> Any: ...


class NumericRecords(builtins.list):  # type: ignore[type-arg]
    """Validated records (``list[dict]``) that also carry their values as one float64 matrix,
    one column per name of ``features`` (plugin API 1.8).

    A model server that decoded an all-numeric request column by column hands its records over
    in this shape, so a compiled scorer can feed ``matrix`` to its engine in one conversion
    instead of reading 10,000 dict values back out of 1,000 records. A scorer that does not
    know the type sees a plain list of dicts; one that does must check ``features`` against its
    own input order before it uses ``matrix``.

    >>> import numpy as np
    >>> rows = NumericRecords([{"a": 1.0, "b": 2.0}], ("a", "b"), np.array([[1.0, 2.0]]))
    >>> rows[0]["b"], rows.matrix[0, 1], rows.features
    (2.0, 2.0, ('a', 'b'))
    """

    __slots__ = ("features", "matrix")

    def __init__(self, rows: Iterable[dict[str, Any]], features: Sequence[str],
                 matrix: Any) -> None:
        super().__init__(rows)
        self.features = tuple(features)
        self.matrix = matrix


@runtime_checkable
class CompiledPredictor(Protocol):
    """What a model format's ``compiled(model)`` returns: a scorer for validated records
    (``list[dict]``, one per row, values already of the feature's kind) that skips the
    framework's per-call overhead. It must give exactly the predictor's answers; a server checks
    that on sample rows before using it and falls back to the predictor otherwise.
    ``predict_proba`` exists for classifiers, ``score_samples`` for anomaly models. The rows
    may arrive as :class:`NumericRecords`, whose ``matrix`` a scorer may use instead."""

    #: One line for logs and ``/metadata``: what was compiled ("50 trees, one-hot + scaling").
    description: str

    def predict(self, rows: Any) -> Any: ...


@runtime_checkable
class Deployer(Protocol):
    """Ships a model somewhere it answers requests, and operates it there (plugin API 1.2).

    The shape mlflow's deployment plugins settled on (create / update / delete / list / get /
    predict), plus what running a service needs day to day (``status``, ``logs``) and the
    container build context every remote target starts from (``build``). Core's ``kepler deploy``
    commands and ``kp.deploy.*`` drive any target through these methods alone, so a new target
    (``cloud-run``, ``aws``...) is one :class:`~kepler.records.DeployerSpec` and one class.

    Conventions:

    - ``name`` is the deployment's name: lowercase letters, digits and ``-``, starting with a
      letter, at most 49 characters (what Cloud Run and Kubernetes accept), checked by core.
    - ``model`` is the *artifact folder* of the model: core resolves registry references
      (``"pumps"``, ``"pumps:3"``, ``"pumps:prod"``) before calling, so a deployer only reads
      folders (:func:`kepler.artifact.read_manifest`).
    - ``config`` holds the target's options (``port``, ``api_key``, ``region``...); a deployer
      ignores keys it does not know and raises :class:`~kepler.errors.DeploymentError` for a bad
      value.
    - An unknown name raises :class:`~kepler.errors.DeploymentNotFoundError`; every other
      failure a :class:`~kepler.errors.DeploymentError` (or a ``ServiceError`` for a refusing
      cloud API) with a hint.

    Example (a target that keeps deployments in memory)::

        class MemoryDeployer:
            def __init__(self, config): self.items = {}
            def create(self, name, model, config):
                self.items[name] = Deployment(name=name, target="memory", model=model,
                                              status="running", url=f"memory://{name}")
                return self.items[name]
            update = create
            def delete(self, name): self.items.pop(name)
            def list(self): return list(self.items.values())
            def get(self, name): return self.items[name]
            def status(self, name): return self.items[name]
            def predict(self, name, data): return {"predictions": [0 for _ in data]}
            def logs(self, name, lines=100): return []
            def build(self, model, out, config): ...  # write Dockerfile, model, lock; return out
    """

    # Optional, for targets that keep revisions and split traffic (core's ``kepler deploy
    # rollback|promote`` and ``--dry-run`` call them when present and say so when absent):
    #   rollback(name, revision=None) -> Deployment   all traffic back to an earlier revision
    #   promote(name, revision=None) -> Deployment    all traffic to the canary (or revision)
    #   plan(name, model, config, *, action="create") -> list   requests a create/update would
    #       send, each with render() and as_dict(); nothing is sent
    # Optional, for targets that run one-off batch jobs (``kepler predict MODEL --target T``
    # calls it when present and says so when absent):
    #   run_batch(name, model, config) -> dict   run ``kepler predict`` on the target in a job
    #       that stops when done; config: "input" (a local file to score), "args" (kepler
    #       predict's data and sink options); returns a report (state, logs...)

    def create(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        """Start serving the model in artifact folder ``model`` as ``name``; return it once it
        answers requests. Refuse a name that exists (core calls :meth:`update` for that)."""
        ...

    def update(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        """Serve another model (or the same one with new options) under an existing name."""
        ...

    def delete(self, name: str) -> None:
        """Stop serving and forget the deployment."""
        ...

    def list(self) -> list[Deployment]:
        """Every deployment this target knows (for this project, where that applies)."""
        ...

    def get(self, name: str) -> Deployment:
        """The deployment as recorded: model, version, URL (cheap, no health check)."""
        ...

    def status(self, name: str) -> Deployment:
        """The deployment with its live state in ``status``: "running", "starting",
        "unhealthy", "stopped" or "failed" (details such as the reason in ``details``)."""
        ...

    def predict(self, name: str, data: Any) -> Any:
        """Score ``data`` (a list of records) with the deployed model; returns the server's
        answer: ``{"predictions": [...], "probabilities": [...], "model": ..., "version": ...}``.
        """
        ...

    def logs(self, name: str, lines: int = 100) -> builtins.list[str]:
        """The last ``lines`` lines of the deployment's server log, oldest first."""
        ...

    def build(self, model: str, out: Path, config: Mapping[str, Any]) -> Path:
        """Write a container build context for the model in folder ``model`` into ``out`` and
        return it: a Dockerfile (slim base, non-root user, healthcheck, ``$PORT``), the model,
        a lock of the packages it needs and the server's entrypoint."""
        ...


@runtime_checkable
class EnvManager(Protocol):
    """Creates and maintains a project's isolated Python environment.

    ``options`` says which environment and how; a manager ignores keys it does not use. The keys
    kepler-env passes (its ``EnvPlan`` is such a mapping): ``env`` ("dev", "staging", "prod"…),
    ``python`` (version or interpreter), ``gpu``, ``ssh_key`` (path, used in place),
    ``locked`` (``sync``: fail rather than re-lock), ``base_image`` (images), ``location``,
    ``requirement_files`` and ``lock_path``.
    """

    def create(self, project: Path, options: Mapping[str, Any]) -> Path:
        """Create the environment and return its location."""
        ...

    def update(self, project: Path, options: Mapping[str, Any]) -> None: ...

    def lock(self, project: Path, options: Mapping[str, Any]) -> Path:
        """Write the lock file and return its path."""
        ...

    def sync(self, project: Path, options: Mapping[str, Any]) -> None: ...

    def check(self, project: Path, options: Mapping[str, Any]) -> Iterable[str]:
        """Return human-readable conflict reports; empty when the environment is consistent."""
        ...

    def remove(self, project: Path, options: Mapping[str, Any]) -> None: ...

    def run(self, project: Path, command: list[str], options: Mapping[str, Any]) -> int: ...

    def python(self, project: Path, options: Mapping[str, Any]) -> Path:
        """The environment's Python interpreter (for documenting, kernels, running tools).

        Raise a ``KeplerError`` when the environment has none on this machine (an image).
        """
        ...


@runtime_checkable
class Sink(Protocol):
    """Writes results somewhere people look at them."""

    def write(self, data: Any, **options: Any) -> Any:
        """Write ``data`` and return a report of what was delivered."""
        ...


@runtime_checkable
class Executor(Protocol):
    """Runs a batch of independent tasks and returns their results in order (plugin API 1.5).

    ``run(fn, tasks, shared=data)`` calls ``fn(task, shared)`` once per task, wherever the
    executor puts it (a local process, a Dask worker), and returns one
    :class:`kepler.executors.TaskResult` per task, in the order of ``tasks``. ``shared`` (the
    training data, a model) is shipped to each worker once, not once per task. A task that
    raises is recorded with its traceback and the others go on; Ctrl-C cancels what has not
    finished. ``progress(result, done, total)`` is called as each task finishes.
    """

    name: str

    def run(self, fn: Callable[[Any, Any], Any], tasks: Sequence[Any], *, shared: Any = None,
            labels: Sequence[str] | None = None,
            progress: Callable[[Any, int, int], None] | None = None) -> builtins.list[Any]:
        """Run ``fn(task, shared)`` for every task; one ``TaskResult`` per task, in order."""
        ...

    def close(self) -> None:
        """Release the workers (a cluster the executor started, its client)."""
        ...
