"""kepler-serve's plugin module: records only, so listing plugins imports no FastAPI or pandas.

- deployment target ``local`` (``kepler deploy MODEL --target local``);
- commands ``kepler serve``, ``kepler predict`` and ``kepler pipeline``;
- SDK functions ``kp.deploy.to_local``, ``kp.deploy.batch_score``, ``kp.deploy.serve``;
- config sections ``serve`` (the model server) and ``pipelines`` (batch scoring jobs), and their
  checks in ``kepler config validate``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kepler.api import (
    CheckResult,
    CommandSpec,
    ConfigSectionSpec,
    DeployerSpec,
    SdkFunctionSpec,
    hookimpl,
)

#: The Deployer protocol with status, logs and build arrived in plugin API 1.2.
KEPLER_PLUGIN_API = ">=1.2,<2"


@hookimpl
def kepler_deployers() -> Iterator[DeployerSpec]:
    yield DeployerSpec(name="local", target="kepler_serve.local:LocalDeployer",
                       description="A model server on this machine, in the background.")


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="serve", target="kepler_serve.cli:serve",
                      help="Serve a model as a REST API in the foreground.")
    yield CommandSpec(name="predict", target="kepler_serve.cli:predict",
                      help="Batch scoring: a connector's data in, predictions to a sink or a file.")
    yield CommandSpec(name="pipeline", target="kepler_serve.cli:pipeline",
                      help="Run the batch scoring pipelines of kepler.yml.")


@hookimpl
def kepler_sdk_functions() -> Iterator[SdkFunctionSpec]:
    yield SdkFunctionSpec(namespace="deploy", name="to_local", target="kepler_serve.sdk:to_local",
                          description="Serve a model on this machine in the background.")
    yield SdkFunctionSpec(namespace="deploy", name="batch_score",
                          target="kepler_serve.batch:batch_score",
                          description="Score a connector's data or a table; write to a sink or a "
                          "file.")
    yield SdkFunctionSpec(namespace="deploy", name="serve", target="kepler_serve.sdk:serve",
                          description="Serve a model in this process (blocks until stopped).")


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(name="serve", target="kepler_serve.config:ServeSettings",
                            description="The model server: port, API key, limits, the "
                            "prediction log's sink.")
    yield ConfigSectionSpec(name="pipelines", target="kepler_serve.config:Pipelines",
                            description="Batch scoring pipelines: connector and query, model, "
                            "schedule, destination sink.")


@hookimpl
def kepler_validate(config: Any) -> Iterator[CheckResult]:
    from .checks import validate

    yield from validate(config)
