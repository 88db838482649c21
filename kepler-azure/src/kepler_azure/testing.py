"""A fake Azure Resource Manager for tests: the ARM surfaces kepler-azure uses, on 127.0.0.1.

The real Azure SDK clients talk to it (``azure.arm_endpoint`` set to ``http://127.0.0.1:PORT``,
a fake ``TokenCredential``, and an authentication policy that allows bearer tokens over http:
that relaxation lives here, in the test wiring, never in the product). It serves:

- **Microsoft.App** container apps (PUT/GET/PATCH/DELETE, list, ``getAuthToken``), their
  revisions (multiple-revision mode, traffic weights with labels), replicas with a log stream,
  and managed environments;
- **Microsoft.ContainerInstance** container groups (PUT/GET/DELETE, list, container logs), with
  batch groups (``restartPolicy: Never``) that stop when done;
- **Microsoft.ContainerRegistry** registries and ACR Tasks (``listBuildSourceUploadUrl``, a blob
  upload, ``scheduleRun``, runs that push their images);
- resource groups, subscriptions, ``Microsoft.Authorization/permissions``, and any other
  resource generically (Log Analytics workspaces, user-assigned identities, Key Vaults and
  secrets, role assignments).

Long-running operations answer 201/202 with ``Azure-AsyncOperation`` (PUT) or ``Location``
(PATCH, DELETE) headers and ``Retry-After: 0``; the first poll says ``InProgress``. Request
bodies of the typed resources are checked field by field: an unknown field is a 400, as at ARM.
Each request's ``api-version`` must be one ARM accepts for its provider.

Fault injection: :meth:`FakeArm.fail` (any status and ARM error code for matching requests:
403 ``AuthorizationFailed``, 409 ``Conflict``, 429 with ``Retry-After``),
:meth:`~FakeArm.fail_next_revision` (the revision fails with a reason),
:meth:`~FakeArm.hang_next_revision` (it never provisions), :meth:`~FakeArm.fail_next_build`,
:meth:`~FakeArm.finish_batch_with`.

Pytest fixture ``azure_fake`` (installed with kepler-azure): starts the fake and points the
``azure`` section at it (``KEPLER_AZURE__ARM_ENDPOINT``, fast polling), with a fake credential::

    def test_my_pipeline_deploys(azure_fake, monkeypatch):
        monkeypatch.setenv("KEPLER_AZURE__SUBSCRIPTION", "sub-1")
        azure_fake.seed_environment("sub-1", "kepler", "kepler-env")
        dep = kp.deploy.to_azure(model_folder, image="kepler.azurecr.io/pumps:v1")
        assert dep.status == "running"
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ._fake_aci import AciMixin
from ._fake_apps import AppsMixin
from ._fake_base import HttpError, Recorded, _Fault, _Op, error, now, public
from ._fake_schemas import SCHEMAS, check_body

#: api-versions ARM accepts, by the last provider namespace of the path.
SUPPORTED = {
    "microsoft.app": {"2024-03-01", "2025-01-01", "2026-07-01"},
    "microsoft.containerinstance": {"2023-05-01", "2024-05-01-preview"},
    "microsoft.containerregistry": {"2023-07-01", "2025-11-01"},
    "acr-tasks": {"2019-06-01-preview"},
    "microsoft.resources": {"2024-03-01", "2025-04-01"},
    "microsoft.operationalinsights": {"2023-09-01"},
    "microsoft.managedidentity": {"2023-01-31"},
    "microsoft.keyvault": {"2023-07-01"},
    "microsoft.authorization": {"2022-04-01"},
    "subscription": {"2022-12-01"},
}
NOT_LISTENING = ("Container 'model' failed its startup probe: GET /ready on port 8080 was "
                 "refused (the container did not listen on the target port).")
_SUB = r"/subscriptions/(?P<sub>[^/]+)"
_RG = _SUB + r"/resource[gG]roups/(?P<rg>[^/]+)"
_APP = _RG + r"/providers/Microsoft\.App/containerApps"
_CG = _RG + r"/providers/Microsoft\.ContainerInstance/containerGroups"
_ACR = _RG + r"/providers/Microsoft\.ContainerRegistry/registries/(?P<registry>[^/]+)"


@dataclass
class FakeArm(AppsMixin, AciMixin):
    """The fake; see the module's documentation. Thread-safe; binds 127.0.0.1 only."""

    #: Actions ``Microsoft.Authorization/permissions`` grants (default: everything).
    actions: list[str] = field(default_factory=lambda: ["*"])
    not_actions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.requests: list[Recorded] = []
        self.groups: dict[str, dict[str, Any]] = {}
        self.resources: dict[str, dict[str, Any]] = {}  # lowercased id -> resource
        self.apps: dict[str, dict[str, Any]] = {}
        self.revisions: dict[str, list[dict[str, Any]]] = {}
        self.container_groups: dict[str, dict[str, Any]] = {}
        self.secret_values: dict[str, str] = {}
        self.blobs: dict[str, bytes] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.images: set[str] = set()
        self.app_logs: dict[str, list[str]] = {}
        self.group_logs: dict[str, str] = {}
        self.missing_subscriptions: set[str] = set()
        self._ops: dict[str, _Op] = {}
        self._faults: list[_Fault] = []
        self._next_revision: tuple[str, str] | None = None
        self._next_build_error: str | None = None
        self._batch: tuple[int, str] = (0, '{"rows": 3, "predictions": 3}')
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # --- server -------------------------------------------------------------------------------

    def start(self) -> FakeArm:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, payload = fake.dispatch(self.command, self.path,
                                                         dict(self.headers), raw)
                data = payload if isinstance(payload, bytes) else \
                    (json.dumps(payload).encode() if payload is not None else b"")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain" if isinstance(payload, bytes)
                                 else "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeArm:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def environ(self) -> dict[str, str]:
        """``KEPLER_AZURE__*`` variables pointing the ``azure`` section at the fake."""
        return {"KEPLER_AZURE__ARM_ENDPOINT": self.url, "KEPLER_AZURE__POLL_INTERVAL": "0",
                "KEPLER_AZURE__READY_TIMEOUT": "10", "KEPLER_AZURE__BUILD_TIMEOUT": "10"}

    # --- fault injection and seeding ----------------------------------------------------------

    def fail(self, method: str, path: str, status: int = 403, code: str | None = None,
             message: str | None = None, *, times: int = 1, retry_after: int | None = None
             ) -> None:
        """Answer the next ``times`` requests ``method`` on a path matching regex ``path``
        with ``status`` and ARM error ``code``."""
        default = {403: "AuthorizationFailed", 409: "Conflict", 429: "TooManyRequests",
                   404: "ResourceNotFound"}.get(status, "BadRequest")
        self._faults.append(_Fault(method.upper(), re.compile(path, re.I), status,
                                   code or default, message or f"injected {status}", times,
                                   retry_after))

    def fail_next_revision(self, reason: str = NOT_LISTENING) -> None:
        self._next_revision = ("fail", reason)

    def hang_next_revision(self) -> None:
        self._next_revision = ("hang", "")

    def fail_next_build(self, detail: str = "Step 1/5: failed to build the image") -> None:
        self._next_build_error = detail

    def finish_batch_with(self, exit_code: int, output: str) -> None:
        """How the next batch container group ends (exit code, its log)."""
        self._batch = (exit_code, output)

    def seed_environment(self, sub: str, group: str, environment: str = "kepler-env",
                         location: str = "westeurope") -> str:
        """A resource group and a managed environment, as ``kepler azure provision`` leaves."""
        self.groups[group.lower()] = {"id": f"/subscriptions/{sub}/resourceGroups/{group}",
                                      "name": group, "location": location,
                                      "properties": {"provisioningState": "Succeeded"}}
        rid = (f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.App/"
               f"managedEnvironments/{environment}")
        self.resources[rid.lower()] = {"id": rid, "name": environment, "location": location,
                                       "properties": {"provisioningState": "Succeeded"}}
        return rid

    def add_app_log(self, app: str, line: str) -> None:
        self.app_logs.setdefault(app, []).append(line)

    def calls(self, method: str | None = None, contains: str = "") -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method)
                and contains.lower() in r.path.lower()]

    def traffic(self, app: str) -> list[tuple[str, int, str]]:
        """(revision, weight, label) of the app's traffic, latestRevision resolved."""
        props = self.apps[app]["properties"]
        latest = props.get("latestReadyRevisionName", "")
        return [(t.get("revisionName") or (latest if t.get("latestRevision") else ""),
                 int(t.get("weight", 0)), t.get("label", ""))
                for t in props["configuration"]["ingress"].get("traffic", [])]

    # --- dispatch -----------------------------------------------------------------------------

    def dispatch(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes
                 ) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(raw_path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body: Any = None
        if raw and not parts.path.startswith("/_blob/"):
            try:
                body = json.loads(raw)
            except ValueError:
                return 400, {}, error("InvalidRequestContent", "The body is not JSON.")
        with self._lock:
            self.requests.append(Recorded(method, parts.path, query, body, headers))
            try:
                self._check(method, parts.path, query, headers)
                return self._route(method, parts.path, query, body, raw, headers)
            except HttpError as exc:
                return exc.status, exc.headers, error(exc.code, exc.message)

    def _check(self, method: str, path: str, query: dict[str, str],
               headers: dict[str, str]) -> None:
        for fault in self._faults:
            if fault.times > 0 and fault.method in (method, "*") and fault.pattern.search(path):
                fault.times -= 1
                extra = {"Retry-After": str(fault.retry_after)} \
                    if fault.retry_after is not None else {}
                raise HttpError(fault.status, fault.code, fault.message, extra)
        if not path.startswith("/subscriptions/"):
            return
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if not auth.startswith("Bearer "):
            raise HttpError(401, "AuthenticationFailed", "Authentication failed. The "
                            "'Authorization' header is missing.")
        provider = _provider(path)
        wanted = SUPPORTED[provider]
        if query.get("api-version") not in wanted:
            raise HttpError(400, "InvalidApiVersionParameter",
                            f"The api-version '{query.get('api-version')}' is invalid for "
                            f"{provider}. The supported versions are "
                            f"'{','.join(sorted(wanted))}'.")

    def _routes(self) -> list[tuple[str, str, Callable[..., Any]]]:
        return [
            ("GET", r"/_ops/(?P<op>[^/]+)", self._op_status),
            ("GET", r"/_results/(?P<op>[^/]+)", self._op_result),
            ("PUT", r"/_blob/(?P<blob>.+)", self._blob_put),
            ("GET", r"/_logstream/(?P<app>[^/]+)/(?P<rev>[^/]+)", self._logstream),
            ("POST", r"/_apps/(?P<app>[^/]+)/predict", self._predict),
            ("POST", r"/_aci/(?P<app>[^/]+)/predict", self._predict),
            ("GET", _SUB, self._subscription),
            ("*", _RG, self._group),
            ("GET", _RG + r"/providers/Microsoft\.Authorization/permissions", self._permissions),
            ("GET", _APP, self._app_list),
            ("POST", _APP + r"/(?P<app>[^/]+)/getAuthToken", self._auth_token),
            ("GET", _APP + r"/(?P<app>[^/]+)/revisions", self._revision_list),
            ("GET", _APP + r"/(?P<app>[^/]+)/revisions/(?P<rev>[^/]+)", self._revision_get),
            ("GET", _APP + r"/(?P<app>[^/]+)/revisions/(?P<rev>[^/]+)/replicas",
             self._replicas),
            ("*", _APP + r"/(?P<app>[^/]+)", self._app),
            ("GET", _CG, self._group_list),
            ("GET", _CG + r"/(?P<cg>[^/]+)/containers/(?P<c>[^/]+)/logs", self._group_logs),
            ("*", _CG + r"/(?P<cg>[^/]+)", self._container_group),
            ("POST", _ACR + r"/listBuildSourceUploadUrl", self._upload_url),
            ("POST", _ACR + r"/scheduleRun", self._schedule_run),
            ("GET", _ACR + r"/runs/(?P<run>[^/]+)", self._run_get),
            ("POST", _RG + r"/providers/Microsoft\.OperationalInsights/workspaces/"
             r"(?P<ws>[^/]+)/sharedKeys", self._shared_keys),
            ("*", _SUB + r"/.*/providers/.+", self._generic),
        ]

    def _route(self, method: str, path: str, query: dict[str, str], body: Any, raw: bytes,
               headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        for verb, pattern, handler in self._routes():
            match = re.fullmatch(pattern, path, re.IGNORECASE)
            if match and verb in (method, "*"):
                answer = handler(method=method, path=path, query=query, body=body, raw=raw,
                                 headers=headers, **match.groupdict())
                if isinstance(answer, tuple):
                    return answer
                return 200, {}, answer
        raise HttpError(404, "NoRegisteredProviderFound", f"No route for {method} {path}.")

    # --- long-running operations --------------------------------------------------------------

    def _lro(self, status: int, body: Any, op: _Op, *, location: bool = False
             ) -> tuple[int, dict[str, str], Any]:
        """Answer ``status`` with the polling header of a new operation."""
        op_id = f"op{next(self._ids)}"
        self._ops[op_id] = op
        header = {"Location": f"{self.url}/_results/{op_id}"} if location else \
            {"Azure-AsyncOperation": f"{self.url}/_ops/{op_id}"}
        return status, {**header, "Retry-After": "0"}, body

    def _op_status(self, op: str, **_: Any) -> tuple[int, dict[str, str], Any]:
        operation = self._ops.get(op)
        if operation is None:
            raise HttpError(404, "OperationNotFound", f"Operation {op} not found.")
        state = operation.poll()
        out: dict[str, Any] = {"id": op, "name": op, "status": state, "startTime": now()}
        if state == "Failed":
            out["error"] = operation.error
        # a hung operation is polled once a second, so a waiting client does not spin
        return 200, {"Retry-After": "1" if operation.polls is None else "0"}, out

    def _op_result(self, op: str, **_: Any) -> tuple[int, dict[str, str], Any]:
        operation = self._ops.get(op)
        if operation is None:
            raise HttpError(404, "OperationNotFound", f"Operation {op} not found.")
        state = operation.poll()
        if state == "InProgress":
            return 202, {"Location": f"{self.url}/_results/{op}", "Retry-After": "0"}, None
        if state == "Failed" and operation.error:
            raise HttpError(400, operation.error["code"], operation.error["message"])
        return 204, {}, None

    # --- subscriptions, groups, permissions ---------------------------------------------------

    def _subscription(self, sub: str, **_: Any) -> dict[str, Any]:
        if sub in self.missing_subscriptions:
            raise HttpError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not "
                            "be found.")
        return {"id": f"/subscriptions/{sub}", "subscriptionId": sub, "state": "Enabled",
                "displayName": f"Fake subscription {sub}"}

    def _group(self, method: str, sub: str, rg: str, body: Any, **_: Any) -> Any:
        key = rg.lower()
        if method == "PUT":
            check_body("resourceGroup", body)
            created = key not in self.groups
            self.groups[key] = {"id": f"/subscriptions/{sub}/resourceGroups/{rg}", "name": rg,
                                "location": body["location"], "tags": body.get("tags", {}),
                                "properties": {"provisioningState": "Succeeded"}}
            return 201 if created else 200, {}, self.groups[key]
        if key not in self.groups:
            raise HttpError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not "
                            "be found.")
        if method == "DELETE":
            del self.groups[key]
            return self._lro(202, None, _Op(), location=True)
        return self.groups[key]

    def _need_group(self, rg: str) -> None:
        if rg.lower() not in self.groups:
            raise HttpError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not "
                            "be found.")

    def _permissions(self, **_: Any) -> dict[str, Any]:
        return {"value": [{"actions": list(self.actions), "notActions": list(self.not_actions),
                           "dataActions": [], "notDataActions": []}]}

    # --- generic resources --------------------------------------------------------------------

    def _generic(self, method: str, path: str, body: Any, **_: Any) -> Any:
        key = path.lower()
        match = re.match(_RG, path)
        if match and method == "PUT":
            self._need_group(match["rg"])
        if method == "PUT":
            return self._generic_put(path, key, body)
        if key not in self.resources:
            tail = path.split("/providers/")[-1]
            raise HttpError(404, "ResourceNotFound", f"The Resource '{tail}' was not found.")
        if method == "DELETE":
            del self.resources[key]
            return self._lro(202, None, _Op(), location=True)
        return public(self.resources[key])

    def _generic_put(self, path: str, key: str, body: Any) -> Any:
        kind = _kind(path)
        check_body(kind if kind in SCHEMAS else "generic", body)
        name = path.rstrip("/").rsplit("/", 1)[-1]
        existing = self.resources.get(key)
        resource = {**copy.deepcopy(body), "id": path, "name": name, "type": kind}
        props = resource.setdefault("properties", {})
        props["provisioningState"] = "Succeeded"
        if kind == "Microsoft.ManagedIdentity/userAssignedIdentities":
            old = (existing or {}).get("properties", {})
            props.update(principalId=old.get("principalId", str(uuid.uuid4())),
                         clientId=old.get("clientId", str(uuid.uuid4())),
                         tenantId="00000000-0000-0000-0000-00000000fake")
        elif kind == "Microsoft.OperationalInsights/workspaces":
            props["customerId"] = (existing or {}).get("properties", {}).get(
                "customerId", str(uuid.uuid4()))
        elif kind == "Microsoft.KeyVault/vaults/secrets":
            self.secret_values[path.lower()] = props.pop("value", "")
            props["secretUri"] = f"https://{path.split('/')[-3]}.vault.azure.net/secrets/{name}"
        elif kind == "Microsoft.Authorization/roleAssignments":
            self._unique_assignment(path, props)
        self.resources[key] = resource
        return self._lro(200 if existing else 201, public(resource), _Op())

    def _unique_assignment(self, path: str, props: dict[str, Any]) -> None:
        scope = path.lower().split("/providers/microsoft.authorization/")[0]
        for key, other in self.resources.items():
            if key != path.lower() and key.startswith(scope + "/providers/microsoft.author") \
                    and other["properties"].get("principalId") == props.get("principalId") \
                    and other["properties"].get("roleDefinitionId") == \
                    props.get("roleDefinitionId"):
                raise HttpError(409, "RoleAssignmentExists", "The role assignment already "
                                "exists.")

    def _shared_keys(self, path: str, **_: Any) -> dict[str, Any]:
        key = path.lower().rsplit("/sharedkeys", 1)[0]
        if key not in self.resources:
            raise HttpError(404, "ResourceNotFound", "Workspace not found.")
        return {"primarySharedKey": "ZmFrZS1wcmltYXJ5", "secondarySharedKey": "ZmFrZS0y"}


def _provider(path: str) -> str:
    lowered = path.lower()
    if re.search(r"/registries/[^/]+/(listbuildsourceuploadurl|schedulerun|runs)", lowered):
        return "acr-tasks"
    found = re.findall(r"/providers/([^/]+)", lowered)
    if found:
        return found[-1]
    return "microsoft.resources" if "/resourcegroups/" in lowered else "subscription"


def _kind(path: str) -> str:
    """``Namespace/type[/subtype]`` of a resource ID (its last provider)."""
    tail = path.split("/providers/")[-1].split("/")
    return "/".join([tail[0], *tail[1::2]])


@pytest.fixture
def azure_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArm]:
    """A running :class:`FakeArm`, with the ``azure`` section pointed at it through
    ``KEPLER_AZURE__*`` variables and the test wiring (fake credential, http allowed) in place;
    stopped after the test. Set ``azure.subscription`` yourself."""
    from . import clients
    from ._fake_auth import wiring

    fake = FakeArm().start()
    try:
        for key, value in fake.environ().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr(clients, "TEST_WIRING", wiring())
        yield fake
    finally:
        fake.stop()


__all__ = ["NOT_LISTENING", "FakeArm", "Recorded", "azure_fake"]
