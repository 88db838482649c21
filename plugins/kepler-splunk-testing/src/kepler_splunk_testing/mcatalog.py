"""``| mcatalog values(<field>) ... WHERE index=... BY ...``: what the metric indexes hold.

``values(metric_name)`` lists the metric names, ``values(<dimension>)`` a dimension's values and
``values(_dims)`` the dimension names; each is the sorted distinct list (a multivalue field) per
BY group (``index``, ``metric_name`` or a dimension).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kepler_splunk_testing.arrowtext import to_text
from kepler_splunk_testing.datasets import Index
from kepler_splunk_testing.metricdata import MetricRows, matching_indexes, select_rows
from kepler_splunk_testing.metricspl import MetricsError, parse_mcatalog
from kepler_splunk_testing.mstats import (
    Groups,
    MetricAnswer,
    group_rows,
    ns,
    resolve_window,
    results_of,
)

__all__ = ["run_mcatalog"]

_NOT_DIMENSIONS = frozenset({"_time", "_value", "metric_name"})


def run_mcatalog(
    args: str,
    indexes: Sequence[Index],
    earliest: datetime | None,
    latest: datetime | None,
    now: datetime,
    server_name: str,
) -> MetricAnswer:
    query = parse_mcatalog(args)
    earliest, latest, substituted = resolve_window(query.where, earliest, latest, now, "mcatalog")
    chosen = matching_indexes(indexes, query.where.indexes, query.where.excluded)
    dimensions = sorted(
        {
            name
            for index in chosen
            for name in index.dataset.table.column_names
            if name not in _NOT_DIMENSIONS and not name.startswith("_")
        }
    )
    wanted = [term.metric for term in query.terms if term.metric != "_dims"]
    if any(term.metric == "_dims" for term in query.terms):
        wanted += dimensions
    fields = list(dict.fromkeys([*query.by, *wanted]))
    for name in query.by:
        if name.startswith("_"):
            raise MetricsError(f"Error in 'mcatalog' command: Cannot group BY '{name}'.")
    rows = select_rows(chosen, ns(earliest), ns(latest), query.where.conditions, fields)
    groups = group_rows(rows, query.by, None, "mcatalog")
    columns: dict[str, pa.Array] = dict(groups.keys)
    names: list[str] = list(groups.keys)
    for term in query.terms:
        if term.column in columns:
            raise MetricsError(
                f"Error in 'mcatalog' command: The output field '{term.column}' repeats."
            )
        if term.metric == "_dims":
            columns[term.column] = _dimension_names(rows, groups, dimensions)
        else:
            source = rows.names if term.metric == "metric_name" else rows.fields[term.metric]
            columns[term.column] = _distinct_values(source, groups)
        names.append(term.column)
    return MetricAnswer(
        results_of(columns, names, groups.count, server_name),
        rows.scanned,
        earliest,
        latest,
        substituted,
    )


def _distinct_values(column: pa.Array, groups: Groups) -> pa.Array:
    """The sorted distinct text values of ``column`` in each group, as list<string>."""
    text = to_text(column.take(pa.array(groups.rows)))
    ids = groups.ids
    if pa.types.is_list(text.type):
        ids = ids[pc.list_parent_indices(text).to_numpy()]
        text = pc.list_flatten(text)
    valid = text.is_valid().to_numpy(zero_copy_only=False)
    pairs = pa.table({"g": pa.array(ids[valid], pa.int64()), "v": text.filter(pa.array(valid))})
    distinct = pairs.group_by(["g", "v"]).aggregate([])
    distinct = distinct.sort_by([("g", "ascending"), ("v", "ascending")])
    sizes = np.bincount(distinct.column("g").to_numpy(), minlength=groups.count)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
    values = distinct.column("v").combine_chunks()
    lists = pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(sizes == 0))
    return lists


def _dimension_names(rows: MetricRows, groups: Groups, dimensions: list[str]) -> pa.Array:
    """The dimensions with at least one value in each group."""
    present = []
    for name in dimensions:
        valid = rows.fields[name].is_valid().to_numpy(zero_copy_only=False)[groups.rows]
        present.append(np.bincount(groups.ids[valid], minlength=groups.count) > 0)
    lists = [
        [name for name, has in zip(dimensions, present, strict=True) if has[group]] or None
        for group in range(groups.count)
    ]
    return pa.array(lists, pa.list_(pa.string()))
