"""Request shapes generated from a model's feature schema, and their validation.

Every feature of :class:`kepler.schema.FeatureSchema` becomes a field of the ``Instance`` shape,
typed by :mod:`kepler_serve.fields`: by default as leniently as the model itself scores (numeric
strings read as numbers, null where the model imputes, categories never seen in training scored
as its encoder scores them, and counted), or strictly with ``serve.strict_inputs``.

A required feature (no training row lacked it) must be present; an optional one may be absent.
Fields that are not features (the target, ``_time`` of a model that does not use it) are ignored,
as the SDK and batch scoring ignore extra columns; strict mode refuses them
(``serve.extra_fields`` sets this alone). Validation runs on the raw request bytes
(pydantic-core parses and checks in one pass), and its errors come back field by field without
echoing any input value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any, Literal, NotRequired, Required

import orjson
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from .columnar import NumericDecoder
from .fields import (  # noqa: F401  (re-exported: what callers imported from here before)
    EARLIEST,
    FLOAT32_MAX,
    LATEST,
    TEXT_MAX,
    feature_type,
)
from .tolerance import Tolerance

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


# --- the instance shape ----------------------------------------------------------------------


def instance_type(schema: Any, extra: str = "forbid", *, strict: bool = True,
                  tolerance: Tolerance | None = None, unseen: Any = None) -> Any:
    """The ``Instance`` TypedDict of a feature schema (any feature name works as a key); a model
    saved without a schema takes any record. Lenient (``strict=False``): the model's
    ``tolerance`` decides which features take null and which categories take unseen values
    (``unseen(name)`` is called for each)."""
    if not len(schema):
        return dict[str, Any]
    tolerance = tolerance if tolerance is not None and not strict else Tolerance()
    fields: dict[str, Any] = {}
    for feature in schema:
        kind = feature_type(feature, strict=strict,
                            open_categories=feature.name in tolerance.open_categories,
                            unseen=unseen)
        if not feature.required:
            fields[feature.name] = NotRequired[kind | None]
        elif feature.name in tolerance.nullable:
            fields[feature.name] = Required[kind | None]
        else:
            fields[feature.name] = Required[kind]
    instance: Any = TypedDict("Instance", fields)  # type: ignore[operator]
    instance.__pydantic_config__ = ConfigDict(extra=extra)  # type: ignore[typeddict-item]
    return instance


# --- the request shapes -----------------------------------------------------------------------


class InputSpec:
    """The request shapes and validators of one model."""

    def __init__(self, schema: Any, *, max_batch: int = 10_000, extra: str | None = None,
                 strict: bool = False, tolerance: Tolerance | None = None) -> None:
        self.schema = schema
        self.names = [f.name for f in schema]
        self.max_batch = max_batch
        self.strict = strict
        self.extra = extra or ("forbid" if strict else "ignore")
        #: Unseen category values by feature, over every request this spec accepted.
        self.unseen: Counter[str] = Counter()
        #: How many the last accepted request held (the route puts it in the access log).
        self.last_unseen = 0
        self._pending: list[str] = []
        instance = instance_type(schema, self.extra, strict=strict, tolerance=tolerance,
                                 unseen=self._pending.append)
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
        #: Large all-numeric requests decoded column by column (:mod:`.columnar`).
        self.columnar = NumericDecoder.for_schema(schema, max_batch)

    # --- /predict -----------------------------------------------------------------------------

    def parse_predict(self, body: bytes) -> list[dict[str, Any]]:
        """The validated instances of a ``/predict`` body."""
        self._pending.clear()
        if self.columnar is not None:
            records = self.columnar.decode(body)
            if records is not None:  # numbers only: no unseen categories
                self.last_unseen = 0
                return records  # type: ignore[no-any-return]
        try:
            rows: list[dict[str, Any]] = self.request.validate_json(body)["instances"]
        except ValidationError as exc:
            raise InputError(clean_errors(exc)) from None
        self._count_unseen()
        return rows

    def _count_unseen(self) -> None:
        """Count the unseen categories of a request that validated (a refused one counts none:
        nothing of it was scored)."""
        self.last_unseen = len(self._pending)
        if self._pending:
            self.unseen.update(self._pending)
            self._pending.clear()

    # --- Open Inference Protocol --------------------------------------------------------------

    def parse_v2(self, body: bytes, header_length: str | None = None
                 ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The validated instances of a v2 ``infer`` body, and the request itself.

        ``header_length`` is the ``Inference-Header-Content-Length`` header: given, the body is
        a JSON header and raw tensor bytes (the binary tensor extension, :mod:`.binary`)."""
        from . import binary as extension

        header, raw = extension.split(body, header_length)
        try:
            request = self.v2_request.validate_json(header)
        except ValidationError as exc:
            raise InputError(clean_errors(exc)) from None
        tensors = request["inputs"]
        extension.attach(tensors, raw)
        columns, ignored = self._v2_columns(tensors)
        counts = {len(values) for values in columns.values()} | set(ignored)
        if len(counts) != 1:
            raise InputError([error(["inputs"], "every input tensor must hold the same number "
                                    "of rows")])
        count = counts.pop()
        if not 1 <= count <= self.max_batch:
            raise InputError([error(["inputs"], f"an inference request holds 1 to "
                                    f"{self.max_batch} rows")])
        rows = [{name: values[i] for name, values in columns.items()} for i in range(count)]
        self._pending.clear()
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
        self._count_unseen()
        return validated, request

    def _single(self, tensors: list[dict[str, Any]]) -> bool:
        return len(tensors) == 1 and tensors[0]["name"] not in self.names

    def _v2_columns(self, tensors: list[dict[str, Any]]
                    ) -> tuple[dict[str, list[Any]], list[int]]:
        """Feature name -> values: one tensor per feature, or one [N, features] tensor whose
        columns are the features in the schema's order; and the row counts of the tensors that
        name no feature (ignored, unless extra fields are refused)."""
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
            return {name: flat[column::width] for column, name in enumerate(self.names)}, []
        columns: dict[str, list[Any]] = {}
        ignored: list[int] = []
        for position, tensor in enumerate(tensors):
            name = tensor["name"]
            if name not in self.names and self.extra == "ignore" and tensor["shape"]:
                ignored.append(tensor["shape"][0])
                continue
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
        return columns, ignored

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
    #: absent when the tensor's bytes follow the JSON header (``parameters.binary_data_size``)
    data: NotRequired[list[Any]]
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
