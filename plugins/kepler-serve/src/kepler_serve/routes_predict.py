"""``POST /predict``: Kepler's own scoring route."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from .direct import predict_payload
from .responses import ERRORS, PredictResponse, json_response
from .state import ServerState


def router(state: ServerState) -> APIRouter:
    """The /predict route over ``state``."""
    routes = APIRouter()

    @routes.post("/predict", response_model=PredictResponse, responses=ERRORS,
                 summary="Predict for one or more instances",
                 description="Each instance is a record of the model's features (see the "
                 "Instance schema: types, required fields, categories). Up to "
                 f"{state.settings.max_batch} instances per request.")
    async def predict(request: Request) -> Response:
        # served by kepler_serve.direct in front of FastAPI; this route documents it (and
        # answers the same where the app runs without that layer)
        return json_response(await predict_payload(state, await request.body(), request.scope))

    return routes
