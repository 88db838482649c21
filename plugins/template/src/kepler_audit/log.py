"""Appending events to, and reading them from, the JSON Lines audit log."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kepler.api import Config, user_config_dir

#: Event fields never written: the data itself does not belong in an audit log.
SKIPPED_FIELDS = {"data", "model", "predictions"}


def log_path(config: Config) -> Path:
    settings = config.section("audit")
    path = Path(settings.path).expanduser()
    if path.is_absolute():
        return path
    return (config.project_dir or user_config_dir()) / path


def record(config: Config, event_name: str, event: Any) -> Path | None:
    """Append one event; returns the log path, or None when auditing is off."""
    if not config.section("audit").enabled:
        return None
    fields = {
        f.name: getattr(event, f.name)
        for f in dataclasses.fields(event)
        if f.name not in SKIPPED_FIELDS
    }
    entry = {"time": datetime.now(UTC).isoformat(), "event": event_name, "env": config.env,
             **fields}
    path = log_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, default=str, sort_keys=True) + "\n"
    # One write() of a line opened with O_APPEND: concurrent writers never interleave lines.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
    return path


def read(config: Config, last: int | None = None) -> list[dict[str, Any]]:
    path = log_path(config)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    if last is not None:
        lines = lines[-last:] if last > 0 else []
    return [json.loads(line) for line in lines if line.strip()]
