"""Serving's record of a prediction: one row per prediction, the frame every sink is given.

Batch scoring and the model server's prediction log build it here and hand it to a sink
(``kepler.api.write_results`` / ``kepler.api.sink``), which writes whatever frame it gets: the
``splunk-hec`` sink sends each row as one JSON event (the monitoring dashboard reads these
fields), a JSON-lines sink appends it to a file. Columns::

    model, model_version, prediction, features (a dict), batch_id,
    probability (classifiers), latency_ms, _time (when known), plus any ``keep`` columns
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any


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
    """One row per prediction: ``inputs`` (a DataFrame or records) become each row's
    ``features`` dict (NaN as missing)."""
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


__all__ = ["prediction_frame"]
