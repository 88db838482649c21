"""Tables from files: Parquet, CSV and JSON (lines), timestamps parsed, origin kept.

What ``kepler train --data FILE`` and batch scoring read, through the ``file`` connector this
distribution registers (``read_data(connector="file", query=PATH)``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from kepler.api import TrainingError

#: Text columns with these names (any case) are read as UTC timestamps when they parse as ISO 8601.
TIME_COLUMNS = ("_time", "time", "timestamp", "datetime", "date")
#: File name endings read_table knows.
SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz", ".json", ".jsonl", ".ndjson")


def _suffix(path: Path) -> str:
    return "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix.lower()


def _read(path: Path, suffix: str) -> pd.DataFrame:
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".csv", ".csv.gz"):
        return parse_times(pd.read_csv(path))
    if suffix in (".jsonl", ".ndjson"):
        return parse_times(pd.read_json(path, lines=True))
    if suffix == ".json":
        return parse_times(pd.read_json(path))
    raise TrainingError(f"Cannot read {path}: unknown file type {path.suffix!r}.",
                        hint="Use .parquet, .csv, .csv.gz, .json or .jsonl.")


def read_table(path: Path | str) -> pd.DataFrame:
    """A Parquet, CSV or JSON (lines) file as a DataFrame, its origin kept in ``attrs``
    (``source="file"``, ``path``)."""
    path = Path(path).expanduser()
    try:
        frame = _read(path, _suffix(path))
    except ImportError as exc:
        raise TrainingError(f"Reading {path} needs a library that is missing: {exc}",
                            hint="pip install pyarrow") from exc
    except (OSError, ValueError) as exc:
        raise TrainingError(f"Cannot read {path}: {exc}",
                            hint="Check the file is complete and of the type its name says.") \
            from exc
    frame.attrs.update({"source": "file", "path": str(path.resolve())})
    return frame


def parse_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns named like a timestamp (:data:`TIME_COLUMNS`) as UTC datetimes, in place;
    a column that does not parse is left as it is."""
    for column in frame.columns:
        if str(column).lower() in TIME_COLUMNS and not pd.api.types.is_numeric_dtype(
                frame[column]):
            try:
                frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
            except (ValueError, TypeError):
                continue
    return frame
