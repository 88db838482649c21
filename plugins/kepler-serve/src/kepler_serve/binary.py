"""The KServe v2 binary tensor extension (``binary_tensor_data``): what Triton's ``tritonclient``
speaks by default.

A request or response is a JSON header followed by raw tensor bytes; the HTTP header
``Inference-Header-Content-Length`` gives the JSON header's length. An input tensor whose data
is in the bytes names its size in ``parameters.binary_data_size`` and has no ``data``; the
tensors' bytes follow one another in the order of ``inputs``. Numbers are little-endian, row
major; ``BYTES`` elements are each a 4-byte little-endian length and the bytes (UTF-8 text here).

Outputs come back as bytes when the request asks: per output with ``parameters.binary_data``,
or for every output with the request parameter ``binary_data_output`` (an output's own
``binary_data: false`` still wins).

Decoded inputs become plain values in the tensor's ``data``, so a binary request is validated by
the same schema rules, with the same 422s, as a JSON one.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from .inputs import InputError, error

#: The extension name servers advertise in ``GET /v2`` (Triton's spelling).
EXTENSION = "binary_tensor_data"
#: The HTTP header naming the length of the JSON part of a binary body.
HEADER = "inference-header-content-length"
OCTETS = "application/octet-stream"

#: Little-endian numpy dtypes of the fixed-width KServe v2 datatypes.
DTYPES: dict[str, str] = {
    "BOOL": "?", "UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8",
    "INT8": "<i1", "INT16": "<i2", "INT32": "<i4", "INT64": "<i8",
    "FP16": "<f2", "FP32": "<f4", "FP64": "<f8",
}


def split(body: bytes, header_length: str | None) -> tuple[bytes, bytes | None]:
    """The JSON part of ``body`` and its binary part (None when the request is all JSON)."""
    if header_length is None:
        return body, None
    text = header_length.strip()
    if not text.isdigit() or int(text) > len(body):
        raise InputError([error(["headers", "Inference-Header-Content-Length"],
                                "must be the length of the JSON part of the body, at most the "
                                "body's length")])
    size = int(text)
    return body[:size], body[size:]


def attach(tensors: list[dict[str, Any]], binary: bytes | None) -> None:
    """Fill each tensor's ``data`` from ``binary`` (in place); every byte must be used and every
    tensor end up with data."""
    offset = 0
    for position, tensor in enumerate(tensors):
        size = (tensor.get("parameters") or {}).get("binary_data_size")
        loc = ["inputs", position]
        if size is None:
            if "data" not in tensor:
                raise InputError([error([*loc, "data"], "give the tensor's data, or its size in "
                                        "parameters.binary_data_size and its bytes after the "
                                        "JSON header")])
            continue
        if binary is None or not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InputError([error([*loc, "parameters", "binary_data_size"],
                                    "binary data needs the Inference-Header-Content-Length "
                                    "header and a non-negative size")])
        if "data" in tensor:
            raise InputError([error([*loc, "data"], "a tensor has data or binary_data_size, "
                                    "not both")])
        if offset + size > len(binary):
            raise InputError([error([*loc, "parameters", "binary_data_size"],
                                    "larger than the binary data left in the body")])
        tensor["data"] = decode(tensor["datatype"], binary[offset:offset + size], loc)
        offset += size
    if binary is not None and offset != len(binary):
        raise InputError([error(["inputs"], "the body holds more binary data than the tensors' "
                                "binary_data_size add up to")])


def decode(datatype: str, raw: bytes, loc: list[Any]) -> list[Any]:
    """The flat values of one tensor's bytes."""
    if datatype == "BYTES":
        return _decode_bytes(raw, loc)
    dtype = np.dtype(DTYPES[datatype])
    if len(raw) % dtype.itemsize:
        raise InputError([error([*loc, "parameters", "binary_data_size"],
                                f"not a whole number of {datatype} elements")])
    values = np.frombuffer(raw, dtype=dtype)
    if values.dtype.kind == "f":
        # NaN and infinities have no JSON spelling: null, as a JSON client would send a gap
        return [None if v != v or v in (float("inf"), float("-inf")) else v
                for v in values.astype(np.float64).tolist()]
    return values.tolist()


def _decode_bytes(raw: bytes, loc: list[Any]) -> list[Any]:
    values: list[Any] = []
    offset, end = 0, len(raw)
    while offset < end:
        if offset + 4 > end:
            raise InputError([error([*loc, "data"], "a BYTES element is cut short")])
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + length > end:
            raise InputError([error([*loc, "data"], "a BYTES element is cut short")])
        try:
            values.append(raw[offset:offset + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError([error([*loc, "data"], "BYTES elements must be UTF-8 text")]
                             ) from None
        offset += length
    return values


def wants_binary(infer: dict[str, Any], name: str) -> bool:
    """Whether the request asks for output ``name`` as bytes."""
    default = bool((infer.get("parameters") or {}).get("binary_data_output", False))
    for output in infer.get("outputs", []):
        if output["name"] == name:
            return bool((output.get("parameters") or {}).get("binary_data", default))
    return default


def encode(datatype: str, values: list[Any]) -> bytes:
    """The bytes of one output tensor's flat values."""
    if datatype == "BYTES":
        parts = []
        for value in values:
            raw = ("" if value is None else str(value)).encode("utf-8")
            parts.append(struct.pack("<I", len(raw)))
            parts.append(raw)
        return b"".join(parts)
    return np.asarray(values, dtype=DTYPES[datatype]).tobytes()


def to_binary(outputs: list[dict[str, Any]], infer: dict[str, Any]) -> list[bytes]:
    """Move the data of the outputs the request wants as bytes out of the JSON (in place);
    the bytes to send after the JSON header, in order."""
    chunks = []
    for output in outputs:
        if wants_binary(infer, output["name"]):
            raw = encode(output["datatype"], output.pop("data"))
            output["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
    return chunks
