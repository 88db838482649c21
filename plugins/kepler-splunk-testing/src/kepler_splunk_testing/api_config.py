"""Configuration endpoints of the management port: HEC tokens, dashboards, saved searches, and
SPL validation.

- ``data/inputs/http`` (HEC tokens; splunkd keeps them in the ``splunk_httpinput`` app):
  list, create, read, update, ``enable``/``disable``, delete; capability ``edit_token_http``.
  The entry named ``http`` is HEC's global settings, as on splunkd.
- ``data/ui/views`` (dashboards): list, create, read, update, delete; ``eai:data`` is validated
  (see ``knowledge.py``).
- ``saved/searches``: list, create, read, update, delete, and ``{name}/dispatch``, which runs
  the saved search through the ordinary job machinery (``api_search.SearchApi``).
- ``search/parser``: checks SPL without running it (``splcheck.py``).

Collections answer Atom feeds (``output_mode=json``: JSON feeds); errors use splunkd's message
envelope and, where known, its wording.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote_plus
from xml.sax.saxutils import escape, quoteattr

from kepler_splunk_testing import atom
from kepler_splunk_testing.auth import SplunkUser, permission_message
from kepler_splunk_testing.hec import HecCollector, HecToken
from kepler_splunk_testing.knowledge import (
    DashboardError,
    KnowledgeStore,
    SavedSearch,
    View,
    check_dashboard,
    check_view_name,
)
from kepler_splunk_testing.protocol import Namespace, Params, Request, Response, ServerSettings
from kepler_splunk_testing.replies import (
    JSON_TYPE,
    error_response,
    feed_response,
    now_iso,
    paging,
    wants_json,
)
from kepler_splunk_testing.spl import SplError
from kepler_splunk_testing.splcheck import check_spl

__all__ = ["ConfigApi"]

_TRUE = ("1", "true", "t", "yes", "y", "on")
_FALSE = ("0", "false", "f", "no", "n", "off", "")
_TOKEN_PARAMS = frozenset(
    {
        "name",
        "index",
        "indexes",
        "sourcetype",
        "source",
        "host",
        "useACK",
        "disabled",
        "description",
        "token",
        "allowQueryStringAuth",
        "connection_host",
        "outputgroup",
        "output_mode",
    }
)
_HEC_SETTINGS_PARAMS = frozenset(
    {
        "disabled",
        "enableSSL",
        "port",
        "dedicatedIoThreads",
        "maxSockets",
        "maxThreads",
        "useDeploymentServer",
        "ackIdleCleanup",
        "output_mode",
    }
)
_VIEW_PARAMS = frozenset({"name", "eai:data", "output_mode"})
_SAVED_SKIP = frozenset({"output_mode", "name"})
_SAVED_BOOLEANS = frozenset(
    {
        "alert.digest_mode",
        "alert.suppress",
        "alert.track",
        "disabled",
        "is_scheduled",
        "is_visible",
        "realtime_schedule",
        "run_on_startup",
    }
)
_SAVED_DEFAULTS: dict[str, Any] = {
    "actions": "",
    "alert.digest_mode": True,
    "alert.expires": "24h",
    "alert.severity": 3,
    "alert.suppress": False,
    "alert.track": False,
    "alert_comparator": "",
    "alert_condition": "",
    "alert_threshold": "",
    "alert_type": "always",
    "cron_schedule": "",
    "description": "",
    "disabled": False,
    "dispatch.earliest_time": "",
    "dispatch.latest_time": "",
    "is_scheduled": False,
    "is_visible": True,
    "next_scheduled_time": "",
    "request.ui_dispatch_app": "",
}
_SLUG = re.compile(r"[A-Za-z0-9_]+")


class _Invalid(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ConfigApi:
    """Handles the endpoints above; ``route`` answers None for any other path."""

    def __init__(
        self,
        settings: ServerSettings,
        engine: Any,
        hec: HecCollector,
        knowledge: KnowledgeStore,
        search_api: Any,
        base_url: Callable[[], str],
        hec_settings: Callable[[], Mapping[str, Any]],
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.hec = hec
        self.knowledge = knowledge
        self.search_api = search_api
        self.base_url = base_url
        self.hec_settings = hec_settings
        self._sids = itertools.count(1)

    def route(
        self, request: Request, namespace: Namespace, segments: Sequence[str], user: SplunkUser
    ) -> Response | None:
        parts = list(segments)
        if request.path.startswith(namespace.prefix):
            # splunklib encodes a space in a name as "+" (quote_plus), which splunkd decodes
            raw = request.path[len(namespace.prefix) :].strip("/")
            parts = [unquote_plus(part) for part in raw.split("/")] if raw else []
        try:
            if parts[:3] == ["data", "inputs", "http"]:
                return self._tokens(request, user, parts[3:])
            if parts[:3] == ["data", "ui", "views"]:
                return self._views(request, namespace, user, parts[3:])
            if parts[:2] == ["saved", "searches"]:
                return self._saved(request, namespace, user, parts[2:])
            if parts == ["search", "parser"]:
                return self._parser(request, user)
        except _Invalid as invalid:
            return error_response(request, invalid.status, invalid.message)
        return None

    # -- feeds --------------------------------------------------------------------------------

    def _feed(
        self,
        request: Request,
        title: str,
        path: str,
        entries: list[atom.Entry],
        *,
        status: int = 200,
        total: int | None = None,
        offset: int = 0,
        per_page: int = 30,
    ) -> Response:
        return feed_response(request, title=title, url=f"{self.base_url()}{path}",
                             version=self.settings.version, entries=entries,
                             status=status, total=total, offset=offset,
                             per_page=per_page)

    def _listing(
        self,
        request: Request,
        title: str,
        path: str,
        make: Callable[[Any], atom.Entry],
        items: list,
    ) -> Response:
        offset, count = paging(request, default_count=30)
        page = items[offset : offset + count] if count > 0 else items[offset:]
        return self._feed(
            request,
            title,
            path,
            [make(item) for item in page],
            total=len(items),
            offset=offset,
            per_page=count,
        )

    def _entry(
        self,
        title: str,
        path: str,
        content: Mapping[str, Any],
        acl: Mapping[str, Any],
        author: str,
        actions: Sequence[str] = ("list", "edit", "remove"),
    ) -> atom.Entry:
        links = {"alternate": path}
        links.update(
            {
                action: path if action in ("list", "edit", "remove") else f"{path}/{action}"
                for action in actions
            }
        )
        return atom.Entry(
            title=title,
            id_url=f"{self.base_url()}{path}",
            updated=now_iso(),
            links=links,
            content=dict(content),
            author=author,
            acl=dict(acl),
        )

    # -- HEC tokens ---------------------------------------------------------------------------

    def _tokens(self, request: Request, user: SplunkUser, rest: list[str]) -> Response:
        if not user.can("edit_token_http"):
            return error_response(request, 403, permission_message(user, "edit_token_http"))
        method = request.method
        collection = "/servicesNS/nobody/splunk_httpinput/data/inputs/http"
        if not rest:
            if method == "GET":
                items: list[Any] = ["http", *self.hec.tokens()]
                return self._listing(request, "http", collection, self._token_entry, items)
            if method == "POST":
                return self._create_token(request, collection)
            return _not_allowed(request)
        name, action = _token_target(rest)
        if name == "http":
            return self._hec_settings(request, action)
        token = self.hec.token(name)
        if token is None:
            raise _Invalid(404, f"In handler 'http': Could not find object id=http://{name}")
        if action == [] and method == "GET":
            return self._feed(request, "http", collection, [self._token_entry(token)])
        if action == [] and method == "POST":
            changes = _token_changes(request.params, creating=False)
            token = self._update_token(token, changes)
            return self._feed(request, "http", collection, [self._token_entry(token)])
        if action == [] and method == "DELETE":
            self.hec.remove_token(token.name)
            items = ["http", *self.hec.tokens()]
            return self._listing(request, "http", collection, self._token_entry, items)
        if action in (["enable"], ["disable"]) and method == "POST":
            token = self._update_token(token, {"disabled": action == ["disable"]})
            return self._feed(request, "http", collection, [self._token_entry(token)])
        if len(action) == 1 and action[0] in ("enable", "disable"):
            return _not_allowed(request)
        raise _Invalid(404, f"In handler 'http': Could not find object id=http://{name}")

    def _create_token(self, request: Request, collection: str) -> Response:
        changes = _token_changes(request.params, creating=True)
        name = str(changes.pop("name", "") or "").removeprefix("http://")
        if not name:
            raise _Invalid(400, "In handler 'http': Missing required argument: name")
        if "/" in name or any(ch.isspace() for ch in name):
            raise _Invalid(400, f"In handler 'http': Invalid token name '{name}'.")
        if self.hec.token(name) is not None:
            raise _Invalid(
                409, f"In handler 'http': An object with name=http://{name} already exists"
            )
        try:
            token = self.hec.add_token(changes.pop("token", None), name=name, **changes)
        except ValueError as error:
            raise _Invalid(409, f"In handler 'http': {error}") from None
        return self._feed(request, "http", collection, [self._token_entry(token)], status=201)

    def _update_token(self, token: HecToken, changes: dict[str, Any]) -> HecToken:
        try:
            return self.hec.update_token(token.name, **changes)
        except ValueError as error:
            raise _Invalid(409, f"In handler 'http': {error}") from None

    def _token_entry(self, token: HecToken | str) -> atom.Entry:
        if isinstance(token, str):  # the global settings entry, "http"
            path = "/servicesNS/nobody/splunk_httpinput/data/inputs/http/http"
            content = {
                **self.hec_settings(),
                "eai:appName": "splunk_httpinput",
                "eai:userName": "nobody",
            }
            return self._entry("http", path, content, _acl("splunk_httpinput", "nobody"), "nobody")
        title = f"http://{token.name}"
        path = (
            f"/servicesNS/nobody/{quote(token.app, safe='')}/data/inputs/http/"
            f"{quote(title, safe='')}"
        )
        content: dict[str, Any] = {
            "description": token.description,
            "disabled": token.disabled,
            "token": token.token,
            "useACK": token.use_ack,
            "allowQueryStringAuth": token.query_string_auth,
        }
        for key in ("host", "index", "source", "sourcetype"):
            value = getattr(token, key)
            if value:
                content[key] = value
        if token.indexes:
            content["indexes"] = list(token.indexes)
        content["eai:appName"] = token.app
        content["eai:userName"] = "nobody"
        toggle = "enable" if token.disabled else "disable"
        return self._entry(
            title,
            path,
            dict(sorted(content.items())),
            _acl(token.app, "nobody"),
            "nobody",
            ("list", "edit", "remove", toggle),
        )

    def _hec_settings(self, request: Request, action: list[str]) -> Response:
        method = request.method
        collection = "/servicesNS/nobody/splunk_httpinput/data/inputs/http"
        if action == [] and method == "POST":
            unknown = sorted(set(request.params.as_dict()) - _HEC_SETTINGS_PARAMS)
            if unknown:
                raise _Invalid(400, f'Argument "{unknown[0]}" is not supported by this handler.')
        elif not (
            (action == [] and method == "GET")
            or (action in (["enable"], ["disable"]) and method == "POST")
        ):
            return _not_allowed(request)
        return self._feed(request, "http", collection, [self._token_entry("http")])

    # -- dashboards ---------------------------------------------------------------------------

    def _views(
        self, request: Request, namespace: Namespace, user: SplunkUser, rest: list[str]
    ) -> Response:
        method = request.method
        scope = _app_scope(namespace)
        collection = f"{namespace.prefix}/data/ui/views"
        if not rest:
            if method == "GET":
                views = self.knowledge.views(scope)
                return self._listing(request, "views", collection, self._view_entry, views)
            if method == "POST":
                return self._create_view(request, namespace, user, collection)
            return _not_allowed(request)
        if len(rest) != 1:
            return error_response(request, 404, "Not Found")
        name = rest[0]
        view = self.knowledge.find_view(name, scope)
        if view is None:
            raise _Invalid(404, f"In handler 'views': Could not find object id={name}")
        if method == "GET":
            return self._feed(request, "views", collection, [self._view_entry(view)])
        if method == "POST":
            _only(request.params, _VIEW_PARAMS - {"name"})
            data = request.params.get("eai:data")
            if data is not None:
                root, version, label = _dashboard(data)
                view = View(view.name, view.app, view.owner, data, root, version, label)
                self.knowledge.put_view(view)
            return self._feed(request, "views", collection, [self._view_entry(view)])
        if method == "DELETE":
            self.knowledge.delete_view(view)
            views = self.knowledge.views(scope)
            return self._listing(request, "views", collection, self._view_entry, views)
        return _not_allowed(request)

    def _create_view(
        self, request: Request, namespace: Namespace, user: SplunkUser, collection: str
    ) -> Response:
        _only(request.params, _VIEW_PARAMS)
        name = request.params.get("name") or ""
        if not name:
            raise _Invalid(400, "In handler 'views': Missing required argument: name")
        try:
            check_view_name(name)
        except DashboardError as error:
            raise _Invalid(400, f"In handler 'views': {error}") from None
        data = request.params.get("eai:data")
        if data is None:
            raise _Invalid(400, "In handler 'views': Missing required argument: eai:data")
        app, owner = _target(namespace, user)
        if self.knowledge.find_view(name, app) is not None:
            raise _Invalid(409, f"In handler 'views': An object with name={name} already exists")
        root, version, label = _dashboard(data)
        view = View(name, app, owner, data, root, version, label)
        self.knowledge.put_view(view)
        return self._feed(request, "views", collection, [self._view_entry(view)], status=201)

    def _view_entry(self, view: View) -> atom.Entry:
        path = f"/servicesNS/{quote(view.owner, safe='')}/{quote(view.app, safe='')}/data/ui/views/"
        path += quote(view.name, safe="")
        content = {
            "disabled": False,
            "eai:appName": view.app,
            "eai:data": view.data,
            "eai:digest": view.digest,
            "eai:type": "views",
            "eai:userName": view.owner,
            "isDashboard": True,
            "isVisible": True,
            "label": view.label,
            "rootNode": view.root,
            "version": view.version,
        }
        return self._entry(view.name, path, content, _acl(view.app, view.owner), view.owner)

    # -- saved searches -----------------------------------------------------------------------

    def _saved(
        self, request: Request, namespace: Namespace, user: SplunkUser, rest: list[str]
    ) -> Response:
        method = request.method
        scope = _app_scope(namespace)
        collection = f"{namespace.prefix}/saved/searches"
        if not rest:
            if method == "GET":
                found = self.knowledge.saved_searches(scope)
                return self._listing(request, "savedsearch", collection, self._saved_entry, found)
            if method == "POST":
                return self._create_saved(request, namespace, user, collection)
            return _not_allowed(request)
        name = rest[0]
        saved = self.knowledge.find_saved(name, scope)
        if saved is None:
            raise _Invalid(404, f"In handler 'savedsearch': Could not find object id={name}")
        if rest[1:] == ["dispatch"]:
            if method != "POST":
                return _not_allowed(request)
            return self._dispatch(request, namespace, user, saved)
        if len(rest) != 1:
            return error_response(request, 404, "Not Found")
        if method == "GET":
            return self._feed(request, "savedsearch", collection, [self._saved_entry(saved)])
        if method == "POST":
            params = request.params.as_dict()
            if "name" in params:
                raise _Invalid(400, 'Argument "name" is not supported by this handler.')
            changes = {k: v for k, v in params.items() if k not in _SAVED_SKIP}
            if "search" in changes and not changes["search"].strip():
                raise _Invalid(400, "In handler 'savedsearch': The search cannot be empty.")
            saved = SavedSearch(saved.name, saved.app, saved.owner, {**saved.params, **changes})
            self.knowledge.put_saved(saved)
            return self._feed(request, "savedsearch", collection, [self._saved_entry(saved)])
        if method == "DELETE":
            self.knowledge.delete_saved(saved)
            found = self.knowledge.saved_searches(scope)
            return self._listing(request, "savedsearch", collection, self._saved_entry, found)
        return _not_allowed(request)

    def _create_saved(
        self, request: Request, namespace: Namespace, user: SplunkUser, collection: str
    ) -> Response:
        params = request.params.as_dict()
        name = params.get("name") or ""
        if not name.strip():
            raise _Invalid(400, "In handler 'savedsearch': Missing required argument: name")
        if not (params.get("search") or "").strip():
            raise _Invalid(400, "In handler 'savedsearch': Missing required argument: search")
        app, owner = _target(namespace, user)
        if self.knowledge.find_saved(name, app) is not None:
            raise _Invalid(
                409,
                f"In handler 'savedsearch': Unable to create saved search with name '{name}'. "
                "A saved search with that name already exists.",
            )
        stored = {k: v for k, v in params.items() if k not in _SAVED_SKIP}
        saved = SavedSearch(name, app, owner, stored)
        self.knowledge.put_saved(saved)
        return self._feed(
            request, "savedsearch", collection, [self._saved_entry(saved)], status=201
        )

    def _saved_entry(self, saved: SavedSearch) -> atom.Entry:
        path = f"/servicesNS/{quote(saved.owner, safe='')}/{quote(saved.app, safe='')}"
        path += f"/saved/searches/{quote(saved.name, safe='')}"
        content: dict[str, Any] = dict(_SAVED_DEFAULTS)
        for key, value in saved.params.items():
            content[key] = _typed_bool(value) if key in _SAVED_BOOLEANS else value
        search = saved.search
        content["qualifiedSearch"] = (
            search
            if search.lstrip().startswith("|") or search.lower().startswith("search ")
            else f"search {search}"
        )
        content["eai:appName"] = saved.app
        content["eai:userName"] = saved.owner
        return self._entry(
            saved.name,
            path,
            dict(sorted(content.items())),
            _acl(saved.app, saved.owner),
            saved.owner,
            ("list", "edit", "remove", "dispatch"),
        )

    def _dispatch(
        self, request: Request, namespace: Namespace, user: SplunkUser, saved: SavedSearch
    ) -> Response:
        params = request.params
        spl = saved.search
        for key, value in params.as_dict().items():
            if key.startswith("args."):
                spl = spl.replace(f"${key[5:]}$", value)
        pairs = [("search", spl), ("id", self._sid(user, saved))]
        for wanted, option in (
            ("earliest_time", "dispatch.earliest_time"),
            ("latest_time", "dispatch.latest_time"),
        ):
            value = params.get(option) or saved.params.get(option) or ""
            if value:
                pairs.append((wanted, value))
        if params.get("output_mode"):
            pairs.append(("output_mode", params.get("output_mode") or ""))
        job_request = Request("POST", request.path, Params(pairs), {}, b"")
        base = f"{namespace.prefix}/search/jobs"
        return self.search_api._create(job_request, namespace, user, base)

    def _sid(self, user: SplunkUser, saved: SavedSearch) -> str:
        slug = (
            saved.name
            if _SLUG.fullmatch(saved.name)
            else "RMD5"
            + hashlib.md5(saved.name.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
        )
        stamp = f"{int(time.time())}_{next(self._sids)}"
        return f"{user.name}__{saved.owner}__{saved.app}__{slug}_at_{stamp}"

    # -- SPL validation -----------------------------------------------------------------------

    def _parser(self, request: Request, user: SplunkUser) -> Response:
        if request.method not in ("GET", "POST"):
            return _not_allowed(request)
        if not user.can("search"):
            return error_response(request, 403, permission_message(user, "search"))
        queries = request.params.get_list("q")
        spl = queries[-1] if queries else ""
        if not spl.strip():
            return error_response(request, 400, "Missing required argument: q", "FATAL")
        try:
            checked = check_spl(spl, getattr(self.engine, "extra_commands", ()))
        except SplError as error:
            return error_response(request, 400, error.message, "FATAL")
        document = checked.as_dict()
        if wants_json(request):
            body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
            return Response(200, body, JSON_TYPE)
        xml = f"{atom.XML_DECLARATION}<response>\n{_plain_xml(document, '  ')}\n</response>\n"
        return Response(200, xml.encode("utf-8"))


# -- helpers ----------------------------------------------------------------------------------


def _not_allowed(request: Request) -> Response:
    return error_response(request, 405, "Method Not Allowed")


def _acl(app: str, owner: str) -> dict[str, Any]:
    return {
        "app": app,
        "can_change_perms": True,
        "can_list": True,
        "can_share_app": True,
        "can_share_global": True,
        "can_share_user": True,
        "can_write": True,
        "modifiable": True,
        "owner": owner,
        "perms": {"read": ["*"], "write": ["admin", "power"]},
        "removable": True,
        "sharing": "app" if owner == "nobody" else "user",
    }


def _app_scope(namespace: Namespace) -> str | None:
    """The app a request looks in: any app under ``/services`` or ``/servicesNS/x/-``."""
    if namespace.prefix == "/services" or namespace.app in ("-", ""):
        return None
    return namespace.app


def _target(namespace: Namespace, user: SplunkUser) -> tuple[str, str]:
    """(app, owner) a new object is created in."""
    app = namespace.app if namespace.app not in ("-", "") else "search"
    owner = namespace.owner if namespace.owner not in ("-", "") else user.name
    return app, owner


def _only(params: Params, allowed: frozenset[str]) -> None:
    unknown = sorted(set(params.as_dict()) - allowed)
    if unknown:
        raise _Invalid(400, f'Argument "{unknown[0]}" is not supported by this handler.')


def _dashboard(data: str) -> tuple[str, str, str]:
    try:
        return check_dashboard(data)
    except DashboardError as error:
        raise _Invalid(400, f"In handler 'views': {error}") from None


def _bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _Invalid(400, f"Invalid value for {name}: '{text}' (expected a boolean).")


def _typed_bool(text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE and lowered:
        return False
    return text


def _token_target(rest: list[str]) -> tuple[str, list[str]]:
    """(token name, action) of ``data/inputs/http/...``; ``http://NAME`` may come unencoded."""
    if rest[0] == "http:" and len(rest) >= 3 and rest[1] == "":
        return rest[2], rest[3:]
    return rest[0].removeprefix("http://"), rest[1:]


def _token_changes(params: Params, *, creating: bool) -> dict[str, Any]:
    """``HecCollector.add_token``/``update_token`` arguments from REST parameters."""
    given = params.as_dict()
    allowed = _TOKEN_PARAMS if creating else _TOKEN_PARAMS - {"name"}
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise _Invalid(400, f'Argument "{unknown[0]}" is not supported by this handler.')
    changes: dict[str, Any] = {}
    if creating and "name" in given:
        changes["name"] = given["name"]
    for key in ("index", "sourcetype", "source", "host"):
        if key in given:
            changes[key] = given[key].strip() or None
            if key == "index" and changes[key]:
                changes[key] = changes[key].lower()
    if "description" in given:
        changes["description"] = given["description"]
    if "indexes" in given:
        values = [
            part.strip().lower() for item in params.get_list("indexes") for part in item.split(",")
        ]
        changes["indexes"] = tuple(dict.fromkeys(value for value in values if value))
    for param, key in (
        ("useACK", "use_ack"),
        ("disabled", "disabled"),
        ("allowQueryStringAuth", "query_string_auth"),
    ):
        if param in given:
            changes[key] = _bool(param, given[param])
    if "token" in given:
        value = given["token"].strip()
        if not value or any(ch.isspace() for ch in value):
            raise _Invalid(400, "In handler 'http': Invalid token value.")
        changes["token"] = value
    return changes


def _plain_xml(value: Any, indent: str) -> str:
    """splunkd's plain ``<dict><key name="...">`` / ``<list><item>`` markup (no namespace)."""
    inner = indent + "  "
    if isinstance(value, Mapping):
        if not value:
            return f"{indent}<dict/>"
        keys = "\n".join(
            f"{inner}<key name={quoteattr(str(key))}>{_plain_inline(item, inner)}</key>"
            for key, item in value.items()
        )
        return f"{indent}<dict>\n{keys}\n{indent}</dict>"
    if isinstance(value, (list, tuple)):
        if not value:
            return f"{indent}<list/>"
        items = "\n".join(f"{inner}<item>{_plain_inline(item, inner)}</item>" for item in value)
        return f"{indent}<list>\n{items}\n{indent}</list>"
    return indent + escape(_scalar(value))


def _plain_inline(value: Any, indent: str) -> str:
    if isinstance(value, (Mapping, list, tuple)):
        return "\n" + _plain_xml(value, indent + "  ") + "\n" + indent
    return escape(_scalar(value))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else str(value)
