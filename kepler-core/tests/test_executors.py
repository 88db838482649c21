"""Executors: the ``kepler_executors`` hook, core's ``local`` process pool, choosing one."""

from __future__ import annotations

import os
import time

import pytest
from kepler.api import (
    ConfigError,
    Executor,
    ExecutorSpec,
    LocalExecutor,
    PluginNotFoundError,
    executor,
    executor_failures,
    hookimpl,
    using_executor,
)
from kepler.executors import parse


def square_plus(task, shared):
    """Sleeps the longer the smaller the task, so tasks finish out of order."""
    time.sleep(0.05 * (4 - task % 4))
    return task * task + shared["offset"], os.getpid()


def fails_on_three(task, shared):
    if task == 3:
        raise ValueError("three is broken")
    return task


def slow(task, shared):
    time.sleep(2)
    return task


class InlineExecutor:
    """An in-test executor, what a plugin's target returns."""

    name = "inline"

    def __init__(self, config, address=None, **options):
        self.address, self.options, self.closed = address, options, False

    def run(self, fn, tasks, *, shared=None, labels=None, progress=None):
        return LocalExecutor(workers=1).run(fn, tasks, shared=shared, labels=labels,
                                            progress=progress)

    def close(self):
        self.closed = True


class InlinePlugin:
    @hookimpl
    def kepler_executors(self):
        yield ExecutorSpec(name="inline", target=f"{__name__}:InlineExecutor")


def test_kepler_executors(kepler_home, kepler_plugin):
    kepler_plugin(InlinePlugin(), name="inline-plugin")
    made = executor("inline://somewhere:1", workers=3)
    assert isinstance(made, InlineExecutor) and isinstance(made, Executor)
    assert made.address == "inline://somewhere:1" and made.options == {"workers": 3}
    assert [r.value for r in made.run(fails_on_three, [1, 2])] == [1, 2]


def test_local_executor_returns_results_in_order_with_shared_data_and_progress(kepler_home):
    seen = []
    results = LocalExecutor(workers=2).run(square_plus, list(range(8)), shared={"offset": 1},
                                           progress=lambda r, done, total: seen.append(
                                               (r.index, done, total)))
    assert [r.value[0] for r in results] == [t * t + 1 for t in range(8)]
    assert [r.index for r in results] == list(range(8))
    assert {pid for r in results for pid in [r.value[1]]} - {os.getpid()}, "ran in workers"
    assert [done for _, done, _ in seen] == list(range(1, 9)) and seen[0][2] == 8
    assert all(r.ok and r.worker and r.seconds > 0 for r in results)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_task_is_recorded_with_its_traceback_and_the_others_go_on(workers):
    results = LocalExecutor(workers=workers).run(fails_on_three, [1, 2, 3, 4],
                                                 labels=["a", "b", "c", "d"])
    assert [r.value for r in results if r.ok] == [1, 2, 4]
    broken = results[2]
    assert not broken.ok and broken.label == "c"
    assert broken.error == "ValueError: three is broken"
    assert "fails_on_three" in broken.traceback and "Traceback" in broken.traceback
    assert executor_failures(results) == {"c": "ValueError: three is broken"}


def test_ctrl_c_cancels_the_tasks_not_yet_started():
    """KeyboardInterrupt while waiting (here raised from the progress callback): the pool stops
    at once instead of running the queue of 2-second tasks to the end."""
    def interrupt(result, done, total):
        raise KeyboardInterrupt

    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        LocalExecutor(workers=2).run(slow, list(range(20)), progress=interrupt)
    assert time.perf_counter() - started < 10, "20 tasks x 2 s on 2 workers would take 20 s"


def test_executor_by_name_by_config_and_unknown(kepler_home, monkeypatch):
    assert parse("dask://host:8786") == ("dask", "dask://host:8786")
    assert parse("local") == ("local", None)
    assert isinstance(executor(), LocalExecutor)
    assert executor("local", workers=3).workers == 3
    monkeypatch.setenv("KEPLER_EXECUTOR__WORKERS", "5")
    from kepler.api import reset_plugins

    reset_plugins()
    assert executor({"name": "local"}).workers == 5
    mine = LocalExecutor(workers=2)
    assert executor(mine) is mine
    with using_executor(mine) as same:
        assert same is mine
    with pytest.raises(PluginNotFoundError, match="No executor 'nowhere'"):
        executor("nowhere://x:1")
    with pytest.raises(ConfigError, match="no address"):
        LocalExecutor(None, "tcp://host:1")
