"""``kp.train.compare``: train several candidates on the same split, in parallel, and rank them.

Candidates are trainer names (any installed ``kp.train.<name>``, whatever its framework) or
scikit-learn-compatible estimator instances. Each is trained in a joblib worker process (``n_jobs``
of them; ``-1`` means one per CPU) on the same rows, with the same held-out rows, so the
leaderboard compares like with like. A candidate that fails is reported, not fatal.

Example::

    board = kp.train.compare(df, target="failure", split="time",
                             algorithms=["random_forest", "logistic_regression", "xgboost"])
    board.leaderboard
    board.best.save()
    board.plot()
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kepler.api import KeplerError, TrainingError, finish_training
from kepler_tabular import Comparison, as_frame, infer_task, unknown_columns

from .algorithms import DEFAULT_CANDIDATES

log = logging.getLogger(__name__)

#: Keywords passed to every candidate (name is not: each candidate gets its own).
SHARED_KEYWORDS = ("features", "task", "test_size", "split", "cv", "random_state",
                   "time_column", "groups")


@dataclass
class _Job:
    label: str
    #: A TrainerSpec record (picklable) or None for an estimator instance.
    spec: Any = None
    estimator: Any = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Outcome:
    label: str
    model: Any
    error: str | None
    pid: int


def _environment() -> dict[str, Any]:
    return {"cwd": os.getcwd(), "pid": os.getpid(),
            "kepler": {k: v for k, v in os.environ.items() if k.startswith("KEPLER_")}}


def _adopt(environment: Mapping[str, Any]) -> None:
    """In a worker process: take the parent's working directory and KEPLER_* variables, so the
    configuration and registry resolve as they do in the parent (loky reuses workers between
    calls, from processes whose state may have changed since)."""
    if os.getpid() == environment["pid"]:
        return
    changed = os.getcwd() != environment["cwd"]
    if changed:
        os.chdir(environment["cwd"])
    wanted: dict[str, str] = dict(environment["kepler"])
    for name in [k for k in os.environ if k.startswith("KEPLER_") and k not in wanted]:
        del os.environ[name]
        changed = True
    for name, value in wanted.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
            changed = True
    if changed:
        from kepler.api import reset_plugins as reset

        reset()


def _train_one(job: _Job, data: Any, target: str | None, shared: Mapping[str, Any],
               environment: Mapping[str, Any]) -> _Outcome:
    _adopt(environment)
    try:
        if job.spec is not None:
            from kepler.api import load_config as load

            trainer = job.spec.create(load())
            model = trainer.train(data, target=target, **shared, **job.params)
        else:
            from .sdk import candidate_for_estimator
            from .training import fit

            model = fit(candidate_for_estimator(job.estimator), data, target=target, **shared,
                        **job.params)
    except KeplerError as exc:
        return _Outcome(job.label, None, exc.message, os.getpid())
    except Exception as exc:  # one broken candidate must not sink the comparison
        return _Outcome(job.label, None, f"{type(exc).__name__}: {exc}", os.getpid())
    return _Outcome(job.label, model, None, os.getpid())


def _jobs(algorithms: Sequence[Any], params: Mapping[str, Mapping[str, Any]]) -> list[_Job]:
    from kepler.api import TrainerSpec, find_record, missing_capability

    jobs: list[_Job] = []
    labels: set[str] = set()
    for item in algorithms:
        if isinstance(item, str):
            spec = find_record(TrainerSpec, item)
            if spec is None:
                raise missing_capability("train", item)
            job = _Job(label=item, spec=spec)
        else:
            from .sdk import resolve_estimator

            estimator = resolve_estimator(item)
            job = _Job(label=type(estimator).__name__, estimator=estimator)
        base, n = job.label, 2
        while job.label in labels:
            job.label, n = f"{base}#{n}", n + 1
        labels.add(job.label)
        job.params = dict(params.get(job.label, {}))
        jobs.append(job)
    unknown = sorted(set(params) - labels)
    if unknown:
        raise TrainingError(f"params names candidate(s) that are not compared: "
                            f"{', '.join(unknown)}.",
                            hint=f"Candidates: {', '.join(sorted(labels))}.")
    return jobs


def _defaults(data: Any, target: str | None, task: str) -> tuple[str, ...]:
    if task == "auto":
        if target is None:
            raise TrainingError("Name the algorithms to compare, or give a target so Kepler can "
                                "pick candidates for the task.",
                                hint="kp.train.compare(df, target='failure') or "
                                "algorithms=['isolation_forest', ...].")
        frame = as_frame(data)
        if target not in frame.columns:
            raise unknown_columns("Target", [target], frame)
        task = infer_task(frame[target])
    return DEFAULT_CANDIDATES.get(task, ())


def compare(data: Any, target: str | None = None, *, algorithms: Sequence[Any] | None = None,
            n_jobs: int = -1, metric: str | None = None,
            params: Mapping[str, Mapping[str, Any]] | None = None,
            executor: Any = None, **shared: Any) -> Comparison:
    """Train every candidate on the same split and rank them by the task's main metric.

    ``algorithms``: trainer names (``"random_forest"``, ``"xgboost"``, ``"pytorch"``...) and/or
    estimator instances; default: four good candidates for the task. ``n_jobs``: worker
    processes (-1: one per CPU, 1: in this process). ``metric``: rank by this instead of the
    main metric. ``params``: per-candidate parameters, ``{"random_forest": {"n_estimators":
    300}}``. ``executor``: run the candidates there instead of ``n_jobs`` local processes:
    ``"local"``, ``"dask"`` (a Dask LocalCluster), ``"dask://scheduler:8786"`` (kepler-dask)
    or an executor object; the data is shipped to each worker once. Other keywords
    (``features``, ``task``, ``test_size``, ``split``, ``cv``, ``random_state``,
    ``time_column``, ``groups``) apply to every candidate.

    Returns a :class:`kepler_tabular.Comparison`: ``.leaderboard`` (DataFrame, best first),
    ``.best`` (a Model, not yet saved), ``.plot()``, ``.failures``, ``.workers``.
    """
    unknown = sorted(set(shared) - set(SHARED_KEYWORDS))
    if unknown:
        raise TrainingError(
            f"Unknown keyword(s) for kp.train.compare: {', '.join(unknown)}.",
            hint=f"Shared keywords: {', '.join(SHARED_KEYWORDS)}; per-candidate parameters go "
            "in params={'random_forest': {'n_estimators': 300}}.",
        )
    candidates = list(algorithms) if algorithms is not None else list(
        _defaults(data, target, str(shared.get("task", "auto"))))
    if not candidates:
        raise TrainingError("No algorithms to compare.",
                            hint="Pass algorithms=['random_forest', 'logistic_regression', ...].")
    jobs = _jobs(candidates, params or {})
    environment = _environment()
    if executor is not None:
        running: Any = _on_executor(executor, jobs, data, target, shared)
    elif n_jobs == 1 or len(jobs) == 1:
        running = (_train_one(job, data, target, shared, environment) for job in jobs)
    else:
        from joblib import Parallel, delayed

        running = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_train_one)(job, data, target, shared, environment) for job in jobs)
    outcomes = list(_progress(running, len(jobs)))
    models, failures = [], {}
    for outcome in outcomes:
        if outcome.model is None:
            log.warning("kp.train.compare: %s failed: %s", outcome.label, outcome.error)
            failures[outcome.label] = str(outcome.error)
            continue
        models.append(finish_training(outcome.label, outcome.model))
    if not models:
        raise TrainingError(
            "Every candidate failed to train: "
            + "; ".join(f"{k}: {v}" for k, v in failures.items()),
            hint="Fix the first error above; the others often share its cause.",
        )
    return Comparison(models, metric=metric, workers=[o.pid for o in outcomes],
                      failures=failures)


def _train_task(job: _Job, payload: tuple[Any, str | None, Mapping[str, Any]]) -> _Outcome:
    """One candidate on an executor's worker (which already took the caller's context)."""
    data, target, shared = payload
    return _train_one(job, data, target, shared, {"pid": os.getpid()})


def _on_executor(executor: Any, jobs: list[_Job], data: Any, target: str | None,
                 shared: Mapping[str, Any]) -> list[_Outcome]:
    """Train the candidates on ``executor`` (kepler.api executors), the data scattered once."""
    from kepler.api import using_executor

    with using_executor(executor) as running:
        results = running.run(_train_task, jobs, shared=(data, target, dict(shared)),
                              labels=[job.label for job in jobs])
    return [r.value if r.ok else _Outcome(r.label, None, r.error, 0) for r in results]


def _progress(outcomes: Any, total: int) -> Any:
    """A bar of candidates trained, in Jupyter (``tqdm.auto``'s widget) or a terminal; the
    plain iterable in logs and CI, or where tqdm is not installed (it is optional here)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    interactive = type(shell).__name__ == "ZMQInteractiveShell" or (
        hasattr(sys.stderr, "isatty") and sys.stderr.isatty())
    if not interactive or total < 2:
        return outcomes
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return outcomes
    return tqdm(outcomes, total=total, desc="compare: candidates trained", unit=" model")
