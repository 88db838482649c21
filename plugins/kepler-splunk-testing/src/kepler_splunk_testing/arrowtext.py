"""Vectorised text building on Arrow arrays: Splunk's string forms, escaping, concatenation.

Why not ``json.dumps`` over a list of dicts? For a 50,000-row page of 24 fields that is 1.2 million
Python dict insertions plus an encoder pass, which made the server, not the client under test, the
bottleneck of Kepler's benchmark. Instead every field of a page becomes an Arrow string array of
ready-made fragments (``"name":"escaped value"``) built by Arrow's C++ kernels, rows are joined
element-wise, and the page body is the joined array's data buffer, handed to the socket without a
copy. See ``render/__init__.py`` for the measured throughput.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "Constant",
    "TextColumn",
    "concat",
    "constant_array",
    "csv_cells",
    "format_splunk_time",
    "join_rows",
    "json_fragments",
    "json_literals",
    "prefix",
    "to_text",
    "xml_escape",
]

Constant: TypeAlias = str | tuple[str, ...]
"""A value that is the same in every row (``index``, ``splunk_server``, multivalue ``_si``)."""

TextColumn: TypeAlias = "pa.Array | Constant"
"""A page column as text: an Arrow string or list<string> array, or one value for every row."""

_CONTROL = r"[\x00-\x1f]"
_NEEDS_JSON_ESCAPE = r'["\\\x00-\x1f]'


def format_splunk_time(epoch_seconds: float) -> str:
    """Splunk's REST time format, always UTC: ``2024-01-01T00:00:00.000+00:00``."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def to_text(array: pa.Array) -> pa.Array:
    """A typed column as Splunk would return it: strings, or list<string> for multivalue fields.

    Missing values (nulls, NaN) stay null, so the renderers can leave the field out of that row.
    """
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_list(kind):
        return array
    if pa.types.is_timestamp(kind):
        return _splunk_times(array)
    if pa.types.is_floating(kind):
        nan = pc.is_nan(array)
        if pc.any(nan).as_py():
            array = pc.if_else(nan, pa.scalar(None, kind), array)
    return pc.cast(array, pa.string())


def _splunk_times(array: pa.Array) -> pa.Array:
    """timestamp[ns, UTC] -> ``YYYY-MM-DDTHH:MM:SS.mmm+00:00`` without a Python loop."""
    millis = pc.divide(array.view(pa.int64()), 1_000_000)
    text = pc.cast(millis.view(pa.timestamp("ms")), pa.string())  # "YYYY-MM-DD HH:MM:SS.mmm"
    text = pc.utf8_replace_slice(text, 10, 11, "T")
    return pc.binary_join_element_wise(text, pa.scalar("+00:00"), "")


def json_escape(strings: pa.Array) -> pa.Array:
    """The inside of a JSON string literal for each value (UTF-8 left as is, as Splunk does)."""
    if not pc.any(pc.match_substring_regex(strings, _NEEDS_JSON_ESCAPE)).as_py():
        return strings  # the common case: one scan, no copy
    out = pc.replace_substring(strings, "\\", "\\\\")
    out = pc.replace_substring(out, '"', '\\"')
    for raw, escaped in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        out = pc.replace_substring(out, raw, escaped)
    if not pc.any(pc.match_substring_regex(out, _CONTROL)).as_py():
        return out
    return pa.array(  # rare: other control characters; let the json module escape them
        [
            None if v is None else json.dumps(v, ensure_ascii=False)[1:-1]
            for v in strings.to_pylist()
        ],
        pa.string(),
    )


def json_fragments(key: str, column: TextColumn, plain: bool = False) -> pa.Array | str:
    """``key`` followed by each value as a JSON literal, in one pass over the data.

    A value is ``"x"``; a multivalue ``["a","b"]`` (one value: ``"a"``); a null stays null (the
    field is absent from that row). ``plain`` columns (numbers, times) skip the escaping scan.
    """
    if isinstance(column, (str, tuple)):
        return key + _constant_literal(column)
    if pa.types.is_list(column.type):
        literals = _list_literals(column, lambda flat: _quote(json_escape(flat)), ",", "[", "]")
        return prefix(key, literals) if key else literals
    escaped = column if plain else json_escape(column)
    return pc.binary_join_element_wise(pa.scalar(key + '"'), escaped, pa.scalar('"'), "")


def json_literals(column: TextColumn, plain: bool = False) -> pa.Array | str:
    """Each value as a JSON literal (see :func:`json_fragments`)."""
    return json_fragments("", column, plain)


def _constant_literal(column: Constant) -> str:
    if isinstance(column, str):
        return json.dumps(column, ensure_ascii=False)
    if len(column) == 1:
        return json.dumps(column[0], ensure_ascii=False)
    return json.dumps(list(column), ensure_ascii=False, separators=(",", ":"))


def _quote(escaped: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(pa.scalar('"'), escaped, pa.scalar('"'), "")


def _list_literals(
    lists: pa.Array,
    encode: object,
    separator: str,
    open_: str,
    close: str,
    *,
    wrap_single: bool = False,
) -> pa.Array:
    """Encode every value of a list<string> array, then join each row's values.

    Rows with one value are left unwrapped (Splunk renders a one-value multivalue field as a plain
    value) unless ``wrap_single``; empty and null lists become null (the field is absent).
    """
    offsets = lists.offsets.to_numpy()
    start, stop = int(offsets[0]), int(offsets[-1])
    values = lists.values.slice(start, stop - start)
    encoded = encode(values)  # type: ignore[operator]
    rebuilt = pa.ListArray.from_arrays(
        pa.array(offsets - start, pa.int32()), encoded, mask=lists.is_null()
    )
    joined = pc.binary_join(rebuilt, separator)
    lengths = pc.fill_null(pc.list_value_length(lists), 0)
    wrapped = pc.binary_join_element_wise(pa.scalar(open_), joined, pa.scalar(close), "")
    chosen = wrapped if wrap_single else pc.if_else(pc.equal(lengths, 1), joined, wrapped)
    return pc.if_else(pc.equal(lengths, 0), pa.scalar(None, pa.string()), chosen)


def xml_escape(strings: pa.Array) -> pa.Array:
    """Text-node escaping for XML (``&``, ``<``, ``>``)."""
    if not pc.any(pc.match_substring_regex(strings, "[&<>]")).as_py():
        return strings
    out = pc.replace_substring(strings, "&", "&amp;")
    out = pc.replace_substring(out, "<", "&lt;")
    return pc.replace_substring(out, ">", "&gt;")


def xml_values(column: pa.Array, plain: bool = False) -> pa.Array:
    """Each cell as Splunk's ``<value><text>..</text></value>`` elements (several if multivalue)."""

    def encode(flat: pa.Array) -> pa.Array:
        escaped = flat if plain else xml_escape(flat)
        return pc.binary_join_element_wise(
            pa.scalar("<value><text>"), escaped, pa.scalar("</text></value>"), ""
        )

    if pa.types.is_list(column.type):
        return _list_literals(column, encode, "", "", "", wrap_single=False)
    return encode(column)


def csv_cells(column: pa.Array, plain: bool = False) -> pa.Array:
    """RFC 4180 cells: quoted only when needed; multivalue joined by newlines (so quoted)."""
    if plain:
        return pc.fill_null(column, "")
    if pa.types.is_list(column.type):
        column = _list_literals(column, lambda flat: flat, "\n", "", "")
    needs_quotes = pc.match_substring_regex(column, '[",\r\n]')
    if not pc.any(needs_quotes).as_py():
        return pc.fill_null(column, "")
    quoted = pc.binary_join_element_wise(
        pa.scalar('"'), pc.replace_substring(column, '"', '""'), pa.scalar('"'), ""
    )
    return pc.fill_null(pc.if_else(needs_quotes, quoted, column), "")


def csv_constant(value: Constant) -> str:
    text = value if isinstance(value, str) else "\n".join(value)
    if any(ch in text for ch in '",\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def prefix(text: str, values: pa.Array) -> pa.Array:
    """``text + value`` for every non-null value (nulls stay null)."""
    return pc.binary_join_element_wise(pa.scalar(text), values, "")


def join_rows(parts: list[pa.Array | str], separator: str, num_rows: int) -> pa.Array:
    """Join per-row fragments element-wise, skipping nulls (absent fields).

    ``parts`` may mix arrays and plain strings (the same fragment in every row). A row where
    every part is null joins to ``""``: it is still a row (``{}`` in JSON), never dropped.
    """
    arrays = [part if isinstance(part, pa.Array) else pa.scalar(part) for part in parts]
    if not any(isinstance(part, pa.Array) for part in arrays):
        arrays.insert(0, pa.nulls(num_rows, pa.string()))  # broadcast scalars to num_rows
    if all(isinstance(part, pa.Array) for part in arrays):
        # With null_handling="skip", Arrow (seen with pyarrow 26) *drops* rows in which every
        # input is null, returning a shorter array. Give such rows one empty, non-null part.
        empty = pc.is_null(arrays[0])
        for part in arrays[1:]:
            empty = pc.and_(empty, pc.is_null(part))
        if pc.any(empty).as_py():
            arrays[0] = pc.if_else(empty, pa.scalar("", arrays[0].type), arrays[0])
    return pc.binary_join_element_wise(*arrays, separator, null_handling="skip")


def wrap(values: pa.Array, before: str, after: str) -> pa.Array:
    return pc.binary_join_element_wise(pa.scalar(before), values, pa.scalar(after), "")


def constant_array(value: str, num_rows: int) -> pa.Array:
    return pc.fill_null(pa.nulls(num_rows, pa.string()), value)


def concat(strings: pa.Array) -> memoryview:
    """All values of a string array back to back, as a view of Arrow's buffer (no copy)."""
    if len(strings) == 0:
        return memoryview(b"")
    if strings.null_count:
        strings = pc.fill_null(strings, "")
    buffers = strings.buffers()
    offsets = np.frombuffer(
        buffers[1], dtype=np.int32, count=len(strings) + 1, offset=strings.offset * 4
    )
    data = buffers[2]
    if data is None:
        return memoryview(b"")
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])]
