"""The shape of prediction events in Splunk, shared by whoever writes them (batch scoring, the
model server's prediction log) and whoever reads them (the monitoring dashboard, alerts).

One event per prediction, JSON (sourcetype ``_json``, so Splunk extracts every field at search
time without any configuration)::

    {"model": "pumps", "model_version": "3", "prediction": 1, "probability": 0.93,
     "latency_ms": 1.8, "batch_id": "…", "features": {"temperature": 71.2, ...}}
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

PREDICTION_SOURCETYPE = "_json"


def prediction_frame(
    inputs: Any,
    predictions: Sequence[Any],
    *,
    model: str,
    version: str | int | None,
    latency_ms: float | Sequence[float] | None = None,
    probabilities: Sequence[float] | None = None,
    time: Any = None,
    batch_id: str | None = None,
) -> Any:
    """Rows ready for :func:`kepler_splunk.results.to_splunk`: one per prediction."""
    import pandas as pd

    frame = inputs if isinstance(inputs, pd.DataFrame) else pd.DataFrame(list(inputs))
    count = len(frame)
    if len(predictions) != count:
        raise ValueError(f"{len(predictions)} predictions for {count} input rows")
    features = [{k: (None if v != v else v) for k, v in row.items()}  # NaN -> missing
                for row in frame.to_dict("records")]
    out = pd.DataFrame({
        "model": [model] * count,
        "model_version": [None if version is None else str(version)] * count,
        "prediction": [p.item() if hasattr(p, "item") else p for p in predictions],
        "features": features,
        "batch_id": [batch_id or uuid.uuid4().hex[:12]] * count,
    })
    if probabilities is not None:
        out["probability"] = [float(p) for p in probabilities]
    if latency_ms is not None:
        out["latency_ms"] = list(latency_ms) if isinstance(latency_ms, Sequence) else [
            float(latency_ms)] * count
    if time is not None:
        out["_time"] = time
    return out
