"""``kepler config validate`` for the ``azure`` section: credentials, subscription, roles.

Skipped while ``azure.subscription`` is unset (a project that does not deploy to Azure). The
credential check asks the DefaultAzureCredential chain (environment, workload identity, managed
identity, Azure CLI...) for an ARM token; the role check reads
``Microsoft.Authorization/permissions`` on the resource group (what the caller's role
assignments allow there) and names every action deploying or provisioning needs that is not
granted.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

from kepler.api import CheckResult, KeplerError

#: What deploying needs (kepler deploy, rollout, logs).
DEPLOY_ACTIONS = (
    "Microsoft.App/containerApps/write", "Microsoft.App/containerApps/read",
    "Microsoft.App/containerApps/delete", "Microsoft.App/containerApps/revisions/read",
    "Microsoft.App/containerApps/getAuthToken/action",
    "Microsoft.App/managedEnvironments/join/action",
    "Microsoft.ContainerInstance/containerGroups/write",
    "Microsoft.ContainerInstance/containerGroups/read",
    "Microsoft.ContainerInstance/containerGroups/delete",
    "Microsoft.ContainerRegistry/registries/scheduleRun/action",
    "Microsoft.ContainerRegistry/registries/listBuildSourceUploadUrl/action",
    "Microsoft.ContainerRegistry/registries/runs/read",
    "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
)
#: What ``kepler azure provision`` needs besides.
PROVISION_ACTIONS = (
    "Microsoft.Resources/subscriptions/resourceGroups/write",
    "Microsoft.OperationalInsights/workspaces/write",
    "Microsoft.OperationalInsights/workspaces/sharedKeys/action",
    "Microsoft.App/managedEnvironments/write", "Microsoft.ContainerRegistry/registries/write",
    "Microsoft.ManagedIdentity/userAssignedIdentities/write",
    "Microsoft.KeyVault/vaults/write", "Microsoft.KeyVault/vaults/secrets/write",
    "Microsoft.Authorization/roleAssignments/write",
)


def allowed(action: str, permissions: list[dict[str, Any]]) -> bool:
    """Whether ARM's ``permissions`` (actions/notActions with wildcards) allow ``action``."""
    def matches(patterns: list[str]) -> bool:
        return any(fnmatch.fnmatch(action.lower(), p.lower()) for p in patterns)

    return any(matches(p.get("actions", [])) and not matches(p.get("notActions", []))
               for p in permissions)


def checks(config: Any) -> Iterator[CheckResult]:
    from .clients import Azure

    try:
        settings = config.section("azure")
    except KeplerError as exc:
        yield CheckResult(check="azure: configuration", status="fail", detail=exc.message,
                          hint=exc.hint or "")
        return
    if not settings.subscription:
        yield CheckResult(check="azure: subscription", status="skip",
                          detail="azure.subscription is not set (no Azure deployments)",
                          hint="Set azure.subscription (or KEPLER_AZURE__SUBSCRIPTION) to "
                          "deploy to Azure.")
        return
    azure = Azure(settings)
    try:
        yield from _credential(azure)
    except _Stop:
        return
    try:
        found = azure.send("arm", "GET", "", None, lambda: azure.raw(
            "GET", f"/subscriptions/{settings.subscription}", "subscription"),
            doing=f"reading subscription {settings.subscription}")
    except KeplerError as exc:
        yield CheckResult(check=f"azure: subscription {settings.subscription}", status="fail",
                          detail=exc.message, hint=exc.hint or "Check azure.subscription.")
        return
    state = found.get("state", "")
    yield CheckResult(check=f"azure: subscription {settings.subscription}",
                      status="pass" if state == "Enabled" else "fail",
                      detail=f"{found.get('displayName', '')} ({state})",
                      hint="" if state == "Enabled" else "The subscription is not enabled.")
    yield from _roles(azure)


def _credential(azure: Any) -> Iterator[CheckResult]:
    scope = "https://management.azure.com/.default"
    try:
        azure.send("arm", "TOKEN", "", None, lambda: azure.credential.get_token(scope),
                   doing="asking the DefaultAzureCredential chain for a token")
    except KeplerError as exc:
        yield CheckResult(check="azure: credentials", status="fail", detail=exc.message,
                          hint=exc.hint or "")
        raise _Stop from None
    yield CheckResult(check="azure: credentials", status="pass",
                      detail="an ARM token from the DefaultAzureCredential chain")


class _Stop(Exception):
    """Internal: no credentials, nothing more to check."""


def _roles(azure: Any) -> Iterator[CheckResult]:
    path = f"{azure.group_path}/providers/Microsoft.Authorization/permissions"
    try:
        answer = azure.send("arm", "GET", "", None, lambda: azure.raw("GET", path,
                                                                      "authorization"),
                            doing=f"reading permissions on {azure.settings.resource_group}")
    except KeplerError as exc:
        yield CheckResult(check="azure: role assignments", status="fail", detail=exc.message,
                          hint=exc.hint or "")
        return
    permissions = answer.get("value", [])
    for label, needed in (("deploy", DEPLOY_ACTIONS), ("provision", PROVISION_ACTIONS)):
        missing = [a for a in needed if not allowed(a, permissions)]
        yield CheckResult(
            check=f"azure: role assignments to {label}", status="fail" if missing else "pass",
            detail=f"missing: {', '.join(missing)}" if missing else f"all {len(needed)} allowed",
            hint="Assign the identity in use Contributor on the resource group (User Access "
            "Administrator too, to provision role assignments)." if missing else "")
