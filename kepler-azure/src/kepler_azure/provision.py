"""``kepler azure provision``: what deployments need, made to exist, idempotently.

For the environment in force (``--env``), in ``azure.resource_group``:

1. the resource group itself;
2. a Log Analytics workspace (``azure.log_workspace``) for the apps' logs;
3. the Container Apps managed environment (``azure.environment``) writing to it;
4. the Azure Container Registry (``azure.registry``), when set;
5. the user-assigned managed identity the apps run under (``azure.identity``), with
   ``AcrPull`` on the registry;
6. the Key Vault (``azure.key_vault``), when set, with ``Key Vault Secrets User`` for the
   identity, and the HEC token secret (``azure.hec_token_secret``) given its value from Kepler's
   secret store (``kepler secrets set kepler-hec-token``) when it is missing there.

Each resource is read first and created only when missing; a second run changes nothing. Role
assignments get deterministic names (a UUID of scope, role and principal), so a rerun finds them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .clients import API_VERSIONS, ROLES, Azure, PlannedRequest, as_dict
from .config import AzureSettings


@dataclass(frozen=True)
class Step:
    """One resource: what it is and what provisioning did (exists, created, would create)."""

    resource: str
    name: str
    action: str
    detail: str = ""


def _exists(get: Callable[[], Any]) -> Any:
    """The resource, or None when ARM answers 404."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return get()
    except ResourceNotFoundError:
        return None


class Provisioner:
    """Runs the steps; in a dry run (``plan`` not None) records every request instead."""

    def __init__(self, settings: AzureSettings, *, dry_run: bool = False,
                 local_secret: Callable[[str], str | None] | None = None) -> None:
        self.plan: list[PlannedRequest] | None = [] if dry_run else None
        self.azure = Azure(settings, plan=self.plan)
        self.settings = settings
        self.local_secret = local_secret or _local_secret
        self.steps: list[Step] = []

    def run(self) -> list[Step]:
        self.azure.subscription  # noqa: B018 - refuse early without a subscription
        self.group()
        workspace = self.generic("Log Analytics workspace", "Microsoft.OperationalInsights/"
                                 "workspaces", self.settings.log_workspace, "workspace", {
                                     "location": self.settings.location, "properties": {
                                         "sku": {"name": "PerGB2018"}, "retentionInDays": 30}})
        self.environment(workspace)
        identity = self.generic("managed identity", "Microsoft.ManagedIdentity/"
                                "userAssignedIdentities", self.settings.identity, "identity",
                                {"location": self.settings.location})
        principal = (identity or {}).get("properties", {}).get("principalId") or \
            f"<principalId of {self.settings.identity}>"
        if self.settings.registry:
            registry = self.registry()
            self.role("AcrPull", registry, principal)
        if self.settings.key_vault:
            tenant = self.settings.tenant or (identity or {}).get("properties", {}).get(
                "tenantId") or "<tenant of the identity>"
            vault = self.azure.resource_id("Microsoft.KeyVault/vaults", self.settings.key_vault)
            self.generic("Key Vault", "Microsoft.KeyVault/vaults", self.settings.key_vault,
                         "vault", {"location": self.settings.location, "properties": {
                             "tenantId": tenant, "sku": {"family": "A", "name": "standard"},
                             "enableRbacAuthorization": True}})
            self.role("Key Vault Secrets User", vault, principal)
            if self.settings.hec_token_secret:
                self.secret(self.settings.hec_token_secret)
        return self.steps

    # --- helpers ------------------------------------------------------------------------------

    def _ensure(self, resource: str, name: str, url: str, get: Callable[[], Any],
                create: Callable[[], Any], body: Any, *, detail: str = "") -> Any:
        """Read the resource; create it when missing; record the step."""
        found = self.azure.send("arm", "GET", url, None, lambda: _exists(get),
                                doing=f"reading {resource} {name}",
                                note="create below only when this answers 404")
        if found is not None:
            self.steps.append(Step(resource, name, "exists", detail))
            return as_dict(found)
        created = self.azure.send("arm", "PUT", url, body, create,
                                  doing=f"creating {resource} {name}")
        self.steps.append(Step(resource, name, "would create if missing" if self.azure.dry_run
                               else "created", detail))
        return as_dict(created) if created is not None else None

    def generic(self, resource: str, provider: str, name: str, api: str, body: Any) -> Any:
        """A resource without a typed client here, through the resources client by ID."""
        rid = self.azure.resource_id(provider, name)
        return self.by_id(resource, name, rid, api, body)

    def by_id(self, resource: str, name: str, rid: str, api: str, body: Any,
              detail: str = "") -> Any:
        version = API_VERSIONS[api]

        def client() -> Any:
            return self.azure.resources().resources

        return self._ensure(resource, name, self.azure.url(rid, api),
                            lambda: client().get_by_id(rid, api_version=version),
                            lambda: self.azure.wait(client().begin_create_or_update_by_id(
                                rid, api_version=version, parameters=body),
                                doing=f"creating {resource} {name}"), body, detail=detail)

    # --- resources ----------------------------------------------------------------------------

    def group(self) -> None:
        rg = self.settings.resource_group
        body = {"location": self.settings.location, "tags": {"managed-by": "kepler"}}
        self._ensure("resource group", rg, self.azure.url(self.azure.group_path, "resources"),
                     lambda: self.azure.resources().resource_groups.get(rg),
                     lambda: self.azure.resources().resource_groups.create_or_update(rg, body),
                     body)

    def environment(self, workspace: Any) -> None:
        name, rg = self.settings.environment, self.settings.resource_group
        rid = self.azure.resource_id("Microsoft.App/managedEnvironments", name)
        customer = (workspace or {}).get("properties", {}).get("customerId") or \
            "<customerId of the workspace>"
        body = {"location": self.settings.location, "properties": {"appLogsConfiguration": {
            "destination": "log-analytics", "logAnalyticsConfiguration": {
                "customerId": customer, "sharedKey": "<the workspace's shared key>"}}}}

        def create() -> Any:
            keys = self.azure.raw("POST", self.azure.resource_id(
                "Microsoft.OperationalInsights/workspaces", self.settings.log_workspace)
                + "/sharedKeys", "workspace")
            real = {**body, "properties": {"appLogsConfiguration": {
                "destination": "log-analytics", "logAnalyticsConfiguration": {
                    "customerId": customer, "sharedKey": keys["primarySharedKey"]}}}}
            return self.azure.wait(self.azure.apps().managed_environments.begin_create_or_update(
                rg, name, real), doing=f"creating managed environment {name}")

        self._ensure("managed environment", name, self.azure.url(rid, "apps"),
                     lambda: self.azure.apps().managed_environments.get(rg, name), create, body)

    def registry(self) -> str:
        name, rg = str(self.settings.registry), self.settings.resource_group
        rid = self.azure.resource_id("Microsoft.ContainerRegistry/registries", name)
        body = {"location": self.settings.location, "sku": {"name": "Basic"},
                "properties": {"adminUserEnabled": False}}
        self._ensure("container registry", name, self.azure.url(rid, "acr"),
                     lambda: self.azure.acr().registries.get(rg, name),
                     lambda: self.azure.wait(self.azure.acr().registries.begin_create(
                         rg, name, body), doing=f"creating registry {name}"), body)
        return rid

    def role(self, role: str, scope: str, principal: str) -> None:
        """``role`` for ``principal`` on ``scope`` (a deterministic assignment name)."""
        assignment = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}|{ROLES[role]}|{principal}"))
        rid = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{assignment}"
        body = {"properties": {
            "roleDefinitionId": f"/subscriptions/{self.azure.subscription}/providers/"
                                f"Microsoft.Authorization/roleDefinitions/{ROLES[role]}",
            "principalId": principal, "principalType": "ServicePrincipal"}}
        self.by_id("role assignment", f"{role} for {self.settings.identity}", rid,
                   "authorization", body, detail=f"on {scope.rsplit('/', 1)[-1]}")

    def secret(self, name: str) -> None:
        rid = self.azure.resource_id("Microsoft.KeyVault/vaults",
                                     f"{self.settings.key_vault}/secrets/{name}")
        value = self.local_secret(name)
        url = self.azure.url(rid, "vault")
        version = API_VERSIONS["vault"]
        found = self.azure.send("arm", "GET", url, None, lambda: _exists(
            lambda: self.azure.resources().resources.get_by_id(rid, api_version=version)),
            doing=f"reading Key Vault secret {name}",
            note="create below only when this answers 404")
        if found is not None:
            self.steps.append(Step("Key Vault secret", name, "exists"))
            return
        if value is None and not self.azure.dry_run:
            self.steps.append(Step("Key Vault secret", name, "missing",
                                   f"no value: run 'kepler secrets set {name}' and provision "
                                   "again"))
            return
        body = {"properties": {"value": "<from Kepler's secret store>"}}
        self.azure.send("arm", "PUT", url, body, lambda: self.azure.wait(
            self.azure.resources().resources.begin_create_or_update_by_id(
                rid, api_version=version, parameters={"properties": {"value": value}}),
            doing=f"creating Key Vault secret {name}"), doing=f"creating Key Vault secret {name}")
        self.steps.append(Step("Key Vault secret", name, "would create if missing"
                               if self.azure.dry_run else "created",
                               "value from Kepler's secret store"))


def _local_secret(name: str) -> str | None:
    from kepler.api import KeplerError, secret_store

    try:
        value = secret_store().lookup(name)
    except KeplerError:
        return None
    return None if value is None else str(value)


def provision(settings: AzureSettings, *, dry_run: bool = False
              ) -> tuple[list[Step], list[PlannedRequest]]:
    """Make sure everything deployments need exists; return the steps and, in a dry run, the
    requests that would be sent."""
    provisioner = Provisioner(settings, dry_run=dry_run)
    steps = provisioner.run()
    return steps, provisioner.plan or []
