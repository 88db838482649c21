"""``kp.deploy.to_<target>``: the shortcut every cloud deployer offers, written once.

A user of one target expects ``to_cloud_run(model)`` / ``to_aws(model)`` to *ship* the model:
create the deployment, or update it when it exists (on this machine's index or only on the
cloud, which is the record), send a share of traffic with ``canary=N``, or return the requests
it would send with ``dry_run=True``. The steps are core's generic ones (``kp.deploy.create``,
``update``, ``plan``), so the deployment index stays right and ``kepler_after_deploy`` fires
once per change; a deployer plugin only names its target and documents its options.

Example (what a plugin's ``sdk.py`` holds)::

    from kepler.api import deploy_to

    def to_my_cloud(model, **options):
        \"\"\"Deploy ``model`` to My Cloud (options: region, min_instances...).\"\"\"
        return deploy_to("my-cloud", model, **options)
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from typing import Any

from . import deployments
from .errors import DeploymentExistsError
from .records import Deployment
from .selection import use as use_selection


@dataclass
class PlannedRequest:
    """One HTTP request a dry run would send (plugin API 1.8): what a REST-speaking target
    (Cloud Run, Azure Resource Manager) lists in its :class:`DryRun` instead of sending it."""

    api: str
    method: str
    url: str
    body: Any = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api": self.api, "method": self.method, "url": self.url}
        if self.body is not None:
            out["body"] = self.body
        if self.note:
            out["note"] = self.note
        return out

    def render(self) -> str:
        head = f"{self.method} {self.url}" + (f"    # {self.note}" if self.note else "")
        if self.body is None:
            return head
        return head + "\n" + json.dumps(self.body, indent=2, sort_keys=True)


class DryRun(builtins.list[Any]):
    """The requests a deployment would send, printed one after another (each request has
    ``render()`` and ``as_dict()``)."""

    def __str__(self) -> str:
        return "\n\n".join(request.render() for request in self)

    def as_dicts(self) -> builtins.list[dict[str, Any]]:
        return [request.as_dict() for request in self]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython
        printer.text(str(self))


def deployment_name(model: Any, name: str | None) -> str:
    """The deployment ``model`` would get: ``name``, else the model's name made DNS-safe."""
    if name:
        return name
    _, manifest = deployments.resolve_model(model)
    return deployments.default_name(manifest.name)


def plan_deploy(target: str, model: Any, *, name: str | None = None, action: str | None = None,
                env: str | None = None, **options: Any) -> DryRun:
    """Every request deploying ``model`` to ``target`` would send, none sent (``action``:
    "create" or "update"; default: update with ``canary``, else create)."""
    action = action or ("update" if options.get("canary") is not None else "create")
    with use_selection(env=env):
        return DryRun(deployments.plan(model, target=target, name=name, action=action,
                                       **options))


def deploy_to(target: str, model: Any, *, name: str | None = None, env: str | None = None,
              image: str | None = None, canary: int | None = None, dry_run: bool = False,
              replace: bool = True, **options: Any) -> Deployment | DryRun:
    """Ship ``model`` (``"NAME[:VERSION|:ALIAS]"``, a folder or a Model) to ``target``.

    Creates the deployment, or updates it when it exists (``replace=False`` refuses that);
    ``env`` picks the configuration environment; ``image`` is an image pushed already (no
    build); ``canary=10`` sends 10% of the traffic to the new revision of an existing
    deployment; ``dry_run=True`` returns the requests it would send (a :class:`DryRun`) and
    sends none; other keywords are the target's options for this deployment.
    """
    if image is not None:
        options["image"] = image
    if canary is not None:
        options["canary"] = canary
    if dry_run:
        return plan_deploy(target, model, name=name, env=env, **options)
    with use_selection(env=env):
        if canary is not None:  # a canary shares traffic with the deployment serving now
            return deployments.update(deployment_name(model, name), model, target=target,
                                      **options)
        try:
            return deployments.create(model, target=target, name=name, replace=replace,
                                      **options)
        except DeploymentExistsError:  # on the target (its record) but not in our index
            if not replace:
                raise
            return deployments.update(deployment_name(model, name), model, target=target,
                                      **options)
