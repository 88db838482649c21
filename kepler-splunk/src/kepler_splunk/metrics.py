"""Metrics and the catalog: ``kp.data.splunk_metrics`` builds the ``mstats`` query for you,
``kp.data.splunk_catalog`` lists what there is to query.

Example::

    kp.data.splunk_metrics("pump.vibration", index="plant_metrics", agg="p95", span="5m",
                           by=["asset_id"], earliest="-24h")
    kp.data.splunk_catalog()     # index, datatype, events, size_mb, metric_names
"""

from __future__ import annotations

import re
from typing import Any

from kepler.api import KeplerError

from .timerange import TimeValue

#: mstats aggregation functions (Splunk's "Statistical and charting functions" for metrics).
AGGREGATIONS = frozenset(
    {
        "avg",
        "count",
        "dc",
        "earliest",
        "earliest_time",
        "estdc",
        "estdc_error",
        "exactperc",
        "last",
        "latest",
        "latest_time",
        "max",
        "mean",
        "median",
        "min",
        "mode",
        "range",
        "rate",
        "rate_avg",
        "rate_sum",
        "stdev",
        "stdevp",
        "sum",
        "sumsq",
        "upperperc",
        "var",
        "varp",
    }
)
_PERCENTILE = re.compile(r"^(?:p|perc|exactperc|upperperc)(?:[1-9]\d?|100)(?:\.\d+)?$")
_SPAN = re.compile(r"^\d+(?:s|sec|m|min|h|hr|d|day|w|week|mon|month)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:\-]*$")


class MetricsQueryError(KeplerError):
    """Arguments that cannot make a valid mstats query."""


def _quoted(name: str) -> str:
    if '"' in name:
        raise MetricsQueryError(
            f"Metric or field name {name!r} contains a double quote.",
            hint="Splunk metric names cannot contain '\"'.",
        )
    return f'"{name}"'


def _field(name: str) -> str:
    if not _NAME.match(name):
        raise MetricsQueryError(
            f"{name!r} is not a dimension name Splunk accepts in BY.",
            hint="Use letters, digits, '_', '.', ':' or '-', starting with a letter or '_'.",
        )
    return name


def mstats_query(
    metric_name: str | list[str],
    index: str,
    agg: str = "avg",
    span: str | None = "1m",
    by: list[str] | None = None,
    where: str | None = None,
) -> str:
    """The ``| mstats`` SPL for the given metrics (validated, quoted)."""
    names = [metric_name] if isinstance(metric_name, str) else list(metric_name)
    if not names:
        raise MetricsQueryError("No metric name given.", hint="Pass metric_name='cpu.util'.")
    agg = agg.lower()
    if agg not in AGGREGATIONS and not _PERCENTILE.match(agg):
        raise MetricsQueryError(
            f"Unknown mstats aggregation {agg!r}.",
            hint="Use one of " + ", ".join(sorted(AGGREGATIONS)) + ", or a percentile like p95.",
        )
    if span is not None and not _SPAN.match(span):
        raise MetricsQueryError(
            f"Invalid span {span!r}.", hint="Write it as a number and a unit, e.g. 10s, 1m, 1h, 1d."
        )
    if not _NAME.match(index.strip("*")) and index != "*":
        raise MetricsQueryError(
            f"Invalid index name {index!r}.",
            hint="Pass the name of a metrics index, e.g. index='plant_metrics'.",
        )
    aggregates = ", ".join(f"{agg}({_quoted(n)}) AS {_quoted(n)}" for n in names)
    query = f"| mstats {aggregates} WHERE index={index}"
    if where:
        query += f" AND ({where})"
    if span:
        query += f" span={span}"
    if by:
        query += " BY " + ", ".join(_field(b) for b in by)
    return query


def splunk_metrics(
    metric_name: str | list[str],
    index: str,
    agg: str = "avg",
    span: str | None = "1m",
    by: list[str] | None = None,
    earliest: TimeValue = None,
    latest: TimeValue = None,
    *,
    where: str | None = None,
    **options: Any,
) -> Any:
    """Aggregate metric data points into a DataFrame (``_time``, the BY fields, one column per
    metric), through :func:`kepler_splunk.extract.from_splunk`."""
    from .extract import from_splunk

    return from_splunk(
        mstats_query(metric_name, index, agg, span, by, where), earliest, latest, **options
    )


def splunk_catalog(connection: str | None = None, metric_names: bool = True) -> Any:
    """Indexes (event and metric) with their sizes, and each metric index's metric names."""
    import pandas as pd

    from .connection import open_service, settings
    from .errors import translated
    from .extract import from_splunk

    conn = settings(connection)
    service = open_service(conn)
    rows = []
    with translated(conn, "listing indexes"):
        for index in service.indexes.list(datatype="all"):
            content = index.content
            rows.append(
                {
                    "index": index.name,
                    "datatype": content.get("datatype", "event"),
                    "events": int(float(content.get("totalEventCount") or 0)),
                    "size_mb": float(content.get("currentDBSizeMB") or 0),
                    "earliest": content.get("minTime"),
                    "latest": content.get("maxTime"),
                    "disabled": content.get("disabled") == "1",
                }
            )
    frame = pd.DataFrame(
        rows, columns=["index", "datatype", "events", "size_mb", "earliest", "latest", "disabled"]
    )
    frame["metric_names"] = [[] for _ in range(len(frame))]
    metric_indexes = frame.index[frame["datatype"] == "metric"].tolist()
    if metric_names and metric_indexes:
        names = from_splunk(
            "| mcatalog values(metric_name) AS metric_name WHERE index=* BY index",
            connection=connection,
            progress=False,
        )
        found = {row["index"]: _as_list(row.get("metric_name")) for _, row in names.iterrows()}
        for position in metric_indexes:
            frame.at[position, "metric_names"] = sorted(found.get(frame.at[position, "index"], []))
    frame.attrs.update(source="splunk", connection=f"{conn.scheme}://{conn.host}:{conn.port}")
    return frame


def _as_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and value != value):
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
