"""The ``dask`` executor: Kepler's batches of tasks on a Dask ``distributed`` cluster.

``executor="dask://scheduler:8786"`` connects a Client to an existing scheduler;
``executor="dask"`` (no address, and none in config's ``executor.address``) starts a
``LocalCluster`` of worker processes on demand and closes it with the executor. Either way:

- the shared data (the training frame, a model) is scattered to the workers once per batch,
  not shipped with every task;
- every task runs through ``kepler.api.run_task``, which catches what the task raises and keeps
  its traceback, so Dask's own recovery is left for what it is for: a worker lost mid-task has
  its tasks rescheduled on another worker (the scheduler's ``allowed-failures``), and only a
  task that keeps killing workers comes back failed (``KilledWorker``);
- results come back in task order; Ctrl-C cancels every future not yet finished.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from kepler.api import (
    ConfigError,
    TaskResult,
    caller_context,
    run_task,
    task_labels,
)

log = logging.getLogger(__name__)

Progress = Callable[[TaskResult, int, int], None]


def scheduler_address(address: str | None) -> str | None:
    """``dask://host:8786`` -> ``tcp://host:8786``; other schemes (tls://, tcp://) unchanged."""
    if not address or address == "dask":
        return None
    if address.startswith("dask://"):
        rest = address[len("dask://"):]
        if not rest:
            return None
        return f"tcp://{rest}" if ":" in rest else f"tcp://{rest}:8786"
    return address


class DaskExecutor:
    """Runs Kepler's task batches on a Dask cluster (see the module docstring)."""

    name = "dask"

    def __init__(self, config: Any = None, address: str | None = None, *,
                 workers: int | None = None, threads_per_worker: int = 1,
                 memory_limit: str | int = "auto", client: Any = None,
                 retries: int = 0) -> None:
        section = _section(config)
        self.address = scheduler_address(address or getattr(section, "address", None))
        self.workers = workers or getattr(section, "workers", None)
        self.threads_per_worker = threads_per_worker
        self.memory_limit = memory_limit
        #: Dask ``retries`` for a task whose *exception* escapes run_task (rare: it catches
        #: them); lost workers are retried by the scheduler regardless.
        self.retries = retries
        self._client = client
        self._cluster: Any = None
        self._owns_client = client is None

    @property
    def client(self) -> Any:
        """The distributed Client, connected (or the LocalCluster started) on first use."""
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> Any:
        from distributed import Client

        if self.address:
            try:
                return Client(self.address, timeout="10s")
            except OSError as exc:
                raise ConfigError(
                    f"Cannot reach the Dask scheduler at {self.address}: {exc}",
                    hint="Start one ('dask scheduler' and 'dask worker ADDRESS'), check "
                    "executor.address, or use executor='dask' for a local cluster.") from exc
        from distributed import LocalCluster

        self._cluster = LocalCluster(n_workers=self.workers, processes=True,
                                     threads_per_worker=self.threads_per_worker,
                                     memory_limit=self.memory_limit, dashboard_address=":0")
        log.info("Started a Dask LocalCluster: %s", self._cluster)
        return Client(self._cluster)

    def run(self, fn: Callable[[Any, Any], Any], tasks: Sequence[Any], *, shared: Any = None,
            labels: Sequence[str] | None = None,
            progress: Progress | None = None) -> list[TaskResult]:
        """Run ``fn(task, shared)`` on the cluster for every task; results in task order."""
        names = task_labels(tasks, labels)
        if not tasks:
            return []
        client = self.client
        context = caller_context()
        # A list, so a dict or tuple is scattered as one object; broadcast: every worker
        # holds it before the first task, none fetches it per task.
        [data] = client.scatter([shared], broadcast=True, hash=False)
        batch = uuid.uuid4().hex[:8]
        futures = [client.submit(run_task, fn, task, data, i, names[i], context,
                                 key=f"kepler-{batch}-{i}", pure=False, retries=self.retries)
                   for i, task in enumerate(tasks)]
        try:
            return _gather(futures, names, progress)
        except BaseException:  # Ctrl-C: cancel what has not finished, then stop
            client.cancel(futures, force=True)
            raise
        finally:
            client.cancel([data])

    def close(self) -> None:
        """Close the client this executor opened and the LocalCluster it started."""
        if self._client is not None and self._owns_client:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.address or ("LocalCluster" if self._cluster is not None else "on demand")
        return f"DaskExecutor({where})"


def _gather(futures: list[Any], names: list[str], progress: Progress | None) -> list[TaskResult]:
    from distributed import as_completed

    index = {future.key: i for i, future in enumerate(futures)}
    results: dict[int, TaskResult] = {}
    for future in as_completed(futures):
        i = index[future.key]
        results[i] = _outcome(future, i, names[i])
        if progress is not None:
            progress(results[i], len(results), len(futures))
    return [results[i] for i in range(len(futures))]


def _outcome(future: Any, index: int, label: str) -> TaskResult:
    """The task's own TaskResult, or one recording why Dask could not produce it (a worker
    that kept dying: ``KilledWorker``; a task that could not be unpickled...)."""
    if future.status == "finished":
        result: TaskResult = future.result()
        return result
    error = future.exception()
    text = "".join(traceback.format_exception(type(error), error, future.traceback()))
    return TaskResult(index=index, label=label, error=f"{type(error).__name__}: {error}",
                      traceback=text)


def _section(config: Any) -> Any:
    if config is None:
        return None
    try:
        section = config.section("executor")
    except Exception:  # no executor section: defaults
        return None
    return section if getattr(section, "name", "dask") == "dask" else None
