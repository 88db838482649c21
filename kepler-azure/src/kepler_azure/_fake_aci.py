"""Microsoft.ContainerInstance and ACR Tasks in the fake ARM server.

Container groups: a service group (``restartPolicy: Always``) runs once provisioned; a batch
group (``Never``) ends when provisioned, with the exit code and log of ``finish_batch_with``.
Secure environment values are kept by the fake (``secure_values``) and never returned, as ARM
does. ACR Tasks: an upload URL for the source archive, the upload itself (a block blob PUT),
``scheduleRun`` of a Docker build, and runs that succeed on their second read and push their
images (or fail, after ``fail_next_build``).
"""

from __future__ import annotations

import copy
from typing import Any

from ._fake_base import HttpError, _Op, now, public
from ._fake_schemas import check_body


class AciMixin:
    """The Container Instances and ACR Tasks routes of :class:`kepler_azure.testing.FakeArm`."""

    container_groups: dict[str, dict[str, Any]]
    group_logs: dict[str, str]
    blobs: dict[str, bytes]
    runs: dict[str, dict[str, Any]]
    images: set[str]
    _batch: tuple[int, str]
    _next_revision: tuple[str, str] | None
    _next_build_error: str | None
    _ids: Any

    @property
    def url(self) -> str:
        raise NotImplementedError  # FakeArm's

    def _lro(self, status: int, body: Any, op: _Op, *, location: bool = False) -> Any: ...
    def _need_group(self, rg: str) -> None: ...

    # --- container groups -----------------------------------------------------------------------

    def _container_group(self, method: str, path: str, rg: str, cg: str, body: Any,
                         **_: Any) -> Any:
        if method == "PUT":
            self._need_group(rg)
            check_body("containerGroup", body)
            return self._group_put(path, cg, body)
        if cg not in self.container_groups:
            raise HttpError(404, "ResourceNotFound", f"The Resource 'Microsoft.Container"
                            f"Instance/containerGroups/{cg}' was not found.")
        if method == "GET":
            return self._group_view(cg)
        if method == "DELETE":
            view = self._group_view(cg)
            del self.container_groups[cg]
            return 200, {}, view
        raise HttpError(405, "MethodNotAllowed", method)

    def _group_put(self, path: str, cg: str, body: dict[str, Any]) -> Any:
        props = copy.deepcopy(body["properties"])
        secure: dict[str, str] = {}
        for container in props["containers"]:
            for env in container["properties"].get("environmentVariables", []):
                if "secureValue" in env:
                    secure[env["name"]] = env.pop("secureValue")
        ip = props.get("ipAddress")
        if ip is not None:
            if ip["type"] == "Private" and not props.get("subnetIds"):
                raise HttpError(400, "PrivateIPAddressNotSupported", "A private IP address "
                                "needs subnetIds.")
            ip["ip"] = "20.50.0.4" if ip["type"] == "Public" else "10.0.0.4"
            if ip.get("dnsNameLabel"):
                ip["fqdn"] = f"{self.url}/_aci/{cg}"
        existing = cg in self.container_groups
        props.update(provisioningState="Pending", instanceView={"state": "Pending"})
        stored = {"id": path, "name": cg, "type": "Microsoft.ContainerInstance/containerGroups",
                  "location": body["location"], "tags": body.get("tags", {}),
                  "identity": body.get("identity"), "properties": props,
                  "_secure": secure}
        self.container_groups[cg] = stored
        outcome, reason = self._next_revision or ("ok", "")
        self._next_revision = None
        if outcome == "hang":
            return self._lro(200 if existing else 201, self._group_view(cg), _Op(polls=None))
        if outcome == "fail":
            def failed() -> None:
                props.update(provisioningState="Failed", instanceView={"state": "Failed"})
            return self._lro(201, self._group_view(cg), _Op(
                finish=failed, error={"code": "ContainerGroupDeploymentFailed",
                                      "message": reason}))
        return self._lro(200 if existing else 201, self._group_view(cg),
                         _Op(finish=lambda: self._group_started(cg)))

    def _group_started(self, cg: str) -> None:
        props = self.container_groups[cg]["properties"]
        props["provisioningState"] = "Succeeded"
        if props.get("restartPolicy") == "Never":
            code, output = self._batch
            props["instanceView"] = {"state": "Succeeded" if code == 0 else "Failed"}
            state = {"state": "Terminated", "exitCode": code, "finishTime": now(),
                     "detailStatus": "Completed" if code == 0 else "Error"}
            self.group_logs[cg] = output
        else:
            props["instanceView"] = {"state": "Running"}
            state = {"state": "Running", "startTime": now()}
        for container in props["containers"]:
            container["properties"]["instanceView"] = {"currentState": state,
                                                       "restartCount": 0}

    def _group_view(self, cg: str) -> dict[str, Any]:
        return public(copy.deepcopy(self.container_groups[cg]))

    def secure_values(self, cg: str) -> dict[str, str]:
        """The secure environment values the group received (never returned by GET)."""
        return dict(self.container_groups[cg]["_secure"])

    def _group_list(self, rg: str, **_: Any) -> dict[str, Any]:
        return {"value": [self._group_view(name) for name, item in self.container_groups.items()
                          if f"/resourcegroups/{rg.lower()}/" in item["id"].lower()]}

    def _group_logs(self, cg: str, c: str, query: dict[str, str], **_: Any) -> dict[str, Any]:
        if cg not in self.container_groups:
            raise HttpError(404, "ResourceNotFound", f"Container group {cg} not found.")
        lines = self.group_logs.get(cg, "").splitlines()
        tail = int(query.get("tail", "0") or 0)
        return {"content": "\n".join(lines[-tail:] if tail else lines)}

    # --- ACR Tasks ------------------------------------------------------------------------------

    def _upload_url(self, registry: str, **_: Any) -> dict[str, Any]:
        blob = f"{registry}/source/{next(self._ids)}.tar.gz"
        return {"uploadUrl": f"{self.url}/_blob/{blob}?sv=2023&sig=fake",
                "relativePath": f"source/{blob.rsplit('/', 1)[-1]}"}

    def _blob_put(self, blob: str, raw: bytes, headers: dict[str, str], **_: Any) -> Any:
        kind = {k.lower(): v for k, v in headers.items()}.get("x-ms-blob-type")
        if kind != "BlockBlob":
            raise HttpError(400, "MissingRequiredHeader", "x-ms-blob-type: BlockBlob needed.")
        self.blobs[blob] = raw
        return 201, {}, None

    def _schedule_run(self, registry: str, body: Any, **_: Any) -> dict[str, Any]:
        check_body("dockerBuildRequest", body)
        source = f"{registry}/{body.get('sourceLocation', '')}"
        if source not in self.blobs:
            raise HttpError(400, "InvalidSourceLocation", f"No uploaded source at "
                            f"{body.get('sourceLocation')}.")
        run_id = f"ca{next(self._ids)}"
        self.runs[run_id] = {"runId": run_id, "status": "Queued", "reads": 0,
                             "request": body, "registry": registry,
                             "error": self._next_build_error}
        self._next_build_error = None
        return {"id": run_id, "name": run_id, "properties": {"runId": run_id,
                                                             "status": "Queued"}}

    def _run_get(self, registry: str, run: str, **_: Any) -> dict[str, Any]:
        if run not in self.runs:
            raise HttpError(404, "RunNotFound", f"Run {run} not found.")
        state = self.runs[run]
        state["reads"] += 1
        if state["reads"] == 1:
            state["status"] = "Running"
        elif state["status"] == "Running":
            state["status"] = "Failed" if state["error"] else "Succeeded"
            if not state["error"]:
                for image in state["request"]["imageNames"]:
                    self.images.add(f"{registry}.azurecr.io/{image}")
        props: dict[str, Any] = {"runId": run, "status": state["status"]}
        if state["status"] == "Failed":
            props["runErrorMessage"] = state["error"]
        return {"id": run, "name": run, "properties": props}
