"""The REST API of one Kepler model: FastAPI routes, generated request schema, strict errors.

Routes::

    POST /predict                          {"instances": [{feature: value, ...}, ...]}
                                           -> {"predictions": [...], "probabilities": [[...]],
                                               "classes": [...], "model": name, "version": v}
    POST /v2/models/{name}/infer           Open Inference Protocol (KServe v2)
    POST /v2/models/{name}/versions/{v}/infer
    GET  /v2, /v2/health/live, /v2/health/ready, /v2/models/{name}[/versions/{v}], .../ready
    GET  /health   liveness: the process answers
    GET  /ready    readiness: the model is loaded and scoring (503 while it is not)
    GET  /metadata the model's manifest (schema, metrics, version, lineage) and serving state
    GET  /docs, /openapi.json   request schema generated from the feature schema

Bad input is a 422 naming each field and what was expected, never echoing a value; a body over
``serve.max_body_bytes`` a 413; a missing or wrong API key a 401. Health endpoints need no key.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from .engine import Scorer, Scores
from .inputs import InputError, InputSpec, clean_errors, error

log = logging.getLogger(__name__)
access_log = logging.getLogger("kepler_serve.access")

#: Requests of at most this many rows are scored on the event loop (the fast path takes
#: microseconds); larger ones, and every request on the model's own path, in a worker thread.
INLINE_ROWS = 64
#: Paths answered without an API key: what load balancers and orchestrators probe.
OPEN_PATHS = frozenset({"/health", "/ready", "/v2/health/live", "/v2/health/ready"})
JSON = "application/json"


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type=JSON,
                    headers=headers)


# --- documented response shapes (OpenAPI only; responses are written with orjson) -------------


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: e.g. ['instances', 0, 'temperature'].")
    msg: str = Field(description="What was expected (no input value is echoed).")
    type: str


class InputErrors(BaseModel):
    detail: list[FieldError]


class Problem(BaseModel):
    detail: str


class PredictResponse(BaseModel):
    predictions: list[Any] = Field(description="One per instance.")
    probabilities: list[list[float]] | None = Field(
        default=None, description="Classifiers: one row per instance, in the order of classes.")
    classes: list[Any] | None = Field(default=None, description="Classifiers: the classes.")
    scores: list[float] | None = Field(default=None, description="Anomaly models: the anomaly "
                                       "score of each instance (lower: more anomalous).")
    model: str
    version: int | None


class InferOutput(BaseModel):
    name: str
    datatype: str
    shape: list[int]
    data: list[Any]


class InferResponse(BaseModel):
    model_name: str
    model_version: str | None = None
    id: str | None = None
    outputs: list[InferOutput]


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "API key missing or wrong."},
    413: {"model": Problem, "description": "Body larger than serve.max_body_bytes."},
    422: {"model": InputErrors, "description": "Input does not match the model's schema."},
}


# --- the middleware: API key, body limit, request id, access log ------------------------------


class _TooLarge(Exception):
    pass


class Guard:
    """One pure-ASGI layer in front of the app: request id, API key, body size limit and a
    structured (JSON) access log line per request."""

    def __init__(self, app: Any, *, api_key: str | None, max_body: int,
                 header: str = "x-api-key", log_requests: bool = True) -> None:
        self.app = app
        self.api_key = api_key.encode() if api_key else None
        self.header = header.lower().encode()
        self.max_body = max_body
        self.log_requests = log_requests

    def _authorized(self, headers: list[tuple[bytes, bytes]]) -> bool:
        assert self.api_key is not None
        for key, value in headers:
            if key == self.header and hmac.compare_digest(value, self.api_key):
                return True
            if key == b"authorization" and value[:7].lower() == b"bearer " and \
                    hmac.compare_digest(value[7:].strip(), self.api_key):
                return True
        return False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = scope["headers"]
        request_id = ""
        length = -1
        for key, value in headers:
            if key == b"x-request-id":
                request_id = value[:64].decode("latin-1")
            elif key == b"content-length":
                length = int(value) if value.isdigit() else -1
        request_id = request_id or uuid.uuid4().hex[:16]
        state = {"status": 0, "sent": 0, "received": 0}

        async def reply(message: Any) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode("latin-1"))]
            elif message["type"] == "http.response.body":
                state["sent"] += len(message.get("body", b""))
            await send(message)

        async def limited() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_body:
                    raise _TooLarge
            return message

        try:
            if self.api_key is not None and scope["path"] not in OPEN_PATHS and \
                    not self._authorized(headers):
                await _json({"detail": "Missing or wrong API key: send it in the X-API-Key "
                             "header (or Authorization: Bearer)."}, 401,
                            {"WWW-Authenticate": "Bearer"})(scope, receive, reply)
            elif length > self.max_body:
                await _json({"detail": f"The body is larger than {self.max_body} bytes."},
                            413)(scope, receive, reply)
            else:
                try:
                    await self.app(scope, limited, reply)
                except _TooLarge:
                    if state["status"]:
                        raise
                    await _json({"detail": f"The body is larger than {self.max_body} bytes."},
                                413)(scope, receive, reply)
        finally:
            if self.log_requests:
                client = scope.get("client")
                access_log.info("%s", orjson.dumps({
                    "time": round(time.time(), 3), "request_id": request_id,
                    "method": scope["method"], "path": scope["path"], "status": state["status"],
                    "ms": round((time.perf_counter() - started) * 1000, 3),
                    "bytes_in": state["received"], "bytes_out": state["sent"],
                    "client": client[0] if client else None,
                }).decode())


# --- the app ----------------------------------------------------------------------------------


class ServerState:
    """What the routes share: the model, its scorer and input shapes, the prediction log."""

    def __init__(self, model: Any, settings: Any, scorer: Scorer, prediction_log: Any) -> None:
        self.model = model
        self.settings = settings
        self.scorer = scorer
        self.inputs = InputSpec(model.schema, max_batch=settings.max_batch,
                                extra=settings.extra_fields)
        self.prediction_log = prediction_log
        self.ready = True
        self.started = time.time()
        self.requests = 0
        self.rows = 0

    @property
    def version(self) -> str | None:
        return None if self.model.version is None else str(self.model.version)


def _settings(settings: Any) -> Any:
    if settings is not None:
        return settings
    from .config import ServeSettings

    return ServeSettings()


def example_instance(schema: Any) -> dict[str, Any]:
    """A plausible record for the docs: training means, first categories."""
    from .fastpath import sample_rows

    row = sample_rows(schema, 12)[11]  # the row of training means
    return {k: (v.isoformat().replace("+00:00", "Z") if hasattr(v, "isoformat") else v)
            for k, v in row.items() if v is not None}


def create_app(model: Any, settings: Any = None, *, prediction_log: Any = None,
               scorer: Scorer | None = None) -> Any:
    """The ASGI app serving ``model`` (a :class:`kepler.model.Model`).

    ``settings`` is a :class:`~kepler_serve.config.ServeSettings` (default: defaults);
    ``prediction_log`` a :class:`~kepler_serve.predlog.PredictionLog` (default: none; ``serve``
    builds it from ``serve.log_to_splunk``). Returns the app wrapped in :class:`Guard`; the
    FastAPI app itself is its ``.app``.
    """
    settings = _settings(settings)
    state = ServerState(model, settings, scorer or Scorer(model, fast=settings.fast_path),
                        prediction_log)
    version = state.version
    name = model.name

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.ready = False
        if state.prediction_log is not None:
            import anyio

            await anyio.to_thread.run_sync(state.prediction_log.close, settings.graceful_seconds)

    app = FastAPI(
        title=f"{name} (Kepler model)",
        version=version or "unsaved",
        description=f"{model.manifest.description or model.algorithm}. Generated by kepler-serve "
        "from the model's feature schema: POST /predict with {\"instances\": [...]}, or the "
        "Open Inference Protocol under /v2.",
        docs_url="/docs" if settings.docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
        lifespan=lifespan,
    )
    app.state.kepler = state

    async def score(rows: list[dict[str, Any]]) -> Scores:
        if state.scorer.fast is not None and len(rows) <= INLINE_ROWS:
            scores = state.scorer.score(rows)
        else:
            import anyio

            scores = await anyio.to_thread.run_sync(state.scorer.score, rows)
        state.requests += 1
        state.rows += len(rows)
        if state.prediction_log is not None:
            state.prediction_log.submit(rows, scores.predictions, scores.confidence(),
                                        scores.seconds * 1000)
        return scores

    # --- /predict -----------------------------------------------------------------------------

    @app.post("/predict", response_model=PredictResponse, responses=_ERRORS,
              summary="Predict for one or more instances",
              description="Each instance is a record of the model's features (see the "
              "Instance schema: types, required fields, categories). Up to "
              f"{settings.max_batch} instances per request.")
    async def predict(request: Request) -> Response:
        rows = state.inputs.parse_predict(await request.body())
        scores = await score(rows)
        payload: dict[str, Any] = {"predictions": scores.predictions}
        if scores.probabilities is not None:
            payload["probabilities"] = scores.probabilities
            payload["classes"] = state.scorer.classes
        if scores.scores is not None:
            payload["scores"] = scores.scores
        payload["model"] = name
        payload["version"] = model.version
        return _json(payload)

    # --- health and metadata ------------------------------------------------------------------

    @app.get("/health", summary="Liveness: the server answers")
    async def health() -> Response:
        return _json({"status": "ok"})

    @app.get("/ready", summary="Readiness: the model is loaded and scoring",
             responses={503: {"model": Problem}})
    async def ready() -> Response:
        if not state.ready:
            return _json({"status": "stopping"}, 503)
        return _json({"status": "ready", "model": name, "version": model.version})

    @app.get("/metadata", summary="The model: schema, metrics, version, lineage")
    async def metadata() -> Response:
        info = model.info()
        info.pop("path", None)
        info["serving"] = {
            "scoring_path": state.scorer.path, "fast_path": state.scorer.fast_note,
            "max_batch": settings.max_batch, "max_body_bytes": settings.max_body_bytes,
            "extra_fields": settings.extra_fields, "requests": state.requests,
            "rows": state.rows, "uptime_seconds": round(time.time() - state.started, 1),
            "prediction_log": state.prediction_log.stats.as_dict()
            if state.prediction_log is not None else None,
        }
        return _json(info)

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return _json({"model": name, "version": model.version, "predict": "/predict",
                      "docs": "/docs" if settings.docs else None, "metadata": "/metadata",
                      "infer": f"/v2/models/{name}/infer"})

    # --- Open Inference Protocol (KServe v2) --------------------------------------------------

    def _check_model(model_name: str, model_version: str | None = None) -> Response | None:
        if model_name != name or (model_version is not None and model_version != version):
            return _json({"error": "This server serves one model: "
                          f"{name}" + (f" version {version}" if version else "") + "."}, 404)
        return None

    @app.get("/v2", summary="Open Inference Protocol: server metadata")
    async def v2_server() -> Response:
        from . import __version__

        return _json({"name": "kepler-serve", "version": __version__, "extensions": []})

    @app.get("/v2/health/live", summary="Open Inference Protocol: liveness")
    async def v2_live() -> Response:
        return _json({"live": True})

    @app.get("/v2/health/ready", summary="Open Inference Protocol: readiness")
    async def v2_ready() -> Response:
        return _json({"ready": state.ready}, 200 if state.ready else 503)

    def _v2_metadata() -> dict[str, Any]:
        datatypes = {"number": "FP64", "integer": "INT64", "boolean": "BOOL"}
        outputs = [{"name": "predictions", "datatype": _datatype(state.scorer.classes),
                    "shape": [-1]}]
        if state.scorer.probabilities:
            outputs.append({"name": "probabilities", "datatype": "FP64",
                            "shape": [-1, len(state.scorer.classes or [])]})
        return {"name": name, "versions": [version] if version else [],
                "platform": f"kepler_{model.manifest.format.name}",
                "inputs": [{"name": f.name, "datatype": datatypes.get(f.kind, "BYTES"),
                            "shape": [-1]} for f in model.schema],
                "outputs": outputs}

    async def v2_model(model_name: str) -> Response:
        return _check_model(model_name) or _json(_v2_metadata())

    async def v2_model_version(model_name: str, model_version: str) -> Response:
        return _check_model(model_name, model_version) or _json(_v2_metadata())

    def _model_ready(missing: Response | None) -> Response:
        if missing is not None:
            return missing
        return _json({"name": name, "ready": state.ready}, 200 if state.ready else 503)

    async def v2_model_ready(model_name: str) -> Response:
        return _model_ready(_check_model(model_name))

    async def v2_model_version_ready(model_name: str, model_version: str) -> Response:
        return _model_ready(_check_model(model_name, model_version))

    async def _infer(request: Request, missing: Response | None) -> Response:
        if missing is not None:
            return missing
        rows, infer = state.inputs.parse_v2(await request.body())
        scores = await score(rows)
        wanted = {o["name"] for o in infer.get("outputs", [])} or {"predictions",
                                                                    "probabilities"}
        outputs = []
        if "predictions" in wanted:
            outputs.append({"name": "predictions", "datatype": _datatype(scores.predictions),
                            "shape": [len(rows)], "data": scores.predictions})
        if "probabilities" in wanted and scores.probabilities is not None:
            width = len(scores.probabilities[0]) if scores.probabilities else 0
            outputs.append({"name": "probabilities", "datatype": "FP64",
                            "shape": [len(rows), width],
                            "data": [p for row in scores.probabilities for p in row]})
        payload: dict[str, Any] = {"model_name": name, "model_version": version,
                                   "outputs": outputs}
        if "id" in infer:
            payload["id"] = infer["id"]
        return _json(payload)

    async def v2_infer(request: Request, model_name: str) -> Response:
        return await _infer(request, _check_model(model_name))

    async def v2_infer_version(request: Request, model_name: str, model_version: str
                               ) -> Response:
        return await _infer(request, _check_model(model_name, model_version))

    meta = {"summary": "Open Inference Protocol: model metadata",
            "responses": {404: {"description": "Not the model this server serves."}}}
    app.get("/v2/models/{model_name}", **meta)(v2_model)
    app.get("/v2/models/{model_name}/versions/{model_version}", **meta)(v2_model_version)
    ready_meta = {"summary": "Open Inference Protocol: model readiness",
                  "responses": {404: {"description": "Not the model this server serves."}}}
    app.get("/v2/models/{model_name}/ready", **ready_meta)(v2_model_ready)
    app.get("/v2/models/{model_name}/versions/{model_version}/ready",
            **ready_meta)(v2_model_version_ready)
    infer_meta: dict[str, Any] = {
        "summary": "Open Inference Protocol: inference", "response_model": InferResponse,
        "responses": {**_ERRORS, 404: {"description": "Not the model this server serves."}}}
    app.post("/v2/models/{model_name}/infer", **infer_meta)(v2_infer)
    app.post("/v2/models/{model_name}/versions/{model_version}/infer",
             **infer_meta)(v2_infer_version)

    # --- errors -------------------------------------------------------------------------------

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> Response:
        body: dict[str, Any] = {"detail": exc.errors}
        if request.url.path.startswith("/v2/"):
            first = exc.errors[0] if exc.errors else {"loc": [], "msg": "invalid input"}
            body["error"] = f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
        return _json(body, 422)

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [error(e.get("loc", []), e.get("msg", "invalid"), e.get("type", "invalid"))
                    for e in exc.errors()]
        return _json({"detail": problems}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        body: dict[str, Any] = {"detail": exc.detail}
        if request.url.path.startswith("/v2/"):
            body["error"] = str(exc.detail)
        return _json(body, exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(_TooLarge)
    async def too_large(request: Request, exc: _TooLarge) -> Response:
        return _json({"detail": f"The body is larger than {settings.max_body_bytes} bytes."},
                     413)

    from kepler.errors import ModelInputError

    @app.exception_handler(ModelInputError)
    async def model_input_error(request: Request, exc: ModelInputError) -> Response:
        # The schema-generated validation should catch everything first; this is the backstop.
        return _json({"detail": [error([], "the model refused this input", "model_input")]},
                     422)

    app.openapi = _openapi(app, state)  # type: ignore[method-assign]
    return Guard(app, api_key=settings.api_key.get_secret_value() if settings.api_key else None,
                 max_body=settings.max_body_bytes, log_requests=settings.access_log)


def _datatype(values: Any) -> str:
    sample = next((v for v in (values or []) if v is not None), None)
    if isinstance(sample, bool):
        return "BOOL"
    if isinstance(sample, int):
        return "INT64"
    if isinstance(sample, float):
        return "FP64"
    return "BYTES"


def _openapi(app: FastAPI, state: ServerState) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document, with request bodies generated from the feature schema."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(title=app.title, version=app.version,
                               description=app.description, routes=app.routes)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(state.inputs.json_schemas())
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        example = {"instances": [example_instance(state.model.schema)]}
        bodies = {"/predict": ("PredictRequest", example)}
        for path in document["paths"]:
            if path.endswith("/infer"):
                bodies[path] = ("InferRequest", None)
        for path, (component, sample) in bodies.items():
            content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{component}"}}
            if sample is not None:
                content["example"] = sample
            operation = document["paths"][path]["post"]
            operation["requestBody"] = {"required": True, "content": {JSON: content}}
        for methods in document["paths"].values():
            for operation in methods.values():
                responses = operation.get("responses", {})
                if "422" in responses:
                    responses["422"] = {"description": _ERRORS[422]["description"],
                                        "content": {JSON: {"schema": {
                                            "$ref": "#/components/schemas/InputErrors"}}}}
        app.openapi_schema = document
        return document

    return build


__all__ = ["Guard", "ServerState", "clean_errors", "create_app"]
