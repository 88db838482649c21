"""The ``file`` connector: a table from a Parquet, CSV or JSON (lines) file.

``kepler train --data FILE``, batch scoring and ``read_data(connector="file", query=PATH)`` read
files through it, so core needs no pandas to read a table.
"""

from __future__ import annotations

from typing import Any

from ._files import read_table


class FileConnector:
    """Implements :class:`kepler.api.Connector`: ``query`` is the file's path."""

    def __init__(self, config: Any = None) -> None:
        self.config = config

    def query(self, path: str, **options: Any) -> Any:
        """The file at ``path`` as a DataFrame (``attrs``: ``source="file"``, ``path``). It takes
        no options: a file is read whole."""
        if options:
            from kepler.api import TrainingError

            raise TrainingError(f"The file connector takes no options; got "
                                f"{', '.join(sorted(options))}.",
                                hint="Filter the DataFrame after reading it.")
        return read_table(path)
