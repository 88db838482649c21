"""What every route answers with: JSON written by orjson, and the documented response shapes
(OpenAPI only)."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, Field
from starlette.responses import Response

JSON = "application/json"


def json_response(payload: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type=JSON,
                    headers=headers)


def datatype(values: Any) -> str:
    """The Open Inference Protocol datatype of a list of plain values."""
    sample = next((v for v in (values or []) if v is not None), None)
    if isinstance(sample, bool):
        return "BOOL"
    if isinstance(sample, int):
        return "INT64"
    if isinstance(sample, float):
        return "FP64"
    return "BYTES"


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


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "API key missing or wrong."},
    413: {"model": Problem, "description": "Body larger than serve.max_body_bytes."},
    422: {"model": InputErrors, "description": "Input does not match the model's schema."},
}
