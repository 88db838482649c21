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

from kepler.api import DeployDryRun, DeploymentError, deploy_to

TARGETS = ("azure", "azure-aci")

#: The requests a deployment would send, printed one after another (core's, kept by its name).
DryRun = DeployDryRun


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
    if target not in TARGETS:
        raise DeploymentError(f"to_azure deploys to {' or '.join(TARGETS)}, not {target!r}.",
                              hint="kp.deploy.create(model, target=...) for other targets.")
    return deploy_to(target, model, name=name, env=env, image=image, canary=canary,
                     dry_run=dry_run, replace=replace, **options)


def revisions(name: str, *, env: str | None = None) -> list[dict[str, Any]]:
    """The container app's revisions, newest first, with their share of traffic."""
    from kepler.api import load_config

    from .containerapps import ContainerAppsDeployer

    return ContainerAppsDeployer(load_config(env=env)).revisions(name)
