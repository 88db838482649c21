"""kepler-gcp's plugin module: records only, so listing plugins imports no Google library.

- deployment target ``cloud-run`` (``kepler deploy MODEL --target cloud-run``);
- command group ``kepler gcp`` (provision, revisions): only what is Google Cloud's; deploying,
  canaries, promote and rollback are core's ``kepler deploy ... --target cloud-run``;
- SDK function ``kp.deploy.to_cloud_run``;
- config section ``gcp``;
- ``kepler config validate`` checks: credentials, project, IAM permissions.
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

#: Plugin API 1.8: ``kepler.api`` only, ``target=`` records, the deploy shortcut (deploy_to),
#: per-deployment options read by ``target_settings``.
KEPLER_PLUGIN_API = ">=1.8,<2"


@hookimpl
def kepler_deployers() -> Iterator[DeployerSpec]:
    yield DeployerSpec(name="cloud-run", target="kepler_gcp.deployer:CloudRunDeployer",
                       description="Google Cloud Run: autoscaling, canary, rollback.")


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="gcp", target="kepler_gcp.cli:gcp",
                      help="Google Cloud: provision what deployments need, list revisions.")


@hookimpl
def kepler_sdk_functions() -> Iterator[SdkFunctionSpec]:
    yield SdkFunctionSpec(namespace="deploy", name="to_cloud_run",
                          target="kepler_gcp.sdk:to_cloud_run",
                          description="Deploy a model to Google Cloud Run.")


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(name="gcp", target="kepler_gcp.config:GcpSettings",
                            description="Google Cloud Run: project, region, scaling, access, "
                            "endpoints, credentials.")


@hookimpl
def kepler_validate(config: Any) -> Iterator[CheckResult]:
    from .validate import checks

    yield from checks(config)
