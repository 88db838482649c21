"""The request bodies ARM accepts, field by field, for the fake (:mod:`kepler_azure.testing`).

A schema is a dict of allowed keys (value: the key's schema), a one-item list (a list of that
schema) or ``None`` (any value). Unknown fields are a 400 ``InvalidRequestContent``, as at ARM,
so a typo in a deployer's body fails its tests instead of being dropped silently.
"""

from __future__ import annotations

from typing import Any

from ._fake_base import HttpError

ANY = None
_TAGGED = {"location": ANY, "tags": ANY}
_IDENTITY = {"type": ANY, "userAssignedIdentities": ANY}
_ACA_PROBE = {"type": ANY, "httpGet": {"path": ANY, "port": ANY, "scheme": ANY},
              "initialDelaySeconds": ANY, "periodSeconds": ANY, "timeoutSeconds": ANY,
              "failureThreshold": ANY}
_ACA_CONTAINER = {"name": ANY, "image": ANY, "command": ANY, "args": ANY,
                  "env": [{"name": ANY, "value": ANY, "secretRef": ANY}],
                  "resources": {"cpu": ANY, "memory": ANY}, "probes": [_ACA_PROBE]}
_INGRESS = {"external": ANY, "targetPort": ANY, "transport": ANY, "allowInsecure": ANY,
            "traffic": [{"revisionName": ANY, "weight": ANY, "latestRevision": ANY,
                         "label": ANY}]}
_ACI_PROBE = {"httpGet": {"path": ANY, "port": ANY, "scheme": ANY},
              "initialDelaySeconds": ANY, "periodSeconds": ANY, "timeoutSeconds": ANY,
              "failureThreshold": ANY}
_ACI_CONTAINER = {"name": ANY, "properties": {
    "image": ANY, "command": ANY, "ports": [{"port": ANY, "protocol": ANY}],
    "environmentVariables": [{"name": ANY, "value": ANY, "secureValue": ANY}],
    "resources": {"requests": {"cpu": ANY, "memoryInGB": ANY}},
    "readinessProbe": _ACI_PROBE, "livenessProbe": _ACI_PROBE,
    "volumeMounts": [{"name": ANY, "mountPath": ANY, "readOnly": ANY}]}}

SCHEMAS: dict[str, Any] = {
    "resourceGroup": {**_TAGGED, "managedBy": ANY},
    "containerApp": {**_TAGGED, "identity": _IDENTITY, "properties": {
        "managedEnvironmentId": ANY, "environmentId": ANY, "workloadProfileName": ANY,
        "configuration": {"activeRevisionsMode": ANY, "ingress": _INGRESS,
                          "maxInactiveRevisions": ANY,
                          "registries": [{"server": ANY, "identity": ANY}],
                          "secrets": [{"name": ANY, "keyVaultUrl": ANY, "identity": ANY,
                                       "value": ANY}]},
        "template": {"revisionSuffix": ANY, "containers": [_ACA_CONTAINER],
                     "scale": {"minReplicas": ANY, "maxReplicas": ANY,
                               "rules": [{"name": ANY, "http": {"metadata": ANY}}]}}}},
    "containerAppPatch": {"tags": ANY, "properties": {"configuration": {"ingress": _INGRESS}}},
    "containerGroup": {**_TAGGED, "identity": _IDENTITY, "properties": {
        "osType": ANY, "restartPolicy": ANY, "sku": ANY, "containers": [_ACI_CONTAINER],
        "imageRegistryCredentials": [{"server": ANY, "identity": ANY}],
        "ipAddress": {"type": ANY, "ports": [{"port": ANY, "protocol": ANY}],
                      "dnsNameLabel": ANY},
        "subnetIds": [{"id": ANY}],
        "volumes": [{"name": ANY, "secret": ANY}]}},
    "dockerBuildRequest": {"type": ANY, "imageNames": ANY, "isPushEnabled": ANY,
                           "sourceLocation": ANY, "dockerFilePath": ANY, "noCache": ANY,
                           "timeout": ANY, "platform": {"os": ANY, "architecture": ANY}},
    "Microsoft.App/managedEnvironments": {**_TAGGED, "properties": {
        "appLogsConfiguration": {"destination": ANY, "logAnalyticsConfiguration": {
            "customerId": ANY, "sharedKey": ANY}}}},
    "Microsoft.ContainerRegistry/registries": {**_TAGGED, "sku": {"name": ANY},
                                               "properties": {"adminUserEnabled": ANY}},
    "Microsoft.OperationalInsights/workspaces": {**_TAGGED, "properties": {
        "sku": {"name": ANY}, "retentionInDays": ANY}},
    "Microsoft.ManagedIdentity/userAssignedIdentities": {**_TAGGED},
    "Microsoft.KeyVault/vaults": {**_TAGGED, "properties": {
        "tenantId": ANY, "sku": {"family": ANY, "name": ANY}, "enableRbacAuthorization": ANY}},
    "Microsoft.KeyVault/vaults/secrets": {"tags": ANY, "properties": {"value": ANY,
                                                                       "contentType": ANY}},
    "Microsoft.Authorization/roleAssignments": {"properties": {
        "roleDefinitionId": ANY, "principalId": ANY, "principalType": ANY}},
    "generic": {**_TAGGED, "properties": ANY, "sku": ANY, "kind": ANY, "identity": ANY},
}


def check_body(kind: str, body: Any) -> None:
    """Refuse a body of resource ``kind`` with a field ARM does not know (400)."""
    if not isinstance(body, dict):
        raise HttpError(400, "InvalidRequestContent", f"The {kind} body must be an object.")
    _check(SCHEMAS[kind], body, kind)


def _check(schema: Any, value: Any, where: str) -> None:
    if schema is None or value is None:
        return
    if isinstance(schema, list):
        if not isinstance(value, list):
            raise HttpError(400, "InvalidRequestContent", f"{where} must be an array.")
        for index, item in enumerate(value):
            _check(schema[0], item, f"{where}[{index}]")
        return
    if not isinstance(value, dict):
        raise HttpError(400, "InvalidRequestContent", f"{where} must be an object.")
    for key, item in value.items():
        if key not in schema:
            raise HttpError(400, "InvalidRequestContent",
                            f"Could not find member '{key}' on object of type {where}. "
                            f"Known: {', '.join(sorted(schema))}.")
        _check(schema[key], item, f"{where}.{key}")
