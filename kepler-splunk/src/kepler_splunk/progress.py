"""Progress bars (rows fetched of the job's total) in a terminal and in Jupyter.

``tqdm.auto`` picks the notebook widget when running in Jupyter and a text bar otherwise; no bar
is drawn when stderr is not a terminal and no notebook is running, so logs stay clean.
"""

from __future__ import annotations

import sys
from typing import Any


def _interactive() -> bool:
    """In a Jupyter kernel (not merely with ipykernel imported somewhere), or a terminal."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if type(shell).__name__ == "ZMQInteractiveShell":
        return True
    return hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


class Progress:
    """Two phases: the search running (percent), then rows fetched of the total."""

    def __init__(self, enabled: bool | None, label: str) -> None:
        self.enabled = _interactive() if enabled is None else enabled
        self.label = label
        self._bar: Any = None

    def searching(self, fraction: float) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=100,
                desc=f"{self.label}: searching",
                unit="%",
                bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}",
            )
        self._bar.n = round(fraction * 100)
        self._bar.refresh()

    def fetching(self, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc=f"{self.label}: rows", unit=" rows", unit_scale=True)

    def advance(self, rows: int) -> None:
        if self._bar is not None and self.enabled:
            self._bar.update(rows)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
