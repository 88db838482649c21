"""The HEC spool: batches Splunk could not take yet, on disk, until they are delivered.

One file per batch, written to a temporary name and renamed, so a crash never leaves a partial
file and never loses one already written. A file holds a header line of JSON (target endpoint,
rows, row ids, why it was spooled) and then the batch's newline-separated JSON events. The folder
is the project's ``.kepler/spool/hec`` (out of git) or ``splunk.spool_dir``. Flushing takes an
exclusive lock so two processes never deliver the same file twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAGIC = b"KEPLER-HEC-SPOOL 1\n"


@dataclass
class SpooledBatch:
    path: Path
    meta: dict[str, Any]
    lines: list[bytes]


def spool_dir(setting: str | None = None) -> Path:
    if setting:
        return Path(setting).expanduser()
    from kepler.api import find_project, user_data_dir

    project = find_project()
    if project is not None:
        from kepler.api import load_config as load

        state = load(project=project).section("core").state_dir
        return project / state / "spool" / "hec"
    return user_data_dir() / "spool" / "hec"


class Spool:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, lines: list[bytes], meta: dict[str, Any]) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.hec"
        final = self.folder / name
        tmp = self.folder / f".{name}.tmp"
        with open(tmp, "wb") as handle:
            handle.write(MAGIC)
            handle.write(json.dumps(meta, default=str).encode() + b"\n")
            handle.write(b"\n".join(lines))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        return final

    def files(self) -> list[Path]:
        if not self.folder.exists():
            return []
        return sorted(self.folder.glob("*.hec"))

    def read(self, path: Path) -> SpooledBatch:
        data = path.read_bytes()
        if not data.startswith(MAGIC):
            raise ValueError(f"{path} is not a Kepler HEC spool file")
        header_end = data.index(b"\n", len(MAGIC))
        meta = json.loads(data[len(MAGIC):header_end])
        body = data[header_end + 1:]
        return SpooledBatch(path, meta, body.split(b"\n") if body else [])

    def rows(self) -> int:
        return sum(int(self.read(p).meta.get("rows", 0)) for p in self.files())

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
