"""Executors: where a batch of independent tasks runs (``kepler_executors``, plugin API 1.5).

Comparing candidates, training one model per asset and scoring in partitions are all "run
this function over these tasks, the same data for all of them". An executor does exactly that
and nothing more, so the work can move from this machine's cores (``local``, here) to a cluster
(``dask``, from kepler-dask) without the caller changing. Results come back in the order of the
tasks; a task that raises is a :class:`TaskResult` with the error and its traceback, never an
exception that sinks its siblings.

Example::

    from kepler.api import executor

    with executor("local") as ex:            # or "dask", "dask://scheduler:8786"
        results = ex.run(train_one, groups, shared=frame)
    failed = [r for r in results if not r.ok]
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError, PluginNotFoundError

log = logging.getLogger(__name__)

Progress = Callable[["TaskResult", int, int], None]


@dataclass(frozen=True)
class TaskResult:
    """What one task gave: its value, or the error and traceback that stopped it."""

    index: int
    label: str
    value: Any = None
    #: "TypeName: message" when the task raised; None when it succeeded.
    error: str | None = None
    traceback: str | None = None
    #: Where it ran ("host:pid" for a process, the worker's address on a cluster).
    worker: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def caller_context() -> dict[str, Any]:
    """What a worker needs to resolve configuration and the registry as the caller does: its
    working directory and ``KEPLER_*`` variables (workers are often started before either was
    set, or on another machine)."""
    return {"cwd": os.getcwd(), "pid": os.getpid(),
            "env": {k: v for k, v in os.environ.items() if k.startswith("KEPLER_")}}


def adopt_context(context: Mapping[str, Any] | None) -> None:
    """In a worker: take the caller's working directory (when it exists here) and ``KEPLER_*``
    variables, and rebuild the plugin host if anything changed."""
    if not context or context.get("pid") == os.getpid():
        return
    changed = False
    cwd = context.get("cwd")
    if cwd and os.path.isdir(cwd) and os.getcwd() != cwd:
        os.chdir(cwd)
        changed = True
    wanted: dict[str, str] = dict(context.get("env", {}))
    for name in [k for k in os.environ if k.startswith("KEPLER_") and k not in wanted]:
        del os.environ[name]
        changed = True
    for name, value in wanted.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
            changed = True
    if changed:
        from .plugins import reset

        reset()


def run_task(fn: Callable[[Any, Any], Any], task: Any, shared: Any, index: int,
             label: str, context: Mapping[str, Any] | None = None) -> TaskResult:
    """Call ``fn(task, shared)`` and wrap the outcome, catching what it raises.

    Executors run this on their workers: catching here (not in the scheduler) keeps the
    traceback of the worker's frames, and lets a cluster's own retries apply only to what they
    are for, a lost worker. ``context`` (:func:`caller_context`) is adopted first.
    """
    adopt_context(context)
    started = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        value = fn(task, shared)
    except Exception as exc:  # recorded, not raised: one broken task must not sink the batch
        return TaskResult(index=index, label=label, error=f"{type(exc).__name__}: {exc}",
                          traceback=traceback.format_exc(), worker=worker,
                          seconds=time.perf_counter() - started)
    return TaskResult(index=index, label=label, value=value, worker=worker,
                      seconds=time.perf_counter() - started)


def task_labels(tasks: Sequence[Any], labels: Sequence[str] | None) -> list[str]:
    """One label per task (given, else the task's ``str``), checked against the task count."""
    if labels is None:
        return [str(task) for task in tasks]
    if len(labels) != len(tasks):
        raise ValueError(f"{len(labels)} labels for {len(tasks)} tasks")
    return [str(label) for label in labels]


# --- the local executor ---------------------------------------------------------------------

_SHARED: dict[str, Any] = {}


def _install_shared(shared: Any, context: Mapping[str, Any]) -> None:
    """Pool initializer: receive the shared data once per worker process, not once per task."""
    _SHARED["value"] = shared
    adopt_context(context)


def _pool_task(fn: Callable[[Any, Any], Any], task: Any, index: int, label: str) -> TaskResult:
    return run_task(fn, task, _SHARED.get("value"), index, label)


class LocalExecutor:
    """A pool of worker processes on this machine: today's ``n_jobs``, as an executor.

    ``workers=1`` runs the tasks one after another in this process (no pickling, easiest to
    debug). A worker process that dies takes its task with it: that task, and those that could
    not run after it, are reported as failed rather than retried (a cluster executor retries).
    """

    name = "local"

    def __init__(self, config: Any = None, address: str | None = None, *,
                 workers: int | None = None, mp_context: Any = None) -> None:
        if address not in (None, "", "local"):
            raise ConfigError(f"The local executor takes no address (got {address!r}).",
                              hint="Use executor='local', or install the dask plugin for "
                              "executor='dask://host:8786'.")
        configured = getattr(_section(config), "workers", None)
        self.workers = max(1, workers or configured or os.cpu_count() or 1)
        self._context = mp_context

    def run(self, fn: Callable[[Any, Any], Any], tasks: Sequence[Any], *, shared: Any = None,
            labels: Sequence[str] | None = None,
            progress: Progress | None = None) -> list[TaskResult]:
        """Run ``fn(task, shared)`` for every task; results in the order of ``tasks``."""
        names = task_labels(tasks, labels)
        if self.workers == 1 or len(tasks) <= 1:
            return self._inline(fn, tasks, shared, names, progress)
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)),
                                   mp_context=self._context, initializer=_install_shared,
                                   initargs=(shared, caller_context()))
        try:
            futures = {pool.submit(_pool_task, fn, task, i, names[i]): i
                       for i, task in enumerate(tasks)}
            results = _collect(futures, names, progress)
        except BaseException:  # Ctrl-C or a bug here: nothing new starts, nothing waits
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return results

    @staticmethod
    def _inline(fn: Callable[[Any, Any], Any], tasks: Sequence[Any], shared: Any,
                names: list[str], progress: Progress | None) -> list[TaskResult]:
        results = []
        for i, task in enumerate(tasks):
            results.append(run_task(fn, task, shared, i, names[i]))
            if progress is not None:
                progress(results[-1], i + 1, len(tasks))
        return results

    def close(self) -> None:
        """Nothing to release: each :meth:`run` starts and stops its own pool."""

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalExecutor(workers={self.workers})"


def _collect(futures: Mapping[Future[TaskResult], int], names: list[str],
             progress: Progress | None) -> list[TaskResult]:
    """Wait for every future, reporting each as it finishes; a dead worker's task is failed."""
    results: dict[int, TaskResult] = {}
    pending = set(futures)
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            index = futures[future]
            results[index] = _outcome(future, index, names[index])
            if progress is not None:
                progress(results[index], len(results), len(futures))
    return [results[i] for i in range(len(futures))]


def _outcome(future: Future[TaskResult], index: int, label: str) -> TaskResult:
    try:
        return future.result()
    except BrokenProcessPool as exc:
        return TaskResult(index=index, label=label, error=f"worker process died: {exc}",
                          traceback=traceback.format_exc())
    except Exception as exc:  # e.g. the task could not be pickled
        return TaskResult(index=index, label=label, error=f"{type(exc).__name__}: {exc}",
                          traceback=traceback.format_exc())


# --- choosing one ---------------------------------------------------------------------------

def _section(config: Any) -> Any:
    if config is None:
        return None
    try:
        return config.section("executor")
    except (ConfigError, AttributeError):
        return None


def parse(spec: str) -> tuple[str, str | None]:
    """``"dask://host:8786"`` -> ("dask", "dask://host:8786"); ``"local"`` -> ("local", None)."""
    name, sep, _ = spec.partition("://")
    return (name, spec) if sep else (spec, None)


def executor(spec: Any = None, **options: Any) -> Any:
    """The executor ``spec`` names: an executor object (returned as is), ``"local"``,
    ``"dask"``, ``"dask://host:8786"``, a mapping ``{"name": "dask", "address": ...}``, or None
    for the ``executor:`` config section (default: local). ``options`` go to its constructor
    (``workers=4``...)."""
    if spec is not None and not isinstance(spec, str | Mapping):
        return spec
    from .config import load
    from .plugins import get_host
    from .records import ExecutorSpec

    config = load()
    name, address = _named(spec, config)
    record = get_host().find(ExecutorSpec, name)
    if record is None:
        from .catalogue import provider

        known = sorted(r.name for r in get_host().records(ExecutorSpec))
        distribution = provider("plugins", name)
        raise PluginNotFoundError(
            f"No executor {name!r} is installed (installed: {', '.join(known)}).",
            hint=f"pip install {distribution}" if distribution
            else "Install the plugin that provides it; 'kepler plugins list' shows them.")
    from .records import import_string

    return import_string(record.target)(config, address, **options)


def _named(spec: str | Mapping[str, Any] | None, config: Any) -> tuple[str, str | None]:
    if isinstance(spec, str):
        return parse(spec)
    if isinstance(spec, Mapping):
        return str(spec.get("name", "local")), spec.get("address")
    section = _section(config)
    if section is None:
        return "local", None
    return section.name, section.address


@contextmanager
def using(spec: Any = None, **options: Any) -> Iterator[Any]:
    """The executor ``spec`` names, closed afterwards only if it was made here (an executor
    object the caller passed stays open for its next batch)."""
    made = executor(spec, **options)
    try:
        yield made
    finally:
        if made is not spec:
            made.close()


def failures(results: Sequence[TaskResult]) -> dict[str, str]:
    """``{label: error}`` of the tasks that failed, for reports."""
    return {r.label: str(r.error) for r in results if not r.ok}


__all__ = ["LocalExecutor", "TaskResult", "adopt_context", "caller_context", "executor",
           "failures", "parse", "run_task", "task_labels", "using"]
