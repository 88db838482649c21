"""Where a model's training data came from, and a fingerprint of exactly which rows it was.

A connector leaves what it knows about the data (its query, time range, job id) in the table's
attributes; a trainer records them in the manifest as a :class:`Lineage` (kepler-tabular's
``describe_data`` builds one from a DataFrame), so a model can always be traced back to the data
that fed it. The data hash lets anyone check that a retraining used the same rows.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Lineage(BaseModel):
    """The training data's origin and fingerprint, as kept in the manifest."""

    model_config = ConfigDict(extra="ignore")

    #: The connector's name ("file", ...), or "dataframe" for a table passed in directly.
    source: str = "dataframe"
    rows: int = 0
    columns: list[str] = Field(default_factory=list)
    #: sha256 over column names, dtypes and every cell, in order.
    data_sha256: str | None = None
    #: What the connector recorded (query, time range, job id...); for a file: its path.
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
