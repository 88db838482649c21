"""``kp.data.from_splunk`` and friends: your SPL in, a typed DataFrame out, whatever its size.

Example::

    import kepler as kp
    df = kp.data.from_splunk("index=pumps sourcetype=sensor", earliest="-7d@d", latest="@d")
    df.attrs["sid"], df.attrs["rows"]

    for chunk in kp.data.from_splunk_chunks("index=pumps", earliest="-90d"):
        process(chunk)                      # one page at a time, memory stays flat

    kp.data.from_splunk("index=pumps", earliest="-1y", output="pumps.parquet")  # streamed to disk
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kepler.api import KeplerError

from . import frames
from .cache import ResultCache, cache_dir, cache_key, identity
from .config import SplunkConnection
from .connection import open_service, settings
from .jobs import JobInfo, SearchJob
from .multijob import SliceJobs
from .pages import iter_pages
from .progress import Progress
from .slices import check_splittable, slice_ranges
from .timerange import TimeRange, TimeValue, normalize_spl, time_range

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)


@dataclass
class _Search:
    """Everything resolved before a search runs."""

    spl: str
    trange: TimeRange
    conn: SplunkConnection
    connection_name: str | None
    options: dict[str, Any]
    keep_internal: bool
    settings_cache: bool
    cache_folder: str | None
    progress: bool | None
    parallel: int = 1
    attrs: dict[str, Any] = field(default_factory=dict)


def _prepare(
    spl: str,
    earliest: TimeValue,
    latest: TimeValue,
    connection: str | None,
    keep_internal: bool,
    progress: bool | None,
    options: dict[str, Any],
    config: Any = None,
) -> _Search:
    if config is None:
        from kepler.api import load_config as load

        config = load()
    section = config.section("splunk")
    conn = section.connection(connection)
    for key in ("page_size", "max_workers"):
        if key in options:
            conn = conn.model_copy(update={key: int(options.pop(key))})
    parallel = int(options.pop("parallel", None) or conn.parallel)
    splittable = bool(options.pop("splittable", False))
    if parallel < 1:
        raise KeplerError(f"parallel={parallel} must be 1 or more.", hint="Use parallel=4, say.")
    if parallel > 1 and not splittable:
        check_splittable(normalize_spl(spl))
    return _Search(
        spl=normalize_spl(spl),
        trange=time_range(earliest, latest),
        conn=conn,
        connection_name=connection,
        options=options,
        keep_internal=keep_internal,
        settings_cache=section.cache,
        cache_folder=section.cache_dir,
        progress=progress,
        parallel=parallel,
    )


def _attrs(search: _Search, info: JobInfo | None, rows: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "source": "splunk",
        "spl": search.spl,
        **search.trange.describe(),
        "connection": identity(search.conn).rsplit("/", 1)[0],
        "rows": rows,
    }
    if search.parallel > 1:
        attrs["parallel"] = search.parallel
    if info is not None:
        attrs.update(
            sid=info.sid,
            messages=info.messages,
            event_count=info.event_count,
            scan_count=info.scan_count,
            run_duration=info.run_duration,
        )
        for key, value in (("earliest_utc", info.earliest_time), ("latest_utc", info.latest_time)):
            if value:
                attrs[key] = _as_utc_iso(value)
    return attrs


def _as_utc_iso(value: str) -> str:
    try:
        from datetime import UTC

        return datetime.fromisoformat(value).astimezone(UTC).isoformat()
    except ValueError:
        return value


@contextmanager
def _job(search: _Search) -> Iterator[tuple[Iterator[pa.Table], JobInfo, Progress]]:
    """The search's result pages (one job, or one per time slice with ``parallel``), its job
    information and the progress bar; the job(s) are cancelled if the body fails."""
    service = open_service(search.conn)
    bar = Progress(search.progress, label="splunk")
    conn = search.conn
    try:
        if search.parallel > 1:
            jobs = SliceJobs(service, conn, search.spl,
                             slice_ranges(search.trange, search.parallel), search.options)
            info = jobs.start_and_wait(on_progress=bar.searching)
            bar.fetching(info.result_count)
            try:
                yield (jobs.pages(conn.page_size, conn.max_workers, search.keep_internal,
                                  on_rows=bar.advance), info, bar)
            except BaseException:
                jobs.cancel()
                raise
            return
        with SearchJob(service, conn, search.spl, search.trange, search.options) as job:
            info = job.wait(on_progress=bar.searching)
            bar.fetching(info.result_count)
            try:
                yield (iter_pages(job, info.result_count, conn.page_size, conn.max_workers,
                                  search.keep_internal, on_rows=bar.advance), info, bar)
            except BaseException:
                job.cancel()  # stop the server's work as well; the results are abandoned
                raise
    finally:
        bar.close()


def _fire(search: _Search, rows: int, data: Any, attrs: dict[str, Any]) -> None:
    from kepler.api import ExtractEvent, fire

    fire(ExtractEvent(connector="splunk", query=search.spl, rows=rows, lineage=attrs, data=data))


def _cache(search: _Search, use: bool | None) -> tuple[ResultCache, str] | None:
    wanted = search.settings_cache if use is None else use
    if not wanted:
        return None
    if not search.trange.in_the_past:
        log.info("not caching: the time range reaches into the present, so the answer can change")
        return None
    search.trange = search.trange.absolute()  # the rows must match the key exactly
    options = {**search.options, "keep_internal": search.keep_internal}
    key = cache_key(search.conn, search.spl, search.trange.earliest, search.trange.latest, options)
    return ResultCache(cache_dir(search.cache_folder)), key


def from_splunk(
    spl: str,
    earliest: TimeValue = None,
    latest: TimeValue = None,
    *,
    connection: str | None = None,
    output: str | os.PathLike[str] | None = None,
    cache: bool | None = None,
    keep_internal: bool = False,
    progress: bool | None = None,
    **options: Any,
) -> Any:
    """Run ``spl`` and return every result as a typed pandas DataFrame.

    ``earliest``/``latest`` take Splunk relative times (``-24h``, ``-7d@d``, ``@d``, ``now``), ISO
    strings, ``datetime`` objects or epoch seconds. A query that starts with neither ``search``
    nor ``|`` gets ``search`` prepended. ``connection`` picks a named connection of the
    ``splunk`` config section. ``output="file.parquet"`` (or ``.csv``) streams the rows to that
    file instead of memory and returns its path. ``cache=True`` reuses the Parquet copy of an
    identical earlier search whose range lies wholly in the past. ``keep_internal=True`` keeps
    Splunk's internal fields (``_bkt``, ``_cd``, ``_si``...). ``parallel=N`` (default:
    ``splunk.parallel``) cuts ``[earliest, latest)`` into N contiguous time slices searched as N
    concurrent jobs and joined in the order one job would give; it refuses transforming searches
    (``stats``, ``timechart``, ``dedup``...) unless ``splittable=True``. Other keyword arguments
    go to the search job (e.g. ``adhoc_search_level="fast"``, ``page_size``, ``max_workers``).

    ``df.attrs`` records the SPL, the time range as sent and as resolved, the sid, the row count
    and Splunk's messages: the lineage a trained model keeps (with ``parallel``, ``sid`` lists
    every slice's sid, comma-separated).
    """
    search = _prepare(spl, earliest, latest, connection, keep_internal, progress, options)
    if output is not None:
        return _to_file(search, Path(output))
    cached = _cache(search, cache)
    if cached is not None:
        store, key = cached
        hit = store.get(key)
        if hit is not None:
            frame, meta = hit
            frame.attrs.update({**meta.get("attrs", {}), "cache": "hit"})
            log.info("cache hit for %r (%d rows)", search.spl, len(frame))
            _fire(search, len(frame), frame, dict(frame.attrs))
            return frame
    with _job(search) as (page_iter, info, _bar):
        pages = list(page_iter)
    table = frames.concat(pages)
    pages.clear()
    table = frames.type_table(table, search.keep_internal)
    attrs = _attrs(search, info, table.num_rows)
    if cached is not None:
        store, key = cached
        store.put(key, table, {"attrs": attrs, "spl": search.spl, "rows": table.num_rows})
        attrs["cache"] = "stored"
    frame = frames.to_pandas(table)
    del table
    frame.attrs.update(attrs)
    _fire(search, len(frame), frame, attrs)
    return frame


def from_splunk_chunks(
    spl: str,
    earliest: TimeValue = None,
    latest: TimeValue = None,
    *,
    connection: str | None = None,
    keep_internal: bool = False,
    progress: bool | None = None,
    **options: Any,
) -> Iterator[pd.DataFrame]:
    """Yield the results as DataFrames, one results page (``page_size`` rows) at a time.

    For results that do not fit in memory: only a few pages are held at once. Each chunk is
    typed on its own (a column numeric in one chunk may be text in another when the data is
    mixed) and carries ``attrs`` with its ``offset``; columns absent from a chunk's rows are
    absent from that chunk. Breaking out of the loop cancels the search job.
    """
    search = _prepare(spl, earliest, latest, connection, keep_internal, progress, options)
    with _job(search) as (page_iter, info, _bar):
        offset = 0
        for page in page_iter:
            frame = frames.to_pandas(frames.type_table(page, search.keep_internal))
            frame.index = range(offset, offset + len(frame))
            frame.attrs.update(
                _attrs(search, info, len(frame)), offset=offset, total=info.result_count
            )
            offset += len(frame)
            yield frame
    _fire(search, offset, None, _attrs(search, info, offset))


def _to_file(search: _Search, path: Path) -> Path:
    """Stream the results to Parquet or CSV with types that hold for every row.

    Pages are spooled as text to a temporary Arrow file while their column types are learnt, then
    written out typed, one page at a time: memory stays at a few pages whatever the size.
    """
    import pyarrow as pa

    suffix = path.suffix.lower()
    if suffix not in {".parquet", ".csv"}:
        raise KeplerError(
            f"Cannot write {path}: unknown format {suffix or '(none)'}.",
            hint="Use a .parquet or .csv file name.",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    kinds: list[dict[str, pa.DataType]] = []
    with tempfile.TemporaryDirectory(prefix="kepler-splunk-") as spool:
        spooled: list[Path] = []
        with _job(search) as (page_iter, info, _bar):
            for number, page in enumerate(page_iter):
                kinds.append(frames.page_kinds(page, search.keep_internal))
                spooled.append(Path(spool) / f"{number:06d}.arrow")
                with (
                    pa.OSFile(str(spooled[-1]), "wb") as sink,
                    pa.ipc.new_file(sink, page.schema) as writer,
                ):
                    writer.write_table(page)
        merged = frames.merge_kinds(kinds)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            _write_typed(spooled, merged, tmp, suffix)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    attrs = _attrs(search, info, info.result_count)
    _fire(search, info.result_count, None, {**attrs, "output": str(path)})
    return path


def _write_typed(
    spooled: list[Path], kinds: dict[str, pa.DataType], target: Path, suffix: str
) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    schema = pa.schema(list(kinds.items()))
    writer: Any = (
        pq.ParquetWriter(target, schema)
        if suffix == ".parquet"
        else pacsv.CSVWriter(target, _csv_schema(schema))
    )
    try:
        for part in spooled:
            with pa.memory_map(str(part)) as source:
                table = pa.ipc.open_file(source).read_all()
            typed = frames.apply_kinds(table, kinds)
            writer.write_table(typed if suffix == ".parquet" else _csv_ready(typed))
    finally:
        writer.close()


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [(f.name, pa.string() if pa.types.is_list(f.type) else f.type) for f in schema]
    )


def _csv_ready(table: pa.Table) -> pa.Table:
    """Lists joined by newlines, as Splunk's own CSV does."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for index, column_type in enumerate(table.schema.types):
        if pa.types.is_list(column_type):
            name = table.column_names[index]
            as_text = pc.cast(table.column(name), pa.list_(pa.string()))
            table = table.set_column(index, name, pc.binary_join(as_text, "\n"))
    return table


__all__ = ["from_splunk", "from_splunk_chunks", "settings"]
