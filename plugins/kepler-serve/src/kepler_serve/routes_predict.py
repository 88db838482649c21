"""``POST /predict``: Kepler's own scoring route."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from .responses import ERRORS, PredictResponse, json_response
from .state import ServerState, score


def router(state: ServerState) -> APIRouter:
    """The /predict route over ``state``."""
    routes = APIRouter()
    model = state.model

    @routes.post("/predict", response_model=PredictResponse, responses=ERRORS,
                 summary="Predict for one or more instances",
                 description="Each instance is a record of the model's features (see the "
                 "Instance schema: types, required fields, categories). Up to "
                 f"{state.settings.max_batch} instances per request.")
    async def predict(request: Request) -> Response:
        rows = state.inputs.parse_predict(await request.body())
        scores = await score(state, rows, request.scope)
        payload: dict[str, Any] = {"predictions": scores.predictions}
        if scores.probabilities is not None:
            payload["probabilities"] = scores.probabilities
            payload["classes"] = state.scorer.classes
        if scores.scores is not None:
            payload["scores"] = scores.scores
        payload["model"] = model.name
        payload["version"] = model.version
        return json_response(payload)

    return routes
