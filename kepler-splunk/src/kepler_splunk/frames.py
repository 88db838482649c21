"""From Splunk's result pages to typed Arrow tables and pandas DataFrames.

Why CSV: ``pyarrow.csv`` parses Splunk's CSV output in C++ on every core, about 30 times faster
than decoding the JSON output into Python dicts (splunk-sdk's ``JSONResultsReader``). Every column
is first read as text, exactly as Splunk sent it, then typed once over the whole result:

- ``_time`` becomes a tz-aware UTC timestamp;
- a column whose every value is an integer (without leading zeros, which mark codes such as
  ``007``) becomes int64, else one whose every value is a number becomes float64;
- empty values are missing values;
- Splunk's CSV joins a multivalue field's values with newlines, which cannot be told apart from a
  value that contains a newline. ``_raw`` is the exception: it is the event's text, one value per
  event, and its newlines are checked against ``linecount``. Other columns that hold newlines are
  settled by a small ``output_mode=json_cols`` answer naming just them (see ``pages``): where no
  value in it contains a newline, the CSV text is split on newlines in Arrow (no Python object
  per value); otherwise the JSON values themselves are used, arrays as lists.
"""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

#: Fields Splunk adds to events that describe its storage, not the data; dropped unless asked.
INTERNAL_FIELDS = frozenset(
    {
        "_bkt",
        "_cd",
        "_si",
        "_serial",
        "_indextime",
        "_sourcetype",
        "_eventtype_color",
        "_kv",
        "_subsecond",
        "_confstr",
        "_span",
        "_origtime",
        "_ttl",
        "_tz",
        "_c",
        "_meta",
        "_pre_msg",
        "splunk_server",
        "splunk_server_group",
        "linecount",
        "punct",
        "timestartpos",
        "timeendpos",
        "date_second",
        "date_minute",
        "date_hour",
        "date_mday",
        "date_month",
        "date_wday",
        "date_year",
        "date_zone",
        "eventtype",
        "tag::eventtype",
    }
)
#: Underscore fields that are data, not internals.
KEPT_UNDERSCORE = frozenset({"_time", "_raw", "_value"})

#: Splunk's default fields: ``_raw`` is the event's raw text and ``linecount`` "the number of lines
#: the event contains" (https://docs.splunk.com/Documentation/Splunk/latest/Data/Aboutdefaultfields).
#: A newline in ``_raw`` is a line of the event, not a value separator: where ``linecount`` is on
#: the page, every multi-line ``_raw`` must have exactly ``linecount`` lines (an SPL ``eval`` that
#: made ``_raw`` multivalue fails that check and the page's ``_raw`` is read from JSON instead).
RAW, LINECOUNT = "_raw", "linecount"


def is_internal(name: str) -> bool:
    if name in KEPT_UNDERSCORE:
        return False
    return name in INTERNAL_FIELDS or name.startswith("_") or name.startswith("tag::")


def read_csv_page(
    body: bytes, keep_internal: bool = True, skip: Iterable[str] = ()
) -> tuple[pa.Table, bool, list[str]]:
    """One page of Splunk's CSV output, every column as text (empty = missing).

    Internal columns (unless ``keep_internal``) and ``skip`` (read from JSON instead) are left
    out at conversion time. Also says whether any value may hold a newline (only a quoted cell
    can, so a body without a quote has no multivalue column), and gives the header's kept names
    in order.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not body or (len(body) < 4096 and not body.strip()):  # no copy of a real page
        return pa.table({}), False, []
    header_end = body.find(b"\n")
    header_line = body if header_end < 0 else body[:header_end]
    names = next(csv.reader(io.StringIO(header_line.decode("utf-8").rstrip("\r"))))
    kept = [n for n in names if keep_internal or not is_internal(n)]
    skipped = set(skip)
    wanted = [n for n in kept if n not in skipped]
    if RAW in wanted and LINECOUNT in names and LINECOUNT not in wanted:
        wanted.append(LINECOUNT)  # the witness of _raw's newlines (see RAW); dropped by callers
    if not wanted:  # every kept column comes from JSON: read one only to count the rows
        wanted = kept[:1] or names[:1]
    table = pacsv.read_csv(
        io.BytesIO(body),
        # Pages are already parsed in parallel (one per fetching thread); Arrow's own threads
        # on top cost ~45% more CPU for the same page (measured), so parse each page on one.
        read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 20),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in wanted},
            include_columns=wanted,
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        ),
    )
    table = table.select([n for n in table.column_names if n not in skipped])
    # Any quoted cell may hold a newline; with no quote in the body none can (one memchr-speed
    # scan, cheaper than counting every line break: 0.3 ms against 6.6 ms per 50,000 rows).
    return table, b'"' in body, kept


def raw_lines_match(table: pa.Table) -> bool:
    """Whether every ``_raw`` of the page has as many lines as its ``linecount`` says (True
    when the page has no ``linecount``: ``_raw`` is single-valued by definition, see RAW).

    Only the rows holding a newline are compared: their newlines are found in the column's
    character buffer with one vectorised comparison, as in :func:`multiline_columns`."""
    import numpy as np
    import pyarrow as pa

    if RAW not in table.column_names or LINECOUNT not in table.column_names:
        return True
    raw = table.column(RAW).combine_chunks()
    if raw.offset or not (pa.types.is_string(raw.type) and raw.buffers()[2] is not None):
        return False  # not the plain page read_csv_page builds: let JSON decide
    offsets = np.frombuffer(raw.buffers()[1], np.int32, len(raw) + 1)
    breaks = np.flatnonzero(np.frombuffer(raw.buffers()[2], np.uint8) == 10)
    rows = np.searchsorted(offsets, breaks, side="right") - 1
    lines = np.bincount(rows, minlength=len(raw)) + 1
    multi = np.flatnonzero(lines > 1)
    counted = table.column(LINECOUNT).take(pa.array(multi)).to_pylist()
    return all(str(n) == str(c) for n, c in zip(lines[multi].tolist(), counted, strict=True))


def drop_witness(table: pa.Table, order: list[str]) -> pa.Table:
    """The page without the ``linecount`` read only to check ``_raw`` (kept when asked for)."""
    if LINECOUNT in table.column_names and LINECOUNT not in order:
        return table.drop_columns([LINECOUNT])
    return table


def multiline_columns(table: pa.Table) -> list[str]:
    """Text columns of a page holding at least one newline: maybe multivalue.

    Scans each column's raw character buffer with one vectorised comparison instead of testing
    every value: a page of 50,000 rows is checked in about a millisecond. A buffer may hold bytes
    of values outside a sliced array; a false alarm only costs a JSON re-read of that column.
    """
    import numpy as np
    import pyarrow as pa

    found = []
    for name in table.column_names:
        column = table.column(name)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        for chunk in column.chunks:
            data = chunk.buffers()[2]
            if data is not None and data.size and (np.frombuffer(data, np.uint8) == 10).any():
                found.append(name)
                break
    return found


def _text_or_lists(values: list[Any]) -> pa.Array:
    """One JSON column as Arrow: text, or lists when any value is a JSON array (a multivalue
    field; its one-value rows come as plain strings, as Splunk renders them)."""
    import pyarrow as pa

    try:
        array = pa.array(values, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array(
            [v if v is None or isinstance(v, list) else [v] for v in values],
            type=pa.list_(pa.string()),
        )
    if array.null_count < len(array):
        import pyarrow.compute as pc

        array = pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)
    return array


def columns_from_json(body: bytes, names: Sequence[str]) -> dict[str, pa.Array]:
    """Columns ``names`` from a JSON (``output_mode=json``) page: arrays become lists."""
    import orjson

    rows = orjson.loads(body).get("results", [])
    return {name: _text_or_lists([row.get(name) for row in rows]) for name in names}


#: How a newline inside a JSON string is escaped (``\n``, or ``\u000a`` by some encoders).
_JSON_NEWLINES = (b"\\n", b"\\u000a", b"\\u000A")


def _without_newlines(body: bytes) -> bool:
    """True when no string in a JSON body holds a newline (a ``\\n`` that is an escaped
    backslash followed by ``n`` only sends the caller down the slower, exact path)."""
    return not any(escape in body for escape in _JSON_NEWLINES)


def split_lines(column: Any) -> Any:
    """A CSV text column whose newlines all separate values: lists, split in Arrow.

    Splunk's CSV writes a multivalue field as its values joined by newlines (``_si`` reads
    ``"server\nindex"`` in the CSV that splunk-sdk-java's tests captured from splunkd,
    splunk/src/test/resources/resultsMV.csv); one-value rows become one-element lists.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return pc.split_pattern(column, "\n")


def columns_from_json_cols(
    body: bytes, names: Sequence[str], text: pa.Table | None = None
) -> dict[str, pa.Array] | None:
    """Columns ``names`` from a ``json_cols`` page (``{"fields":[..],"columns":[[..],..]}``).

    One list per column, so no Python object per row is built for the table. Names the page
    lacks are left out (the field is absent from these rows); a server that ignored ``f=``
    simply sends more columns, which are skipped. None when the body is not a json_cols page
    (an old server): the caller then falls back to ``output_mode=json``.

    ``text``: the same rows as CSV text. When no string in the body holds a newline, every
    newline of those CSV columns separates values, so a column is taken from ``text`` (split
    where it holds newlines) instead of being rebuilt from the parsed JSON values.
    """
    import orjson

    if not body.strip():
        return {}
    proof = text is not None and _without_newlines(body)
    if proof and text is not None:
        listed = _json_cols_fields(body)
        if listed is not None and set(names) <= listed:
            return {name: _from_text(text.column(name)) for name in names
                    if name in text.column_names}
    document = orjson.loads(body)
    fields, columns = document.get("fields"), document.get("columns")
    if not isinstance(fields, list) or not isinstance(columns, list):
        return None
    wanted = set(names)
    out: dict[str, pa.Array] = {}
    for field, values in zip(fields, columns, strict=False):
        name = field.get("name") if isinstance(field, dict) else field
        if name not in wanted or not isinstance(values, list):
            continue
        if proof and text is not None and name in text.column_names \
                and len(values) == text.num_rows:
            out[name] = _from_text(text.column(name))
        else:
            out[name] = _text_or_lists(values)
    return out


def _json_cols_fields(body: bytes) -> set[str] | None:
    """The field names of a ``json_cols`` body read from its ``"fields"`` list alone (Splunk
    writes it before ``"columns"``), without parsing the columns; None when not found so."""
    import orjson

    start, end = body.find(b'"fields":'), body.find(b',"columns":[')
    if start < 0 or end < start:
        return None
    try:
        fields = orjson.loads(body[start + len(b'"fields":'):end])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(fields, list):
        return None
    names = {f.get("name") if isinstance(f, dict) else f for f in fields}
    return names if all(isinstance(n, str) for n in names) else None


def _from_text(column: Any) -> Any:
    """A CSV column proven free of real newlines: lists where it holds any newline."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return split_lines(column) if multiline_columns(pa.table({"c": column})) else column


def replace_columns(table: pa.Table, columns: dict[str, pa.Array]) -> pa.Table:
    for name, array in columns.items():
        if len(array) != table.num_rows:
            raise ValueError(
                f"JSON page has {len(array)} rows for {name!r}, CSV page {table.num_rows}"
            )
        table = table.set_column(table.column_names.index(name), name, array)
    return table


def _as_list(array: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    offsets = pa.array(range(len(array) + 1), type=pa.int32())
    return pa.ListArray.from_arrays(offsets, array, mask=pc.is_null(array))


def concat(tables: Iterable[pa.Table]) -> pa.Table:
    """Pages into one table: union of columns in first-seen order, text promoted to lists where
    another page found the column multivalue."""
    import pyarrow as pa

    pages = [t for t in tables if t.num_columns]
    if not pages:
        return pa.table({})
    listy = {
        name
        for t in pages
        for name, typ in zip(t.column_names, t.schema.types, strict=True)
        if pa.types.is_list(typ)
    }
    if listy:
        fixed = []
        for t in pages:
            for name in listy & set(t.column_names):
                index = t.column_names.index(name)
                if not pa.types.is_list(t.schema.types[index]):
                    t = t.set_column(index, name, _as_list(t.column(name)))
            fixed.append(t)
        pages = fixed
    return pa.concat_tables(pages, promote_options="default")


def _try_cast(array: Any, target: Any) -> Any | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(array, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _cast_numbers(array: Any) -> Any:
    """int64 when every value is an integer without leading zeros, float64 when every value is
    a number; the text unchanged otherwise.

    A failed Arrow cast costs as much as a successful one, so each cast is first tried on a
    sample of the values: text columns (asset ids, statuses) are recognised in microseconds.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if array.null_count == len(array):
        return array
    sample = pc.drop_null(array.slice(0, 256))
    as_int = None
    if _try_cast(sample, pa.int64()) is not None:
        as_int = _try_cast(array, pa.int64())
    if as_int is not None:
        # "007" is a code, not the number 7: a leading zero (other than "0" itself) keeps text
        zero_led = pc.and_(pc.starts_with(array, "0"), pc.greater(pc.utf8_length(array), 1))
        if pc.any(zero_led).as_py():
            return array
        if pc.any(pc.less(as_int, 0)).as_py() and pc.any(
                pc.match_substring_regex(array, r"^[+-]0\d")).as_py():
            return array
        return as_int
    if _try_cast(sample, pa.float64()) is None:
        return array
    as_float = _try_cast(array, pa.float64())
    return array if as_float is None else as_float


def _cast_time(array: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(array, pa.timestamp("us", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:  # epoch seconds, as some searches render _time
        seconds = pc.cast(array, pa.float64())
        micros = pc.cast(pc.round(pc.multiply(seconds, 1_000_000)), pa.int64())
        return pc.cast(micros, pa.timestamp("us", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return array


def type_table(table: pa.Table, keep_internal: bool = False) -> pa.Table:
    """Drop internal fields (unless asked) and give every column its type."""
    import pyarrow as pa

    columns: list[Any] = []
    names: list[str] = []
    for name in table.column_names:
        if not keep_internal and is_internal(name):
            continue
        column = table.column(name)
        if pa.types.is_string(column.type):
            column = _cast_time(column) if name == "_time" else _cast_numbers(column)
        elif pa.types.is_list(column.type):
            flat = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
            values = _cast_numbers(flat.values)
            if values.type != flat.values.type:
                column = pa.ListArray.from_arrays(flat.offsets, values, mask=flat.is_null())
        names.append(name)
        columns.append(column)
    return pa.table(columns, names=names) if names else pa.table({})


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """The typed table as a DataFrame; multivalue cells as Python lists."""
    import pandas as pd
    import pyarrow as pa

    lists = [
        n
        for n, t in zip(table.column_names, table.schema.types, strict=True)
        if pa.types.is_list(t)
    ]
    frame = table.drop_columns(lists).to_pandas(split_blocks=True, self_destruct=False)
    for name in lists:
        frame[name] = pd.Series(python_lists(table.column(name)), dtype=object, index=frame.index)
    return frame[list(table.column_names)]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic GC paused while millions of lists are built: each few hundred new
    containers trigger a collection that walks every young object, which doubled the cost of
    building a multivalue column's lists (measured: 64 ms against 34 ms per 200,000 rows).
    Lists of strings hold no cycles, so nothing is left for the collector to find."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def python_lists(column: Any) -> list[Any]:
    """A list column as one Python list per row (None where absent), as splunk-sdk gives."""
    with gc_paused():
        return column.to_pylist()  # type: ignore[no-any-return]


# --- typing pages that are written one at a time (Parquet/CSV output) -----------------------------


def page_kinds(table: pa.Table, keep_internal: bool) -> dict[str, pa.DataType]:
    """The type each kept column of one text page would get on its own."""
    typed = type_table(table, keep_internal)
    return dict(zip(typed.column_names, typed.schema.types, strict=True))


def merge_kinds(kinds: list[dict[str, pa.DataType]]) -> dict[str, pa.DataType]:
    """One type per column that every page can be cast to without loss, first-seen order.

    int64 pages with float64 pages give float64; any page that stayed text makes the column text
    (its other pages are re-read from their original text, never from numbers); any multivalue
    page makes the column a list.
    """

    merged: dict[str, pa.DataType] = {}
    for page in kinds:
        for name, typ in page.items():
            merged[name] = typ if name not in merged else _wider(merged[name], typ)
    return merged


def _wider(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    import pyarrow as pa

    if a == b:
        return a
    if pa.types.is_list(a) or pa.types.is_list(b):
        inner_a = a.value_type if pa.types.is_list(a) else a
        inner_b = b.value_type if pa.types.is_list(b) else b
        return pa.list_(_wider(inner_a, inner_b))
    numeric = {pa.int64(), pa.float64()}
    if a in numeric and b in numeric:
        return pa.float64()
    return pa.string()


def apply_kinds(table: pa.Table, kinds: dict[str, pa.DataType]) -> pa.Table:
    """Cast one text page to the merged types; columns it lacks become missing values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for name, typ in kinds.items():
        if name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, type=typ))
            continue
        column = table.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if pa.types.is_list(typ):
            if not pa.types.is_list(column.type):
                column = _as_list(column)
            if typ.value_type != column.type.value_type:
                values = pc.cast(column.values, typ.value_type)
                column = pa.ListArray.from_arrays(column.offsets, values, mask=column.is_null())
        elif pa.types.is_timestamp(typ):
            column = _cast_time(column)
        elif typ != column.type:
            column = pc.cast(column, typ)
        columns.append(column)
    return pa.table(columns, names=list(kinds))
