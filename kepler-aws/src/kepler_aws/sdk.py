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

from kepler.api import (
    Deployment,
    default_deployment_name,
    namespace,
    resolve_model_folder,
    use_selection,
)

from .clients import PlannedRequest

TARGET = "aws"


class DryRun(list[PlannedRequest]):
    """The requests a deployment would send, printed one after another."""

    def __str__(self) -> str:
        return "\n\n".join(request.render() for request in self)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [request.as_dict() for request in self]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython
        printer.text(str(self))


def _deployment_name(model: Any, name: str | None) -> str:
    if name:
        return name
    _, manifest = resolve_model_folder(model)
    return str(default_deployment_name(manifest.name))


def plan(model: Any, *, name: str | None = None, action: str | None = None,
         env: str | None = None, **options: Any) -> DryRun:
    """Every request deploying ``model`` would send, none sent (``action``: create or update;
    default: update with ``canary``, else create)."""
    action = action or ("update" if options.get("canary") is not None else "create")
    with use_selection(env=env):
        return DryRun(namespace("deploy").plan(model, target=TARGET, name=name, action=action,
                                               **options))


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
    if image is not None:
        options["image"] = image
    if canary is not None:
        options["canary"] = canary
    if dry_run:
        return plan(model, name=name, env=env, **options)
    deploy = namespace("deploy")
    with use_selection(env=env):
        if canary is not None:
            return deploy.update(_deployment_name(model, name), model, target=TARGET, **options)
        return _create_or_update(deploy, model, name=name, replace=replace, options=options)


def _create_or_update(deploy: Any, model: Any, *, name: str | None, replace: bool,
                      options: dict[str, Any]) -> Deployment:
    """Create the deployment; one that exists on AWS but not in this machine's index (deployed
    from elsewhere: AWS is the record) is updated when ``replace``."""
    from .errors import AwsAlreadyExistsError

    try:
        deployment: Deployment = deploy.create(model, target=TARGET, name=name,
                                               replace=replace, **options)
    except AwsAlreadyExistsError:
        if not replace:
            raise
        deployment = deploy.update(_deployment_name(model, name), model, target=TARGET,
                                   **options)
    return deployment


def revisions(name: str, *, env: str | None = None) -> list[dict[str, Any]]:
    """The deployment's task definitions, newest first, with their share of traffic."""
    from kepler.api import load_config

    from .deployer import AwsDeployer

    found: list[dict[str, Any]] = AwsDeployer(load_config(env=env)).revisions(name)
    return found
