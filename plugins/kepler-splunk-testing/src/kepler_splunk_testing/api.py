"""splunkd's REST API: namespaces, authentication, routing and the management endpoints.

Routes live under ``/services/...`` and ``/servicesNS/{owner}/{app}/...``; both forms reach the
same handlers. Search endpoints are in ``api_search.py``; this module handles login, server info,
the current context, the index list, errors and the request log.
"""

from __future__ import annotations

import json
import os
import platform
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from kepler_splunk_testing import atom
from kepler_splunk_testing.api_search import SearchApi
from kepler_splunk_testing.arrowtext import format_splunk_time
from kepler_splunk_testing.auth import Authenticator, SplunkUser, permission_message
from kepler_splunk_testing.datasets import Index
from kepler_splunk_testing.engine import SearchEngine
from kepler_splunk_testing.jobs import JobStore
from kepler_splunk_testing.protocol import Namespace, Request, Response, ServerSettings
from kepler_splunk_testing.replies import (
    JSON_TYPE,
    error_response,
    feed_response,
    now_iso,
    paging,
    wants_json,
)

__all__ = ["Api", "RecordedRequest"]

ExtraRoutes = Callable[[Request, Namespace, list[str], SplunkUser], Response | None]

_SERVICES_NS = re.compile(r"^/servicesNS/([^/]+)/([^/]+)(?:/(.*))?$")
_SERVICES = re.compile(r"^/services(?:/(.*))?$")
_REDACTED = {"password", "new_password", "old_password"}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it, for tests to assert on.

    ``endpoint`` is the path below ``/services`` or ``/servicesNS/{owner}/{app}`` (e.g.
    ``search/v2/jobs/1700000000.3/results``); ``params`` holds the last value of each query or
    form parameter and ``param_lists`` all of them. Passwords are redacted.
    """

    method: str
    path: str
    endpoint: str
    params: dict[str, str]
    param_lists: dict[str, list[str]]
    status: int
    user: str | None
    time: float = field(default_factory=time.time)


class Api:
    """Dispatches a :class:`Request` to its endpoint and records it."""

    def __init__(
        self,
        settings: ServerSettings,
        engine: SearchEngine,
        jobs: JobStore,
        auth: Authenticator,
        base_url: Callable[[], str],
        record: Callable[[RecordedRequest], None],
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.auth = auth
        self.base_url = base_url
        self._record = record
        self.search = SearchApi(settings, engine, jobs, base_url)
        self.started = time.time()
        self.extra_routes: ExtraRoutes | None = None
        """Tried for any path the routes here do not serve (HEC tokens, views, saved searches,
        search/parser: ``api_config.ConfigApi.route``); None from it means 404."""

    def handle(self, request: Request) -> Response:
        endpoint = ""
        user: SplunkUser | None = None
        try:
            namespace, endpoint = self._namespace(request.path)
            if namespace is None:
                response = error_response(request, 404, "Not Found")
            elif endpoint == "auth/login":
                response = self._login(request)
            else:
                user = self.auth.authenticate(
                    request.header("Authorization"), request.header("Cookie")
                )
                if user is None:
                    response = error_response(
                        request,
                        401,
                        "Unauthorized",
                        headers=[("WWW-Authenticate", 'Basic realm="/splunk"')],
                    )
                else:
                    response = self._route(request, namespace, endpoint, user)
        except Exception as error:  # a bug in the test server or in a test's callable
            traceback.print_exc()
            response = error_response(request, 500, f"Internal error: {error!r}")
        self._record(self._recorded(request, endpoint, response.status, user))
        return response

    @staticmethod
    def _namespace(path: str) -> tuple[Namespace | None, str]:
        match = _SERVICES_NS.match(path)
        if match:
            owner, app, rest = match.group(1), match.group(2), match.group(3) or ""
            prefix = f"/servicesNS/{owner}/{app}"
            return Namespace(unquote(owner), unquote(app), prefix), rest.strip("/")
        match = _SERVICES.match(path)
        if match:
            return Namespace("nobody", "search", "/services"), (match.group(1) or "").strip("/")
        return None, path

    @staticmethod
    def _recorded(
        request: Request, endpoint: str, status: int, user: SplunkUser | None
    ) -> RecordedRequest:
        lists = {
            key: ["********"] * len(values) if key in _REDACTED else values
            for key, values in request.params.as_lists().items()
        }
        last = {key: values[-1] for key, values in lists.items()}
        return RecordedRequest(
            request.method, request.path, endpoint, last, lists, status, user.name if user else None
        )

    def _route(
        self, request: Request, namespace: Namespace, endpoint: str, user: SplunkUser
    ) -> Response:
        segments = [unquote(part) for part in endpoint.split("/")] if endpoint else []
        method = request.method
        if segments[:2] == ["server", "info"] and method == "GET":
            return self._server_info(request, namespace)
        if segments == ["authentication", "current-context"] and method == "GET":
            return self._current_context(request, namespace, user)
        if segments[:2] == ["data", "indexes"] and method == "GET" and len(segments) <= 3:
            return self._indexes(
                request, namespace, user, segments[2] if len(segments) == 3 else None
            )
        if segments[:2] == ["search", "jobs"]:
            return self.search.route(request, namespace, user, segments[2:], version=1)
        if segments[:3] == ["search", "v2", "jobs"] and self.settings.has_v2_search:
            return self.search.route(request, namespace, user, segments[3:], version=2)
        if self.extra_routes is not None:
            response = self.extra_routes(request, namespace, segments, user)
            if response is not None:
                return response
        return error_response(request, 404, "Not Found")

    # -- endpoints ----------------------------------------------------------------------------

    def _login(self, request: Request) -> Response:
        if request.method != "POST":
            return error_response(request, 405, "Method Not Allowed")
        username = request.params.get("username") or ""
        password = request.params.get("password") or ""
        key = self.auth.login(username, password)
        if key is None:
            return error_response(request, 401, "Login failed", type_="WARN")
        headers = []
        if (request.params.get("cookie") or "") in ("1", "true", "t"):
            secure = "; Secure" if self.base_url().startswith("https") else ""
            headers.append(
                (
                    "Set-Cookie",
                    f"{self.auth.cookie_name}={key}; Path=/; HttpOnly; Max-Age="
                    f"{int(self.auth.session_timeout)}{secure}",
                )
            )
        if wants_json(request):
            return Response(200, json.dumps({"sessionKey": key}).encode(), JSON_TYPE, headers)
        return Response(200, atom.response_xml(sessionKey=key), headers=headers)

    def _server_info(self, request: Request, namespace: Namespace) -> Response:
        settings = self.settings
        content: dict[str, Any] = {
            "build": "kepler",
            "cpu_arch": platform.machine() or "x86_64",
            "guid": "4A1B2C3D-0000-4000-8000-KEPLERTEST01",
            "health_info": "green",
            "host": settings.server_name,
            "host_fqdn": settings.server_name,
            "isForwarding": False,
            "isFree": False,
            "isTrial": False,
            "kvStoreStatus": "ready",
            "licenseState": "OK",
            "mode": "normal",
            "numberOfCores": os.cpu_count() or 1,
            "os_name": "Linux",
            "product_type": "enterprise",
            "serverName": settings.server_name,
            "server_roles": ["indexer", "search_head", "kv_store"],
            "startup_time": int(self.started),
            "version": settings.version,
        }
        entry = atom.Entry(
            title="server-info",
            id_url=f"{self.base_url()}/services/server/info/server-info",
            updated=now_iso(),
            links={
                "alternate": "/services/server/info/server-info",
                "list": "/services/server/info/server-info",
            },
            content=content,
            acl=_acl("system", "nobody"),
        )
        return self._feed(request, "server-info", "/services/server/info", [entry])

    def _current_context(
        self, request: Request, namespace: Namespace, user: SplunkUser
    ) -> Response:
        entry = atom.Entry(
            title="context",
            id_url=f"{self.base_url()}/services/authentication/current-context/context",
            updated=now_iso(),
            links={"alternate": "/services/authentication/current-context/context"},
            content={
                "username": user.name,
                "realname": "",
                "roles": list(user.roles),
                "capabilities": sorted(user.capabilities),
                "defaultApp": "search",
                "type": "Splunk",
            },
            author="system",
        )
        return self._feed(
            request, "current-context", "/services/authentication/current-context", [entry]
        )

    def _indexes(
        self, request: Request, namespace: Namespace, user: SplunkUser, name: str | None
    ) -> Response:
        if not user.can("indexes_list_all"):
            return error_response(request, 403, permission_message(user, "indexes_list_all"))
        indexes = self._all_indexes()
        if name is not None:
            selected = [index for index in indexes if index.name == name.lower()]
            if not selected:
                return error_response(
                    request, 404, f"In handler 'indexes': Could not find object id={name}"
                )
        else:
            wanted = (request.params.get("datatype") or "event").lower()
            if wanted not in ("event", "metric", "all"):
                return error_response(
                    request, 400, f"Invalid datatype '{wanted}': expected event, metric or all."
                )
            selected = [index for index in indexes if wanted == "all" or index.datatype == wanted]
        offset, count = paging(request, default_count=30)
        page = selected[offset : offset + count] if count > 0 else selected[offset:]
        json_mode = wants_json(request)
        entries = [self._index_entry(index, namespace, json_mode) for index in page]
        return self._feed(
            request,
            "indexes",
            f"{namespace.prefix}/data/indexes",
            entries,
            total=len(selected),
            offset=offset,
            per_page=count,
        )

    def _all_indexes(self) -> list[Index]:
        return self.engine.index_list()

    def _index_entry(self, index: Index, namespace: Namespace, json_mode: bool) -> atom.Entry:
        oldest, newest = index.time_bounds()
        rows = index.total_event_count
        size_mb = round(index.dataset.table.nbytes / 1_048_576, 3)
        content: dict[str, Any] = {
            "assureUTF8": False,
            "coldPath": f"$SPLUNK_DB/{index.name}/colddb",
            "currentDBSizeMB": size_mb if json_mode else str(int(size_mb)),
            "datatype": index.datatype,
            "defaultDatabase": "main",
            "disabled": False,
            "frozenTimePeriodInSecs": 188697600,
            "homePath": f"$SPLUNK_DB/{index.name}/db",
            "isInternal": index.name.startswith("_"),
            "isReady": True,
            "maxDataSize": "auto",
            "maxTime": format_splunk_time(newest) if newest is not None else "",
            "maxTotalDataSizeMB": 500000,
            "minTime": format_splunk_time(oldest) if oldest is not None else "",
            "thawedPath": f"$SPLUNK_DB/{index.name}/thaweddb",
            "totalEventCount": rows,
        }
        path = f"/servicesNS/nobody/system/data/indexes/{index.name}"
        return atom.Entry(
            title=index.name,
            id_url=f"{self.base_url()}{path}",
            updated=now_iso(),
            links={"alternate": path, "list": path, "edit": path},
            content=content,
            acl=_acl("system", "nobody"),
        )

    def _feed(
        self,
        request: Request,
        title: str,
        path: str,
        entries: list[atom.Entry],
        *,
        total: int | None = None,
        offset: int = 0,
        per_page: int = 30,
    ) -> Response:
        return feed_response(request, title=title, url=f"{self.base_url()}{path}",
                             version=self.settings.version, entries=entries,
                             total=total, offset=offset,
                             per_page=per_page)

def _acl(app: str, owner: str) -> dict[str, Any]:
    return {
        "app": app,
        "can_list": True,
        "can_write": True,
        "modifiable": False,
        "owner": owner,
        "perms": {"read": ["*"], "write": ["admin"]},
        "removable": False,
        "sharing": "system",
    }
