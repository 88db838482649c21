"""Reading every result of a finished job, page by page, exactly once and in order.

Splunk caps one results request at ``limits.conf [restapi] maxresultrows`` (50,000 by default)
and answers ``count=100`` when none is given, which silently truncates naive clients. Kepler asks
for ``page_size`` rows, learns the server's real cap from the first page, then fetches the other
pages ``max_workers`` at a time (splunk-sdk opens a connection per request, so threads overlap
network waits and the server's rendering), yielding them in offset order. A page with fewer rows
than it should have is an error, never a short result.

How a page is read (measured on 50,000 realistic events, BENCHMARKS.md): Splunk's CSV parses in
C++ at ~1 ms per 1,000 rows, JSON through Python objects at 10x that. But CSV joins a multivalue
field's values with newlines, so a column holding a newline is ambiguous there:

- ``_raw`` never is: it is the event's text, single-valued, its newlines checked against
  ``linecount`` (``frames.RAW``). A page that fails the check reads its ``_raw`` from JSON.
- Other columns found ambiguous so far (``JsonColumns``, learnt from the first page and any later
  page that shows a new one) are asked for as ``output_mode=json_cols`` with ``f=`` naming only
  them, in a request sent *alongside* the CSV request. That answer is a witness: when no value
  in it holds a newline, the CSV text is split on newlines in Arrow; otherwise its JSON values
  are used. A CSV page that shows a newline in a column not yet known is completed from JSON
  before it is used (the exact fallback), so no value is ever read from an ambiguous cell.

Splunk's REST results have no unambiguous multivalue CSV encoding to ask for instead: the
``__mv_<field>`` columns exist in a job's dispatch ``results.csv.gz`` only, "for internal use"
(https://docs.splunk.com/Documentation/Splunk/latest/Search/Parsemultivaluefields), and splunkd's
``output_mode=csv`` writes the newline-joined values alone (splunk-sdk-java's captured
splunk/src/test/resources/resultsMV.csv). So a page with a multivalue column costs this one
small second request; a page without costs one.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from . import frames
from .errors import SplunkError
from .jobs import SearchJob

if TYPE_CHECKING:
    import pyarrow as pa


class JsonColumns:
    """Columns of one job's results that must be read from JSON (multivalue, or text with
    newlines), as learnt so far; shared by the threads reading its pages."""

    def __init__(self) -> None:
        self._names: list[str] = []
        self._lock = threading.Lock()

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self._names)

    def learn(self, names: list[str]) -> None:
        with self._lock:
            self._names.extend(n for n in names if n not in self._names)


class _Background:
    """One request run in its own thread while the caller does another (the JSON columns of a
    page are fetched while its CSV is fetched and parsed)."""

    def __init__(self, call: Callable[[], bytes]) -> None:
        self._result: bytes | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], bytes]) -> None:
        try:
            self._result = call()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> bytes:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def _json_columns(job: SearchJob, offset: int, count: int, names: list[str],
                  text: pa.Table, body: bytes | None = None) -> dict[str, pa.Array]:
    """``names`` for rows ``[offset, offset + count)`` as exact text/list columns.

    ``json_cols`` with ``f=`` first (a witness that lets ``text``, the page's CSV columns, be
    split in Arrow); the whole page as ``output_mode=json`` when that answer is unusable (a
    server without json_cols), lacks a requested column, or has the wrong number of rows (a
    server that leaves out rows lacking every requested field)."""
    if body is None:
        body = job.page(offset, count, "json_cols", fields=names)
    columns = frames.columns_from_json_cols(body, names, text)
    rows = text.num_rows
    if (columns is None or set(columns) != set(names)
            or any(len(c) != rows for c in columns.values())):
        columns = frames.columns_from_json(job.page(offset, count, "json"), names)
    return columns


def read_page(job: SearchJob, offset: int, count: int, keep_internal: bool,
              known: JsonColumns | None = None) -> pa.Table:
    """One page as text columns: CSV, with the columns holding newlines settled by JSON.

    Internal fields are dropped here, before any work is spent on them (``_si`` alone is
    multivalue on every event)."""
    known = known if known is not None else JsonColumns()
    from_json = known.snapshot()
    pending = None
    if from_json:
        pending = _Background(lambda: job.page(offset, count, "json_cols", fields=from_json))
    table, has_newlines, order = frames.read_csv_page(job.page(offset, count, "csv"),
                                                      keep_internal)
    suspects = frames.multiline_columns(table) if has_newlines else []
    if frames.RAW in suspects and frames.raw_lines_match(table):
        suspects.remove(frames.RAW)  # real lines of the event's text
    table = frames.drop_witness(table, order)
    columns: dict[str, Any] = {}
    if pending is not None:
        wanted = [n for n in from_json if n in order]
        columns = _json_columns(job, offset, count, wanted, table, pending.result())
    new = [name for name in suspects if name not in columns]
    if new:  # newlines in a column not known to need JSON: this page proves it does
        known.learn([name for name in new if name != frames.RAW])
        columns.update(_json_columns(job, offset, count, new, table))
    if not columns:
        return table
    return _assemble(table, columns, order)


def _assemble(table: pa.Table, columns: dict[str, pa.Array], order: list[str]) -> pa.Table:
    """The CSV columns and the JSON ones together, in the CSV header's order."""
    import pyarrow as pa

    names = [n for n in order if n in columns or n in table.column_names]
    arrays = []
    for name in names:
        array = columns[name] if name in columns else table.column(name)
        if len(array) != table.num_rows:
            raise ValueError(
                f"JSON page has {len(array)} rows for {name!r}, CSV page {table.num_rows}"
            )
        arrays.append(array)
    return pa.table(arrays, names=names) if names else table


def iter_pages(
    job: SearchJob,
    total: int,
    page_size: int,
    max_workers: int,
    keep_internal: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[pa.Table]:
    """Every page of ``total`` results, in order, with at most ``2 * max_workers`` in memory."""
    if total <= 0:
        return
    known = JsonColumns()
    first = read_page(job, 0, min(page_size, total), keep_internal, known)
    step = first.num_rows
    if step == 0:
        raise SplunkError(
            f"Splunk reported {total} results for job {job.sid} but returned none.",
            hint="The job may have expired; run the search again.",
        )
    if on_rows:
        on_rows(step)
    yield first
    del first
    offsets = iter(range(step, total, step))

    def expected(offset: int) -> int:
        return min(step, total - offset)

    def fetch(offset: int) -> pa.Table:
        table = read_page(job, offset, step, keep_internal, known)
        if table.num_rows != expected(offset):
            raise SplunkError(
                f"Results page at offset {offset} of job {job.sid} has {table.num_rows} rows; "
                f"{expected(offset)} were expected.",
                hint="The job's results changed while being read (was it finalized or did it "
                "expire?); run the search again.",
            )
        return table

    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="kepler-splunk") as pool:
        window: deque[Future[pa.Table]] = deque()
        for offset in offsets:
            window.append(pool.submit(fetch, offset))
            if len(window) >= 2 * max_workers:
                break
        try:
            while window:
                table = window.popleft().result()
                next_offset = next(offsets, None)
                if next_offset is not None:
                    window.append(pool.submit(fetch, next_offset))
                if on_rows:
                    on_rows(table.num_rows)
                yield table
        finally:
            for future in window:
                future.cancel()
