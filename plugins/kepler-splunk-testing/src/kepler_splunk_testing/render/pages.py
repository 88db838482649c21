"""One page of results in each ``output_mode``: json, json_rows, json_cols, csv, xml.

Every renderer returns a list of byte chunks (written to the socket one after the other, so the
big middle chunk is never copied) built from Arrow fragments; see
``kepler_splunk_testing.arrowtext``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from kepler_splunk_testing.arrowtext import (
    Constant,
    concat,
    csv_cells,
    csv_constant,
    join_rows,
    json_fragments,
    json_literals,
    wrap,
    xml_values,
)
from kepler_splunk_testing.results import Message, Page

__all__ = [
    "Chunks",
    "json_objects",
    "render_csv",
    "render_json",
    "render_json_cols",
    "render_json_rows",
    "render_xml",
]

Chunks = list[bytes | memoryview]


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _messages(messages: Sequence[Message]) -> list[dict[str, str]]:
    return [{"type": message.type, "text": message.text} for message in messages]


def _header(preview: bool, init_offset: int, messages: Sequence[Message]) -> str:
    return (
        f'{{"preview":{"true" if preview else "false"},"init_offset":{init_offset},'
        f'"messages":{_dumps(_messages(messages)).decode()}'
    )


def json_objects(page: Page, after: str = "") -> pa.Array:
    """Each row as a JSON object ``{"field":"value",...}`` followed by ``after``.

    Absent (null) fields are left out of their row, as splunkd does.
    """
    parts = [
        json_fragments(json.dumps(name, ensure_ascii=False) + ":", column, page.is_plain(i))
        for i, (name, column) in enumerate(zip(page.fields, page.columns, strict=True))
    ]
    rows = join_rows(parts, ",", page.num_rows)
    return wrap(rows, "{", "}" + after)


def _joined(array_with_separator: pa.Array, separator: str) -> Chunks:
    """Concatenate values that each end with ``separator``, dropping the final separator."""
    if len(array_with_separator) == 0:
        return []
    data = concat(array_with_separator)
    return [data[: len(data) - len(separator.encode())]]


def render_json(
    page: Page, *, preview: bool, messages: Sequence[Message], init_offset: int
) -> Chunks:
    """``{"preview":..,"init_offset":..,"messages":[],"fields":[{"name":..}],"results":[..]}``."""
    fields = _dumps([{"name": name} for name in page.fields]) if page.num_rows else b"[]"
    head = _header(preview, init_offset, messages).encode() + b',"fields":' + fields
    rows = _joined(json_objects(page, ","), ",") if page.num_rows else []
    return [head + b',"results":[', *rows, b'],"highlighted":{}}']


def _literals_or_null(column: pa.Array | Constant, plain: bool) -> pa.Array | str:
    literal = json_literals(column, plain)
    if isinstance(literal, str):
        return literal
    return pc.fill_null(literal, "null")


def render_json_rows(
    page: Page, *, preview: bool, messages: Sequence[Message], init_offset: int
) -> Chunks:
    """``{..,"fields":["a","b"],"rows":[["1","x"],..]}`` (absent values are ``null``)."""
    head = _header(preview, init_offset, messages).encode()
    head += b',"fields":' + _dumps(list(page.fields) if page.num_rows else [])
    if not page.num_rows:
        return [head + b',"rows":[]}']
    parts = [_literals_or_null(column, page.is_plain(i)) for i, column in enumerate(page.columns)]
    rows = wrap(join_rows(parts, ",", page.num_rows), "[", "],")
    return [head + b',"rows":[', *_joined(rows, ","), b"]}"]


def render_json_cols(
    page: Page, *, preview: bool, messages: Sequence[Message], init_offset: int
) -> Chunks:
    """``{..,"fields":["a","b"],"columns":[["1","2"],["x","y"]]}``."""
    head = _header(preview, init_offset, messages).encode()
    head += b',"fields":' + _dumps(list(page.fields) if page.num_rows else [])
    chunks: Chunks = [head + b',"columns":[']
    if page.num_rows:
        for position, column in enumerate(page.columns):
            chunks.append(b"[" if position == 0 else b",[")
            literal = _literals_or_null(column, page.is_plain(position))
            if isinstance(literal, str):
                chunks.append(",".join(itertools.repeat(literal, page.num_rows)).encode())
            else:
                chunks.extend(_joined(wrap(literal, "", ","), ","))
            chunks.append(b"]")
    chunks.append(b"]}")
    return chunks


def csv_header(fields: Sequence[str]) -> bytes:
    return (",".join(csv_constant(name) for name in fields) + "\n").encode("utf-8")


def csv_rows(page: Page) -> Chunks:
    """The data lines of a CSV page (no header)."""
    if not page.num_rows:
        return []
    parts: list[pa.Array | str] = [
        csv_constant(column)
        if isinstance(column, (str, tuple))
        else csv_cells(column, page.is_plain(position))
        for position, column in enumerate(page.columns)
    ]
    joined = join_rows(parts, ",", page.num_rows)
    if len(parts) == 1 and isinstance(joined, pa.Array):
        # a lone empty cell would be a blank line, which CSV readers skip: write "" instead
        joined = pc.if_else(pc.equal(joined, ""), pa.scalar('""'), joined)
    lines = wrap(joined, "", "\n")
    return [concat(lines)]


def render_csv(
    page: Page, *, preview: bool, messages: Sequence[Message], init_offset: int
) -> Chunks:
    """RFC 4180 with a header row; an empty result is an empty body, as splunkd sends.

    CSV has no place for messages or the preview flag; they are accepted and dropped.
    """
    if not page.num_rows:
        return []
    return [csv_header(page.fields), *csv_rows(page)]


def xml_results(page: Page) -> pa.Array:
    """Each row as ``<result offset='N'>`` with one ``<field k=..>`` per present field."""
    parts: list[pa.Array | str] = []
    for position, (name, column) in enumerate(zip(page.fields, page.columns, strict=True)):
        opening = f"\t\t<field k={_attr(name)}>\n\t\t\t"
        closing = "\n\t\t</field>\n"
        if isinstance(column, (str, tuple)):
            values = (column,) if isinstance(column, str) else column
            inner = "".join(f"<value><text>{_xml_text(v)}</text></value>" for v in values)
            parts.append(opening + inner + closing)
        else:
            parts.append(wrap(xml_values(column, page.is_plain(position)), opening, closing))
    fields = join_rows(parts, "", page.num_rows)
    offsets = pc.cast(
        pa.array(range(page.offset, page.offset + page.num_rows), pa.int64()), pa.string()
    )
    opened = wrap(offsets, "\t<result offset='", "'>\n")
    return pc.binary_join_element_wise(opened, fields, pa.scalar("\t</result>\n"), "")


def xml_document(page: Page, *, preview: bool, messages: Sequence[Message]) -> Chunks:
    flag = "1" if preview else "0"
    declaration = b"<?xml version='1.0' encoding='UTF-8'?>\n"
    message_xml = ""
    if messages:
        message_xml = (
            "<messages>\n"
            + "".join(f'  <msg type="{m.type}">{_xml_text(m.text)}</msg>\n' for m in messages)
            + "</messages>\n"
        )
    if not page.num_rows:
        if message_xml:
            return [declaration + f"<results preview='{flag}'>\n{message_xml}</results>\n".encode()]
        return [declaration + f"<results preview='{flag}'/>\n".encode()]
    order = "".join(f"<field>{_xml_text(name)}</field>\n" for name in page.fields)
    head = (
        f"<results preview='{flag}'>\n<meta>\n<fieldOrder>\n{order}</fieldOrder>\n</meta>\n"
        f"{message_xml}"
    )
    return [declaration + head.encode("utf-8"), concat(xml_results(page)), b"</results>\n"]


def render_xml(
    page: Page, *, preview: bool, messages: Sequence[Message], init_offset: int
) -> Chunks:
    """``<results preview='0'>`` with ``<meta><fieldOrder>`` and ``<result offset=..>``."""
    return xml_document(page, preview=preview, messages=messages)


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(name: str) -> str:
    return "'" + _xml_text(name).replace("'", "&apos;") + "'"
