"""What a query magic shows: the shape of the frame it bound, and where the rows came from.

A DataFrame alone hides what the issue asks to see after a search: how many rows, which
columns and types, the time range covered, the search id and how long it took. This summary
reads them from the frame (duck-typed: no pandas import here) and its ``attrs`` lineage.
"""

from __future__ import annotations

from typing import Any

from ..display import Card

#: Lineage keys worth showing, in order, with their labels.
_LINEAGE = (("sid", "search id"), ("cache", "cache"), ("earliest", "earliest"),
            ("latest", "latest"), ("connection", "connection"))
HEAD_ROWS = 5


class QueryResult:
    """The value a query magic returns; its display is the summary, the frame is in ``name``."""

    def __init__(self, frame: Any, *, name: str, connector: str, seconds: float) -> None:
        self.frame = frame
        self.name = name
        self.connector = connector
        self.seconds = seconds

    @property
    def lineage(self) -> dict[str, Any]:
        attrs = getattr(self.frame, "attrs", None)
        return dict(attrs) if isinstance(attrs, dict) else {}

    def card(self) -> Card:
        frame = self.frame
        rows = len(frame) if hasattr(frame, "__len__") else None
        card = Card(f"{self.name}: {rows} rows from {self.connector}")
        dtypes = getattr(frame, "dtypes", None)
        if dtypes is not None:
            card.add("columns", [f"{column} ({dtype})" for column, dtype in dtypes.items()])
        card.add("time range", time_range(frame))
        lineage = self.lineage
        for key, label in _LINEAGE:
            card.add(label, lineage.get(key))
        card.add("duration", f"{self.seconds:.2f} s")
        head = frame.head(HEAD_ROWS) if hasattr(frame, "head") else None
        if head is not None:
            card.html_parts.append(getattr(head, "_repr_html_", lambda: "")() or "")
            card.text_parts.append(repr(head))
        return card

    def _repr_html_(self) -> str:
        return self.card().html()

    def __repr__(self) -> str:
        return self.card().text()


def time_range(frame: Any) -> str | None:
    """``first .. last`` of the ``_time`` column (Splunk's, and what connectors of events
    name their timestamp), or None when the frame has none."""
    columns = getattr(frame, "columns", ())
    if "_time" not in columns or not len(frame):
        return None
    times = frame["_time"]
    try:
        return f"{times.min()} .. {times.max()}"
    except TypeError:  # mixed types: not a time column after all
        return None


__all__ = ["QueryResult", "time_range"]
