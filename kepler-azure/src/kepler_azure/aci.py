"""The ``azure-aci`` deployment target: Azure Container Instances (a :class:`kepler.api.Deployer`).

A deployment NAME is one container group ``azure.app_name`` in ``azure.resource_group``, with a
public IP (and DNS label) or a private one in ``azure.subnet_id``. There is no autoscaling, no
revision and no traffic split: an update replaces the group's container, a canary is refused.
The HEC token is a *secure* environment variable (``secureValue``: ARM never returns it), read
from Kepler's secret store under ``azure.hec_token_secret`` at deploy time.

Beyond the protocol, :meth:`AciDeployer.run_batch` runs ``kepler predict`` in a container group
that stops when done (``restartPolicy: Never``): ``kepler predict MODEL --input rows.csv
--target azure-aci``.
"""

from __future__ import annotations

import base64
import builtins
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kepler.api import Deployment, DeploymentError

from ._base import HEC_TOKEN_ENV, PORT, AzureTarget, size, workers_env
from .clients import Azure, PlannedRequest, as_dict
from .config import AzureSettings
from .errors import AzureError, RevisionNotReadyError, translate

TARGET = "azure-aci"
KIND = "Container Instances"
_GROUPS = "Microsoft.ContainerInstance/containerGroups"
#: Where kepler-serve's image keeps the model, and where a batch's input is mounted.
MODEL_IN_IMAGE = "/app/model"
INPUT_MOUNT = "/mnt/kepler-input"
#: ACI secret volumes hold a few MiB; bigger inputs belong in a connector query.
MAX_INPUT_BYTES = 4 * 2**20


class AciDeployer(AzureTarget):
    """Deploys Kepler models as Azure Container Instances groups (target ``azure-aci``)."""

    target = TARGET

    def group_body(self, azure: Azure, name: str, manifest: Any, image: str,
                   settings: AzureSettings, options: Mapping[str, Any], *,
                   command: builtins.list[str] | None = None,
                   volume: dict[str, str] | None = None) -> dict[str, Any]:
        """The ContainerGroup PUT body: a service (restart Always, probes, an IP) or, with
        ``command``, a batch job (restart Never, no IP)."""
        cpu, memory = size(manifest, settings)
        port = int(options.get("port") or PORT)
        identity = azure.identity_id()
        container: dict[str, Any] = {
            "image": image, "resources": {"requests": {"cpu": max(1.0, cpu),
                                                       "memoryInGB": memory}},
            "environmentVariables": self._env(manifest, settings, dry_run=azure.dry_run)}
        props: dict[str, Any] = {"osType": "Linux", "sku": "Standard",
                                 "restartPolicy": "Never" if command else "Always"}
        if command:
            container["command"] = command
        else:
            container["ports"] = [{"port": port, "protocol": "TCP"}]
            probe = {"httpGet": {"path": "/ready", "port": port}, "periodSeconds": 10,
                     "failureThreshold": 3}
            container["readinessProbe"] = probe
            container["livenessProbe"] = {**probe, "httpGet": {"path": "/health", "port": port},
                                          "periodSeconds": 30}
            props["ipAddress"] = self._ip(azure, name, settings, port)
            if settings.ip_address == "private":
                props["subnetIds"] = [{"id": settings.subnet_id}]
        if volume:
            container["volumeMounts"] = [{"name": "input", "mountPath": INPUT_MOUNT,
                                          "readOnly": True}]
            props["volumes"] = [{"name": "input", "secret": volume}]
        props["containers"] = [{"name": "model", "properties": container}]
        if settings.registry:
            props["imageRegistryCredentials"] = [{"server": settings.login_server(),
                                                  "identity": identity}]
        return {"location": settings.location, "tags": self.tags(name, manifest, settings),
                "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}},
                "properties": props}

    def _ip(self, azure: Azure, name: str, settings: AzureSettings, port: int
            ) -> dict[str, Any]:
        if settings.ip_address == "private":
            if not settings.subnet_id:
                raise DeploymentError("azure.ip_address is private but azure.subnet_id is not "
                                      "set.", hint="Set azure.subnet_id to a subnet delegated "
                                      "to Microsoft.ContainerInstance/containerGroups.")
            return {"type": "Private", "ports": [{"port": port, "protocol": "TCP"}]}
        label = settings.app_id(name, self.env)
        return {"type": "Public", "ports": [{"port": port, "protocol": "TCP"}],
                "dnsNameLabel": label}

    def _env(self, manifest: Any, settings: AzureSettings, *, dry_run: bool = False
             ) -> builtins.list[dict[str, Any]]:
        """Plain variables, and the HEC token as a secure value (never a plain one)."""
        version = "unsaved" if manifest.version is None else str(manifest.version)
        env: builtins.list[dict[str, Any]] = [
            {"name": "KEPLER_ENV", "value": self.env},
            {"name": "KEPLER_MODEL", "value": manifest.name},
            {"name": "KEPLER_MODEL_VERSION", "value": version}]
        env += [{"name": k, "value": str(v)} for k, v in sorted(settings.env_vars.items())]
        env += workers_env(settings, max(1.0, size(manifest, settings)[0]))  # what it requests
        if settings.hec_token_secret:
            secret = settings.hec_token_secret
            value = f"<secure: {secret} from Kepler's secret store>" if dry_run else _secret(secret)
            env.append({"name": HEC_TOKEN_ENV, "secureValue": value})
        return env

    # --- Deployer -------------------------------------------------------------------------------

    def create(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        """Create the container group; an existing one is refused (409)."""
        self._no_dry_run(config)
        return self._deploy(name, Path(model), dict(config), action="create")

    def update(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        """Replace the group's container with the model (no revisions: a short gap)."""
        self._no_dry_run(config)
        return self._deploy(name, Path(model), dict(config), action="update")

    def delete(self, name: str) -> None:
        azure = self._azure()
        group = azure.settings.app_id(name, self.env)
        doing = f"deleting container group {group}"
        poller = azure.send("aci", "DELETE", self._url(azure, group), None, self._guarded(
            azure, name, KIND, lambda: azure.aci().container_groups.begin_delete(
                azure.settings.resource_group, group)), doing=doing)
        self._wait(azure, poller, doing)

    def list(self) -> builtins.list[Deployment]:
        azure = self._azure()
        if not azure.settings.subscription:
            return []
        rg = azure.settings.resource_group
        found = azure.send("aci", "GET", "", None, lambda: builtins.list(
            azure.aci().container_groups.list_by_resource_group(rg)),
            doing=f"listing container groups in {rg}") or []
        groups = [as_dict(g) for g in found]
        return [self._deployment(azure, g) for g in groups
                if self._ours(g.get("tags"), self.env)
                and g.get("properties", {}).get("restartPolicy") != "Never"]

    def get(self, name: str) -> Deployment:
        azure = self._azure()
        return self._deployment(azure, self._get_group(azure, name))

    def status(self, name: str) -> Deployment:
        return self.get(name)

    def predict(self, name: str, data: Any) -> Any:
        from ._http import post_predict

        azure = self._azure()
        deployment = self._deployment(azure, self._get_group(azure, name))
        if not deployment.url:
            raise DeploymentError(f"Container group {name!r} has no address reachable from "
                                  "here (a private IP, or not started).",
                                  hint=f"kepler deploy status {name} --target azure-aci")
        return post_predict(name, deployment.url, data, target=TARGET)

    def logs(self, name: str, lines: int = 100) -> builtins.list[str]:
        azure = self._azure()
        group = azure.settings.app_id(name, self.env)
        found = azure.send("aci", "GET", "", None, self._guarded(
            azure, name, KIND, lambda: azure.aci().containers.list_logs(
                azure.settings.resource_group, group, "model", tail=int(lines))),
            doing=f"reading the logs of {group}")
        content = as_dict(found).get("content") or ""
        return [line for line in content.splitlines() if line.strip()][-lines:]

    def plan(self, name: str, model: str, config: Mapping[str, Any] | None = None, *,
             action: str = "create") -> builtins.list[PlannedRequest]:
        """A dry run: every request ``create``/``update`` would send; nothing is sent."""
        plan: builtins.list[PlannedRequest] = []
        self._deploy(name, Path(model), dict(config or {}), action=action, plan=plan)
        return plan

    def run_batch(self, name: str, model: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """Score a batch in a container group that stops when done; see :mod:`._batch`."""
        from ._batch import run_batch

        return run_batch(self, name, model, dict(config))

    # --- the flow -----------------------------------------------------------------------------

    def _url(self, azure: Azure, group: str) -> str:
        return azure.url(azure.resource_id(_GROUPS, group), "aci")

    def _deploy(self, name: str, model: Path, options: dict[str, Any], *, action: str,
                plan: builtins.list[PlannedRequest] | None = None) -> Deployment:
        from kepler.api import read_manifest

        settings, extra = self._resolve(options)
        if extra.get("canary") is not None:
            raise DeploymentError("Azure Container Instances has no revisions: a canary needs "
                                  "--target azure (Container Apps).",
                                  hint="Deploy without --canary, or use --target azure.")
        azure = self._azure(settings, plan)
        manifest = read_manifest(model)
        group = settings.app_id(name, self.env)
        if plan is None:
            self._check_existence(azure, name, action)
        image = self._image(azure, model, manifest, extra)
        body = self.group_body(azure, name, manifest, image, settings, extra)
        self.put_group(azure, group, body, plan=plan, name=name)
        if plan is not None:
            return Deployment(name=name, target=TARGET, model=manifest.name,
                              version=None if manifest.version is None else
                              str(manifest.version), status="dry-run")
        return self._deployment(azure, self._get_group(azure, name))

    def put_group(self, azure: Azure, group: str, body: dict[str, Any], *,
                  plan: Any = None, name: str) -> None:
        doing = f"deploying container group {group}"
        shown = _redacted(body)
        poller = azure.send("aci", "PUT", self._url(azure, group), shown,
                            lambda: azure.aci().container_groups.begin_create_or_update(
                                azure.settings.resource_group, group, body), doing=doing,
                            note="then polled (Azure-AsyncOperation) until provisioned")
        if plan is None:
            self._wait(azure, poller, doing, group=group)

    def _check_existence(self, azure: Azure, name: str, action: str) -> None:
        from .errors import AppNotFoundError, AzureConflictError

        try:
            self._get_group(azure, name)
        except AppNotFoundError:
            if action == "update":
                raise
            return
        if action == "create":
            group = azure.settings.app_id(name, self.env)
            raise AzureConflictError(f"Container group {group} exists already.",
                                     hint=f"Update it: kepler deploy update {name} MODEL "
                                     "--target azure-aci (or pick another --name).")

    def _get_group(self, azure: Azure, name: str) -> dict[str, Any]:
        group = azure.settings.app_id(name, self.env)
        found = azure.send("aci", "GET", self._url(azure, group), None, self._guarded(
            azure, name, KIND, lambda: azure.aci().container_groups.get(
                azure.settings.resource_group, group)), doing=f"reading container group {group}")
        return as_dict(found)

    def _wait(self, azure: Azure, poller: Any, doing: str, *, group: str | None = None) -> Any:
        from azure.core.exceptions import HttpResponseError

        from .errors import AzureTimeoutError

        try:
            return azure.wait(poller, doing=doing)
        except AzureTimeoutError as exc:
            if group is None:
                raise
            raise RevisionNotReadyError(
                f"Container group {group} did not start within "
                f"{azure.settings.ready_timeout:.0f} s.",
                hint="Raise azure.ready_timeout; 'kepler deploy logs NAME --target azure-aci' "
                "shows the container's output.", revision=group) from exc
        except HttpResponseError as exc:
            if group is not None and exc.status_code in (None, 200, 400, 500):
                reason = str(getattr(exc.error, "message", "") or exc)
                raise RevisionNotReadyError(f"Container group {group} failed to provision: "
                                            f"{reason}", hint="Check the image and its size "
                                            "(azure.cpu, azure.memory).", revision=group,
                                            reason=reason) from exc
            raise translate(exc, doing) from exc

    def _deployment(self, azure: Azure, group: dict[str, Any]) -> Deployment:
        tags = group.get("tags") or {}
        props = group.get("properties", {})
        state = (props.get("instanceView") or {}).get("state", "")
        provisioning = props.get("provisioningState", "")
        status = "failed" if provisioning == "Failed" or state == "Failed" else \
            {"Running": "running", "Pending": "starting", "Stopped": "stopped",
             "Succeeded": "stopped"}.get(state, "starting" if provisioning in
                                        ("Pending", "Creating") else "unknown")
        ip = props.get("ipAddress") or {}
        port = (ip.get("ports") or [{}])[0].get("port", PORT)
        fqdn = ip.get("fqdn")
        url = (fqdn if "://" in fqdn else f"http://{fqdn}:{port}") if fqdn else \
            (f"http://{ip['ip']}:{port}" if ip.get("ip") else None)
        containers = props.get("containers") or [{}]
        details = {"subscription": azure.settings.subscription,
                   "resource_group": azure.settings.resource_group, "group": group.get("name"),
                   "env": tags.get("kepler-env"), "ip": ip.get("ip"),
                   "ip_type": ip.get("type"), "state": state or provisioning,
                   "image": containers[0].get("properties", {}).get("image"),
                   "autoscaling": "none (Container Instances)"}
        return Deployment(name=tags.get("kepler-deployment") or group.get("name", "?"),
                          target=TARGET, model=tags.get("kepler-model") or "?",
                          version=self._version(tags), url=url, status=status, details=details)


def _secret(name: str) -> str:
    """The HEC token from Kepler's secret store (it becomes a secureValue)."""
    from kepler.api import KeplerError, secret_store

    try:
        value = secret_store().lookup(name)
    except KeplerError:
        value = None
    if not value:
        raise DeploymentError(
            f"azure.hec_token_secret names {name!r}, which Kepler's secret store does not hold; "
            "Container Instances needs the value to pass it as a secure variable.",
            hint=f"kepler secrets set {name}")
    return str(value)


def _redacted(body: dict[str, Any]) -> dict[str, Any]:
    """The body as a dry run prints it: secure values and input files elided."""
    import copy

    shown = copy.deepcopy(body)
    for container in shown["properties"]["containers"]:
        for env in container["properties"].get("environmentVariables", []):
            if "secureValue" in env:
                env["secureValue"] = "<secure>"
    for volume in shown["properties"].get("volumes", []):
        volume["secret"] = {k: f"<{len(base64.b64decode(v))} bytes>"
                            for k, v in volume["secret"].items()}
    return shown


__all__ = ["TARGET", "AciDeployer", "AzureError"]
