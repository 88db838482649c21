"""``POST /predict`` answered straight from the ASGI layer, without FastAPI's router.

The scoring route is the one every request takes, and FastAPI's per-request machinery (route
matching over every route, a ``Request`` object, dependency solving, the exception middleware,
a ``Response`` object whose headers are built in two passes) costs more than reading, validating
and scoring one record with the fast path. :class:`~kepler_serve.app.Guard` hands ``/predict``
here: the body is read from ``receive``, validated from bytes by pydantic-core, scored, and the
answer written with one ``orjson.dumps`` and two ASGI messages. The FastAPI route stays (the
OpenAPI document and ``app.app`` in tests use it) and shares :func:`predict_payload`, so both
answer the same; errors answer as the app's exception handlers do.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from .inputs import InputError, error
from .state import ServerState, score

log = logging.getLogger(__name__)

_JSON_HEADERS = [(b"content-type", b"application/json")]


async def predict_payload(state: ServerState, body: bytes, scope: dict[str, Any]
                          ) -> dict[str, Any]:
    """What ``POST /predict`` answers for ``body`` (raises :class:`InputError`)."""
    rows = state.inputs.parse_predict(body)
    scores = await score(state, rows, scope)
    payload: dict[str, Any] = {"predictions": scores.predictions}
    if scores.probabilities is not None:
        payload["probabilities"] = scores.probabilities
        payload["classes"] = state.scorer.classes
    if scores.scores is not None:
        payload["scores"] = scores.scores
    payload["model"] = state.model.name
    payload["version"] = state.model.version
    return payload


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_json(send: Any, payload: Any, status: int = 200) -> None:
    """One JSON answer in two ASGI messages."""
    content = orjson.dumps(payload)
    await send({"type": "http.response.start", "status": status,
                "headers": [*_JSON_HEADERS, (b"content-length", str(len(content)).encode())]})
    await send({"type": "http.response.body", "body": content})


class DirectPredict:
    """The ASGI handler of ``POST /predict`` over one :class:`ServerState`."""

    def __init__(self, state: ServerState) -> None:
        from kepler.api import ModelInputError

        self.state = state
        self.model_input_error = ModelInputError

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            payload = await predict_payload(self.state, await _body(receive), scope)
        except InputError as exc:
            await send_json(send, {"detail": exc.errors}, 422)
            return
        except self.model_input_error:
            # the schema-generated validation should catch everything first; the backstop
            await send_json(send, {"detail": [error([], "the model refused this input",
                                                    "model_input")]}, 422)
            return
        await send_json(send, payload)
