"""Counters that add up across worker processes: requests, rows and the prediction log's figures.

With ``serve.workers`` > 1 the supervisor creates a small file (:func:`create_board`, in a
temporary folder it removes at exit) that every worker maps with ``mmap``. The file is a row of
fixed slots of int64s; each counting object of a worker (its server state, its prediction log)
claims a slot of its own at start (under an ``flock``, once) and from then on only stores into
that slot: no lock and no system call on the request path, one ``memoryview`` item update per
figure (tens of nanoseconds). Whoever answers ``/metadata`` sums all slots, grouped by the pid
each slot names. A restarted worker claims a fresh slot, so what a dead worker counted still
adds to the totals; when every slot is taken a claim takes over a dead worker's slot and keeps
counting on top of its figures.

In one process (no ``$KEPLER_SERVE_COUNTERS``) each slot lives in process memory, with the same
layout, so the code that counts is the same either way.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
from pathlib import Path
from typing import Any

#: The environment variable through which the supervisor names the shared counters file.
COUNTERS_ENV = "KEPLER_SERVE_COUNTERS"

#: What a slot holds, after the pid of the process that claimed it (index 0).
FIELDS = ("requests", "rows", "log_queued", "log_sent", "log_spooled", "log_failed",
          "log_dropped", "log_writes", "log_retrying")
PID = 0
REQUESTS, ROWS, LOG_QUEUED, LOG_SENT, LOG_SPOOLED, LOG_FAILED, LOG_DROPPED, LOG_WRITES, \
    LOG_RETRYING = range(1, len(FIELDS) + 1)
#: Figures that say "now" rather than "so far": reset when a slot is taken over.
GAUGES = (LOG_RETRYING,)
#: Bytes per slot: two cache lines, so two workers never store into the same line.
SLOT_BYTES = 128
_WORDS = SLOT_BYTES // 8


class Slot:
    """One claimant's figures: ``values[REQUESTS] += 1`` is the whole cost of counting."""

    __slots__ = ("board", "index", "values")

    def __init__(self, board: Board, index: int) -> None:
        self.board = board
        self.index = index
        self.values = board.words[index * _WORDS:(index + 1) * _WORDS]

    @property
    def shared(self) -> bool:
        """Whether other processes' slots sit beside this one (serving with workers)."""
        return self.board.path is not None


class Board:
    """A row of slots in a buffer: a mapped file shared by the workers, or process memory."""

    def __init__(self, buffer: Any, path: Path | None = None) -> None:
        self.buffer = buffer
        self.path = path
        self.words = memoryview(buffer).cast("q")
        self.size = len(self.words) // _WORDS

    def slots(self) -> list[Slot]:
        """Every claimed slot (one whose pid is set)."""
        return [Slot(self, i) for i in range(self.size) if self.words[i * _WORDS + PID]]

    def claim(self) -> Slot:
        """A slot for this process: a free one, else a dead worker's (its counts kept)."""
        with self._locked():
            pids = [self.words[i * _WORDS + PID] for i in range(self.size)]
            index = next((i for i, pid in enumerate(pids) if pid == 0), None)
            if index is None:
                index = next((i for i, pid in enumerate(pids) if not _alive(pid)), None)
            if index is None:
                raise RuntimeError(f"all {self.size} counter slots belong to live processes")
            slot = Slot(self, index)
            for gauge in GAUGES:
                slot.values[gauge] = 0
            slot.values[PID] = os.getpid()
        return slot

    @contextlib.contextmanager
    def _locked(self) -> Any:
        if self.path is None:
            yield
            return
        with open(self.path, "rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def create_board(path: Path, slots: int) -> Path:
    """The supervisor's file of ``slots`` zeroed slots at ``path`` (workers map it)."""
    path.write_bytes(bytes(slots * SLOT_BYTES))
    return path


_shared: dict[str, Board] = {}


def claim() -> Slot:
    """A slot for one counting object of this process: in the workers' shared file when
    ``$KEPLER_SERVE_COUNTERS`` names one, else in process memory."""
    path = os.environ.get(COUNTERS_ENV)
    if not path:
        return Board(bytearray(SLOT_BYTES)).claim()
    board = _shared.get(path)
    if board is None:
        with open(path, "r+b") as handle:
            mapped = mmap.mmap(handle.fileno(), 0)
        board = _shared[path] = Board(mapped, Path(path))
    return board.claim()


def totals(slots: list[Slot]) -> tuple[dict[str, int], dict[int, dict[str, int]]]:
    """The figures summed over ``slots``, and summed by the pid that claimed each slot."""
    total = dict.fromkeys(FIELDS, 0)
    by_pid: dict[int, dict[str, int]] = {}
    for slot in slots:
        values = slot.values.tolist()
        mine = by_pid.setdefault(values[PID], dict.fromkeys(FIELDS, 0))
        for position, name in enumerate(FIELDS, start=1):
            total[name] += values[position]
            mine[name] += values[position]
    return total, by_pid
