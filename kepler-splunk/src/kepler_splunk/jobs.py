"""One search job's life: create, wait (with progress), read result pages, cancel.

A job that is interrupted (Ctrl-C) or whose reading fails is cancelled on the server before the
error propagates, so an abandoned extraction never keeps burning the search head's CPU.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from .config import SplunkConnection
from .errors import SplunkJobFailedError, SplunkTimeoutError, describe, translated
from .timerange import TimeRange

log = logging.getLogger(__name__)


@dataclass
class JobInfo:
    sid: str
    result_count: int
    event_count: int
    scan_count: int
    run_duration: float
    earliest_time: str | None
    latest_time: str | None
    messages: list[dict[str, str]] = field(default_factory=list)


def _messages(content: Any) -> list[dict[str, str]]:
    raw = content.get("messages") if hasattr(content, "get") else None
    found: list[dict[str, str]] = []
    if not raw or not hasattr(raw, "items"):
        return found
    for kind, texts in raw.items():
        for text in texts if isinstance(texts, list) else [texts]:
            if text:
                found.append({"type": str(kind).upper(), "text": str(text)})
    return found


def _int(content: Any, key: str) -> int:
    try:
        return int(float(content.get(key) or 0))
    except (TypeError, ValueError):
        return 0


class SearchJob:
    """Context manager around a splunklib ``Job``: ``with SearchJob(...) as job: ...``."""

    def __init__(
        self,
        service: Any,
        conn: SplunkConnection,
        spl: str,
        trange: TimeRange,
        options: dict[str, Any],
    ) -> None:
        self.service = service
        self.conn = conn
        self.spl = spl
        self.trange = trange
        self.options = options
        self.job: Any = None
        self.finished = False

    def __enter__(self) -> SearchJob:
        params: dict[str, Any] = {"exec_mode": "normal", **self.options}
        if self.trange.earliest is not None:
            params["earliest_time"] = self.trange.earliest
        if self.trange.latest is not None:
            params["latest_time"] = self.trange.latest
        with translated(self.conn, "creating the search job"):
            self.job = self.service.jobs.create(self.spl, **params)
        log.info("search job %s created for %r", self.sid, self.spl)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and self.job is not None and not self.finished:
            self.cancel()

    @property
    def sid(self) -> str:
        return str(self.job.sid)

    def cancel(self) -> None:
        try:
            with translated(self.conn, f"cancelling search job {self.sid}"):
                self.job.cancel()
            log.info("search job %s cancelled", self.sid)
        except Exception as exc:  # the original error matters more than this one
            log.warning("could not cancel search job %s: %s", self.sid, exc)

    def wait(self, on_progress: Any = None) -> JobInfo:
        """Poll until the job is done; raise Splunk's words if it fails or runs too long."""
        deadline = time.monotonic() + self.conn.job_timeout
        delay = 0.02
        while True:
            with translated(self.conn, f"checking search job {self.sid}"):
                ready = self.job.is_ready()
                content = self.job.content if ready else {}
            if ready and content.get("isFailed") == "1":
                messages = _messages(content)
                raise SplunkJobFailedError(
                    f"Search job {self.sid} failed: {describe(messages)}",
                    hint="Splunk accepted the SPL but could not run it; fix the search (see the "
                    "message) or check the indexes it reads.",
                    messages=messages,
                )
            if ready and content.get("isDone") == "1":
                self.finished = True
                return self._info(content)
            if on_progress is not None and ready:
                on_progress(float(content.get("doneProgress") or 0))
            if time.monotonic() > deadline:
                raise SplunkTimeoutError(
                    f"Search job {self.sid} did not finish within {self.conn.job_timeout:g} s "
                    "(it was cancelled).",
                    hint="Narrow the time range or the search, or raise splunk.job_timeout.",
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def _info(self, content: Any) -> JobInfo:
        info = JobInfo(
            sid=self.sid,
            result_count=_int(content, "resultCount"),
            event_count=_int(content, "eventCount"),
            scan_count=_int(content, "scanCount"),
            run_duration=float(content.get("runDuration") or 0),
            earliest_time=content.get("earliestTime"),
            latest_time=content.get("latestTime"),
            messages=_messages(content),
        )
        for message in info.messages:
            level = logging.WARNING if message["type"] in {"WARN", "ERROR"} else logging.INFO
            log.log(level, "Splunk (%s): %s", message["type"].lower(), message["text"])
        return info

    def page(
        self, offset: int, count: int, output_mode: str = "csv", fields: list[str] | None = None
    ) -> bytes:
        params: dict[str, Any] = {"output_mode": output_mode, "offset": offset, "count": count}
        if fields:
            params["f"] = fields
        with translated(self.conn, f"reading results {offset}-{offset + count} of {self.sid}"):
            body: bytes = self.job.results(**params).read()
        return body
