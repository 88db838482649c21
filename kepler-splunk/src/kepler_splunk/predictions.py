"""The shape of prediction events in Splunk, as the monitoring dashboard and alerts read them.

kepler-serve builds these events (``kepler_serve.events.prediction_frame``: batch scoring and
the model server's prediction log) and hands them to the ``splunk-hec`` sink; this module only
names what the searches here rely on.

One event per prediction, JSON (sourcetype ``_json``, so Splunk extracts every field at search
time without any configuration)::

    {"model": "pumps", "model_version": "3", "prediction": 1, "probability": 0.93,
     "latency_ms": 1.8, "batch_id": "…", "features": {"temperature": 71.2, ...}}
"""

from __future__ import annotations

PREDICTION_SOURCETYPE = "_json"
