"""Health, readiness, metadata and the index: what orchestrators and people look at."""

from __future__ import annotations

import os
import time

from fastapi import APIRouter
from starlette.responses import Response

from .responses import Problem, json_response
from .state import ServerState


def router(state: ServerState) -> APIRouter:
    """``/health``, ``/ready``, ``/metadata`` and ``/`` over ``state``."""
    routes = APIRouter()
    model, settings = state.model, state.settings

    @routes.get("/health", summary="Liveness: the server answers")
    async def health() -> Response:
        return json_response({"status": "ok"})

    @routes.get("/ready", summary="Readiness: the model is loaded and scoring",
                responses={503: {"model": Problem}})
    async def ready() -> Response:
        if not state.ready:
            return json_response({"status": "stopping"}, 503)
        return json_response({"status": "ready", "model": model.name, "version": model.version})

    @routes.get("/metadata", summary="The model: schema, metrics, version, lineage")
    async def metadata() -> Response:
        info = model.info()
        info.pop("path", None)
        info["serving"] = {
            "scoring_path": state.scorer.path, "fast_path": state.scorer.fast_note,
            "max_batch": settings.max_batch, "max_body_bytes": settings.max_body_bytes,
            "inputs": state.input_stats(),
            # counters are this worker's: with serve.workers > 1 each process counts its own
            "worker": os.getpid(), "workers": settings.workers,
            "requests": state.requests,
            "rows": state.rows, "uptime_seconds": round(time.time() - state.started, 1),
            "prediction_log": state.prediction_log.stats.as_dict()
            if state.prediction_log is not None else None,
        }
        return json_response(info)

    @routes.get("/", include_in_schema=False)
    async def index() -> Response:
        return json_response({"model": model.name, "version": model.version,
                              "predict": "/predict",
                              "docs": "/docs" if settings.docs else None,
                              "metadata": "/metadata",
                              "infer": f"/v2/models/{model.name}/infer"})

    return routes
