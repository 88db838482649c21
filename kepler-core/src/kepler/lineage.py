"""Where a model's training data came from, and a fingerprint of exactly which rows it was.

``kp.data.from_splunk`` leaves the SPL, the resolved time range, the sid and the row count in
``df.attrs``; they travel into the model's manifest here, so a model can always be traced back to
the search that fed it. The data hash lets anyone check that a retraining used the same rows.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Lineage(BaseModel):
    """The training data's origin and fingerprint, as kept in the manifest."""

    model_config = ConfigDict(extra="ignore")

    #: "splunk", "file", "dataframe", ...
    source: str = "dataframe"
    rows: int = 0
    columns: list[str] = Field(default_factory=list)
    #: sha256 over column names, dtypes and every cell (pandas' row hashes), in order.
    data_sha256: str | None = None
    #: For Splunk data: spl, earliest, latest, sid, ... (``df.attrs``); for a file: its path.
    details: dict[str, Any] = Field(default_factory=dict)


def json_safe(value: Any, _depth: int = 0) -> Any:
    """``value`` as plain JSON types: numpy scalars become numbers, NaN becomes None, objects
    their ``repr``. Used for everything a manifest keeps (parameters, attrs, metrics)."""
    if _depth > 20:
        return repr(value)
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [json_safe(v, _depth + 1) for v in items]
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        return json_safe(item(), _depth + 1)
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist) and hasattr(value, "dtype"):
        return json_safe(tolist(), _depth + 1)
    isoformat = getattr(value, "isoformat", None)  # pandas Timestamp
    if callable(isoformat):
        return str(isoformat())
    return repr(value)


def data_hash(data: Any) -> str:
    """sha256 of a DataFrame's column names, dtypes and values (row order included)."""
    from ._optional import pandas

    pd = pandas()

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
    from .logs import redact

    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def describe_data(data: Any, source: str | None = None,
                  details: Mapping[str, Any] | None = None) -> Lineage:
    """The lineage of a DataFrame: its ``attrs`` (Splunk's search facts) plus a fingerprint."""
    attrs = json_safe(dict(getattr(data, "attrs", {}) or {}))
    merged = _redacted({**attrs, **json_safe(dict(details or {}))})
    if source is None:
        source = str(merged.get("source") or ("splunk" if "spl" in merged else "dataframe"))
    return Lineage(source=source, rows=len(data), columns=[str(c) for c in data.columns],
                   data_sha256=data_hash(data), details=merged)
