"""kepler-azure's plugin module: records only, so listing plugins imports no Azure SDK.

- deployment targets ``azure`` (Container Apps) and ``azure-aci`` (Container Instances);
- command group ``kepler azure`` (provision, revisions): only what is Azure's; deploying,
  canaries, promote and rollback are core's ``kepler deploy ... --target azure``;
- SDK function ``kp.deploy.to_azure``;
- config section ``azure``;
- ``kepler config validate`` checks: credentials, subscription, role assignments.
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
    yield DeployerSpec(name="azure", target="kepler_azure.containerapps:ContainerAppsDeployer",
                       description="Azure Container Apps: HTTP autoscaling (scale to zero), "
                       "revisions, canary, rollback.")
    yield DeployerSpec(name="azure-aci", target="kepler_azure.aci:AciDeployer",
                       description="Azure Container Instances: one container group, public or "
                       "private IP, batch jobs; no autoscaling, no canary.")


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="azure", target="kepler_azure.cli:azure",
                      help="Azure: provision what deployments need, list revisions.")


@hookimpl
def kepler_sdk_functions() -> Iterator[SdkFunctionSpec]:
    yield SdkFunctionSpec(namespace="deploy", name="to_azure", target="kepler_azure.sdk:to_azure",
                          description="Deploy a model to Azure Container Apps (or Container "
                          "Instances: target='azure-aci').")


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(name="azure", target="kepler_azure.config:AzureSettings",
                            description="Azure Container Apps / Container Instances: "
                            "subscription, resource group, region, scaling, ingress, registry.")


@hookimpl
def kepler_validate(config: Any) -> Iterator[CheckResult]:
    from .validate import checks

    yield from checks(config)
