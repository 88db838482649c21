"""The ``dask`` executor: order, scatter-once, failures with tracebacks, a lost worker retried,
Ctrl-C cancelling, addresses and the on-demand LocalCluster."""

from __future__ import annotations

import os
import time

import pytest
from kepler.api import Executor, executor, using_executor
from kepler_dask.executor import DaskExecutor, scheduler_address


def add_shared(task, shared):
    time.sleep(0.02 * (5 - task % 5))  # finish out of order
    return task + shared["offset"], os.getpid()


def breaks_on_two(task, shared):
    if task == 2:
        raise RuntimeError("pump 2 has no data")
    return task


def dies_once(task, marker_dir):
    """Kills its worker process the first time task 1 runs: the scheduler must run it again
    on a worker that is alive."""
    marker = os.path.join(marker_dir, f"ran-{task}")
    if task == 1 and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    time.sleep(0.2)
    return task * 10


def sleeps(task, shared):
    time.sleep(2)
    return task


def test_plugin_registers_the_dask_executor_by_name_and_address(address):
    with using_executor(address) as running:
        assert isinstance(running, DaskExecutor) and isinstance(running, Executor)
        assert running.address == address.replace("dask://", "tcp://")
        results = running.run(add_shared, list(range(10)), shared={"offset": 100})
    assert [r.value[0] for r in results] == [t + 100 for t in range(10)]
    assert [r.index for r in results] == list(range(10))
    assert {r.value[1] for r in results} - {os.getpid()}, "ran on the workers"
    assert all(r.ok and r.worker for r in results)
    assert running._client is None, "the client it opened is closed"


def test_shared_data_is_scattered_once_per_batch(dask_executor, client, monkeypatch):
    calls = []
    original = client.scatter
    monkeypatch.setattr(client, "scatter", lambda data, **kw: calls.append(kw) or original(
        data, **kw))
    seen = []
    results = dask_executor.run(add_shared, list(range(6)), shared={"offset": 1},
                                progress=lambda r, done, total: seen.append((done, total)))
    assert len(calls) == 1 and calls[0]["broadcast"] is True
    assert [r.value[0] for r in results] == [1, 2, 3, 4, 5, 6]
    assert [d for d, _ in seen] == [1, 2, 3, 4, 5, 6] and seen[-1][1] == 6


def test_a_failing_task_is_recorded_with_its_traceback_and_the_others_finish(dask_executor):
    results = dask_executor.run(breaks_on_two, [0, 1, 2, 3], labels=list("abcd"))
    assert [r.ok for r in results] == [True, True, False, True]
    assert results[2].error == "RuntimeError: pump 2 has no data"
    assert "breaks_on_two" in results[2].traceback and results[2].label == "c"
    assert [r.value for r in results if r.ok] == [0, 1, 3]


def test_a_worker_killed_mid_run_has_its_task_retried_elsewhere(dask_executor, client,
                                                                 tmp_path):
    results = dask_executor.run(dies_once, [0, 1, 2, 3], shared=str(tmp_path))
    assert (tmp_path / "ran-1").exists(), "the first attempt did kill its worker"
    assert [r.value for r in results] == [0, 10, 20, 30]
    assert all(r.ok for r in results)
    client.wait_for_workers(2, timeout=30)  # the nanny restarts it for the next tests


def test_ctrl_c_cancels_the_futures_not_finished(dask_executor, client):
    def interrupt(result, done, total):
        raise KeyboardInterrupt

    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        dask_executor.run(sleeps, list(range(12)), progress=interrupt)
    assert time.perf_counter() - started < 9, "12 x 2 s on 2 workers would take 12 s"
    assert not [key for key in client.futures if str(key).startswith("kepler-")]


def test_addresses():
    assert scheduler_address("dask://sched:8786") == "tcp://sched:8786"
    assert scheduler_address("dask://sched") == "tcp://sched:8786"
    assert scheduler_address("tls://sched:8786") == "tls://sched:8786"
    assert scheduler_address("dask") is None and scheduler_address(None) is None


def test_executor_dask_starts_a_local_cluster_on_demand_and_closes_it(monkeypatch):
    monkeypatch.setenv("KEPLER_EXECUTOR__NAME", "dask")
    monkeypatch.setenv("KEPLER_EXECUTOR__WORKERS", "1")
    running = executor(memory_limit="512MiB")  # config: executor: {name: dask, workers: 1}
    assert isinstance(running, DaskExecutor) and running.address is None
    try:
        assert [r.value for r in running.run(breaks_on_two, [0, 1])] == [0, 1]
        assert len(running._cluster.workers) == 1
    finally:
        running.close()
    assert running._cluster is None
