"""Search jobs: a clock-driven lifecycle (QUEUED -> PARSING -> RUNNING -> DONE | FAILED).

A job's results are computed at dispatch (searching an in-memory index is cheap), but they are
revealed over ``dispatch_delay`` seconds of wall time, so client code really has to poll: while
the job runs, ``isDone`` is 0, ``results`` answers 204, ``results_preview`` shows a growing
prefix, and ``finalize`` stops the job with whatever it has found so far. Progress is a pure
function of the clock (no background threads), which keeps the server simple and deterministic.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from kepler_splunk_testing.engine import Outcome
from kepler_splunk_testing.results import Message, ResultSet

__all__ = ["Job", "JobStatus", "JobStore"]

_QUEUED_UNTIL = 0.2
_PARSING_UNTIL = 0.4


@dataclass(frozen=True)
class JobStatus:
    """A consistent snapshot of a job at one instant."""

    dispatch_state: str
    progress: float
    is_done: bool
    is_failed: bool
    is_paused: bool
    is_finalized: bool
    result_count: int  # rows the results endpoint serves now
    preview_count: int  # rows results_preview serves now
    event_count: int
    scan_count: int
    run_duration: float
    messages: tuple[Message, ...]


@dataclass
class Job:
    """One dispatched search. Thread-safe: every mutation holds ``_lock``."""

    sid: str
    owner: str
    app: str
    spl: str
    request: dict[str, str]
    outcome: Outcome
    delay: float
    ttl: int
    dispatched_at: datetime
    created: float = field(default_factory=time.monotonic)
    last_touch: float = field(default_factory=time.monotonic)
    _paused_at: float | None = None
    _paused_total: float = 0.0
    _finalized_progress: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _progress(self, now: float) -> float:
        if self._finalized_progress is not None:
            return self._finalized_progress
        if self.delay <= 0:
            return 1.0
        paused = self._paused_total + (now - self._paused_at if self._paused_at is not None else 0)
        return max(0.0, min(1.0, (now - self.created - paused) / self.delay))

    def status(self, now: float | None = None) -> JobStatus:
        moment = time.monotonic() if now is None else now
        with self._lock:
            progress = self._progress(moment)
            finalized = self._finalized_progress is not None
            paused = self._paused_at is not None
        outcome = self.outcome
        total = len(outcome.results)
        done = progress >= 1.0 or finalized
        failed = done and outcome.failure is not None
        found = total if progress >= 1.0 else math.floor(total * progress)
        if failed:
            state = "FAILED"
        elif done:
            state = "DONE"
        elif paused:
            state = "PAUSED"
        elif progress < _QUEUED_UNTIL:
            state = "QUEUED"
        elif progress < _PARSING_UNTIL:
            state = "PARSING"
        else:
            state = "RUNNING"
        messages = outcome.messages
        if failed:
            messages = (*messages, Message("FATAL", outcome.failure or ""))
        visible = 0 if failed else found
        return JobStatus(
            dispatch_state=state,
            progress=1.0 if done else progress,
            is_done=done,
            is_failed=failed,
            is_paused=paused and not done,
            is_finalized=finalized,
            result_count=visible if done else (visible if not outcome.reporting else 0),
            preview_count=visible,
            event_count=0 if failed else (found if not outcome.reporting else outcome.scan_count),
            scan_count=0
            if failed
            else math.floor(outcome.scan_count * (1.0 if done else progress)),
            run_duration=round(self.delay * (1.0 if done else progress), 6),
            messages=messages,
        )

    def results(self, status: JobStatus, preview: bool = False) -> ResultSet:
        """The rows the job serves in ``status``: all once done, a prefix while running."""
        return self.outcome.results.head(status.preview_count if preview else status.result_count)

    def remaining(self) -> float:
        """Seconds until the job is done (0 if done or paused: blocking callers must not hang)."""
        now = time.monotonic()
        with self._lock:
            if self._paused_at is not None:
                return 0.0
            return max(0.0, (1.0 - self._progress(now)) * self.delay)

    # -- control actions ---------------------------------------------------------------------

    def pause(self) -> None:
        with self._lock:
            if self._paused_at is None:
                self._paused_at = time.monotonic()

    def unpause(self) -> None:
        with self._lock:
            if self._paused_at is not None:
                self._paused_total += time.monotonic() - self._paused_at
                self._paused_at = None

    def finalize(self) -> None:
        with self._lock:
            if self._finalized_progress is None:
                self._finalized_progress = self._progress(time.monotonic())

    def touch(self, ttl: int | None = None) -> None:
        with self._lock:
            if ttl is not None:
                self.ttl = ttl
            self.last_touch = time.monotonic()

    def expired(self, now: float) -> bool:
        return self.ttl > 0 and now - self.last_touch > self.ttl


class JobStore:
    """All jobs by sid. Expired jobs (idle longer than their ttl) vanish on the next lookup.

    ``scan_rate`` (events per second, 0 = instant) makes a job run longer the more events it
    scans, as a real search does: a benchmark can then show what splitting a long range into
    concurrent jobs buys.
    """

    def __init__(self, scan_rate: float = 0.0) -> None:
        if scan_rate < 0:
            raise ValueError(f"scan_rate must be >= 0, got {scan_rate}")
        self.scan_rate = scan_rate
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._counter = itertools.count(1)

    def new_sid(self) -> str:
        return f"{int(time.time())}.{next(self._counter)}"

    def add(self, job: Job) -> None:
        if self.scan_rate > 0:
            scanned = max(job.outcome.scan_count, len(job.outcome.results))
            job.delay += scanned / self.scan_rate
        with self._lock:
            self._jobs[job.sid] = job

    def get(self, sid: str) -> Job | None:
        self._expire()
        with self._lock:
            return self._jobs.get(sid)

    def remove(self, sid: str) -> bool:
        with self._lock:
            return self._jobs.pop(sid, None) is not None

    def all(self) -> list[Job]:
        self._expire()
        with self._lock:
            return list(self._jobs.values())

    def _expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            for sid in [sid for sid, job in self._jobs.items() if job.expired(now)]:
                del self._jobs[sid]
