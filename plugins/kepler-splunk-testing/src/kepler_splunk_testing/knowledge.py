"""Knowledge objects kept by the test server: dashboards (``data/ui/views``) and saved searches.

Both are stored per app and name, with the owner that created them, as splunkd keeps them in an
app's ``local/`` folder. Dashboards are validated on create and update (splunkd accepts some
broken ones; the test server refuses them so a test catches a generator's bug at once):

- ``eai:data`` must be XML whose root is ``<dashboard>`` or ``<form>`` (Simple XML);
- a Dashboard Studio dashboard (``<dashboard version="2">``) must hold a ``<definition>`` whose
  text (usually CDATA) is a JSON object with ``dataSources``, ``visualizations`` and ``layout``
  objects; every data source a visualization names, and every item the layout places, must be
  defined.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any
from xml.etree import ElementTree

__all__ = ["DashboardError", "KnowledgeStore", "SavedSearch", "View", "check_dashboard"]

_VIEW_NAME = re.compile(r"[\w.\-]+")


class DashboardError(ValueError):
    """``eai:data`` a dashboard cannot have (HTTP 400)."""


@dataclass(frozen=True)
class View:
    name: str
    app: str
    owner: str
    data: str
    root: str  # "dashboard" or "form"
    version: str  # "2" for Dashboard Studio, else the Simple XML version ("1.1" by default)
    label: str
    updated: float = field(default_factory=time.time)

    @property
    def digest(self) -> str:
        return hashlib.md5(self.data.encode("utf-8"), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class SavedSearch:
    name: str
    app: str
    owner: str
    params: dict[str, str]  # as given at creation and updates (``search`` included)
    updated: float = field(default_factory=time.time)

    @property
    def search(self) -> str:
        return self.params.get("search", "")


def check_view_name(name: str) -> None:
    if not _VIEW_NAME.fullmatch(name):
        raise DashboardError(
            f"Invalid view name '{name}': use letters, digits, '_', '-' and '.' only."
        )


def check_dashboard(data: str) -> tuple[str, str, str]:
    """(root tag, version, label) of valid ``eai:data``; :class:`DashboardError` otherwise."""
    if not data.strip():
        raise DashboardError("eai:data is empty.")
    try:
        root = ElementTree.fromstring(data)  # noqa: S314 - a local test server, expat >= 2.4
    except ElementTree.ParseError as error:
        raise DashboardError(f"eai:data is not well-formed XML: {error}.") from None
    if root.tag not in ("dashboard", "form"):
        raise DashboardError(
            f"eai:data must have a <dashboard> or <form> root element, not <{root.tag}>."
        )
    version = (root.get("version") or "1.1").strip()
    label = (root.findtext("label") or "").strip()
    if version == "2":
        _check_studio(root)
    return root.tag, version, label


def _check_studio(root: ElementTree.Element) -> None:
    definition = root.find("definition")
    if definition is None or not (definition.text or "").strip():
        raise DashboardError(
            'A Dashboard Studio dashboard (version="2") needs a <definition> element holding '
            "its JSON definition (in CDATA)."
        )
    try:
        document = json.loads(definition.text or "")
    except json.JSONDecodeError as error:
        raise DashboardError(
            f"The <definition> of the dashboard is not valid JSON: {error}."
        ) from None
    if not isinstance(document, dict):
        raise DashboardError("The <definition> of the dashboard must be a JSON object.")
    for key in ("dataSources", "visualizations", "layout"):
        if key not in document:
            raise DashboardError(f"The dashboard definition has no '{key}'.")
        if not isinstance(document[key], dict):
            raise DashboardError(f"The dashboard definition's '{key}' must be a JSON object.")
    sources = document["dataSources"]
    for source_id, source in sources.items():
        if not isinstance(source, dict) or not isinstance(source.get("type"), str):
            raise DashboardError(f"Data source '{source_id}' needs a 'type'.")
    visualizations = document["visualizations"]
    for viz_id, viz in visualizations.items():
        if not isinstance(viz, dict) or not isinstance(viz.get("type"), str):
            raise DashboardError(f"Visualization '{viz_id}' needs a 'type'.")
        used = viz.get("dataSources") or {}
        if not isinstance(used, dict):
            raise DashboardError(f"Visualization '{viz_id}': 'dataSources' must be an object.")
        for role, source_id in used.items():
            if source_id not in sources:
                raise DashboardError(
                    f"Visualization '{viz_id}' uses data source '{source_id}' ({role}), "
                    "which the definition does not define."
                )
    structure = document["layout"].get("structure", [])
    if not isinstance(structure, list):
        raise DashboardError("The layout's 'structure' must be a JSON array.")
    inputs = document.get("inputs") or {}
    for item in structure:
        item_id = item.get("item") if isinstance(item, dict) else None
        if not isinstance(item_id, str):
            raise DashboardError("Every layout structure entry needs an 'item'.")
        if item_id not in visualizations and item_id not in inputs:
            raise DashboardError(
                f"The layout places '{item_id}', which is not a defined visualization."
            )


class KnowledgeStore:
    """Views and saved searches by (app, name); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: dict[tuple[str, str], View] = {}
        self._saved: dict[tuple[str, str], SavedSearch] = {}

    # -- views --------------------------------------------------------------------------------

    def views(self, app: str | None = None) -> list[View]:
        with self._lock:
            found = [v for v in self._views.values() if app is None or v.app == app]
        return sorted(found, key=lambda view: (view.name, view.app))

    def find_view(self, name: str, app: str | None) -> View | None:
        return _find(self.views(), name, app)

    def put_view(self, view: View) -> None:
        with self._lock:
            self._views[(view.app, view.name)] = view

    def delete_view(self, view: View) -> None:
        with self._lock:
            self._views.pop((view.app, view.name), None)

    # -- saved searches -----------------------------------------------------------------------

    def saved_searches(self, app: str | None = None) -> list[SavedSearch]:
        with self._lock:
            found = [s for s in self._saved.values() if app is None or s.app == app]
        return sorted(found, key=lambda saved: (saved.name, saved.app))

    def find_saved(self, name: str, app: str | None) -> SavedSearch | None:
        return _find(self.saved_searches(), name, app)

    def put_saved(self, saved: SavedSearch) -> None:
        with self._lock:
            self._saved[(saved.app, saved.name)] = replace(saved, params=dict(saved.params))

    def delete_saved(self, saved: SavedSearch) -> None:
        with self._lock:
            self._saved.pop((saved.app, saved.name), None)


def _find(objects: list[Any], name: str, app: str | None) -> Any:
    """The object ``name`` in ``app`` (None: any app, the ``search`` app first)."""
    matches = [obj for obj in objects if obj.name == name and (app is None or obj.app == app)]
    matches.sort(key=lambda obj: obj.app != "search")
    return matches[0] if matches else None
