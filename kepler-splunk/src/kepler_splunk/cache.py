"""A local cache of finished searches, as Parquet, for ranges that lie wholly in the past.

The key is the connection (URL, namespace, user), the SPL, the absolute time range and the options
that change the rows; a search whose range reaches "now" is never cached, since its answer can
still change. Kept in the project's state folder (``.kepler/cache/splunk``, out of git) or
``splunk.cache_dir``; ``kepler data cache list|clear`` manage it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import SplunkConnection

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass(frozen=True)
class CacheEntry:
    key: str
    path: Path
    meta: dict[str, Any]

    @property
    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0


def cache_dir(setting: str | None = None) -> Path:
    if setting:
        return Path(setting).expanduser()
    from kepler.api import find_project
    from kepler.api import load_config as load

    project = find_project()
    if project is not None:
        state = load(project=project).section("core").state_dir
        return project / state / "cache" / "splunk"
    from kepler.api import user_cache_dir

    return user_cache_dir() / "splunk"


def identity(conn: SplunkConnection) -> str:
    """Who asks where: results differ by server, namespace and user (never the secret itself)."""
    if conn.token is not None:
        who = "token:" + hashlib.sha256(conn.token.get_secret_value().encode()).hexdigest()[:16]
    else:
        who = f"user:{conn.username}"
    return f"{conn.scheme}://{conn.host}:{conn.port}/{conn.owner or '-'}/{conn.app or '-'}/{who}"


def cache_key(
    conn: SplunkConnection,
    spl: str,
    earliest: str | None,
    latest: str | None,
    options: dict[str, Any],
) -> str:
    material = json.dumps(
        {
            "who": identity(conn),
            "spl": spl,
            "earliest": earliest,
            "latest": latest,
            "options": options,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


class ResultCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.parquet", self.folder / f"{key}.json"

    def get(self, key: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
        data, meta = self._paths(key)
        if not (data.exists() and meta.exists()):
            return None
        import pyarrow.parquet as pq

        from . import frames

        return frames.to_pandas(pq.read_table(data)), json.loads(meta.read_text())

    def put(self, key: str, table: pa.Table, meta: dict[str, Any]) -> Path:
        import pyarrow.parquet as pq

        self.folder.mkdir(parents=True, exist_ok=True)
        data, meta_path = self._paths(key)
        tmp = data.with_suffix(f".{os.getpid()}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, data)
        meta_path.write_text(json.dumps({**meta, "cached_at": time.time()}, default=str))
        return data

    def entries(self) -> list[CacheEntry]:
        if not self.folder.exists():
            return []
        found = []
        for meta in sorted(self.folder.glob("*.json")):
            data = meta.with_suffix(".parquet")
            if data.exists():
                found.append(CacheEntry(meta.stem, data, json.loads(meta.read_text())))
        return found

    def clear(self, older_than: float | None = None) -> int:
        removed = 0
        for entry in self.entries():
            if older_than is not None and time.time() - entry.meta.get("cached_at", 0) < older_than:
                continue
            entry.path.unlink(missing_ok=True)
            entry.path.with_suffix(".json").unlink(missing_ok=True)
            removed += 1
        return removed
