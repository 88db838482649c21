"""``kp.deploy.to_cloud_run`` and the revision listing of the ``cloud-run`` target.

Deploying, promoting and rolling back go through core's generic deployment functions
(``kp.deploy.create/update/plan/promote/rollback`` with ``target="cloud-run"``), so core's
deployment index stays right (``kepler deploy list``) and ``kepler_after_deploy`` fires once per
change; this module only fills in what a Cloud Run user expects of the shortcut (update when the
service exists, ``canary``, ``dry_run``).

Example::

    import kepler as kp
    dep = kp.deploy.to_cloud_run("pump-failure:prod", env="prod")      # build, push, deploy
    print(kp.deploy.to_cloud_run("pump-failure:4", dry_run=True))    # every request, none sent
    kp.deploy.to_cloud_run("pump-failure:5", name=dep.name, canary=10)   # 10% to the new one
    kp.deploy.promote(dep.name, target="cloud-run")                  # all traffic to the canary
    kp.deploy.rollback(dep.name, target="cloud-run")                 # back to the revision before
"""

from __future__ import annotations

from typing import Any

from kepler.api import DeployDryRun, deploy_to, plan_deploy

TARGET = "cloud-run"

#: The requests a deployment would send, printed one after another (core's, kept by its name).
DryRun = DeployDryRun


def plan(model: Any, *, name: str | None = None, action: str | None = None,
         env: str | None = None, **options: Any) -> DeployDryRun:
    """Every request deploying ``model`` would send (the full Service spec), none sent.

    ``action``: "create" or "update" (default: update with ``canary``, else create)."""
    return plan_deploy(TARGET, model, name=name, action=action, env=env, **options)


def to_cloud_run(model: Any, *, name: str | None = None, env: str | None = None,
                 image: str | None = None, canary: int | None = None, dry_run: bool = False,
                 replace: bool = True, **options: Any) -> Any:
    """Deploy ``model`` (``"NAME[:VERSION|:ALIAS]"``, a folder or a Model) to Cloud Run.

    Builds the image with Cloud Build (or uses ``image``, pushed already), then creates the
    service, or updates it when it exists (``replace=False`` refuses that). ``env`` picks the
    configuration environment (its ``gcp`` section); ``canary=10`` sends 10% of the traffic to
    the new revision of an existing deployment (then ``kp.deploy.promote(name,
    target="cloud-run")``); other keywords override ``gcp`` fields for this deployment
    (``min_instances=1``, ``memory="4Gi"``, ``invoker="public"``).
    ``dry_run=True`` returns the requests it would send (a :class:`DryRun`) and sends none.

    It is ``kp.deploy.create(model, target="cloud-run", ...)`` with those defaults: the
    deployment is recorded in core's index and ``kepler_after_deploy`` fires once.
    """
    return deploy_to(TARGET, model, name=name, env=env, image=image, canary=canary,
                     dry_run=dry_run, replace=replace, **options)


def revisions(name: str, *, env: str | None = None) -> list[dict[str, Any]]:
    """The deployment's revisions, newest first, with their share of traffic; ``env`` picks
    the configuration environment (default: the one chosen by ``kepler --env``, else the
    project's)."""
    from kepler.api import load_config

    from .deployer import CloudRunDeployer

    found: list[dict[str, Any]] = CloudRunDeployer(load_config(env=env)).revisions(name)
    return found
