"""A fake Google Cloud for tests: the REST surfaces kepler-gcp uses, on 127.0.0.1.

The real Google client libraries talk to it (``transport="rest"``, an ``http://127.0.0.1:PORT``
endpoint, anonymous credentials), so your own pipelines can be tested against Cloud Run without
an account. It serves:

- **Cloud Run Admin API v2**: services (create, get, list, update, delete), revisions, traffic,
  IAM policies, long-running operations polled at ``/v2/.../operations/{id}`` (``done`` is false
  on the first poll). Service bodies are validated against the v2 ``Service`` message with
  ``ignore_unknown_fields=False``: an unknown field is a 400, as at Google. Each deployed
  service answers ``POST <uri>/predict`` with zeros.
- **Cloud Build** (builds from a Cloud Storage source; a successful build pushes its images),
  **Cloud Storage** (buckets, multipart uploads), **Artifact Registry** (repositories, tags),
  **Secret Manager** (secrets, versions, IAM), **IAM** (service accounts), **Resource Manager**
  (projects, ``testIamPermissions``) and **Cloud Logging** (``entries:list``).
- Fault injection: :meth:`FakeGoogleCloud.fail` (any status for matching requests, e.g. 403,
  429, 409), :meth:`~FakeGoogleCloud.fail_next_revision` (the revision fails, with a reason such
  as not listening on ``$PORT``), :meth:`~FakeGoogleCloud.hang_next_revision` (it never becomes
  ready), :meth:`~FakeGoogleCloud.fail_next_build`, :meth:`~FakeGoogleCloud.deny`.

Every request is kept in ``fake.requests`` (method, path, query, body).

Pytest fixture ``gcp_fake`` (installed with kepler-gcp): starts the fake, points the ``gcp``
section's endpoints at it through ``KEPLER_GCP__*`` variables (anonymous credentials, fast
polling) and stops it after the test. Set the project yourself (kepler.yml or
``KEPLER_GCP__PROJECT``)::

    def test_my_pipeline_deploys(gcp_fake, monkeypatch):
        monkeypatch.setenv("KEPLER_GCP__PROJECT", "my-project")
        gcp_fake.add_image("europe-west1-docker.pkg.dev/my-project/kepler/pumps:v1")
        dep = kp.deploy.to_cloud_run(model_folder, image="europe-west1-docker.pkg.dev/"
                                     "my-project/kepler/pumps:v1")
        assert dep.status == "running"
        assert gcp_fake.services["projects/my-project/locations/europe-west1/services/pumps"]

Outside pytest: ``with FakeGoogleCloud() as fake: settings = fake.settings(project="p")``.
"""

from __future__ import annotations

import base64
import copy
import datetime as _dt
import hashlib
import itertools
import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

NOT_LISTENING = ("The user-provided container failed to start and listen on the port defined "
                 "provided by the PORT=8080 environment variable within the allocated timeout.")
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 409: "ALREADY_EXISTS", 412: "FAILED_PRECONDITION",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 501: "UNIMPLEMENTED",
                503: "UNAVAILABLE"}
_LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
_REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"
_RUN = "type.googleapis.com/google.cloud.run.v2.Service"
_BUILD = "type.googleapis.com/google.devtools.cloudbuild.v1.Build"
_BUILD_META = "type.googleapis.com/google.devtools.cloudbuild.v1.BuildOperationMetadata"
_REPO = "type.googleapis.com/google.devtools.artifactregistry.v1.Repository"
_SEG = r"[^/:?]+"
#: Fields of a Service that Cloud Run sets; a request's values for them are ignored.
_OUTPUT_ONLY = frozenset({
    "name", "uid", "generation", "observedGeneration", "createTime", "updateTime", "deleteTime",
    "expireTime", "creator", "lastModifier", "uri", "urls", "trafficStatuses",
    "latestReadyRevision", "latestCreatedRevision", "terminalCondition", "conditions",
    "reconciling", "etag", "satisfiesPzs"})


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    message: str
    times: int


@dataclass
class _Operation:
    name: str
    response: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    #: Polls answered "not done" before it is done; None: never done.
    polls_left: int | None = 1

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "done": False}
        if self.metadata:
            out["metadata"] = self.metadata
        if self.polls_left is None or self.polls_left > 0:
            return out
        out["done"] = True
        if self.error is not None:
            out["error"] = self.error
        elif self.response is not None:
            out["response"] = self.response
        return out


@dataclass
class FakeGoogleCloud:
    """The fake; see the module's documentation. Thread-safe; binds 127.0.0.1 only."""

    #: Permissions ``testIamPermissions`` refuses (everything else is granted).
    denied: set[str] = field(default_factory=set)
    #: Projects Resource Manager says do not exist (403, as Google answers).
    missing_projects: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.requests: list[Recorded] = []
        self.services: dict[str, dict[str, Any]] = {}
        self.revisions: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, _Operation] = {}
        self.buckets: dict[str, dict[str, Any]] = {}
        self.objects: dict[tuple[str, str], bytes] = {}
        self.repositories: dict[str, dict[str, Any]] = {}
        self.images: dict[str, str] = {}  # "host/project/repo/package:tag" -> digest
        self.secrets: dict[str, dict[str, Any]] = {}
        self.secret_versions: dict[str, list[bytes]] = {}
        self.service_accounts: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, dict[str, Any]] = {}
        self.builds: list[dict[str, Any]] = []
        self.log_entries: dict[str, list[dict[str, Any]]] = {}
        self._faults: list[_Fault] = []
        self._revision_faults: list[tuple[str, str]] = []
        self._build_faults: list[str] = []
        self._clock = itertools.count(1)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeGoogleCloud:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, payload = fake.dispatch(self.command, self.path,
                                                self.headers.get("Content-Type", ""), raw)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeGoogleCloud:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def settings(self, **values: Any) -> dict[str, Any]:
        """A ``gcp`` section using the fake (add ``project=...`` and anything else)."""
        endpoints = {f"{api}_endpoint": self.url for api in (
            "run", "build", "storage", "artifact", "secrets", "iam", "resourcemanager",
            "logging")}
        return {**endpoints, "anonymous": True, "poll_interval": 0.01, "ready_timeout": 10,
                "build_timeout": 10, **values}

    def environ(self) -> dict[str, str]:
        """The ``KEPLER_GCP__*`` variables of :meth:`settings`."""
        return {f"KEPLER_GCP__{k.upper()}": str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in self.settings().items()}

    # --- faults and fixtures ------------------------------------------------------------------

    def fail(self, method: str, path: str, status: int = 403, message: str | None = None, *,
             times: int = 1) -> None:
        """Answer the next ``times`` requests whose method is ``method`` ("*" for any) and whose
        path matches regex ``path`` with HTTP ``status`` and a Google error body."""
        self._faults.append(_Fault(method.upper(), re.compile(path), status,
                                   message or f"Injected {STATUS_NAMES.get(status, status)}.",
                                   times))

    def fail_next_revision(self, reason: str = NOT_LISTENING) -> None:
        """The next revision fails to become ready; its conditions carry ``reason``."""
        self._revision_faults.append(("fail", reason))

    def hang_next_revision(self, reason: str = NOT_LISTENING) -> None:
        """The next revision never becomes ready (its operation is never done)."""
        self._revision_faults.append(("hang", reason))

    def fail_next_build(self, detail: str = "Step #0: failed to build the image") -> None:
        self._build_faults.append(detail)

    def deny(self, *permissions: str) -> None:
        """``testIamPermissions`` leaves these out of its answer."""
        self.denied.update(permissions)

    def add_image(self, image: str) -> None:
        """An image (``HOST/PROJECT/REPO/PACKAGE:TAG``) present in Artifact Registry."""
        self.images[image] = "sha256:" + hashlib.sha256(image.encode()).hexdigest()

    def add_log(self, service: str, text: str, severity: str = "INFO") -> None:
        entries = self.log_entries.setdefault(service, [])
        stamp = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(seconds=len(entries))
        entries.append({"textPayload": text, "severity": severity,
                        "timestamp": stamp.isoformat().replace("+00:00", "Z")})

    def calls(self, method: str | None = None, contains: str = "") -> list[Recorded]:
        """The requests received, filtered by method and a substring of the path."""
        return [r for r in self.requests if (method is None or r.method == method)
                and contains in r.path]

    # --- dispatch -----------------------------------------------------------------------------

    def dispatch(self, method: str, raw_path: str, content_type: str, raw: bytes
                 ) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body: Any = None
        if raw and "multipart" not in content_type:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        with self._lock:
            self.requests.append(Recorded(method, path, query, body))
            try:
                for fault in self._faults:
                    if fault.times > 0 and fault.method in ("*", method) and \
                            fault.pattern.search(path):
                        fault.times -= 1
                        raise HttpError(fault.status, fault.message)
                for verb, pattern, handler in self._routes():
                    match = re.fullmatch(pattern, path)
                    if match and verb == method:
                        return 200, handler(*match.groups(), query=query, body=body,
                                            raw=raw, content_type=content_type)
                raise HttpError(404, f"The fake has no route for {method} {path}.")
            except HttpError as exc:
                return exc.status, {"error": {"code": exc.status, "message": exc.message,
                                              "status": STATUS_NAMES.get(exc.status, "UNKNOWN")}}

    def _routes(self) -> list[tuple[str, str, Any]]:
        loc = rf"/v2/projects/({_SEG})/locations/({_SEG})"
        svc = rf"{loc}/services/({_SEG})"
        return [
            # Cloud Run v2
            ("POST", rf"{loc}/services", self._run_create),
            ("GET", rf"{loc}/services", self._run_list),
            ("GET", svc, self._run_get),
            ("PATCH", svc, self._run_update),
            ("DELETE", svc, self._run_delete),
            ("GET", rf"{svc}:getIamPolicy", self._run_get_policy),
            ("POST", rf"{svc}:getIamPolicy", self._run_get_policy),
            ("POST", rf"{svc}:setIamPolicy", self._run_set_policy),
            ("GET", rf"{svc}/revisions", self._run_revisions),
            ("GET", rf"{svc}/revisions/({_SEG})", self._run_revision),
            ("GET", r"/v[12]/(projects/[^/]+/locations/[^/]+/operations/[^/:]+)", self._op),
            ("GET", r"/v1/(operations/[^:]+)", self._op),
            # the deployed services
            ("POST", r"/_run/([^/]+)/predict", self._predict),
            ("GET", r"/_run/([^/]+)/health", lambda s, **_: {"status": "ok"}),
            # Cloud Build
            ("POST", rf"/v1/projects/({_SEG})/locations/({_SEG})/builds", self._build),
            ("POST", rf"/v1/projects/({_SEG})/builds",
             lambda p, **kw: self._build(p, "global", **kw)),
            # Cloud Storage
            ("GET", rf"/storage/v1/b/({_SEG})", self._bucket_get),
            ("POST", r"/storage/v1/b", self._bucket_create),
            ("POST", rf"/upload/storage/v1/b/({_SEG})/o", self._upload),
            # Artifact Registry
            ("GET", rf"/v1/projects/({_SEG})/locations/({_SEG})/repositories/({_SEG})",
             self._repo_get),
            ("POST", rf"/v1/projects/({_SEG})/locations/({_SEG})/repositories",
             self._repo_create),
            ("GET", rf"/v1/projects/({_SEG})/locations/({_SEG})/repositories/({_SEG})/"
                    rf"packages/({_SEG})/tags/({_SEG})", self._tag_get),
            # Secret Manager
            ("GET", rf"/v1/projects/({_SEG})/secrets/({_SEG})", self._secret_get),
            ("POST", rf"/v1/projects/({_SEG})/secrets", self._secret_create),
            ("POST", rf"/v1/projects/({_SEG})/secrets/({_SEG}):addVersion", self._secret_add),
            ("GET", rf"/v1/(projects/{_SEG}/secrets/{_SEG}):getIamPolicy", self._get_policy),
            ("POST", rf"/v1/(projects/{_SEG}/secrets/{_SEG}):getIamPolicy", self._get_policy),
            ("POST", rf"/v1/(projects/{_SEG}/secrets/{_SEG}):setIamPolicy", self._set_policy),
            # IAM
            ("GET", rf"/v1/projects/({_SEG})/serviceAccounts/({_SEG})", self._sa_get),
            ("POST", rf"/v1/projects/({_SEG})/serviceAccounts", self._sa_create),
            # Resource Manager
            ("GET", rf"/v3/projects/({_SEG})", self._project_get),
            ("POST", rf"/v3/projects/({_SEG}):testIamPermissions", self._test_permissions),
            # Cloud Logging
            ("POST", r"/v2/entries:list", self._logs),
        ]

    # --- helpers ------------------------------------------------------------------------------

    def _now(self) -> str:
        stamp = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC) + \
            _dt.timedelta(seconds=next(self._clock))
        return stamp.isoformat().replace("+00:00", "Z")

    def _operation(self, prefix: str, **values: Any) -> dict[str, Any]:
        op = _Operation(name=f"{prefix}/operations/{uuid.uuid4()}", **values)
        self.operations[op.name] = op
        return op.view()

    def _op(self, name: str, **_: Any) -> dict[str, Any]:
        op = self.operations.get(name)
        if op is None:
            raise HttpError(404, f"Operation {name} not found.")
        if op.polls_left is not None and op.polls_left > 0:
            op.polls_left -= 1
            return {**op.view(), "done": False}
        return op.view()

    @staticmethod
    def _validate(message: str, body: Any) -> dict[str, Any]:
        """Reject a body that is not a valid proto-JSON ``message`` (unknown fields too);
        return it normalized (enums as names, whatever encoding the client chose)."""
        from google.protobuf import json_format

        if message == "run.Service":
            from google.cloud import run_v2

            pb = run_v2.Service.pb()()
        else:
            from google.cloud.devtools import cloudbuild_v1

            pb = cloudbuild_v1.Build.pb()()
        if not isinstance(body, dict):
            raise HttpError(400, f"Invalid JSON payload: expected a {message} object.")
        try:
            json_format.ParseDict(body, pb, ignore_unknown_fields=False)
        except json_format.ParseError as exc:
            raise HttpError(400, f"Invalid JSON payload received. {exc}") from None
        normalized: dict[str, Any] = json_format.MessageToDict(pb)
        return normalized

    # --- Cloud Run ----------------------------------------------------------------------------

    def _service_view(self, full: str) -> dict[str, Any]:
        state = self.services[full]
        view = copy.deepcopy(state["spec"])
        sid = full.rsplit("/", 1)[-1]
        latest_ready = state.get("latestReadyRevision")
        statuses = []
        for entry in state["traffic"]:
            status = {k: v for k, v in entry.items() if k in ("type", "revision", "percent",
                                                              "tag")}
            if entry.get("tag"):
                status["uri"] = f"{self.url}/_run/{entry['tag']}---{sid}"
            statuses.append(status)
        view.update({
            "name": full, "uid": state["uid"], "generation": str(state["generation"]),
            "observedGeneration": str(state["generation"]),
            "createTime": state["createTime"], "updateTime": state["updateTime"],
            "uri": f"{self.url}/_run/{sid}", "urls": [f"{self.url}/_run/{sid}"],
            "traffic": copy.deepcopy(state["traffic"]), "trafficStatuses": statuses,
            "latestCreatedRevision": state.get("latestCreatedRevision", ""),
            "terminalCondition": state["terminalCondition"],
            "reconciling": state.get("reconciling", False),
            "etag": f'"{state["generation"]}"',
        })
        if latest_ready:
            view["latestReadyRevision"] = latest_ready
        return view

    def _run_create(self, project: str, location: str, *, query: dict[str, str], body: Any,
                    **_: Any) -> dict[str, Any]:
        sid = query.get("serviceId", "")
        if not re.fullmatch(r"[a-z](?:[a-z0-9-]{0,47}[a-z0-9])?", sid):
            raise HttpError(400, f"serviceId {sid!r} is invalid: lowercase letters, digits "
                            "and hyphens, starting with a letter, at most 49 characters.")
        full = f"projects/{project}/locations/{location}/services/{sid}"
        if full in self.services:
            raise HttpError(409, f"Resource '{sid}' already exists.")
        return self._rollout(full, self._validate("run.Service", body), None)

    def _run_update(self, project: str, location: str, sid: str, *, query: dict[str, str],
                    body: Any, **_: Any) -> dict[str, Any]:
        full = f"projects/{project}/locations/{location}/services/{sid}"
        body = self._validate("run.Service", body)
        existing = self.services.get(full)
        if existing is None and query.get("allowMissing") != "true":
            raise HttpError(404, f"Resource '{sid}' of kind 'SERVICE' in region '{location}' "
                            f"in project '{project}' does not exist.")
        return self._rollout(full, body, existing)

    def _rollout(self, full: str, body: dict[str, Any], existing: dict[str, Any] | None
                 ) -> dict[str, Any]:
        """Create or update a service as Cloud Run does: a new revision when the template
        changed, the traffic checked and applied, a long-running operation as the answer (a
        failing or hanging revision where one was injected)."""
        sid = full.rsplit("/", 1)[-1]
        spec = {k: v for k, v in body.items() if k not in _OUTPUT_ONLY and k != "traffic"}
        template = spec.get("template") or {}
        containers = template.get("containers") or []
        if not containers or not containers[0].get("image"):
            raise HttpError(400, "service.template.containers[0].image: is required.")
        if existing is not None and body.get("etag") and \
                body["etag"] != f'"{existing["generation"]}"':
            raise HttpError(409, "The etag does not match: the service changed meanwhile.")
        now = self._now()
        generation = existing["generation"] + 1 if existing else 1
        revision_id = template.get("revision") or \
            f"{sid}-{generation:05d}-{uuid.uuid4().hex[:3]}"
        revision_full = f"{full}/revisions/{revision_id}"
        new_revision = existing is None or template != existing["spec"].get("template")
        traffic = self._check_traffic(full, body, revision_id if new_revision else None)
        fault = self._revision_faults.pop(0) if new_revision and self._revision_faults else None
        state = existing or {"uid": str(uuid.uuid4()), "createTime": now, "traffic": [],
                             "terminalCondition": {}}
        state.update({"spec": spec, "generation": generation, "updateTime": now})
        self.services[full] = state
        ready = {"type": "Ready", "state": "CONDITION_SUCCEEDED", "lastTransitionTime": now}
        if new_revision:
            self._add_revision(full, revision_full, template, ready, fault, now)
            state["latestCreatedRevision"] = revision_full
        if fault is not None:
            return self._fail_rollout(full, state, revision_id, fault, now)
        if new_revision:
            state["latestReadyRevision"] = revision_full
        state["traffic"] = [dict(t) for t in traffic]
        state["terminalCondition"] = {**ready}
        state["reconciling"] = False
        return self._operation(full.rsplit("/services/", 1)[0],
                               response={"@type": _RUN, **self._service_view(full)})

    def _check_traffic(self, full: str, body: dict[str, Any], new_revision: str | None
                       ) -> list[dict[str, Any]]:
        """The body's traffic (default: all to the latest), refused as Cloud Run refuses it:
        not adding up to 100, or naming a revision that does not exist (nor is made now)."""
        sid = full.rsplit("/", 1)[-1]
        known = {r.rsplit("/", 1)[-1] for r in self.revisions if r.startswith(full + "/")}
        if new_revision is not None:
            if not new_revision.startswith(sid + "-"):
                raise HttpError(400, f"Revision name {new_revision!r} must start with the "
                                f"service name followed by '-' ({sid}-...).")
            if f"{full}/revisions/{new_revision}" in self.revisions:
                raise HttpError(409, f"Revision named '{new_revision}' with different "
                                "configuration already exists.")
            known.add(new_revision)
        traffic: list[dict[str, Any]] = body.get("traffic") or [{"type": _LATEST,
                                                                  "percent": 100}]
        if sum(int(t.get("percent", 0)) for t in traffic) != 100:
            raise HttpError(400, "spec.traffic: the percentages must add up to 100.")
        for entry in traffic:
            if entry.get("type") == _REVISION and entry.get("revision") not in known:
                raise HttpError(400, f"spec.traffic: revision {entry.get('revision')!r} does "
                                "not exist.")
        return traffic

    def _add_revision(self, full: str, revision_full: str, template: dict[str, Any],
                      ready: dict[str, Any], fault: tuple[str, str] | None, now: str) -> None:
        """Record the new revision, ready, or with the injected fault's conditions."""
        revision = {
            "name": revision_full, "uid": str(uuid.uuid4()), "generation": "1",
            "service": full, "createTime": now, "labels": template.get("labels", {}),
            "containers": template.get("containers") or [],
            **{k: template[k] for k in ("scaling", "serviceAccount", "timeout",
                                        "maxInstanceRequestConcurrency")
               if k in template},
            "conditions": [ready],
        }
        if fault is not None:
            kind, reason = fault
            condition = {"type": "Ready", "lastTransitionTime": now, "message": reason,
                         "state": "CONDITION_FAILED" if kind == "fail" else
                         "CONDITION_RECONCILING",
                         "reason": "HEALTH_CHECK_CONTAINER_ERROR" if kind == "fail" else
                         "CONTAINER_MISSING"}
            revision["conditions"] = [condition, {
                "type": "ContainerReady", "state": condition["state"], "message": reason,
                "lastTransitionTime": now}]
        self.revisions[revision_full] = revision

    def _fail_rollout(self, full: str, state: dict[str, Any], revision_id: str,
                      fault: tuple[str, str], now: str) -> dict[str, Any]:
        """The operation of a rollout whose revision fails (an error) or hangs (never done);
        traffic stays where it was."""
        kind, reason = fault
        message = (f"Revision '{revision_id}' is not ready and cannot serve traffic. "
                   f"{reason}")
        if kind == "fail":
            state["terminalCondition"] = {"type": "Ready", "state": "CONDITION_FAILED",
                                          "message": message, "lastTransitionTime": now}
            state["reconciling"] = False
            return self._operation(full.rsplit("/services/", 1)[0],
                                   error={"code": 9, "message": message})
        state["terminalCondition"] = {"type": "Ready", "state": "CONDITION_RECONCILING",
                                      "lastTransitionTime": now}
        state["reconciling"] = True
        return self._operation(full.rsplit("/services/", 1)[0], polls_left=None)

    def _run_get(self, project: str, location: str, sid: str, **_: Any) -> dict[str, Any]:
        full = f"projects/{project}/locations/{location}/services/{sid}"
        if full not in self.services:
            raise HttpError(404, f"Resource '{sid}' of kind 'SERVICE' in region '{location}' "
                            f"in project '{project}' does not exist.")
        return self._service_view(full)

    def _run_list(self, project: str, location: str, **_: Any) -> dict[str, Any]:
        prefix = f"projects/{project}/locations/{location}/services/"
        return {"services": [self._service_view(f) for f in sorted(self.services)
                             if f.startswith(prefix)]}

    def _run_delete(self, project: str, location: str, sid: str, **kw: Any) -> dict[str, Any]:
        view = self._run_get(project, location, sid)
        full = view["name"]
        del self.services[full]
        for name in [r for r in self.revisions if r.startswith(full + "/")]:
            del self.revisions[name]
        self.policies.pop(full, None)
        return self._operation(f"projects/{project}/locations/{location}",
                               response={"@type": _RUN, **view})

    def _run_revisions(self, project: str, location: str, sid: str, **_: Any) -> dict[str, Any]:
        full = self._run_get(project, location, sid)["name"]
        found = [r for n, r in self.revisions.items() if n.startswith(full + "/")]
        return {"revisions": sorted(found, key=lambda r: r["createTime"], reverse=True)}

    def _run_revision(self, project: str, location: str, sid: str, rid: str, **_: Any
                      ) -> dict[str, Any]:
        full = f"projects/{project}/locations/{location}/services/{sid}/revisions/{rid}"
        if full not in self.revisions:
            raise HttpError(404, f"Revision '{rid}' does not exist.")
        return self.revisions[full]

    def _run_get_policy(self, project: str, location: str, sid: str, **kw: Any
                        ) -> dict[str, Any]:
        full = self._run_get(project, location, sid)["name"]
        return self._get_policy(full)

    def _run_set_policy(self, project: str, location: str, sid: str, **kw: Any
                        ) -> dict[str, Any]:
        full = self._run_get(project, location, sid)["name"]
        return self._set_policy(full, **kw)

    def _get_policy(self, resource: str, **_: Any) -> dict[str, Any]:
        return copy.deepcopy(self.policies.get(resource, {"etag": "BwE=", "version": 1}))

    def _set_policy(self, resource: str, *, body: Any, **_: Any) -> dict[str, Any]:
        policy = dict((body or {}).get("policy") or {})
        policy["bindings"] = [b for b in policy.get("bindings", []) if b.get("members")]
        policy["etag"] = base64.b64encode(uuid.uuid4().bytes[:6]).decode()
        self.policies[resource] = policy
        return copy.deepcopy(policy)

    def public(self, service: str) -> bool:
        """Whether allUsers may invoke the service (full name)."""
        return any(b.get("role") == "roles/run.invoker" and "allUsers" in b.get("members", [])
                   for b in self.policies.get(service, {}).get("bindings", []))

    def _predict(self, host: str, *, body: Any, **_: Any) -> dict[str, Any]:
        sid = host.split("---")[-1]
        matches = [f for f in self.services if f.endswith(f"/services/{sid}")]
        if not matches:
            raise HttpError(404, "No such service.")
        view = self._service_view(matches[0])
        rows = (body or {}).get("instances", [])
        labels = view.get("labels", {})
        return {"predictions": [0 for _ in rows], "model": labels.get("kepler-model"),
                "version": labels.get("kepler-version"),
                "revision": (view.get("latestReadyRevision") or "").rsplit("/", 1)[-1]}

    # --- Cloud Build --------------------------------------------------------------------------

    def _build(self, project: str, location: str, *, body: Any, **_: Any) -> dict[str, Any]:
        body = self._validate("build.Build", body)
        source = (body.get("source") or {}).get("storageSource") or {}
        build_id = str(uuid.uuid4())
        build = {**body, "id": build_id, "projectId": project,
                 "logUrl": f"https://console.cloud.google.com/cloud-build/builds/{build_id}",
                 "createTime": self._now()}
        prefix = f"projects/{project}/locations/{location}"
        detail = None
        if (source.get("bucket"), source.get("object")) not in self.objects:
            detail = f"source gs://{source.get('bucket')}/{source.get('object')} not found"
        elif self._build_faults:
            detail = self._build_faults.pop(0)
        self.builds.append(build)
        if detail is not None:
            build.update(status="FAILURE", statusDetail=detail)
            return self._operation(prefix, error={"code": 2, "message": f"Build failed: "
                                                  f"{detail}"},
                                   metadata={"@type": _BUILD_META, "build": build})
        build["status"] = "SUCCESS"
        build["results"] = {"images": []}
        for image in body.get("images", []):
            self.add_image(image)
            build["results"]["images"].append({"name": image, "digest": self.images[image]})
        return self._operation(prefix, response={"@type": _BUILD, **build},
                               metadata={"@type": _BUILD_META, "build": build})

    # --- Cloud Storage ------------------------------------------------------------------------

    def _bucket_get(self, bucket: str, **_: Any) -> dict[str, Any]:
        if bucket not in self.buckets:
            raise HttpError(404, "The specified bucket does not exist.")
        return self.buckets[bucket]

    def _bucket_create(self, *, query: dict[str, str], body: Any, **_: Any) -> dict[str, Any]:
        name = (body or {}).get("name", "")
        if name in self.buckets:
            raise HttpError(409, "Your previous request to create the named bucket succeeded "
                            "and you already own it.")
        self.buckets[name] = {"kind": "storage#bucket", "id": name, "name": name,
                              "location": str((body or {}).get("location", "US")).upper(),
                              "labels": (body or {}).get("labels", {}),
                              "projectNumber": "123456789", "timeCreated": self._now()}
        return self.buckets[name]

    def _upload(self, bucket: str, *, query: dict[str, str], raw: bytes, content_type: str,
                **_: Any) -> dict[str, Any]:
        if query.get("uploadType") != "multipart":
            raise HttpError(501, "The fake takes multipart uploads only.")
        if bucket not in self.buckets:
            raise HttpError(404, "The specified bucket does not exist.")
        boundary = content_type.split("boundary=", 1)[-1].strip('"').encode()
        parts = [p for p in raw.split(b"--" + boundary) if p.strip() not in (b"", b"--")]
        if len(parts) < 2:
            raise HttpError(400, "Malformed multipart body.")
        meta = json.loads(parts[0].split(b"\r\n\r\n", 1)[1])
        data = parts[1].split(b"\r\n\r\n", 1)[1].removesuffix(b"\r\n")
        name = meta.get("name") or query.get("name", "")
        self.objects[(bucket, name)] = data
        return {"kind": "storage#object", "bucket": bucket, "name": name,
                "size": str(len(data)), "generation": "1",
                "contentType": meta.get("contentType", "application/octet-stream"),
                "md5Hash": base64.b64encode(hashlib.md5(data).digest()).decode()}  # noqa: S324

    # --- Artifact Registry --------------------------------------------------------------------

    def _repo_get(self, project: str, location: str, repo: str, **_: Any) -> dict[str, Any]:
        name = f"projects/{project}/locations/{location}/repositories/{repo}"
        if name not in self.repositories:
            raise HttpError(404, f"Requested entity was not found: {name}.")
        return self.repositories[name]

    def _repo_create(self, project: str, location: str, *, query: dict[str, str], body: Any,
                     **_: Any) -> dict[str, Any]:
        name = f"projects/{project}/locations/{location}/repositories/" \
               f"{query.get('repositoryId', '')}"
        if name in self.repositories:
            raise HttpError(409, "the repository already exists")
        self.repositories[name] = {"name": name, "format": (body or {}).get("format", "DOCKER"),
                                   "description": (body or {}).get("description", ""),
                                   "labels": (body or {}).get("labels", {}),
                                   "createTime": self._now()}
        return self._operation(f"projects/{project}/locations/{location}",
                               response={"@type": _REPO, **self.repositories[name]})

    def _tag_get(self, project: str, location: str, repo: str, package: str, tag: str,
                 **_: Any) -> dict[str, Any]:
        image = f"{location}-docker.pkg.dev/{project}/{repo}/{unquote(package)}:{tag}"
        if image not in self.images:
            raise HttpError(404, f"Requested entity was not found: tag {tag} of {package}.")
        base = f"projects/{project}/locations/{location}/repositories/{repo}/packages/{package}"
        return {"name": f"{base}/tags/{tag}", "version": f"{base}/versions/{self.images[image]}"}

    # --- Secret Manager -----------------------------------------------------------------------

    def _secret_get(self, project: str, secret: str, **_: Any) -> dict[str, Any]:
        name = f"projects/{project}/secrets/{secret}"
        if name not in self.secrets:
            raise HttpError(404, f"Secret [{name}] not found or has no versions.")
        return self.secrets[name]

    def _secret_create(self, project: str, *, query: dict[str, str], body: Any, **_: Any
                       ) -> dict[str, Any]:
        name = f"projects/{project}/secrets/{query.get('secretId', '')}"
        if name in self.secrets:
            raise HttpError(409, f"Secret [{name}] already exists.")
        self.secrets[name] = {"name": name, "createTime": self._now(),
                              "replication": (body or {}).get("replication", {}),
                              "labels": (body or {}).get("labels", {})}
        self.secret_versions[name] = []
        return self.secrets[name]

    def _secret_add(self, project: str, secret: str, *, body: Any, **_: Any) -> dict[str, Any]:
        name = self._secret_get(project, secret)["name"]
        data = base64.b64decode(((body or {}).get("payload") or {}).get("data", ""))
        self.secret_versions[name].append(data)
        return {"name": f"{name}/versions/{len(self.secret_versions[name])}",
                "state": "ENABLED", "createTime": self._now()}

    # --- IAM, Resource Manager, Logging -------------------------------------------------------

    def _sa_get(self, project: str, email: str, **_: Any) -> dict[str, Any]:
        if email not in self.service_accounts:
            raise HttpError(404, f"Unknown service account {email}.")
        return self.service_accounts[email]

    def _sa_create(self, project: str, *, body: Any, **_: Any) -> dict[str, Any]:
        account = (body or {}).get("accountId", "")
        if not re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", account):
            raise HttpError(400, f"accountId {account!r} is invalid.")
        email = f"{account}@{project}.iam.gserviceaccount.com"
        if email in self.service_accounts:
            raise HttpError(409, f"Service account {account} already exists within project "
                            f"projects/{project}.")
        self.service_accounts[email] = {
            "name": f"projects/{project}/serviceAccounts/{email}", "projectId": project,
            "email": email, "uniqueId": str(uuid.uuid4().int)[:21],
            **((body or {}).get("serviceAccount") or {})}
        return self.service_accounts[email]

    def _project_get(self, project: str, **_: Any) -> dict[str, Any]:
        if project in self.missing_projects:
            raise HttpError(403, f"The caller does not have permission (project {project} may "
                            "not exist).")
        return {"name": "projects/123456789", "projectId": project, "state": "ACTIVE",
                "displayName": project}

    def _test_permissions(self, project: str, *, body: Any, **_: Any) -> dict[str, Any]:
        self._project_get(project)
        asked = (body or {}).get("permissions", [])
        return {"permissions": [p for p in asked if p not in self.denied]}

    def _logs(self, *, body: Any, **_: Any) -> dict[str, Any]:
        query = (body or {}).get("filter", "")
        match = re.search(r'resource\.labels\.service_name="([^"]+)"', query)
        entries = self.log_entries.get(match[1] if match else "", [])
        size = int((body or {}).get("pageSize") or 50)
        newest = sorted(entries, key=lambda e: e["timestamp"], reverse=True)[:size]
        return {"entries": newest}


@pytest.fixture
def gcp_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogleCloud]:
    """A running :class:`FakeGoogleCloud`, with the ``gcp`` section pointed at it (endpoints,
    anonymous credentials, fast polling) through ``KEPLER_GCP__*`` variables; stopped after
    the test. Set ``gcp.project`` yourself."""
    fake = FakeGoogleCloud().start()
    try:
        for key, value in fake.environ().items():
            monkeypatch.setenv(key, value)
        yield fake
    finally:
        fake.stop()


__all__ = ["NOT_LISTENING", "FakeGoogleCloud", "Recorded", "gcp_fake"]
