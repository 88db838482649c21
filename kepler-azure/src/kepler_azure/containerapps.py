"""The ``azure`` deployment target: Azure Container Apps (a :class:`kepler.api.Deployer`).

A deployment NAME is the container app ``azure.app_name`` (``{name}`` by default) in
``azure.resource_group``, on the managed environment ``azure.environment``; Azure is the record:
tags on the app (``managed-by: kepler``, ``kepler-deployment``, ``kepler-model``,
``kepler-version``, ``kepler-env``) say what it serves.

The app runs in multiple-revision mode: each deploy is a new revision ``<app>--<suffix>``, and
``ingress.traffic`` says which revisions take which share. ``canary=N`` (an update) gives the new
revision N% (label ``canary``) and leaves the rest where it was; :meth:`promote` gives it all,
:meth:`rollback` returns all to the revision before. Scaling is an HTTP rule (``concurrent
requests`` per replica) between ``min_replicas`` (0: scale to zero) and ``max_replicas``;
startup, readiness and liveness probes hit kepler-serve's ``/ready`` and ``/health``. The HEC
token is a Container Apps secret referencing Key Vault through the user-assigned identity the
app runs under, which also pulls the image from ACR.
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kepler.api import Deployment, DeploymentError

from ._base import (
    HEC_TOKEN_ENV,
    PORT,
    AzureTarget,
    gib,
    need_vault,
    size,
    vault_url,
    workers_env,
)
from .clients import Azure, PlannedRequest, as_dict
from .config import AzureSettings
from .errors import AzureError, RevisionNotReadyError, translate
from .image import image_tag, slug

TARGET = "azure"
KIND = "Container Apps"
_APPS = "Microsoft.App/containerApps"


class ContainerAppsDeployer(AzureTarget):
    """Deploys Kepler models as Azure Container Apps (target ``azure``)."""

    target = TARGET

    # --- the ContainerApp resource ------------------------------------------------------------

    def container(self, manifest: Any, image: str, settings: AzureSettings,
                  options: Mapping[str, Any]) -> dict[str, Any]:
        """The model's container: image, resources sized from the artifact, environment (the
        HEC token as a secretRef, never a value) and probes on the server's health routes."""
        cpu, memory = size(manifest, settings)
        port = int(options.get("port") or PORT)
        version = "unsaved" if manifest.version is None else str(manifest.version)
        env: builtins.list[dict[str, Any]] = [
            {"name": "KEPLER_ENV", "value": self.env},
            {"name": "KEPLER_MODEL", "value": manifest.name},
            {"name": "KEPLER_MODEL_VERSION", "value": version}]
        env += [{"name": k, "value": str(v)} for k, v in sorted(settings.env_vars.items())]
        env += workers_env(settings, cpu)
        if settings.hec_token_secret:
            env.append({"name": HEC_TOKEN_ENV, "secretRef": "hec-token"})
            if "KEPLER_SERVE__LOG_TO_SPLUNK" not in settings.env_vars:
                env.append({"name": "KEPLER_SERVE__LOG_TO_SPLUNK", "value": "true"})

        def probe(kind: str, path: str, period: int, failures: int) -> dict[str, Any]:
            return {"type": kind, "httpGet": {"path": path, "port": port}, "periodSeconds":
                    period, "timeoutSeconds": 4, "failureThreshold": failures}
        return {"name": "model", "image": image, "resources": {"cpu": cpu, "memory": gib(memory)},
                "env": env,
                "probes": [probe("Startup", "/ready", 5, 60), probe("Readiness", "/ready", 10, 3),
                           probe("Liveness", "/health", 30, 3)]}

    def app_body(self, azure: Azure, name: str, manifest: Any, image: str,
                 settings: AzureSettings, options: Mapping[str, Any], *, suffix: str,
                 traffic: builtins.list[dict[str, Any]]) -> dict[str, Any]:
        """The ContainerApp PUT body (ARM's JSON, as sent and as a dry run prints it)."""
        identity = azure.identity_id()
        configuration: dict[str, Any] = {
            "activeRevisionsMode": "Multiple",
            "ingress": {"external": settings.ingress == "external",
                        "targetPort": int(options.get("port") or PORT), "transport": "auto",
                        "allowInsecure": False, "traffic": traffic},
            "registries": [] if not settings.registry else
            [{"server": settings.login_server(), "identity": identity}],
        }
        if settings.hec_token_secret:
            configuration["secrets"] = [{"name": "hec-token", "identity": identity,
                                         "keyVaultUrl": vault_url(settings,
                                                                  settings.hec_token_secret)}]
        scale = {"minReplicas": settings.min_replicas, "maxReplicas": settings.max_replicas,
                 "rules": [{"name": "http-requests", "http": {"metadata": {
                     "concurrentRequests": str(settings.concurrent_requests)}}}]}
        return {
            "location": settings.location,
            "tags": self.tags(name, manifest, settings),
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}},
            "properties": {
                "managedEnvironmentId": azure.resource_id("Microsoft.App/managedEnvironments",
                                                          settings.environment),
                "configuration": configuration,
                "template": {"revisionSuffix": suffix,
                             "containers": [self.container(manifest, image, settings, options)],
                             "scale": scale},
            },
        }

    @staticmethod
    def _suffix(manifest: Any) -> str:
        return slug(f"{image_tag(manifest)[:12]}-{secrets.token_hex(3)[:5]}", 30)

    # --- Deployer -------------------------------------------------------------------------------

    def create(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        """Build (or take) the image and create the container app; return it once its first
        revision is provisioned. An existing app is refused (409)."""
        self._no_dry_run(config)
        return self._deploy(name, Path(model), dict(config), action="create")

    def update(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        """A new revision with the model (or new options); with ``canary=N`` it takes N% of
        the traffic and the rest stays where it was, until :meth:`promote`."""
        self._no_dry_run(config)
        return self._deploy(name, Path(model), dict(config), action="update")

    def delete(self, name: str) -> None:
        azure = self._azure()
        app = azure.settings.app_id(name, self.env)
        doing = f"deleting container app {app}"
        poller = azure.send("apps", "DELETE", self._url(azure, app), None, self._guarded(
            azure, name, KIND, lambda: azure.apps().container_apps.begin_delete(
                azure.settings.resource_group, app)), doing=doing)
        self._wait(azure, poller, doing)

    def list(self) -> builtins.list[Deployment]:
        """The apps Kepler deployed in this environment (none while azure.subscription is
        unset, so 'kepler deploy list' stays quiet in projects without Azure)."""
        azure = self._azure()
        if not azure.settings.subscription:
            return []
        group = azure.settings.resource_group
        found = azure.send("apps", "GET", azure.url(f"{azure.group_path}/providers/{_APPS}",
                                                    "apps"), None,
                           lambda: builtins.list(azure.apps().container_apps
                                                 .list_by_resource_group(group)),
                           doing=f"listing container apps in {group}") or []
        apps = [as_dict(app) for app in found]
        return [self._deployment(azure, app) for app in apps
                if self._ours(app.get("tags"), self.env)]

    def get(self, name: str) -> Deployment:
        azure = self._azure()
        return self._deployment(azure, self._get_app(azure, name))

    def status(self, name: str) -> Deployment:
        azure = self._azure()
        app = self._get_app(azure, name)
        return self._deployment(azure, app, revisions=self.revisions(name, app=app, azure=azure))

    def predict(self, name: str, data: Any) -> Any:
        """POST the records to the app's ``/predict``."""
        from ._http import post_predict

        azure = self._azure()
        app = self._get_app(azure, name)
        fqdn = app["properties"]["configuration"]["ingress"].get("fqdn")
        if not fqdn:
            raise DeploymentError(f"Container app for {name!r} has no ingress address yet.",
                                  hint=f"kepler deploy status {name} --target azure")
        return post_predict(name, fqdn, data, target=TARGET)

    def logs(self, name: str, lines: int = 100) -> builtins.list[str]:
        """The last ``lines`` console lines of the latest revision's replica (the app's log
        stream, read with the app's own auth token)."""
        from ._http import read_log_stream

        azure = self._azure()
        app_id = azure.settings.app_id(name, self.env)
        group = azure.settings.resource_group
        app = self._get_app(azure, name)
        revision = app["properties"].get("latestRevisionName")
        if not revision:
            return []
        client = azure.apps()
        token = azure.send("apps", "POST", "", None, lambda: client.container_apps
                           .get_auth_token(group, app_id), doing=f"reading {app_id}'s token")
        replicas = azure.send("apps", "GET", "", None, lambda: client
                              .container_apps_revision_replicas.list_replicas(
                                  group, app_id, revision), doing=f"listing {revision}'s "
                              "replicas")
        endpoints = [c.get("logStreamEndpoint") for r in as_dict(replicas).get("value", [])
                     for c in r.get("properties", {}).get("containers", [])
                     if c.get("logStreamEndpoint")]
        if not endpoints:
            return []
        return read_log_stream(endpoints[0], as_dict(token)["properties"]["token"], lines)

    # --- the flow -----------------------------------------------------------------------------

    def _url(self, azure: Azure, app: str, tail: str = "") -> str:
        return azure.url(f"{azure.resource_id(_APPS, app)}{tail}", "apps")

    def _deploy(self, name: str, model: Path, options: dict[str, Any], *, action: str,
                plan: builtins.list[PlannedRequest] | None = None) -> Deployment:
        """Settings, image, the ContainerApp body, PUT, wait for the revision. With ``plan``
        every request is recorded, none sent."""
        from kepler.api import read_manifest

        settings, extra = self._resolve(options)
        canary = extra.get("canary")  # a percentage already (target_settings)
        if canary is not None and action == "create":
            raise DeploymentError("A canary needs a deployment to share traffic with.",
                                  hint=f"Create it first: kepler deploy MODEL --target azure "
                                  f"--name {name}")
        need_vault(settings, TARGET)
        azure = self._azure(settings, plan)
        manifest = read_manifest(model)
        app_id = settings.app_id(name, self.env)
        current = self._get_app(azure, name) if action == "update" else None
        if action == "create" and plan is None:
            self._refuse_existing(azure, name)
        image = self._image(azure, model, manifest, extra)
        suffix = self._suffix(manifest)
        body = self.app_body(azure, name, manifest, image, settings, extra, suffix=suffix,
                             traffic=self._traffic_for(current, f"{app_id}--{suffix}", canary,
                                                       dry_run=plan is not None))
        doing = f"deploying container app {app_id}"
        poller = azure.send("apps", "PUT", self._url(azure, app_id), body,
                            lambda: azure.apps().container_apps.begin_create_or_update(
                                settings.resource_group, app_id, body), doing=doing,
                            note="then polled (Azure-AsyncOperation) until provisioned")
        if plan is not None:
            return Deployment(name=name, target=TARGET, model=manifest.name,
                              version=None if manifest.version is None else
                              str(manifest.version), status="dry-run")
        self._wait(azure, poller, doing, revision=f"{app_id}--{suffix}", name=name)
        return self._deployment(azure, self._get_app(azure, name))

    def _refuse_existing(self, azure: Azure, name: str) -> None:
        """Create never replaces: an app of that name is a 409, as core expects."""
        from .errors import AppNotFoundError, AzureConflictError

        try:
            self._get_app(azure, name)
        except AppNotFoundError:
            return
        app = azure.settings.app_id(name, self.env)
        raise AzureConflictError(f"Container app {app} exists already.",
                                 hint=f"Update it: kepler deploy update {name} MODEL --target "
                                 "azure (or pick another --name).")

    def _traffic_for(self, current: dict[str, Any] | None, revision: str, canary: int | None,
                     *, dry_run: bool) -> builtins.list[dict[str, Any]]:
        """All to the latest revision, or ``canary`` % to the new one (label ``canary``) and
        the rest to the revision serving most now."""
        if canary is None:
            return [{"latestRevision": True, "weight": 100}]
        shares = _traffic(current) if current is not None else []
        serving = max(shares, key=lambda t: t[1])[0] if shares else \
            "<the revision serving now>"
        if not serving and not dry_run:
            raise DeploymentError("No revision takes traffic now; a canary has nothing to "
                                  "share with.", hint="Deploy without --canary.")
        return [{"revisionName": revision, "weight": canary, "label": "canary"},
                {"revisionName": serving, "weight": 100 - canary}]

    def _get_app(self, azure: Azure, name: str) -> dict[str, Any]:
        app = azure.settings.app_id(name, self.env)
        found = azure.send("apps", "GET", self._url(azure, app), None, self._guarded(
            azure, name, KIND, lambda: azure.apps().container_apps.get(
                azure.settings.resource_group, app)), doing=f"reading container app {app}")
        return as_dict(found) if found is not None else {}

    def _wait(self, azure: Azure, poller: Any, doing: str, *, revision: str | None = None,
              name: str | None = None) -> Any:
        """Wait for ARM; a revision that fails (or never provisions) is reported with its
        reason, and traffic stays where it was."""
        from azure.core.exceptions import HttpResponseError

        from .errors import AzureTimeoutError

        try:
            return azure.wait(poller, doing=doing)
        except AzureTimeoutError as exc:
            if revision is None:
                raise
            raise self._not_ready(azure, revision, f"did not provision within "
                                  f"{azure.settings.ready_timeout:.0f} s", name) from exc
        except HttpResponseError as exc:
            if revision is not None and exc.status_code in (None, 200, 400, 500):
                raise self._not_ready(azure, revision, "failed to provision", name,
                                      fallback=str(getattr(exc.error, "message", "") or exc)
                                      ) from exc
            raise translate(exc, doing) from exc

    def _not_ready(self, azure: Azure, revision: str, what: str, name: str | None, *,
                   fallback: str = "") -> RevisionNotReadyError:
        from azure.core.exceptions import HttpResponseError

        reason = fallback
        app = revision.split("--", 1)[0]
        try:
            found = as_dict(azure.apps().container_apps_revisions.get_revision(
                azure.settings.resource_group, app, revision))
            reason = found.get("properties", {}).get("provisioningError") or reason
        except HttpResponseError:
            pass
        logs = f" 'kepler deploy logs {name} --target azure' shows its output;" if name else ""
        port = " The container must listen on the target port (8080);" \
            if "port" in reason.lower() else ""
        return RevisionNotReadyError(
            f"Revision {revision} {what}" + (f": {reason}" if reason else "."),
            hint=(port + logs + " traffic stays on the revision that served before.").strip(),
            revision=revision, reason=reason or None)

    # --- reporting ----------------------------------------------------------------------------

    def _deployment(self, azure: Azure, app: dict[str, Any], *,
                    revisions: builtins.list[dict[str, Any]] | None = None) -> Deployment:
        from ._rollout import app_deployment

        return app_deployment(self, azure, app, revisions=revisions)

    # --- rollout ------------------------------------------------------------------------------

    def canary(self, name: str, model: str, percent: int,
               config: Mapping[str, Any] | None = None) -> Deployment:
        """Deploy ``model`` as a new revision taking ``percent`` % of the traffic."""
        return self.update(name, model, {**dict(config or {}), "canary": percent})

    def promote(self, name: str, revision: str | None = None) -> Deployment:
        """All traffic to ``revision`` (default: the canary, else the latest ready one)."""
        from ._rollout import promote

        return promote(self, name, revision)

    def rollback(self, name: str, revision: str | None = None) -> Deployment:
        """All traffic back to ``revision`` (default: the revision before the one serving
        most; during a canary, the revision the canary shares with)."""
        from ._rollout import rollback

        return rollback(self, name, revision)

    def revisions(self, name: str, *, app: dict[str, Any] | None = None,
                  azure: Azure | None = None) -> builtins.list[dict[str, Any]]:
        """The app's revisions, newest first: name, model, version, ready, traffic %."""
        from ._rollout import revisions

        azure = azure or self._azure()
        return revisions(self, azure, app if app is not None else self._get_app(azure, name))

    def plan(self, name: str, model: str, config: Mapping[str, Any] | None = None, *,
             action: str = "create") -> builtins.list[PlannedRequest]:
        """A dry run: every request ``create`` (or ``update``) would send, with the full
        ContainerApp body; nothing is sent, not even reads. A canary is planned as the
        update it has to be."""
        options = dict(config or {})
        if action == "create" and options.get("canary") is not None:
            action = "update"
        plan: builtins.list[PlannedRequest] = []
        self._deploy(name, Path(model), options, action=action, plan=plan)
        return plan


def _traffic(app: dict[str, Any]) -> builtins.list[tuple[str, int, str]]:
    """(revision, weight, label) of the app's traffic, ``latestRevision`` resolved."""
    props = app.get("properties", {})
    latest = props.get("latestReadyRevisionName") or ""
    ingress = (props.get("configuration") or {}).get("ingress") or {}
    return [(t.get("revisionName") or (latest if t.get("latestRevision") else ""),
             int(t.get("weight", 0)), t.get("label") or "") for t in ingress.get("traffic") or []]


__all__ = ["TARGET", "AzureError", "ContainerAppsDeployer"]
