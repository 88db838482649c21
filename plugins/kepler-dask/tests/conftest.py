"""One Dask LocalCluster (2 worker processes, 1 thread each, small memory) for the whole test
run, started and closed here; each test gets an isolated Kepler home."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated(kepler_home):
    return kepler_home


@pytest.fixture(scope="session")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      memory_limit="1GiB", dashboard_address=":0") as running:
        yield running


@pytest.fixture(scope="session")
def client(cluster):
    from distributed import Client

    with Client(cluster) as connected:
        yield connected


@pytest.fixture
def dask_executor(client):
    """A kepler-dask executor on the shared cluster (closing it leaves the cluster up)."""
    from kepler_dask.executor import DaskExecutor

    return DaskExecutor(client=client)


@pytest.fixture
def address(cluster):
    """The cluster's scheduler as a user writes it: dask://127.0.0.1:PORT."""
    return cluster.scheduler_address.replace("tcp://", "dask://")
