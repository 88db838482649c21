"""Health, readiness, metadata and the index: what orchestrators and people look at."""

from __future__ import annotations

import os
import time
from typing import Any

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
            "inputs": state.input_stats(), **_counts(state),
            "uptime_seconds": round(time.time() - state.started, 1),
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


#: The prediction log's figures in a counters slot, as ``/metadata`` names them.
_LOG_FIGURES = ("queued", "sent", "spooled", "failed", "dropped", "writes", "retrying")


def _counts(state: ServerState) -> dict[str, Any]:
    """``requests``, ``rows`` and ``prediction_log`` summed over every worker (with
    ``serve.workers`` > 1 the answering worker reads the others' slots too), ``per_worker`` the
    same by pid, and ``worker``, the pid that answered."""
    total, by_pid = state.counts()
    logging = state.prediction_log is not None

    def log_figures(figures: dict[str, int]) -> dict[str, int] | None:
        return {name: figures[f"log_{name}"] for name in _LOG_FIGURES} if logging else None

    prediction_log = None
    if state.prediction_log is not None:
        own = state.prediction_log.stats.as_dict()  # last_error and extras are this worker's
        prediction_log = {**own, **(log_figures(total) or {})}
    return {
        "worker": os.getpid(), "workers": state.settings.workers,
        "requests": total["requests"], "rows": total["rows"],
        "prediction_log": prediction_log,
        "per_worker": {str(pid): {"requests": figures["requests"], "rows": figures["rows"],
                                  "prediction_log": log_figures(figures)}
                       for pid, figures in sorted(by_pid.items())},
    }
