"""The Open Inference Protocol (KServe v2) under ``/v2``: server and model metadata, health,
readiness and inference, for the one model this server serves."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from . import binary
from .responses import ERRORS, InferResponse, datatype, json_response
from .state import ServerState, score

NOT_THIS_MODEL = {404: {"description": "Not the model this server serves."}}


class OpenInference:
    """The v2 answers over one :class:`ServerState`; :func:`router` maps them to paths."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.name = state.model.name
        self.version = state.version

    def other_model(self, model_name: str, model_version: str | None = None
                    ) -> Response | None:
        """A 404 when the request names another model (or version), else None."""
        if model_name != self.name or (model_version is not None and
                                       model_version != self.version):
            return json_response({"error": "This server serves one model: " f"{self.name}" + (
                f" version {self.version}" if self.version else "") + "."}, 404)
        return None

    def metadata(self) -> dict[str, Any]:
        state = self.state
        datatypes = {"number": "FP64", "integer": "INT64", "boolean": "BOOL"}
        outputs = [{"name": "predictions", "datatype": datatype(state.scorer.classes),
                    "shape": [-1]}]
        if state.scorer.probabilities:
            outputs.append({"name": "probabilities", "datatype": "FP64",
                            "shape": [-1, len(state.scorer.classes or [])]})
        return {"name": self.name, "versions": [self.version] if self.version else [],
                "platform": f"kepler_{state.model.manifest.format.name}",
                "inputs": [{"name": f.name, "datatype": datatypes.get(f.kind, "BYTES"),
                            "shape": [-1]} for f in state.model.schema],
                "outputs": outputs,
                # which scorer answers: "fast" (the format's compiled scorer, checked
                # identical at start) or "model" (the model's own predict), and why
                "parameters": {"scoring_path": state.scorer.path,
                               "scoring_note": state.scorer.fast_note}}

    def model_ready(self, other: Response | None) -> Response:
        if other is not None:
            return other
        ready = self.state.ready
        return json_response({"name": self.name, "ready": ready}, 200 if ready else 503)

    async def infer(self, request: Request, other: Response | None) -> Response:
        if other is not None:
            return other
        rows, infer = self.state.inputs.parse_v2(await request.body(),
                                                 request.headers.get(binary.HEADER))
        scores = await score(self.state, rows, request.scope)
        wanted = {o["name"] for o in infer.get("outputs", [])} or {"predictions",
                                                                    "probabilities"}
        outputs = []
        if "predictions" in wanted:
            outputs.append({"name": "predictions", "datatype": datatype(scores.predictions),
                            "shape": [len(rows)], "data": scores.predictions})
        if "probabilities" in wanted and scores.probabilities is not None:
            width = len(scores.probabilities[0]) if scores.probabilities else 0
            outputs.append({"name": "probabilities", "datatype": "FP64",
                            "shape": [len(rows), width],
                            "data": [p for row in scores.probabilities for p in row]})
        payload: dict[str, Any] = {"model_name": self.name, "model_version": self.version,
                                   "outputs": outputs}
        if "id" in infer:
            payload["id"] = infer["id"]
        chunks = binary.to_binary(outputs, infer)
        if not chunks:
            return json_response(payload)
        header = orjson.dumps(payload)
        return Response(b"".join([header, *chunks]), media_type=binary.OCTETS,
                        headers={"Inference-Header-Content-Length": str(len(header))})


def router(state: ServerState) -> APIRouter:
    """The /v2 routes over ``state``."""
    routes = APIRouter()
    oip = OpenInference(state)

    @routes.get("/v2", summary="Open Inference Protocol: server metadata")
    async def v2_server() -> Response:
        from . import __version__

        return json_response({"name": "kepler-serve", "version": __version__,
                              "extensions": [binary.EXTENSION]})

    @routes.get("/v2/health/live", summary="Open Inference Protocol: liveness")
    async def v2_live() -> Response:
        return json_response({"live": True})

    @routes.get("/v2/health/ready", summary="Open Inference Protocol: readiness")
    async def v2_ready() -> Response:
        return json_response({"ready": state.ready}, 200 if state.ready else 503)

    meta = {"summary": "Open Inference Protocol: model metadata", "responses": NOT_THIS_MODEL}

    @routes.get("/v2/models/{model_name}", **meta)
    async def v2_model(model_name: str) -> Response:
        return oip.other_model(model_name) or json_response(oip.metadata())

    @routes.get("/v2/models/{model_name}/versions/{model_version}", **meta)
    async def v2_model_version(model_name: str, model_version: str) -> Response:
        return oip.other_model(model_name, model_version) or json_response(oip.metadata())

    ready = {"summary": "Open Inference Protocol: model readiness", "responses": NOT_THIS_MODEL}

    @routes.get("/v2/models/{model_name}/ready", **ready)
    async def v2_model_ready(model_name: str) -> Response:
        return oip.model_ready(oip.other_model(model_name))

    @routes.get("/v2/models/{model_name}/versions/{model_version}/ready", **ready)
    async def v2_model_version_ready(model_name: str, model_version: str) -> Response:
        return oip.model_ready(oip.other_model(model_name, model_version))

    infer: dict[str, Any] = {"summary": "Open Inference Protocol: inference",
                             "response_model": InferResponse,
                             "responses": {**ERRORS, **NOT_THIS_MODEL}}

    @routes.post("/v2/models/{model_name}/infer", **infer)
    async def v2_infer(request: Request, model_name: str) -> Response:
        return await oip.infer(request, oip.other_model(model_name))

    @routes.post("/v2/models/{model_name}/versions/{model_version}/infer", **infer)
    async def v2_infer_version(request: Request, model_name: str, model_version: str
                               ) -> Response:
        return await oip.infer(request, oip.other_model(model_name, model_version))

    return routes
