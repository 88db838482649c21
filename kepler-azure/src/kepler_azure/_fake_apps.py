"""Microsoft.App in the fake ARM server: container apps, revisions, traffic, replicas, logs.

Multiple-revision mode as ARM runs it: each PUT with a new ``template.revisionSuffix`` makes a
revision ``<app>--<suffix>``; ``ingress.traffic`` names revisions (or ``latestRevision``) with
weights that must add up to 100 and may name the revision the same PUT creates. A revision
that fails (``fail_next_revision``) leaves the traffic where it was.
"""

from __future__ import annotations

import copy
from typing import Any

from ._fake_base import HttpError, _Op, now, public
from ._fake_schemas import check_body


class AppsMixin:
    """The Container Apps routes of :class:`kepler_azure.testing.FakeArm`."""

    apps: dict[str, dict[str, Any]]
    revisions: dict[str, list[dict[str, Any]]]
    resources: dict[str, dict[str, Any]]
    app_logs: dict[str, list[str]]
    _next_revision: tuple[str, str] | None

    @property
    def url(self) -> str:
        raise NotImplementedError  # FakeArm's

    def _lro(self, status: int, body: Any, op: _Op, *, location: bool = False) -> Any: ...
    def _need_group(self, rg: str) -> None: ...

    # --- the app --------------------------------------------------------------------------------

    def _app(self, method: str, path: str, rg: str, app: str, body: Any, **_: Any) -> Any:
        if method == "PUT":
            self._need_group(rg)
            check_body("containerApp", body)
            return self._app_put(path, app, body)
        if app not in self.apps:
            raise HttpError(404, "ContainerAppNotFound", f"The Container App '{app}' was not "
                            "found.")
        if method == "GET":
            return self._app_view(app)
        if method == "PATCH":
            check_body("containerAppPatch", body)
            return self._app_patch(app, body)
        if method == "DELETE":
            def gone() -> None:
                self.apps.pop(app, None)
                self.revisions.pop(app, None)
            return self._lro(202, None, _Op(finish=gone), location=True)
        raise HttpError(405, "MethodNotAllowed", method)

    def _app_put(self, path: str, app: str, body: dict[str, Any]) -> Any:
        props = copy.deepcopy(body["properties"])
        if str(props.get("managedEnvironmentId", "")).lower() not in self.resources:
            raise HttpError(404, "ManagedEnvironmentNotFound",
                            f"Managed environment {props.get('managedEnvironmentId')} was not "
                            "found.")
        _check_secrets(body, props)
        existing = self.apps.get(app)
        old_props = existing["properties"] if existing else {}
        template = props.get("template", {})
        name = f"{app}--{template.get('revisionSuffix') or 'r' + str(len(self.revisions))}"
        known = [r["name"] for r in self.revisions.get(app, [])]
        if name in known:
            raise HttpError(400, "ContainerAppRevisionSuffixConflict",
                            f"Revision {name} exists; use another revisionSuffix.")
        ingress = props["configuration"].get("ingress") or {}
        _check_traffic(ingress.get("traffic", []), [*known, name])
        ingress["fqdn"] = f"{self.url}/_apps/{app}"
        props.update(provisioningState="InProgress", runningStatus="Running",
                     latestRevisionName=name,
                     latestReadyRevisionName=old_props.get("latestReadyRevisionName", ""),
                     latestRevisionFqdn=f"{self.url}/_apps/{app}")
        previous_traffic = copy.deepcopy(
            old_props.get("configuration", {}).get("ingress", {}).get("traffic"))
        self.apps[app] = {"id": path, "name": app, "type": "Microsoft.App/containerApps",
                          "location": body["location"], "tags": body.get("tags", {}),
                          "identity": body.get("identity"), "properties": props}
        revision = {"id": f"{path}/revisions/{name}", "name": name,
                    "type": "Microsoft.App/containerApps/revisions",
                    "properties": {"createdTime": now(), "active": True,
                                   "provisioningState": "Provisioning",
                                   "runningState": "Activating", "healthState": "None",
                                   "template": copy.deepcopy(template), "replicas": 0}}
        self.revisions.setdefault(app, []).append(revision)
        outcome, reason = self._next_revision or ("ok", "")
        self._next_revision = None
        op = self._revision_op(app, revision, outcome, reason, previous_traffic)
        return self._lro(200 if existing else 201, self._app_view(app), op)

    def _revision_op(self, app: str, revision: dict[str, Any], outcome: str, reason: str,
                     previous_traffic: Any) -> _Op:
        """The operation of a PUT: the revision provisions, fails or never finishes."""
        state = revision["properties"]
        props = self.apps[app]["properties"]
        if outcome == "hang":
            return _Op(polls=None)
        if outcome == "fail":
            def failed() -> None:
                state.update(provisioningState="Failed", runningState="Failed",
                             healthState="Unhealthy", provisioningError=reason)
                props["provisioningState"] = "Failed"
                if previous_traffic is not None:
                    props["configuration"]["ingress"]["traffic"] = previous_traffic
            return _Op(finish=failed, error={"code": "ContainerAppOperationError",
                                             "message": f"Failed to provision revision "
                                             f"'{revision['name']}': {reason}"})

        def provisioned() -> None:
            state.update(provisioningState="Provisioned", runningState="Running",
                         healthState="Healthy", replicas=1)
            props.update(provisioningState="Succeeded",
                         latestReadyRevisionName=revision["name"])
        return _Op(finish=provisioned)

    def _app_patch(self, app: str, body: dict[str, Any]) -> Any:
        stored = self.apps[app]
        if "tags" in body:
            stored["tags"] = {**stored.get("tags", {}), **(body["tags"] or {})}
        ingress = (body.get("properties") or {}).get("configuration", {}).get("ingress")
        if ingress is not None:
            known = [r["name"] for r in self.revisions.get(app, [])
                     if r["properties"]["provisioningState"] == "Provisioned"]
            _check_traffic(ingress.get("traffic", []), known)
            current = stored["properties"]["configuration"]["ingress"]
            current.update(copy.deepcopy(ingress))
        stored["properties"]["provisioningState"] = "InProgress"

        def done() -> None:
            stored["properties"]["provisioningState"] = "Succeeded"
        return self._lro(202, None, _Op(finish=done), location=True)

    def _app_view(self, app: str) -> dict[str, Any]:
        return public(copy.deepcopy(self.apps[app]))

    def _app_list(self, rg: str, **_: Any) -> dict[str, Any]:
        return {"value": [self._app_view(name) for name, item in self.apps.items()
                          if f"/resourcegroups/{rg.lower()}/" in item["id"].lower()]}

    # --- revisions, replicas, logs, predict ---------------------------------------------------

    def _revision_views(self, app: str) -> list[dict[str, Any]]:
        if app not in self.apps:
            raise HttpError(404, "ContainerAppNotFound", f"The Container App '{app}' was not "
                            "found.")
        weights: dict[str, int] = {}
        props = self.apps[app]["properties"]
        latest = props.get("latestReadyRevisionName", "")
        for entry in props["configuration"].get("ingress", {}).get("traffic", []):
            name = entry.get("revisionName") or (latest if entry.get("latestRevision") else "")
            weights[name] = weights.get(name, 0) + int(entry.get("weight", 0))
        out = []
        for revision in self.revisions.get(app, []):
            view = copy.deepcopy(revision)
            view["properties"]["trafficWeight"] = weights.get(revision["name"], 0)
            out.append(view)
        return out

    def _revision_list(self, app: str, **_: Any) -> dict[str, Any]:
        return {"value": self._revision_views(app)}

    def _revision_get(self, app: str, rev: str, **_: Any) -> dict[str, Any]:
        for view in self._revision_views(app):
            if view["name"] == rev:
                return view
        raise HttpError(404, "ContainerAppRevisionNotFound", f"Revision {rev} not found.")

    def _replicas(self, app: str, rev: str, **_: Any) -> dict[str, Any]:
        self._revision_get(app, rev)
        return {"value": [{"name": f"{rev}-replica1", "properties": {
            "runningState": "Running", "createdTime": now(),
            "containers": [{"name": "model", "ready": True, "started": True,
                            "logStreamEndpoint": f"{self.url}/_logstream/{app}/{rev}"}]}}]}

    def _auth_token(self, app: str, **_: Any) -> dict[str, Any]:
        if app not in self.apps:
            raise HttpError(404, "ContainerAppNotFound", f"The Container App '{app}' was not "
                            "found.")
        return {"properties": {"token": f"aca-token-{app}", "expires": now()}}

    def _logstream(self, app: str, rev: str, query: dict[str, str], headers: dict[str, str],
                   **_: Any) -> Any:
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if auth != f"Bearer aca-token-{app}":
            raise HttpError(401, "Unauthorized", "The log stream needs the app's auth token.")
        tail = int(query.get("tailLines", "100"))
        lines = self.app_logs.get(app, [])[-tail:]
        return 200, {}, "".join(f"{line}\n" for line in lines).encode()

    def _predict(self, app: str, body: Any, **_: Any) -> dict[str, Any]:
        instances = (body or {}).get("instances", [])
        return {"predictions": [0 for _ in instances], "model": app}


def _check_secrets(body: dict[str, Any], props: dict[str, Any]) -> None:
    """Key Vault secrets need an identity of the app; env secretRefs must name a secret."""
    identities = {k.lower() for k in ((body.get("identity") or {})
                                      .get("userAssignedIdentities") or {})}
    configuration = props.get("configuration", {})
    names = set()
    for secret in configuration.get("secrets") or []:
        if ("value" in secret) == ("keyVaultUrl" in secret):
            raise HttpError(400, "ContainerAppSecretInvalid", f"Secret {secret.get('name')} "
                            "needs exactly one of value and keyVaultUrl.")
        if "keyVaultUrl" in secret and str(secret.get("identity", "")).lower() not in identities:
            raise HttpError(400, "ContainerAppSecretInvalid", f"Secret {secret.get('name')}: "
                            "the identity must be one of the app's user-assigned identities.")
        names.add(secret["name"])
    for container in props.get("template", {}).get("containers", []):
        cpu, memory = float(container["resources"]["cpu"]), container["resources"]["memory"]
        if abs(float(str(memory).removesuffix("Gi")) - 2 * cpu) > 1e-6:
            raise HttpError(400, "ContainerAppInvalidResourceTotal", f"The total requested CPU "
                            f"and memory is invalid: {cpu} cores need {2 * cpu}Gi.")
        for env in container.get("env") or []:
            if "secretRef" in env and env["secretRef"] not in names:
                raise HttpError(400, "ContainerAppSecretRefNotFound",
                                f"secretRef {env['secretRef']} names no secret.")


def _check_traffic(traffic: list[dict[str, Any]], revisions: list[str]) -> None:
    if not traffic:
        return
    total = sum(int(t.get("weight", 0)) for t in traffic)
    if total != 100:
        raise HttpError(400, "ContainerAppInvalidTrafficWeight",
                        f"Traffic weights add up to {total}, not 100.")
    for entry in traffic:
        name = entry.get("revisionName")
        if name and name not in revisions:
            raise HttpError(400, "ContainerAppRevisionNotFound",
                            f"Traffic names revision {name}, which does not exist.")
