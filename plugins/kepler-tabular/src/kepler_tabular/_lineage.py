"""The lineage of a DataFrame: where the rows came from, and a fingerprint of exactly which.

A connector leaves what it knows about the data in ``df.attrs`` (kepler-splunk: ``source``, the
SPL, the time range, the sid; :func:`read_table`: ``source="file"`` and the path); it travels into
the model's manifest here as a :class:`kepler.api.Lineage`, so a model can be traced back to its
data. The data hash lets anyone check that a retraining used the same rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import pandas as pd
from kepler.api import Lineage, json_safe, redact


def data_hash(data: pd.DataFrame) -> str:
    """sha256 of a DataFrame's column names, dtypes and values (row order included)."""
    digest = hashlib.sha256()
    for name, dtype in data.dtypes.items():
        digest.update(f"{name}\x1f{dtype}\x1e".encode())
    try:
        rows = pd.util.hash_pandas_object(data, index=False)
    except TypeError:  # unhashable cells, e.g. lists from multivalue fields
        rows = pd.util.hash_pandas_object(data.map(repr), index=False)
    digest.update(rows.to_numpy().tobytes())
    return digest.hexdigest()


def _redacted(value: Any) -> Any:
    """Secret values Kepler resolved (tokens, passwords) never reach a manifest."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def describe_data(data: pd.DataFrame, source: str | None = None,
                  details: Mapping[str, Any] | None = None) -> Lineage:
    """The lineage of ``data``: its ``attrs`` plus ``details``, and a fingerprint. ``source`` is
    the given one, else ``attrs["source"]`` (set by the connector that read the data), else
    ``"dataframe"``."""
    attrs = json_safe(dict(getattr(data, "attrs", {}) or {}))
    merged = _redacted({**attrs, **json_safe(dict(details or {}))})
    return Lineage(source=source or str(merged.get("source") or "dataframe"), rows=len(data),
                   columns=[str(c) for c in data.columns], data_sha256=data_hash(data),
                   details=merged)
