"""Revisions and traffic of a container app: reporting, promote, rollback.

Kept apart from :mod:`kepler_azure.containerapps` so each module stays small. Traffic moves with a
PATCH of ``configuration.ingress`` (ARM keeps every other field), and the app's tags are
rewritten to the model and version of the revision that now takes it all, so ``kepler deploy
list`` and ``status`` say what serves after a promote or rollback.
"""

from __future__ import annotations

from typing import Any

from kepler.api import Deployment, DeploymentError

from .clients import Azure, as_dict


def _env(revision: dict[str, Any], key: str) -> str | None:
    for container in revision.get("properties", {}).get("template", {}).get("containers", []):
        for entry in container.get("env") or []:
            if entry.get("name") == key:
                return str(entry.get("value"))
    return None


def revisions(deployer: Any, azure: Azure, app: dict[str, Any]) -> list[dict[str, Any]]:
    """The app's revisions, newest first: name, model, version, ready, traffic %, image."""
    from .containerapps import _traffic

    name = app["name"]
    found = azure.send("apps", "GET", "", None, lambda: list(
        azure.apps().container_apps_revisions.list_revisions(
            azure.settings.resource_group, name)),
        doing=f"listing the revisions of {name}") or []
    shares: dict[str, int] = {}
    for revision, weight, _ in _traffic(app):
        shares[revision] = shares.get(revision, 0) + weight
    items = sorted((as_dict(r) for r in found),
                   key=lambda r: r.get("properties", {}).get("createdTime") or "", reverse=True)
    out = []
    for rev in items:
        props = rev.get("properties", {})
        containers = props.get("template", {}).get("containers") or [{}]
        out.append({"name": rev["name"], "model": _env(rev, "KEPLER_MODEL"),
                    "version": _env(rev, "KEPLER_MODEL_VERSION"),
                    "ready": props.get("provisioningState") == "Provisioned",
                    "traffic": shares.get(rev["name"], 0), "created": props.get("createdTime"),
                    "state": props.get("runningState"), "image": containers[0].get("image"),
                    "reason": props.get("provisioningError")})
    return out


def app_deployment(deployer: Any, azure: Azure, app: dict[str, Any], *,
                   revisions: list[dict[str, Any]] | None = None) -> Deployment:
    """The :class:`Deployment` record of a container app (``revisions``: live details)."""
    from .containerapps import TARGET, _traffic

    tags = app.get("tags") or {}
    props = app.get("properties", {})
    state = props.get("provisioningState", "")
    status = {"Succeeded": "running", "InProgress": "starting", "Failed": "failed",
              "Canceled": "failed", "Deleting": "stopped"}.get(state, "unknown")
    if status == "running" and props.get("runningStatus") == "Stopped":
        status = "stopped"
    ingress = (props.get("configuration") or {}).get("ingress") or {}
    containers = (props.get("template") or {}).get("containers") or [{}]
    scale = (props.get("template") or {}).get("scale") or {}
    details: dict[str, Any] = {
        "subscription": azure.settings.subscription,
        "resource_group": azure.settings.resource_group, "app": app.get("name"),
        "env": tags.get("kepler-env"), "revision": props.get("latestReadyRevisionName"),
        "image": containers[0].get("image"),
        "ingress": "external" if ingress.get("external") else "internal",
        "replicas": f"{scale.get('minReplicas', 0)}-{scale.get('maxReplicas', '?')}",
        "traffic": ", ".join(f"{rev or '?'} {weight}%" + (f" ({label})" if label else "")
                             for rev, weight, label in _traffic(app) if weight or label),
    }
    if revisions is not None:
        latest = revisions[0] if revisions else {}
        details["latest_created"] = latest.get("name")
        if latest and not latest.get("ready"):
            details["reason"] = latest.get("reason")
            status = "failed" if latest.get("reason") else status
    fqdn = ingress.get("fqdn")
    url = (fqdn if "://" in fqdn else f"https://{fqdn}") if fqdn else None
    return Deployment(name=tags.get("kepler-deployment") or app.get("name", "?"),
                      target=TARGET, model=tags.get("kepler-model") or "?",
                      version=deployer._version(tags), url=url, status=status, details=details)


def _check_revision(app: dict[str, Any], history: list[dict[str, Any]], revision: str
                    ) -> dict[str, Any]:
    known = {r["name"]: r for r in history}
    if revision not in known:
        raise DeploymentError(f"Container app {app['name']} has no revision {revision!r}.",
                              hint="Revisions: " + (", ".join(known) or "none"))
    if not known[revision]["ready"]:
        raise DeploymentError(f"Revision {revision} is not provisioned; it cannot take "
                              "traffic.", hint="Pick a ready one ('kepler azure revisions "
                              "NAME').")
    return known[revision]


def _set_traffic(deployer: Any, azure: Azure, name: str, app: dict[str, Any],
                 traffic: list[dict[str, Any]], doing: str, serving: dict[str, Any]
                 ) -> Deployment:
    ingress = dict((app["properties"].get("configuration") or {}).get("ingress") or {})
    ingress.pop("fqdn", None)
    ingress["traffic"] = traffic
    tags = dict(app.get("tags") or {})
    for tag, key in (("kepler-model", "model"), ("kepler-version", "version")):
        if serving.get(key):
            tags[tag] = str(serving[key])
    body = {"tags": tags, "properties": {"configuration": {"ingress": ingress}}}
    poller = azure.send("apps", "PATCH", deployer._url(azure, app["name"]), body,
                        lambda: azure.apps().container_apps.begin_update(
                            azure.settings.resource_group, app["name"], body), doing=doing)
    deployer._wait(azure, poller, doing)
    return app_deployment(deployer, azure, deployer._get_app(azure, name))


def promote(deployer: Any, name: str, revision: str | None) -> Deployment:
    """All traffic to ``revision`` (default: the canary, else the latest ready one)."""
    from .containerapps import _traffic

    azure = deployer._azure()
    app = deployer._get_app(azure, name)
    latest = app["properties"].get("latestReadyRevisionName") or ""
    target = revision
    if target is None:
        canaries = [rev for rev, _, label in _traffic(app) if label == "canary"]
        target = canaries[0] if canaries else latest
    if not target:
        raise DeploymentError(f"Container app for {name!r} has no provisioned revision.",
                              hint=f"kepler deploy status {name} --target azure")
    serving = _check_revision(app, revisions(deployer, azure, app), target)
    traffic = [{"latestRevision": True, "weight": 100}] if target == latest else \
        [{"revisionName": target, "weight": 100}]
    return _set_traffic(deployer, azure, name, app, traffic, f"promoting {target}", serving)


def rollback(deployer: Any, name: str, revision: str | None) -> Deployment:
    """All traffic back to ``revision`` (default: the one before the revision serving most;
    during a canary, the revision the canary shares with)."""
    from .containerapps import _traffic

    azure = deployer._azure()
    app = deployer._get_app(azure, name)
    history = revisions(deployer, azure, app)
    shares = _traffic(app)
    current = max(shares, key=lambda t: t[1], default=("", 0, ""))[0]
    if revision is None:
        canaries = [rev for rev, weight, label in shares if label == "canary" and weight]
        stable = [t for t in shares if t[0] not in canaries and t[1]]
        if canaries and stable:
            current, revision = canaries[0], max(stable, key=lambda t: t[1])[0]
        else:
            names = [r["name"] for r in history]
            after = names[names.index(current) + 1:] if current in names else names
            previous = [r for r in history if r["name"] in after and r["ready"]]
            if not previous:
                raise DeploymentError(
                    f"Deployment {name!r} has no provisioned revision before "
                    f"{current or 'now'} to roll back to.",
                    hint="'kepler azure revisions NAME' lists them; or deploy an older model "
                    "version: kepler deploy update NAME MODEL:VERSION --target azure")
            revision = previous[0]["name"]
    serving = _check_revision(app, history, revision)
    deployment = _set_traffic(deployer, azure, name, app,
                              [{"revisionName": revision, "weight": 100}],
                              f"rolling back to {revision}", serving)
    return Deployment(name=deployment.name, target=deployment.target, model=deployment.model,
                      version=deployment.version, url=deployment.url, status=deployment.status,
                      details={**deployment.details, "rolled_back_from": current})
