"""``kp.deploy.to_aws`` and the task-definition listing of the ``aws`` target.

Deploying, promoting and rolling back go through core's generic deployment functions
(``kp.deploy.create/update/plan/promote/rollback`` with ``target="aws"``), so core's deployment
index stays right (``kepler deploy list``) and ``kepler_after_deploy`` fires once per change;
this module only fills in what an AWS user expects of the shortcut (update when the deployment
exists, ``canary``, ``dry_run``).

Example::

    import kepler as kp
    dep = kp.deploy.to_aws("pump-failure:prod", env="prod")       # build, push, deploy
    print(kp.deploy.to_aws("pump-failure:4", dry_run=True))     # every request, none sent
    kp.deploy.to_aws("pump-failure:5", name=dep.name, canary=10)  # 10% to the new one
    kp.deploy.promote(dep.name, target="aws")                   # all traffic to the canary
    kp.deploy.rollback(dep.name, target="aws")                  # back to the one before
"""

from __future__ import annotations

from typing import Any

from kepler.api import DeployDryRun, deploy_to, plan_deploy

TARGET = "aws"

#: The requests a deployment would send, printed one after another (core's, kept by its name).
DryRun = DeployDryRun


def plan(model: Any, *, name: str | None = None, action: str | None = None,
         env: str | None = None, **options: Any) -> DeployDryRun:
    """Every request deploying ``model`` would send, none sent (``action``: create or update;
    default: update with ``canary``, else create)."""
    return plan_deploy(TARGET, model, name=name, action=action, env=env, **options)


def to_aws(model: Any, *, name: str | None = None, env: str | None = None,
           image: str | None = None, canary: int | None = None, dry_run: bool = False,
           replace: bool = True, **options: Any) -> Any:
    """Deploy ``model`` (``"NAME[:VERSION|:ALIAS]"``, a folder or a Model) to ECS on Fargate.

    Builds the image with CodeBuild (or uses ``image``, pushed already), then creates the
    deployment, or updates it when it exists (``replace=False`` refuses that). ``env`` picks
    the configuration environment (its ``aws`` section); ``canary=10`` sends 10% of the traffic
    to the new revision of an existing deployment (then ``kp.deploy.promote(name,
    target="aws")``); other keywords override ``aws`` fields for this deployment
    (``min_tasks=2``, ``memory=4096``). ``dry_run=True`` returns the requests it would send (a
    :class:`DryRun`) and sends none.
    """
    return deploy_to(TARGET, model, name=name, env=env, image=image, canary=canary,
                     dry_run=dry_run, replace=replace, **options)


def revisions(name: str, *, env: str | None = None) -> list[dict[str, Any]]:
    """The deployment's task definitions, newest first, with their share of traffic."""
    from kepler.api import load_config

    from .deployer import AwsDeployer

    found: list[dict[str, Any]] = AwsDeployer(load_config(env=env)).revisions(name)
    return found
