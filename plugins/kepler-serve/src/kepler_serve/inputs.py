"""Request shapes generated from a model's feature schema, and their strict validation.

Every feature of :class:`kepler.schema.FeatureSchema` becomes a field of the ``Instance`` shape:

==========  ============================================================================
kind        accepted JSON
==========  ============================================================================
number      a finite number within float32's range (what tree models compare against)
integer     a whole number (``3`` or ``3.0``) within the same range
boolean     ``true`` / ``false``
category    one of the categories seen in training (an ``enum`` in the OpenAPI document)
datetime    an RFC 3339 string, between 1678 and 2261 (what pandas timestamps hold)
text        a string of at most 10,000 characters
==========  ============================================================================

A required feature (no training row lacked it) must be present and not null; an optional one may
be absent or null, and the model imputes it. Unknown fields are refused (``serve.extra_fields``).
Validation runs on the raw request bytes (pydantic-core parses and checks in one pass), and its
errors come back field by field without echoing any input value.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from typing import Annotated, Any, Literal, NotRequired, Required

import orjson
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationError,
)
from typing_extensions import TypedDict

#: Largest magnitude accepted for numbers: float32's, since tree models compare in float32.
FLOAT32_MAX = 3.4028234663852886e38
TEXT_MAX = 10_000
#: pandas' timestamp range (nanoseconds): beyond it the model's own path reads no time at all.
EARLIEST = _dt.datetime(1678, 1, 1, tzinfo=_dt.UTC)
LATEST = _dt.datetime(2261, 12, 31, 23, 59, 59, tzinfo=_dt.UTC)
#: Longest text kept from a location part (a field name the client sent) in an error.
_LOC_MAX = 64


class InputError(Exception):
    """A request that does not match the model's input; ``errors`` are field-level."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} input error(s)")
        self.errors = errors


def clean_errors(exc: ValidationError, prefix: Sequence[str | int] = ()) -> list[dict[str, Any]]:
    """pydantic's errors without the input values (or context) they carry."""
    return [error(loc=[*prefix, *e["loc"]], msg=e["msg"], kind=e["type"])
            for e in exc.errors(include_url=False, include_input=False, include_context=False)]


def error(loc: Sequence[Any], msg: str, kind: str = "value_error") -> dict[str, Any]:
    shown = [p if isinstance(p, int) else str(p)[:_LOC_MAX] for p in loc]
    return {"loc": shown, "msg": msg, "type": kind}


# --- field types ------------------------------------------------------------------------------


def _whole(value: Any) -> Any:
    """Integers: JSON integers, or numbers with nothing after the point (3.0 from pandas)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _in_range(value: _dt.datetime) -> _dt.datetime:
    moment = value if value.tzinfo is not None else value.replace(tzinfo=_dt.UTC)
    if not EARLIEST <= moment <= LATEST:
        raise ValueError("must lie between 1678-01-01 and 2261-12-31 (UTC)")
    return value


Number = Annotated[float, Strict(), Field(ge=-FLOAT32_MAX, le=FLOAT32_MAX,
                                          allow_inf_nan=False)]
Integer = Annotated[int, BeforeValidator(_whole), Strict(),
                    Field(ge=-int(FLOAT32_MAX), le=int(FLOAT32_MAX))]
Boolean = Annotated[bool, Strict()]
Text = Annotated[str, Strict(), Field(max_length=TEXT_MAX)]
Moment = Annotated[_dt.datetime, Strict(), AfterValidator(_in_range)]


def feature_type(feature: Any) -> Any:
    """The validated type of one :class:`kepler.schema.Feature`."""
    kind = feature.kind
    if kind == "number":
        return Number
    if kind == "integer":
        return Integer
    if kind == "boolean":
        return Boolean
    if kind == "datetime":
        return Moment
    if kind == "category" and feature.categories:
        return Literal[tuple(feature.categories)]
    return Text


def instance_type(schema: Any, extra: str = "forbid") -> Any:
    """The ``Instance`` TypedDict of a feature schema (any feature name works as a key); a model
    saved without a schema takes any record."""
    if not len(schema):
        return dict[str, Any]
    fields: dict[str, Any] = {}
    for feature in schema:
        kind = feature_type(feature)
        fields[feature.name] = Required[kind] if feature.required else NotRequired[kind | None]
    instance: Any = TypedDict("Instance", fields)  # type: ignore[operator]
    instance.__pydantic_config__ = ConfigDict(extra=extra)  # type: ignore[typeddict-item]
    return instance


# --- the request shapes -----------------------------------------------------------------------


class InputSpec:
    """The request shapes and validators of one model."""

    def __init__(self, schema: Any, *, max_batch: int = 10_000, extra: str = "forbid") -> None:
        self.schema = schema
        self.names = [f.name for f in schema]
        self.max_batch = max_batch
        instance = instance_type(schema, extra)
        instances = Annotated[list[instance], Field(min_length=1,  # type: ignore[valid-type]
                                                    max_length=max_batch)]
        request: Any = TypedDict("PredictRequest", {  # type: ignore[operator]
            "instances": Required[instances],
            "parameters": NotRequired[dict[str, Any]],
        })
        request.__pydantic_config__ = ConfigDict(extra="forbid")
        self.instance = instance
        self.request = TypeAdapter(request)
        self.rows = TypeAdapter(instances)
        self.v2_request = TypeAdapter(InferRequest)

    # --- /predict -----------------------------------------------------------------------------

    def parse_predict(self, body: bytes) -> list[dict[str, Any]]:
        """The validated instances of a ``/predict`` body."""
        try:
            rows: list[dict[str, Any]] = self.request.validate_json(body)["instances"]
        except ValidationError as exc:
            raise InputError(clean_errors(exc)) from None
        return rows

    # --- Open Inference Protocol --------------------------------------------------------------

    def parse_v2(self, body: bytes) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The validated instances of a v2 ``infer`` body, and the request itself."""
        try:
            request = self.v2_request.validate_json(body)
        except ValidationError as exc:
            raise InputError(clean_errors(exc)) from None
        tensors = request["inputs"]
        columns = self._v2_columns(tensors)
        counts = {len(values) for values in columns.values()}
        if len(counts) != 1:
            raise InputError([error(["inputs"], "every input tensor must hold the same number "
                                    "of rows")])
        count = counts.pop()
        if not 1 <= count <= self.max_batch:
            raise InputError([error(["inputs"], f"an inference request holds 1 to "
                                    f"{self.max_batch} rows")])
        rows = [{name: values[i] for name, values in columns.items()} for i in range(count)]
        try:
            # the same JSON-mode rules as /predict (datetimes are RFC 3339 strings in JSON)
            validated: list[dict[str, Any]] = self.rows.validate_json(orjson.dumps(rows))
        except ValidationError as exc:
            positions = {name: n for n, name in enumerate(columns)}
            problems = []
            for e in exc.errors(include_url=False, include_input=False, include_context=False):
                loc = list(e["loc"])
                if len(loc) >= 2 and loc[1] in positions and not self._single(tensors):
                    loc = ["inputs", positions[str(loc[1])], "data", loc[0], *loc[2:]]
                else:
                    loc = ["inputs", *loc]
                problems.append(error(loc, e["msg"], e["type"]))
            raise InputError(problems) from None
        return validated, request

    def _single(self, tensors: list[dict[str, Any]]) -> bool:
        return len(tensors) == 1 and tensors[0]["name"] not in self.names

    def _v2_columns(self, tensors: list[dict[str, Any]]) -> dict[str, list[Any]]:
        """Feature name -> values: one tensor per feature, or one [N, features] tensor whose
        columns are the features in the schema's order."""
        if self._single(tensors):
            tensor = tensors[0]
            shape = tensor["shape"]
            width = len(self.names)
            if len(shape) != 2 or shape[1] != width:
                raise InputError([error(["inputs", 0, "shape"],
                                        f"a single input tensor must have shape [N, {width}] "
                                        "(one column per feature, in the order of "
                                        "/v2/models/NAME), or name each tensor after its "
                                        "feature")])
            flat = _flatten(tensor["data"], ["inputs", 0, "data"])
            if len(flat) != shape[0] * width:
                raise InputError([error(["inputs", 0, "data"], "the data does not hold as many "
                                        "values as the shape says")])
            return {name: flat[column::width] for column, name in enumerate(self.names)}
        columns: dict[str, list[Any]] = {}
        for position, tensor in enumerate(tensors):
            name = tensor["name"]
            if name not in self.names:
                raise InputError([error(["inputs", position, "name"],
                                        "not a feature of this model (GET /v2/models/NAME lists "
                                        "them)")])
            if name in columns:
                raise InputError([error(["inputs", position, "name"], "given twice")])
            shape = tensor["shape"]
            if not shape or len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
                raise InputError([error(["inputs", position, "shape"],
                                        "a feature's tensor has shape [N] or [N, 1]")])
            flat = _flatten(tensor["data"], ["inputs", position, "data"])
            if len(flat) != shape[0]:
                raise InputError([error(["inputs", position, "data"], "the data does not hold "
                                        "as many values as the shape says")])
            columns[name] = flat
        return columns

    # --- OpenAPI ------------------------------------------------------------------------------

    def json_schemas(self) -> dict[str, Any]:
        """Component schemas for the OpenAPI document: Instance, PredictRequest, InferRequest."""
        template = "#/components/schemas/{model}"
        found: dict[str, Any] = {}
        for adapter in (self.request, self.v2_request):
            schema = adapter.json_schema(ref_template=template)
            found.update(schema.pop("$defs", {}))
            found[schema.get("title", "Request")] = schema
        return found


def _flatten(data: Any, loc: list[Any], depth: int = 0) -> list[Any]:
    """Row-major values of a (possibly nested) tensor."""
    if depth > 2:
        raise InputError([error(loc, "tensor data nests at most two levels")])
    if not isinstance(data, list):
        return [data]
    flat: list[Any] = []
    for item in data:
        if isinstance(item, list):
            flat.extend(_flatten(item, loc, depth + 1))
        else:
            flat.append(item)
    return flat


class InferInput(TypedDict):
    """One input tensor of the Open Inference Protocol (KServe v2)."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    name: Annotated[str, Field(max_length=256)]
    shape: Annotated[list[Annotated[int, Field(ge=0, le=10_000_000)]],
                     Field(min_length=1, max_length=2)]
    datatype: Literal["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32",
                      "INT64", "FP16", "FP32", "FP64", "BYTES"]
    data: list[Any]
    parameters: NotRequired[dict[str, Any]]


class InferOutputRequest(TypedDict):
    """An output the client asks for: "predictions" or "probabilities"."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    name: Literal["predictions", "probabilities"]
    parameters: NotRequired[dict[str, Any]]


class InferRequest(TypedDict):
    """An Open Inference Protocol (KServe v2) inference request."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    id: NotRequired[Annotated[str, Field(max_length=256)]]
    parameters: NotRequired[dict[str, Any]]
    inputs: Annotated[list[InferInput], Field(min_length=1, max_length=10_000)]
    outputs: NotRequired[list[InferOutputRequest]]
