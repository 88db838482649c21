"""Several search jobs run as one extraction: the slices of ``parallel=N`` (see ``slices``).

All jobs are created first and waited for together (the search head runs them at once), then
their pages are read newest slice first. Any error, a Ctrl-C in the waiting thread, or a
consumer that stops early cancels every job that has not been read to its end, so an abandoned
extraction never leaves N searches burning the search head's CPU.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .config import SplunkConnection
from .jobs import JobInfo, SearchJob
from .pages import iter_pages
from .timerange import TimeRange

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)


def combined_info(infos: list[JobInfo]) -> JobInfo:
    """One ``JobInfo`` for the slices: counts summed, sids joined, messages of every job."""
    return JobInfo(
        sid=",".join(info.sid for info in infos),
        result_count=sum(info.result_count for info in infos),
        event_count=sum(info.event_count for info in infos),
        scan_count=sum(info.scan_count for info in infos),
        run_duration=max((info.run_duration for info in infos), default=0.0),
        earliest_time=infos[-1].earliest_time if infos else None,
        latest_time=infos[0].latest_time if infos else None,
        messages=[m for info in infos for m in info.messages],
    )


class SliceJobs:
    """N ``SearchJob`` over N time slices (newest first), created, awaited and read together."""

    def __init__(self, service: Any, conn: SplunkConnection, spl: str,
                 ranges: list[TimeRange], options: dict[str, Any]) -> None:
        self.jobs = [SearchJob(service, conn, spl, r, dict(options)) for r in ranges]
        self.infos: list[JobInfo] = []
        self._started: list[SearchJob] = []
        self._read: set[int] = set()

    def start_and_wait(self, on_progress: Callable[[float], None] | None = None) -> JobInfo:
        """Create every job, then wait for all of them concurrently."""
        try:
            for job in self.jobs:
                job.__enter__()
                self._started.append(job)
            progress = [0.0] * len(self.jobs)

            def wait(index: int) -> JobInfo:
                def report(value: float) -> None:
                    progress[index] = value
                    if on_progress is not None:
                        on_progress(sum(progress) / len(progress))
                return self.jobs[index].wait(on_progress=report)

            with ThreadPoolExecutor(len(self.jobs), thread_name_prefix="kepler-slice") as pool:
                futures = [pool.submit(wait, i) for i in range(len(self.jobs))]
                try:
                    self.infos = [future.result() for future in futures]
                except BaseException:
                    self.cancel()  # the other waits then fail fast on their cancelled jobs
                    raise
        except BaseException:
            self.cancel()
            raise
        return combined_info(self.infos)

    def pages(self, page_size: int, max_workers: int, keep_internal: bool,
              on_rows: Callable[[int], None] | None = None) -> Iterator[pa.Table]:
        """Every slice's pages, newest slice first; cancels what is left if stopped early."""
        try:
            for index, (job, info) in enumerate(zip(self.jobs, self.infos, strict=True)):
                yield from iter_pages(job, info.result_count, page_size, max_workers,
                                      keep_internal, on_rows=on_rows)
                self._read.add(index)
        except BaseException:
            self.cancel()
            raise

    def cancel(self) -> None:
        """Cancel every started job not yet read to its end."""
        for index, job in enumerate(self._started):
            if index not in self._read:
                job.cancel()
