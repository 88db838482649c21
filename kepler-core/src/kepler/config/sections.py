"""Core's small sections that pick a default capability by name.

``deploy.target``, ``data.connector`` and ``results.sink`` name the deployer, connector and sink
used when a command or call names none. Left unset, the only installed one is used, and with
several installed the error lists them: core itself prefers no plugin.

Example (kepler.yml)::

    deploy: {target: cloud-run}
    data: {connector: splunk}
    results: {sink: splunk-hec}
    environments:
      dev: {deploy: {target: local}}
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DeploySettings(BaseModel):
    """``deploy:`` (``KEPLER_DEPLOY__TARGET``)."""

    model_config = ConfigDict(extra="forbid")

    target: str | None = Field(default=None, description="Default deployment target "
                               "('kepler deploy targets' lists them).", examples=["cloud-run"])


class DataSettings(BaseModel):
    """``data:`` (``KEPLER_DATA__CONNECTOR``)."""

    model_config = ConfigDict(extra="forbid")

    connector: str | None = Field(default=None, description="Default connector for "
                                  "'kepler train --query', batch scoring and pipelines.",
                                  examples=["splunk"])


class ResultsSettings(BaseModel):
    """``results:`` (``KEPLER_RESULTS__SINK``)."""

    model_config = ConfigDict(extra="forbid")

    sink: str | None = Field(default=None, description="Default sink for results and "
                             "prediction logs.", examples=["splunk-hec"])


class ExecutorSettings(BaseModel):
    """``executor:`` (``KEPLER_EXECUTOR__NAME``, ``KEPLER_EXECUTOR__ADDRESS``): where batches of
    independent tasks run when a call names no executor; ``{name: dask, address:
    tcp://scheduler:8786}`` sends them to a Dask cluster (kepler-dask)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="local", description="The executor ('local' or a plugin's).",
                      examples=["dask"])
    address: str | None = Field(default=None, description="The executor's address, e.g. a "
                                "Dask scheduler; unset: the executor starts its own workers.",
                                examples=["tcp://scheduler:8786"])
    workers: int | None = Field(default=None, description="Workers to start when no address "
                                "is given (default: one per CPU).", ge=1)
