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

The routes live in :mod:`~kepler_serve.routes_predict`, :mod:`~kepler_serve.routes_oip` and
:mod:`~kepler_serve.routes_meta`, each a router over the one :class:`ServerState` it is given.
"""

from __future__ import annotations

import contextlib
import gc
import hmac
import itertools
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from . import routes_meta, routes_oip, routes_predict
from .accesslog import fast_handler
from .engine import Scorer
from .inputs import InputError, clean_errors, error
from .responses import ERRORS, JSON, json_response
from .state import UNSEEN_KEY, ServerState

log = logging.getLogger(__name__)
access_log = logging.getLogger("kepler_serve.access")

#: Paths answered without an API key: what load balancers and orchestrators probe.
OPEN_PATHS = frozenset({"/health", "/ready", "/v2/health/live", "/v2/health/ready"})


# --- the middleware: API key, body limit, request id, access log ------------------------------


class _TooLarge(Exception):
    pass


class Guard:
    """One pure-ASGI layer in front of the app: request id, API key, body size limit and a
    structured (JSON) access log line per request."""

    def __init__(self, app: Any, *, api_key: str | None, max_body: int,
                 header: str = "x-api-key", log_requests: bool = True,
                 direct: dict[str, Any] | None = None) -> None:
        self.app = app
        #: POST paths answered by a plain ASGI handler instead of FastAPI (kepler_serve.direct)
        self.direct = direct or {}
        self.api_key = api_key.encode() if api_key else None
        self.header = header.lower().encode()
        self.max_body = max_body
        self.log_requests = log_requests
        # request ids without a system call per request: 8 random hex digits per app (each
        # worker builds its own), then a counter; 16 hex digits in all
        self._id_prefix = os.urandom(4).hex()
        self._ids = itertools.count(1)

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
        request_id = request_id or f"{self._id_prefix}{next(self._ids) & 0xFFFFFFFF:08x}"
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
                await json_response({"detail": "Missing or wrong API key: send it in the X-API-Key "
                             "header (or Authorization: Bearer)."}, 401,
                            {"WWW-Authenticate": "Bearer"})(scope, receive, reply)
            elif length > self.max_body:
                await json_response({"detail": f"The body is larger than {self.max_body} bytes."},
                            413)(scope, receive, reply)
            else:
                target = self.direct.get(scope["path"]) if scope["method"] == "POST" \
                    else None
                try:
                    await (target or self.app)(scope, limited, reply)
                except _TooLarge:
                    if state["status"]:
                        raise
                    await json_response({"detail": f"The body is larger than {self.max_body} "
                                         "bytes."}, 413)(scope, receive, reply)
        finally:
            if self.log_requests:
                client = scope.get("client")
                line = {
                    "time": round(time.time(), 3), "request_id": request_id,
                    "method": scope["method"], "path": scope["path"], "status": state["status"],
                    "ms": round((time.perf_counter() - started) * 1000, 3),
                    "bytes_in": state["received"], "bytes_out": state["sent"],
                    "client": client[0] if client else None,
                }
                if UNSEEN_KEY in scope:  # set by a scoring route: categories never trained on
                    line["unseen_categories"] = scope[UNSEEN_KEY]
                handler = fast_handler(access_log)
                if handler is not None:  # the server's own handler: no record, one buffer
                    handler.write_line(orjson.dumps(line))
                else:
                    access_log.info("%s", orjson.dumps(line).decode())


# --- the app ----------------------------------------------------------------------------------


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


def _lifespan(state: ServerState) -> Callable[[FastAPI], Any]:
    """At start: what is loaded (the model, its frameworks) is moved out of the garbage
    collector's reach. At shutdown: not ready any more, then the prediction log sends what is
    queued."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A full collection walks every object of the process: with a model and its
        # frameworks loaded that takes 100-200 ms, and the prediction log's queued objects
        # trigger one every few seconds under load (measured: p99 3 ms -> 130-200 ms).
        # Frozen objects are never walked; what requests allocate is collected as before.
        gc.collect()
        gc.freeze()
        yield
        gc.unfreeze()  # an app stopped in a process that goes on (tests, notebooks)
        state.ready = False
        if state.prediction_log is not None:
            import anyio

            await anyio.to_thread.run_sync(state.prediction_log.close,
                                           state.settings.graceful_seconds)

    return lifespan


def create_app(model: Any, settings: Any = None, *, prediction_log: Any = None,
               scorer: Scorer | None = None) -> Any:
    """The ASGI app serving ``model`` (a :class:`kepler.api.Model`).

    ``settings`` is a :class:`~kepler_serve.config.ServeSettings` (default: defaults);
    ``prediction_log`` a :class:`~kepler_serve.predlog.PredictionLog` (default: none; ``serve``
    builds it from ``serve.log_sink``). Returns the app wrapped in :class:`Guard`; the FastAPI
    app itself is its ``.app``.
    """
    settings = _settings(settings)
    state = ServerState(model, settings, scorer or Scorer(model, fast=settings.fast_path,
                                                         compiler=settings.compiler),
                        prediction_log)
    app = FastAPI(
        title=f"{model.name} (Kepler model)",
        version=state.version or "unsaved",
        description=f"{model.manifest.description or model.algorithm}. Generated by kepler-serve "
        "from the model's feature schema: POST /predict with {\"instances\": [...]}, or the "
        "Open Inference Protocol under /v2.",
        docs_url="/docs" if settings.docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
        lifespan=_lifespan(state),
    )
    app.state.kepler = state
    for module in (routes_predict, routes_meta, routes_oip):
        app.include_router(module.router(state))
    _error_handlers(app, settings)
    app.openapi = _openapi(app, state)  # type: ignore[method-assign]
    from .direct import DirectPredict

    return Guard(app, api_key=settings.api_key.get_secret_value() if settings.api_key else None,
                 max_body=settings.max_body_bytes, log_requests=settings.access_log,
                 direct={"/predict": DirectPredict(state)})


def _error_handlers(app: FastAPI, settings: Any) -> None:
    """Every error as JSON: 422 naming each field (never echoing a value), 413, and the v2
    routes' ``error`` string."""
    from kepler.api import ModelInputError

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> Response:
        body: dict[str, Any] = {"detail": exc.errors}
        if request.url.path.startswith("/v2/"):
            first = exc.errors[0] if exc.errors else {"loc": [], "msg": "invalid input"}
            body["error"] = f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
        return json_response(body, 422)

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [error(e.get("loc", []), e.get("msg", "invalid"), e.get("type", "invalid"))
                    for e in exc.errors()]
        return json_response({"detail": problems}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        body: dict[str, Any] = {"detail": exc.detail}
        if request.url.path.startswith("/v2/"):
            body["error"] = str(exc.detail)
        return json_response(body, exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(_TooLarge)
    async def too_large(request: Request, exc: _TooLarge) -> Response:
        return json_response({"detail": f"The body is larger than {settings.max_body_bytes} "
                              "bytes."}, 413)

    @app.exception_handler(ModelInputError)
    async def model_input_error(request: Request, exc: ModelInputError) -> Response:
        # The schema-generated validation should catch everything first; this is the backstop.
        return json_response({"detail": [error([], "the model refused this input",
                                               "model_input")]}, 422)


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
                    responses["422"] = {"description": ERRORS[422]["description"],
                                        "content": {JSON: {"schema": {
                                            "$ref": "#/components/schemas/InputErrors"}}}}
        app.openapi_schema = document
        return document

    return build


__all__ = ["Guard", "ServerState", "clean_errors", "create_app", "example_instance"]
