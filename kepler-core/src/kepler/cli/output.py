"""Plain-text tables and JSON for the CLI.

A 20-line table printer instead of rich: ``kepler plugins list`` is on the fast-start path and
rich costs more import time than the whole command budget allows for a table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from ..logs import redact


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 60) -> str:
    cells = [[str(h) for h in headers]] + [[_cut(str(c), max_width) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 60) -> None:
    click.echo(redact(table(headers, rows, max_width)))


def echo_json(value: Any) -> None:
    click.echo(redact(json.dumps(value, indent=2, default=str)))
