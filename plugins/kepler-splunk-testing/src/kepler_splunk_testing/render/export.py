"""The ``search/jobs/export`` stream: results written as they are produced, never as one page.

With ``output_mode=json`` each result is one line, ``{"preview":false,"offset":N,"result":{..}}``,
and the last row of a set adds ``"lastrow":true``. A reporting search may first stream preview
sets (``"preview":true``, growing prefixes of the final rows); a reader that does not skip them
(or send ``preview=false``) counts rows twice, which is the bug Kepler's client must avoid. CSV
and XML stream the final set only (XML writes one ``<results>`` document per set).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from kepler_splunk_testing.arrowtext import concat
from kepler_splunk_testing.render.pages import (
    csv_header,
    csv_rows,
    json_objects,
    render_json_cols,
    render_json_rows,
    xml_document,
    xml_results,
)
from kepler_splunk_testing.results import Message, ResultSet

__all__ = ["EXPORT_MODES", "export_stream"]

EXPORT_MODES = ("json", "csv", "xml", "json_rows", "json_cols")


def export_stream(
    results: ResultSet,
    mode: str,
    *,
    preview_sets: int,
    messages: Sequence[Message],
    failure: str | None,
    field_list: Sequence[str] = (),
    chunk_rows: int = 10_000,
) -> Iterator[bytes | memoryview]:
    """Yield the export body in chunks of at most ``chunk_rows`` rows."""
    all_messages = [*messages, *([Message("FATAL", failure)] if failure else [])]
    final = results if failure is None else results.head(0)
    sets = [_preview_set(final, k, preview_sets) for k in range(1, preview_sets + 1)]
    sets = [preview for preview in sets if len(preview)] if mode in ("json", "xml") else []
    if mode == "json":
        if all_messages:
            line = {"preview": False, "messages": [m.__dict__ for m in all_messages]}
            yield json.dumps(line, ensure_ascii=False).encode() + b"\n"
        for preview in sets:
            yield from _json_lines(preview, True, field_list, chunk_rows)
        yield from _json_lines(final, False, field_list, chunk_rows)
    elif mode == "csv":
        if len(final):
            yield csv_header(final.page(0, 0, field_list).fields)
        for start in range(0, len(final), chunk_rows):
            yield from csv_rows(final.page(start, chunk_rows, field_list))
    elif mode == "xml":
        for preview in sets:
            yield from _xml_set(preview, True, all_messages, field_list, chunk_rows)
        yield from _xml_set(final, False, all_messages, field_list, chunk_rows)
    else:
        render = render_json_rows if mode == "json_rows" else render_json_cols
        page = final.page(0, len(final), field_list)
        yield from render(page, preview=False, messages=all_messages, init_offset=0)


def _preview_set(results: ResultSet, k: int, total_sets: int) -> ResultSet:
    """The k-th of ``total_sets`` previews: a growing prefix of the final rows."""
    return results.head(max(1, len(results) * k // (total_sets + 1)))


def _json_lines(
    results: ResultSet, preview: bool, field_list: Sequence[str], chunk_rows: int
) -> Iterator[bytes | memoryview]:
    flag = "true" if preview else "false"
    total = len(results)
    for start in range(0, total, chunk_rows):
        page = results.page(start, chunk_rows, field_list)
        objects = json_objects(page)
        last_in_set = start + page.num_rows == total
        body_rows = page.num_rows - 1 if last_in_set else page.num_rows
        if body_rows:
            offsets = pc.cast(pa.array(range(start, start + body_rows), pa.int64()), pa.string())
            lines = pc.binary_join_element_wise(
                pa.scalar(f'{{"preview":{flag},"offset":'),
                offsets,
                pa.scalar(',"result":'),
                objects.slice(0, body_rows),
                pa.scalar("}\n"),
                "",
            )
            yield concat(lines)
        if last_in_set:
            last = objects[page.num_rows - 1].as_py()
            yield (
                f'{{"preview":{flag},"offset":{total - 1},"lastrow":true,"result":{last}}}\n'
            ).encode()


def _xml_set(
    results: ResultSet,
    preview: bool,
    messages: Sequence[Message],
    field_list: Sequence[str],
    chunk_rows: int,
) -> Iterator[bytes | memoryview]:
    if not len(results):
        yield from xml_document(results.page(0, 0, field_list), preview=preview, messages=messages)
        return
    first = results.page(0, min(chunk_rows, len(results)), field_list)
    head, _, _ = xml_document(first, preview=preview, messages=messages)
    yield head
    yield concat(xml_results(first))
    for start in range(first.num_rows, len(results), chunk_rows):
        yield concat(xml_results(results.page(start, chunk_rows, field_list)))
    yield b"</results>\n"
