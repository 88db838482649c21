"""kepler-aws's plugin module: records only, so listing plugins imports no AWS library.

- deployment target ``aws`` (``kepler deploy MODEL --target aws``): ECS on Fargate behind an
  Application Load Balancer, Application Auto Scaling, canary, promote, rollback;
- command group ``kepler aws`` (provision, revisions): only what is AWS's own; deploying and the
  rollout are core's generic ``kepler deploy ... --target aws``;
- SDK function ``kp.deploy.to_aws``;
- config section ``aws``;
- ``kepler config validate`` checks: credentials (STS), region, IAM permissions.
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
    yield DeployerSpec(name="aws", target="kepler_aws.deployer:AwsDeployer",
                       description="AWS ECS on Fargate behind a load balancer: autoscaling, "
                       "canary, rollback.")


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="aws", target="kepler_aws.cli:aws",
                      help="AWS: provision what deployments need, list task-definition "
                      "revisions.")


@hookimpl
def kepler_sdk_functions() -> Iterator[SdkFunctionSpec]:
    yield SdkFunctionSpec(namespace="deploy", name="to_aws", target="kepler_aws.sdk:to_aws",
                          description="Deploy a model to AWS (ECS on Fargate).")


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(name="aws", target="kepler_aws.config:AwsSettings",
                            description="AWS ECS on Fargate: region, cluster, network, load "
                            "balancer, scaling, endpoints.")


@hookimpl
def kepler_validate(config: Any) -> Iterator[CheckResult]:
    from .validate import checks

    yield from checks(config)
