"""Reading every result of a finished job, page by page, exactly once and in order.

Splunk caps one results request at ``limits.conf [restapi] maxresultrows`` (50,000 by default)
and answers ``count=100`` when none is given, which silently truncates naive clients. Kepler asks
for ``page_size`` rows, learns the server's real cap from the first page, then fetches the other
pages ``max_workers`` at a time (splunk-sdk opens a connection per request, so threads overlap
network waits and the server's rendering), yielding them in offset order. A page with fewer rows
than it should have is an error, never a short result.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from . import frames
from .errors import SplunkError
from .jobs import SearchJob

if TYPE_CHECKING:
    import pyarrow as pa


def read_page(job: SearchJob, offset: int, count: int, keep_internal: bool) -> pa.Table:
    """One page as text columns, multivalue columns repaired from the JSON rendering.

    Internal fields are dropped here, before any work is spent on them (``_si`` alone is
    multivalue on every event)."""
    table, has_newlines = frames.read_csv_page(job.page(offset, count, "csv"), keep_internal)
    suspects = frames.multiline_columns(table) if has_newlines else []
    if suspects:
        columns = frames.columns_from_json(job.page(offset, count, "json", fields=suspects),
                                           suspects)
        if any(len(column) != table.num_rows for column in columns.values()):
            # A server that leaves out rows lacking every requested field: take the whole page.
            columns = frames.columns_from_json(job.page(offset, count, "json"), suspects)
        table = frames.replace_columns(table, columns)
    return table


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
    first = read_page(job, 0, min(page_size, total), keep_internal)
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
        table = read_page(job, offset, step, keep_internal)
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
