"""The ``jsonl`` sink: results appended to a JSON Lines file, one object per row.

It is the template's example of "bring your own destination". Registered in ``plugin.py`` as a
``SinkSpec``, it works wherever Kepler writes results, with no change to Kepler::

    kepler predict pump-failure --connector http-csv --query URL \
        --sink jsonl --sink-option path=scores.jsonl

    # kepler.yml: the model server logs every prediction through it
    serve:
      log_sink: jsonl
      log_sink_options: {path: .kepler/predictions.jsonl}

    kepler.api.write_results(frame, sink="jsonl", path="scores.jsonl")

Each call appends its whole batch with one ``write`` to a file opened in append mode, then
``fsync``: readers and concurrent writers never see half a batch interleaved with another, and a
batch that cannot be serialised writes nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kepler.api import Config, KeplerError, json_safe, user_config_dir

NAME = "jsonl"


@dataclass(frozen=True)
class JsonlReport:
    """What one ``write`` delivered."""

    rows: int
    path: Path
    bytes: int

    @property
    def sent(self) -> int:
        """Rows delivered (the name other sinks' reports use)."""
        return self.rows

    @property
    def ok(self) -> bool:
        return True

    def summary(self) -> str:
        return f"{self.rows} rows appended to {self.path}"


class JsonlSink:
    """``write(data, path=None)``: ``data`` is a DataFrame, a list of dicts or one dict.

    Built by Kepler with the configuration in force (the ``SinkSpec`` target is this class);
    without ``path=`` it writes to ``audit.results_path``.
    """

    def __init__(self, config: Config) -> None:
        self.config = config

    def write(self, data: Any, path: str | os.PathLike[str] | None = None,
              **options: Any) -> JsonlReport:
        """Append every row of ``data`` to ``path`` as one JSON object per line."""
        if options:
            raise KeplerError(
                f"The {NAME} sink has no option {', '.join(map(repr, sorted(options)))}.",
                hint="Its only option is path=FILE.")
        target = self._target(path)
        rows = _rows(data)
        payload = b"".join(_line(row) for row in rows)  # all of it, before touching the file
        if rows:
            _append(target, payload)
        return JsonlReport(rows=len(rows), path=target, bytes=len(payload))

    def _target(self, path: str | os.PathLike[str] | None) -> Path:
        """``path`` (relative to the working directory), else ``audit.results_path``
        (relative to the project, or the user config folder outside one)."""
        if path is not None and str(path).strip():
            return Path(path).expanduser().absolute()
        configured = self.config.section("audit").results_path
        if not configured:
            raise KeplerError(
                f"The {NAME} sink needs a file to write to.",
                hint="Pass path=FILE (kepler predict ... --sink-option path=FILE), or set "
                "audit.results_path in kepler.yml (KEPLER_AUDIT__RESULTS_PATH).")
        folder = self.config.project_dir or user_config_dir()
        return (Path(folder) / Path(configured).expanduser()).absolute()


def _rows(data: Any) -> list[Mapping[str, Any]]:
    """``data`` as a list of row mappings, missing values as None."""
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a DataFrame
        frame = data.astype(object).where(data.notna(), None)
        return frame.to_dict("records")
    if isinstance(data, Mapping):
        return [data]
    if isinstance(data, Iterable) and not isinstance(data, str | bytes):
        rows = list(data)
        bad = next((i for i, row in enumerate(rows) if not isinstance(row, Mapping)), None)
        if bad is None:
            return rows
        raise KeplerError(
            f"The {NAME} sink writes rows as JSON objects; row {bad} is a "
            f"{type(rows[bad]).__name__}.", hint="Give a DataFrame or a list of dicts.")
    raise KeplerError(f"The {NAME} sink writes rows, not a {type(data).__name__!r}.",
                      hint="Give a DataFrame or a list of dicts.")


def _line(row: Mapping[str, Any]) -> bytes:
    clean = json_safe({str(k): _missing_as_none(v) for k, v in row.items()})
    return (json.dumps(clean, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def _missing_as_none(value: Any) -> Any:
    """NaN, NaT and pd.NA as None (json_safe knows NaN; NaT would print as 'NaT')."""
    if value is None or isinstance(value, str | bool | int | Mapping | list | tuple):
        return value
    try:
        import pandas as pd

        return None if pd.api.types.is_scalar(value) and pd.isna(value) else value
    except (TypeError, ValueError):
        return value


def _append(path: Path, payload: bytes) -> None:
    """One ``write`` of the whole batch to ``path`` opened with O_APPEND, then ``fsync``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        raise KeplerError(
            f"Cannot open {path} to append results: {exc.strerror or exc}.",
            hint="Give a file path whose folder exists or can be created, and is writable.",
        ) from exc
    try:
        try:
            written = os.write(fd, payload)
        except OSError as exc:
            raise KeplerError(
                f"Writing {len(payload)} bytes to {path} failed: {exc.strerror or exc}.",
                hint="Check free space and permissions; nothing of this batch was written.",
            ) from exc
        try:
            os.fsync(fd)
        except OSError as exc:
            raise KeplerError(
                f"{path} did not confirm the batch reached the disk: {exc.strerror or exc}.",
                hint="The rows may be lost if the machine stops now; check the disk.") from exc
    finally:
        os.close(fd)
    if written != len(payload):
        raise KeplerError(
            f"Only {written} of {len(payload)} bytes reached {path}: its last line is cut.",
            hint="The disk is probably full; free space, remove the cut line and write again.")
