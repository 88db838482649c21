"""``kp.deploy.to_cloud_run`` and the rollout functions of the ``cloud-run`` target.

Example::

    import kepler as kp
    dep = kp.deploy.to_cloud_run("pump-failure:prod", env="prod")      # build, push, deploy
    print(kp.deploy.to_cloud_run("pump-failure:4", dry_run=True))    # every request, none sent
    kp.deploy.to_cloud_run("pump-failure:5", name=dep.name, canary=10)   # 10% to the new one

    from kepler_gcp import sdk
    sdk.promote(dep.name)            # all traffic to the canary
    sdk.rollback(dep.name)           # back to the revision before
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from kepler.records import Deployment

from .clients import PlannedRequest

TARGET = "cloud-run"


class DryRun(list[PlannedRequest]):
    """The requests a deployment would send, printed one after another."""

    def __str__(self) -> str:
        return "\n\n".join(request.render() for request in self)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [request.as_dict() for request in self]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython
        printer.text(str(self))


@contextlib.contextmanager
def environment(env: str | None) -> Iterator[None]:
    """Use configuration environment ``env`` (dev, staging, prod) inside the block."""
    if env is None:
        yield
        return
    old = os.environ.get("KEPLER_ENV")
    os.environ["KEPLER_ENV"] = env
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("KEPLER_ENV", None)
        else:
            os.environ["KEPLER_ENV"] = old


def _deployer() -> Any:
    from kepler.deployments import deployer

    return deployer(TARGET)


def _fire(deployment: Deployment, action: str) -> None:
    from kepler.plugins import get_host
    from kepler.records import DeployEvent

    get_host().fire("kepler_after_deploy", DeployEvent(
        target=TARGET, name=deployment.name, model=deployment.model,
        version=deployment.version, url=deployment.url, action=action))  # type: ignore[arg-type]


def plan(model: Any, *, name: str | None = None, action: str | None = None,
         env: str | None = None, **options: Any) -> DryRun:
    """Every request deploying ``model`` would send (the full Service spec), none sent.

    ``action``: "create" or "update" (default: update with ``canary``, else create)."""
    from kepler import deployments

    with environment(env):
        folder, manifest = deployments.resolve_model(model)
        name = deployments.check_name(name) if name else deployments.default_name(manifest.name)
        action = action or ("update" if options.get("canary") is not None else "create")
        return DryRun(_deployer().plan(name, str(folder), options, action=action))


def to_cloud_run(model: Any, *, name: str | None = None, env: str | None = None,
                 image: str | None = None, canary: int | None = None, dry_run: bool = False,
                 replace: bool = True, **options: Any) -> Any:
    """Deploy ``model`` (``"NAME[:VERSION|:ALIAS]"``, a folder or a Model) to Cloud Run.

    Builds the image with Cloud Build (or uses ``image``, pushed already), then creates the
    service, or updates it when it exists (``replace=False`` refuses that). ``env`` picks the
    configuration environment (its ``gcp`` section); ``canary=10`` sends 10% of the traffic to
    the new revision (promote with :func:`promote`); other keywords override ``gcp`` fields for
    this deployment (``min_instances=1``, ``memory="4Gi"``, ``invoker="public"``).
    ``dry_run=True`` returns the requests it would send (a :class:`DryRun`) and sends none.
    """
    from kepler import deployments

    from .errors import GcpAlreadyExistsError

    if image is not None:
        options["image"] = image
    if canary is not None:
        options["canary"] = canary
    if dry_run:
        return plan(model, name=name, env=env, **options)
    with environment(env):
        if canary is not None:
            folder, manifest = deployments.resolve_model(model)
            target_name = name or deployments.default_name(manifest.name)
            return deployments.update(target_name, folder, target=TARGET, **options)
        try:
            return deployments.create(model, target=TARGET, name=name, replace=replace,
                                      **options)
        except GcpAlreadyExistsError:
            if not replace:
                raise
            folder, manifest = deployments.resolve_model(model)
            target_name = name or deployments.default_name(manifest.name)
            return deployments.update(target_name, folder, target=TARGET, **options)


def promote(name: str, revision: str | None = None, *, env: str | None = None) -> Deployment:
    """All traffic to the canary (or ``revision``); fires ``kepler_after_deploy``."""
    with environment(env):
        deployment: Deployment = _deployer().promote(name, revision)
    _fire(deployment, "promote")
    return deployment


def rollback(name: str, revision: str | None = None, *, env: str | None = None) -> Deployment:
    """All traffic back to the previous revision (or ``revision``); fires
    ``kepler_after_deploy``."""
    with environment(env):
        deployment: Deployment = _deployer().rollback(name, revision)
    _fire(deployment, "rollback")
    return deployment


def revisions(name: str, *, env: str | None = None) -> list[dict[str, Any]]:
    """The deployment's revisions, newest first, with their share of traffic."""
    with environment(env):
        found: list[dict[str, Any]] = _deployer().revisions(name)
    return found
