"""``kp.deploy.to_azure`` and the revision listing of the ``azure`` target.

Deploying, promoting and rolling back go through core's generic deployment functions
(``kp.deploy.create/update/plan/promote/rollback`` with ``target="azure"``), so core's deployment
index stays right and ``kepler_after_deploy`` fires once per change; this module only fills in
what an Azure user expects of the shortcut (update when the app exists, ``canary``,
``dry_run``, ``target="azure-aci"``).

Example::

    import kepler as kp
    dep = kp.deploy.to_azure("pump-failure:prod", env="prod")        # build in ACR, deploy
    print(kp.deploy.to_azure("pump-failure:4", dry_run=True))        # every request, none sent
    kp.deploy.to_azure("pump-failure:5", name=dep.name, canary=10)   # 10% to the new revision
    kp.deploy.promote(dep.name, target="azure")                      # all traffic to it
    kp.deploy.rollback(dep.name, target="azure")                     # back to the one before
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

TARGETS = ("azure", "azure-aci")


class DryRun(list[PlannedRequest]):
    """The requests a deployment would send, printed one after another."""

    def __str__(self) -> str:
        return "\n\n".join(request.render() for request in self)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [request.as_dict() for request in self]


def _deployment_name(model: Any, name: str | None) -> str:
    if name:
        return name
    _, manifest = resolve_model_folder(model)
    return str(default_deployment_name(manifest.name))


def to_azure(model: Any, *, name: str | None = None, env: str | None = None,
             target: str = "azure", image: str | None = None, canary: int | None = None,
             dry_run: bool = False, replace: bool = True, **options: Any) -> Any:
    """Deploy ``model`` (``"NAME[:VERSION|:ALIAS]"``, a folder or a Model) to Azure.

    ``target``: "azure" (Container Apps, default) or "azure-aci" (Container Instances). Builds
    the image with an ACR build task (or uses ``image``, pushed already), then creates the app,
    or updates it when it exists (``replace=False`` refuses that). ``env`` picks the
    configuration environment (its ``azure`` section); ``canary=10`` sends 10% of the traffic to
    the new revision of an existing app; other keywords override ``azure`` fields for this
    deployment (``min_replicas=1``, ``memory="2Gi"``, ``ingress="internal"``).
    ``dry_run=True`` returns the requests it would send (a :class:`DryRun`) and sends none.
    """
    from kepler.api import DeploymentError

    if target not in TARGETS:
        raise DeploymentError(f"to_azure deploys to {' or '.join(TARGETS)}, not {target!r}.",
                              hint="kp.deploy.create(model, target=...) for other targets.")
    if image is not None:
        options["image"] = image
    if canary is not None:
        options["canary"] = canary
    deploy = namespace("deploy")
    if dry_run:
        action = "update" if canary is not None else "create"
        with use_selection(env=env):
            return DryRun(deploy.plan(model, target=target, name=name, action=action,
                                      **options))
    with use_selection(env=env):
        if canary is not None:
            return deploy.update(_deployment_name(model, name), model, target=target, **options)
        return _create_or_update(deploy, model, target=target, name=name, replace=replace,
                                 options=options)


def _create_or_update(deploy: Any, model: Any, *, target: str, name: str | None,
                      replace: bool, options: dict[str, Any]) -> Deployment:
    """Create; an app that exists on Azure but not in this machine's index (Azure is the
    record) is updated when ``replace``."""
    from .errors import AzureConflictError

    try:
        deployment: Deployment = deploy.create(model, target=target, name=name, replace=replace,
                                               **options)
    except AzureConflictError:
        if not replace:
            raise
        deployment = deploy.update(_deployment_name(model, name), model, target=target,
                                   **options)
    return deployment


def revisions(name: str, *, env: str | None = None) -> list[dict[str, Any]]:
    """The container app's revisions, newest first, with their share of traffic."""
    from kepler.api import load_config

    from .containerapps import ContainerAppsDeployer

    return ContainerAppsDeployer(load_config(env=env)).revisions(name)
