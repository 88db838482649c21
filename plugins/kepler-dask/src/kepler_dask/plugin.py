"""kepler-dask's plugin module: records only, so listing plugins never imports dask."""

from __future__ import annotations

from collections.abc import Iterator

from kepler.api import ExecutorSpec, hookimpl

KEPLER_PLUGIN_API = ">=1.5,<2"


@hookimpl
def kepler_executors() -> Iterator[ExecutorSpec]:
    yield ExecutorSpec(name="dask", target="kepler_dask.executor:DaskExecutor",
                       description="A Dask cluster: 'dask://scheduler:8786', or 'dask' for a "
                       "LocalCluster started on demand.")
