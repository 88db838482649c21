"""Azure management clients built from the ``azure`` section: credential, endpoint, waiting,
dry runs.

Every client talks to ``azure.arm_endpoint`` (a sovereign cloud, or the local fake of
:mod:`kepler_azure.testing`) with the api-versions pinned in :data:`API_VERSIONS`, so what a
dry run prints is what is sent. Calls go through :meth:`Azure.send`, which in a dry run records
the request (method, URL, body) instead of sending it. Long-running operations are waited for by
:meth:`Azure.wait`: progress is logged while ARM says "InProgress", and a timeout ends the wait.

Requests without a typed operation in the SDK (ACR Tasks' source upload and ``scheduleRun``,
generic resources, ``permissions``) go through the client's own pipeline
(``client.send_request``), so they carry the same credential, retries and endpoint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kepler.api import PlannedRequest

from .config import AzureSettings
from .errors import AzureConfigError, AzureTimeoutError, translate

log = logging.getLogger(__name__)

#: The api-version of each surface: pinned, so plans, the fake and ARM agree.
API_VERSIONS = {
    "apps": "2026-07-01",                 # Microsoft.App (azure-mgmt-appcontainers)
    "aci": "2023-05-01",                  # Microsoft.ContainerInstance
    "acr": "2025-11-01",                  # Microsoft.ContainerRegistry registries
    "acr-tasks": "2019-06-01-preview",    # ACR Tasks: source upload, scheduleRun, runs
    "resources": "2025-04-01",            # Microsoft.Resources resource groups
    "workspace": "2023-09-01",            # Microsoft.OperationalInsights/workspaces
    "identity": "2023-01-31",             # Microsoft.ManagedIdentity/userAssignedIdentities
    "vault": "2023-07-01",                # Microsoft.KeyVault vaults and secrets
    "authorization": "2022-04-01",        # role assignments, permissions
    "subscription": "2022-12-01",         # GET /subscriptions/{id}
}
#: Built-in role definition IDs (the same in every cloud).
ROLES = {
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
}
#: Set by :mod:`kepler_azure.testing` only: ``credential`` (a fake TokenCredential) and
#: ``client_kwargs`` (an authentication policy that allows http). Empty in the product.
TEST_WIRING: dict[str, Any] = {}


def as_dict(model: Any) -> dict[str, Any]:
    """An SDK model (either generation of the Azure SDKs) as ARM's camelCase JSON."""
    if model is None:
        return {}
    if isinstance(model, dict):
        return model
    if hasattr(type(model), "_attribute_map"):  # msrest models (containerinstance)
        out: dict[str, Any] = model.serialize(keep_readonly=True)
        return out
    result: dict[str, Any] = model.as_dict()
    return result


@dataclass
class Azure:
    """Lazily built Azure clients for one ``azure`` section, and the dry-run recorder."""

    settings: AzureSettings
    #: When not None, requests are recorded here and not sent.
    plan: list[PlannedRequest] | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    # --- basics -------------------------------------------------------------------------------

    @property
    def subscription(self) -> str:
        if not self.settings.subscription:
            raise AzureConfigError(
                "azure.subscription is not set.",
                hint="Set it in kepler.yml (azure: {subscription: ID}, per environment under "
                "environments.<env>.azure) or export KEPLER_AZURE__SUBSCRIPTION=ID.")
        return self.settings.subscription

    @property
    def dry_run(self) -> bool:
        return self.plan is not None

    @property
    def group_path(self) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.settings.resource_group}"

    def resource_id(self, provider: str, name: str) -> str:
        """``/subscriptions/…/resourceGroups/…/providers/<provider>/<name>``."""
        return f"{self.group_path}/providers/{provider}/{name}"

    def identity_id(self) -> str:
        return self.resource_id("Microsoft.ManagedIdentity/userAssignedIdentities",
                                self.settings.identity)

    def url(self, path: str, api: str, query: str = "") -> str:
        """The full URL of ``path`` with ``api``'s api-version (for plans and raw calls)."""
        extra = f"&{query}" if query else ""
        return f"{self.settings.arm()}{path}?api-version={API_VERSIONS[api]}{extra}"

    @property
    def credential(self) -> Any:
        if "credential" not in self._cache:
            self._cache["credential"] = TEST_WIRING.get("credential") or self._default()
        return self._cache["credential"]

    def _default(self) -> Any:
        from azure.identity import DefaultAzureCredential

        authority = _authority(self.settings.arm())
        kwargs: dict[str, Any] = {"exclude_interactive_browser_credential": True}
        if authority:
            kwargs["authority"] = authority
        if self.settings.tenant:
            kwargs["additionally_allowed_tenants"] = [self.settings.tenant]
        return DefaultAzureCredential(**kwargs)

    def _kwargs(self, api: str) -> dict[str, Any]:
        arm = self.settings.arm()
        scope = arm if arm.startswith("https://") else "https://management.azure.com"
        return {"base_url": arm, "credential_scopes": [f"{scope}/.default"],
                "api_version": API_VERSIONS[api], "polling_interval": self.settings.poll_interval,
                **TEST_WIRING.get("client_kwargs", {})}

    def _client(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    # --- clients ------------------------------------------------------------------------------

    def apps(self) -> Any:
        from azure.mgmt.appcontainers import ContainerAppsAPIClient

        return self._client("apps", lambda: ContainerAppsAPIClient(
            self.credential, self.subscription, **self._kwargs("apps")))

    def aci(self) -> Any:
        from azure.mgmt.containerinstance import ContainerInstanceManagementClient

        return self._client("aci", lambda: ContainerInstanceManagementClient(
            self.credential, self.subscription, **self._kwargs("aci")))

    def acr(self) -> Any:
        from azure.mgmt.containerregistry import ContainerRegistryManagementClient

        return self._client("acr", lambda: ContainerRegistryManagementClient(
            self.credential, self.subscription, **self._kwargs("acr")))

    def resources(self) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return self._client("resources", lambda: ResourceManagementClient(
            self.credential, self.subscription, **self._kwargs("resources")))

    def raw(self, method: str, path: str, api: str, body: Any = None, query: str = "") -> Any:
        """A JSON request through the resources client's pipeline (same credential, retries,
        endpoint); an error status raises ``HttpResponseError`` with ARM's error code."""
        from azure.core.exceptions import HttpResponseError
        from azure.core.rest import HttpRequest
        from azure.mgmt.core.exceptions import ARMErrorFormat

        request = HttpRequest(method, self.url(path, api, query), json=body)
        response = self.resources().send_request(request)
        if response.status_code >= 400:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        return response.json() if response.content else {}

    # --- sending and waiting ------------------------------------------------------------------

    def send(self, api: str, method: str, url: str, body: Any, call: Callable[[], Any], *,
             doing: str, note: str = "") -> Any:
        """Send one request (``call``), or record it in a dry run and return None. Azure
        errors are translated into Kepler errors naming ``doing``."""
        if self.plan is not None:
            self.plan.append(PlannedRequest(api, method, url, body, note))
            return None
        log.debug("%s %s", method, url)
        try:
            return call()
        except Exception as exc:
            if type(exc).__module__.startswith(("azure.core", "azure.identity")):
                raise translate(exc, doing) from exc
            raise

    def wait(self, poller: Any, *, doing: str, timeout: float | None = None) -> Any:
        """Wait for a long-running operation, logging progress; raise
        :class:`AzureTimeoutError` after ``timeout`` (``azure.ready_timeout``). Failures come
        back as ``HttpResponseError`` (the caller knows what failed)."""
        if poller is None:  # a dry run
            return None
        limit = self.settings.ready_timeout if timeout is None else timeout
        start = time.monotonic()
        step = max(0.05, min(10.0, limit / 20))
        while not poller.done():
            elapsed = time.monotonic() - start
            if elapsed >= limit:
                raise AzureTimeoutError(
                    f"Azure did not finish {doing} within {limit:.0f} s (status "
                    f"{poller.status()}).",
                    hint="Raise azure.ready_timeout, or look at the resource's activity log "
                    "in the portal.")
            log.info("%s: %s (%.0f s)", doing, poller.status(), elapsed)
            poller.wait(min(step, limit - elapsed))
        return poller.result()


def _authority(arm: str) -> str | None:
    """The Entra authority of a sovereign cloud's Resource Manager (None: the public one)."""
    from urllib.parse import urlsplit

    host = urlsplit(arm).hostname or ""
    if host.endswith("usgovcloudapi.net"):
        return "login.microsoftonline.us"
    if host.endswith("chinacloudapi.cn"):
        return "login.chinacloudapi.cn"
    return None
