"""kepler-gcp's plugin module: records only, so listing plugins imports no Google library.

- deployment target ``cloud-run`` (``kepler deploy MODEL --target cloud-run``);
- command group ``kepler gcp`` (provision, deploy with --dry-run/--canary, promote, rollback,
  revisions);
- SDK function ``kp.deploy.to_cloud_run``;
- config section ``gcp``;
- ``kepler config validate`` checks: credentials, project, IAM permissions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kepler.hookspecs import hookimpl
from kepler.records import (
    CheckResult,
    CommandSpec,
    ConfigSectionSpec,
    DeployerSpec,
    SdkFunctionSpec,
)

#: The Deployer protocol with status, logs and build arrived in plugin API 1.2.
KEPLER_PLUGIN_API = ">=1.2,<2"


@hookimpl
def kepler_deployers() -> Iterator[DeployerSpec]:
    yield DeployerSpec(name="cloud-run", factory="kepler_gcp.deployer:CloudRunDeployer",
                       description="Google Cloud Run: autoscaling, canary, rollback.")


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="gcp", target="kepler_gcp.cli:gcp",
                      help="Google Cloud: provision, deploy (--dry-run, --canary), promote, "
                      "rollback.")


@hookimpl
def kepler_sdk_functions() -> Iterator[SdkFunctionSpec]:
    yield SdkFunctionSpec(namespace="deploy", name="to_cloud_run",
                          target="kepler_gcp.sdk:to_cloud_run",
                          description="Deploy a model to Google Cloud Run.")


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(name="gcp", model="kepler_gcp.config:GcpSettings",
                            description="Google Cloud Run: project, region, scaling, access, "
                            "endpoints, credentials.")


@hookimpl
def kepler_validate(config: Any) -> Iterator[CheckResult]:
    from .validate import checks

    yield from checks(config)
