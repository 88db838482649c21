"""Monitoring dashboards (Dashboard Studio) and alerts for a model's predictions in Splunk.

Predictions reach Splunk as HEC events (see :mod:`kepler_splunk.predictions`): JSON with
``model``, ``model_version``, ``prediction``, ``latency_ms`` and the inputs under ``features``.
The dashboard shows volume over time, the distribution of predicted values or classes, latency,
the version in use, and each numeric feature's drift from its training statistics (the z-score
of the current mean against the training mean and standard deviation kept in the model's
manifest). Creating it again updates it in place.

Example::

    kp.results.create_dashboard(model, index="ml_predictions")
    kp.results.create_dashboard({"name": "pumps", "task": "classification",
                                 "features": {"temperature": {"mean": 61.2, "std": 4.8}}},
                                index="ml_predictions", dry_run=True)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from kepler.api import KeplerError

from .predictions import PREDICTION_SOURCETYPE

VIEW_NAME = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class FeatureStats:
    name: str
    mean: float | None = None
    std: float | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelStats:
    """What a dashboard needs to know about a model."""

    name: str
    version: str | None = None
    task: str = "classification"
    features: tuple[FeatureStats, ...] = field(default_factory=tuple)

    @property
    def numeric(self) -> list[FeatureStats]:
        return [f for f in self.features if f.mean is not None and f.std]


def model_stats(model: Any) -> ModelStats:
    """Accept a Kepler ``Model`` (its manifest's feature schema) or a plain dict of statistics."""
    if isinstance(model, ModelStats):
        return model
    if isinstance(model, dict):
        features = model.get("features") or {}
        if isinstance(features, dict):
            items = [FeatureStats(name, (s or {}).get("mean"), (s or {}).get("std"),
                                  tuple(map(str, (s or {}).get("categories") or ())))
                     for name, s in features.items()]
        else:
            items = [FeatureStats(f["name"], f.get("mean"), f.get("std"),
                                  tuple(map(str, f.get("categories") or ()))) for f in features]
        if not model.get("name"):
            raise KeplerError("The model statistics need a 'name'.",
                              hint="Pass {'name': 'pumps', 'features': {...}} or a Kepler model.")
        version = model.get("version")
        return ModelStats(str(model["name"]), None if version is None else str(version),
                          str(model.get("task") or "classification"), tuple(items))
    schema = getattr(model, "schema", None)
    if schema is None or not hasattr(model, "name"):
        raise KeplerError(
            f"Cannot read model statistics from {type(model).__name__}.",
            hint="Pass a Kepler model (kp.models.load(name)) or a dict with name and features.")
    items = [FeatureStats(f.name, getattr(f, "mean", None), getattr(f, "std", None),
                          tuple(map(str, getattr(f, "categories", None) or ())))
             for f in getattr(schema, "features", [])]
    version = getattr(model, "version", None)
    return ModelStats(str(model.name), None if version is None else str(version),
                      str(getattr(model, "task", "classification")), tuple(items))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _field(name: str) -> str:
    """A field reference SPL accepts in eval/stats, for names with dots or spaces."""
    return "'" + name.replace("'", "\\'") + "'"


def searches(stats: ModelStats, index: str, sourcetype: str = PREDICTION_SOURCETYPE
             ) -> dict[str, str]:
    """Every search of the dashboard, by data-source id."""
    base = (f"search index={index} sourcetype={_quote(sourcetype)} "
            f"model={_quote(stats.name)}")
    found = {
        "ds_volume": f"{base} | timechart count AS predictions",
        "ds_latency": (f"{base} | timechart avg(latency_ms) AS avg_ms, "
                       "perc95(latency_ms) AS p95_ms"),
        "ds_version": f"{base} | stats latest(model_version) AS version",
    }
    if stats.task in ("regression", "forecasting"):
        found["ds_distribution"] = (f"{base} | bin prediction bins=20 "
                                    "| stats count BY prediction")
    else:
        found["ds_distribution"] = f"{base} | stats count BY prediction | sort - count"
    numeric = stats.numeric
    if numeric:
        averages = ", ".join(f"avg({_field('features.' + f.name)}) AS {_field('m_' + f.name)}"
                             for f in numeric)
        scores = ", ".join(
            f"{_field(f.name)}=round(abs({_field('m_' + f.name)} - {f.mean!r}) / {f.std!r}, 3)"
            for f in numeric)
        keep = " ".join(_quote(f.name) for f in numeric)
        found["ds_drift"] = (f"{base} | bin _time span=1h | stats {averages} BY _time "
                             f"| eval {scores} | fields _time {keep}")
        found["ds_drift_now"] = (f"{base} | stats {averages} | eval {scores} | fields {keep} "
                                 "| transpose column_name=feature "
                                 '| rename "row 1" AS drift_z | sort - drift_z')
    return found


_VIZ = {
    "ds_volume": ("splunk.line", "Predictions over time"),
    "ds_distribution": ("splunk.column", "Predicted values"),
    "ds_latency": ("splunk.line", "Latency (ms): mean and 95th percentile"),
    "ds_version": ("splunk.singlevalue", "Model version in use"),
    "ds_drift": ("splunk.line", "Feature drift (z-score of the hourly mean vs training)"),
    "ds_drift_now": ("splunk.table", "Drift now, per feature (z-score)"),
}


def definition(stats: ModelStats, index: str, sourcetype: str = PREDICTION_SOURCETYPE
               ) -> dict[str, Any]:
    """The Dashboard Studio JSON definition."""
    queries = searches(stats, index, sourcetype)
    data_sources = {ds: {"type": "ds.search", "name": _VIZ[ds][1], "options": {"query": q}}
                    for ds, q in queries.items()}
    visualizations: dict[str, Any] = {}
    structure = []
    y = 0
    for number, ds in enumerate(queries):
        viz_type, title = _VIZ[ds]
        viz_id = "viz_" + ds.removeprefix("ds_")
        visualizations[viz_id] = {"type": viz_type, "title": title,
                                  "dataSources": {"primary": ds}, "options": {}}
        width = 1200 if ds in ("ds_volume", "ds_drift") else 600
        x = 0 if width == 1200 or number % 2 == 0 else 600
        structure.append({"item": viz_id, "type": "block",
                          "position": {"x": x, "y": y, "w": width, "h": 300}})
        if width == 1200 or x == 600:
            y += 300
    version = f" v{stats.version}" if stats.version else ""
    return {
        "title": f"Kepler model {stats.name}{version}",
        "description": f"Predictions of {stats.name} in index {index}: volume, values, latency, "
                       "version and feature drift against the training data.",
        "inputs": {"input_time": {"type": "input.timerange", "title": "Time range",
                                  "options": {"token": "global_time",
                                              "defaultValue": "-24h@h,now"}}},
        "defaults": {"dataSources": {"ds.search": {"options": {"queryParameters": {
            "earliest": "$global_time.earliest$", "latest": "$global_time.latest$"}}}}},
        "dataSources": data_sources,
        "visualizations": visualizations,
        "layout": {"type": "absolute", "options": {"width": 1200, "height": max(y, 300)},
                   "globalInputs": ["input_time"], "structure": structure},
    }


def view_xml(definition_json: dict[str, Any]) -> str:
    """Dashboard Studio's envelope for ``data/ui/views``."""
    from xml.sax.saxutils import escape

    body = json.dumps(definition_json, indent=2).replace("]]>", "]]]]><![CDATA[>")
    return (f'<dashboard version="2" theme="light">\n'
            f"  <label>{escape(definition_json['title'])}</label>\n"
            f"  <description>{escape(definition_json['description'])}</description>\n"
            f"  <definition><![CDATA[\n{body}\n]]></definition>\n</dashboard>\n")


@dataclass
class Dashboard:
    name: str
    app: str
    created: bool
    definition: dict[str, Any]
    url: str | None = None

    def __str__(self) -> str:
        verb = "created" if self.created else "updated"
        return f"Dashboard {self.name!r} {verb} in app {self.app!r}" + (
            f": {self.url}" if self.url else "")


def view_name(model_name: str) -> str:
    return "kepler_" + VIEW_NAME.sub("_", model_name).strip("_").lower()


def create_dashboard(model: Any, index: str, *, name: str | None = None, app: str | None = None,
                     sourcetype: str = PREDICTION_SOURCETYPE, dry_run: bool = False,
                     connection: str | None = None) -> Dashboard:
    """Create (or update in place) the monitoring dashboard of ``model``'s predictions.

    ``dry_run=True`` returns the definition without sending anything.
    """
    from .connection import open_service, settings
    from .errors import SplunkNotFoundError, translated

    stats = model_stats(model)
    spec = definition(stats, index, sourcetype)
    view = name or view_name(stats.name)
    conn = settings(connection)
    target_app = app or conn.app or "search"
    if dry_run:
        return Dashboard(view, target_app, created=False, definition=spec)
    service = open_service(conn)
    owner = conn.owner or "nobody"
    xml = view_xml(spec)
    namespace = {"owner": owner, "app": target_app}
    try:
        with translated(conn, f"reading dashboard {view}"):
            service.get(f"data/ui/views/{view}", **namespace)
        exists = True
    except SplunkNotFoundError:
        exists = False
    with translated(conn, f"{'updating' if exists else 'creating'} dashboard {view}"):
        if exists:
            service.post(f"data/ui/views/{view}", **namespace, **{"eai:data": xml})
        else:
            service.post("data/ui/views", name=view, **namespace, **{"eai:data": xml})
    url = f"{conn.scheme}://{conn.host}/app/{target_app}/{view}"
    return Dashboard(view, target_app, created=not exists, definition=spec, url=url)


# --- alerts -----------------------------------------------------------------------------------

@dataclass
class Alert:
    name: str
    search: str
    created: bool


def alert_search(model_name: str, index: str, condition: str, *, window: str = "-15m",
                 sourcetype: str = PREDICTION_SOURCETYPE) -> str:
    """SPL that returns a row exactly when ``condition`` holds over the window's predictions.

    ``condition`` is an SPL ``where`` expression over these measures: ``predictions`` (count),
    ``anomaly_rate`` (share of predictions equal to 1, or -1 for scikit-learn's outliers),
    ``avg_prediction``, ``avg_latency_ms``, ``p95_latency_ms``.
    """
    if not condition.strip():
        raise KeplerError("The alert needs a condition.",
                          hint="e.g. condition='anomaly_rate > 0.05' or 'p95_latency_ms > 200'.")
    return (f"search index={index} sourcetype={_quote(sourcetype)} model={_quote(model_name)} "
            f"earliest={window} "
            "| eval is_anomaly=if(prediction==1 OR prediction==-1, 1, 0) "
            "| stats count AS predictions, avg(is_anomaly) AS anomaly_rate, "
            "avg(prediction) AS avg_prediction, avg(latency_ms) AS avg_latency_ms, "
            "perc95(latency_ms) AS p95_latency_ms "
            f"| where {condition}")


def create_alert(model: Any, index: str, condition: str, *, name: str | None = None,
                 cron: str = "*/15 * * * *", window: str = "-15m", app: str | None = None,
                 email: str | None = None, severity: int = 3, dry_run: bool = False,
                 connection: str | None = None) -> Alert:
    """A scheduled saved search that fires when ``condition`` holds on the predictions."""
    from .connection import open_service, settings
    from .errors import SplunkNotFoundError, translated

    stats = model_stats(model)
    search = alert_search(stats.name, index, condition, window=window)
    alert_name = name or f"Kepler {stats.name}: {condition}"
    params: dict[str, Any] = {
        "search": search, "is_scheduled": "1", "cron_schedule": cron,
        "dispatch.earliest_time": window, "dispatch.latest_time": "now",
        "alert_type": "number of events", "alert_comparator": "greater than",
        "alert_threshold": "0", "alert.track": "1", "alert.severity": str(severity),
        "description": f"Kepler alert for model {stats.name} in index {index}: {condition}",
    }
    if email:
        params.update({"actions": "email", "action.email.to": email})
    if dry_run:
        return Alert(alert_name, search, created=False)
    conn = settings(connection)
    service = open_service(conn)
    namespace = {"owner": conn.owner or "nobody", "app": app or conn.app or "search"}
    from urllib.parse import quote

    path = f"saved/searches/{quote(alert_name, safe='')}"
    try:
        with translated(conn, f"reading saved search {alert_name}"):
            service.get(path, **namespace)
        exists = True
    except SplunkNotFoundError:
        exists = False
    with translated(conn, f"saving alert {alert_name}"):
        if exists:
            service.post(path, **namespace, **params)
        else:
            service.post("saved/searches", name=alert_name, **namespace, **params)
    return Alert(alert_name, search, created=not exists)
