"""Rich displays for notebooks: one small card shape that every Kepler result renders as.

Jupyter calls ``_repr_html_`` on the value of a cell; a Model, a Deployment, a write report or
an extraction summary each build a :class:`Card` (a title, labelled fields, optional tables) and
return its HTML, while ``repr()``/``print`` keep a plain-text form of the same card. Pure
strings, no IPython import: these methods work (and are tested) without a notebook.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_STYLE = ("font-family:var(--jp-ui-font-family,sans-serif);border:1px solid #ddd;"
          "border-radius:4px;padding:6px 10px;margin:2px 0;display:inline-block")


def escape(value: Any) -> str:
    """HTML-escape anything shown in a card (values come from data and servers)."""
    return html.escape(str(value), quote=True)


@dataclass
class Card:
    """A titled block of ``label: value`` fields, plus optional tables and raw HTML parts."""

    title: str
    fields: list[tuple[str, Any]] = field(default_factory=list)
    #: (caption, header, rows) tables shown under the fields.
    tables: list[tuple[str, Sequence[str], Sequence[Sequence[Any]]]] = field(default_factory=list)
    #: Trusted HTML fragments (a DataFrame's own ``_repr_html_``, an inline plot).
    html_parts: list[str] = field(default_factory=list)
    #: Plain-text counterparts of ``html_parts``.
    text_parts: list[str] = field(default_factory=list)

    def add(self, label: str, value: Any) -> Card:
        """Add a field unless its value is empty (None, "", {}), so cards stay short."""
        if value not in (None, "", {}, [], ()):
            self.fields.append((label, value))
        return self

    def table(self, caption: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Card:
        self.tables.append((caption, header, [list(row) for row in rows]))
        return self

    def html(self) -> str:
        parts = [f'<div style="{_STYLE}"><b>{escape(self.title)}</b>']
        if self.fields:
            parts.append('<table style="margin:4px 0">' + "".join(
                f'<tr><td style="text-align:left;color:#666;padding-right:12px">{escape(k)}</td>'
                f'<td style="text-align:left">{_html_value(v)}</td></tr>'
                for k, v in self.fields) + "</table>")
        for caption, header, rows in self.tables:
            parts.append(_html_table(caption, header, rows))
        parts.extend(self.html_parts)
        return "".join(parts) + "</div>"

    def text(self) -> str:
        lines = [self.title]
        width = max((len(k) for k, _ in self.fields), default=0)
        lines += [f"  {k.ljust(width)}  {_text_value(v)}" for k, v in self.fields]
        for caption, header, rows in self.tables:
            lines.append(f"  {caption}:")
            lines += ["    " + "  ".join(str(c) for c in row) for row in [header, *rows]]
        lines += self.text_parts
        return "\n".join(lines)


def _html_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{escape(k)}={escape(_short(v))}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(escape(v) for v in value)
    text = escape(value)
    return f'<a href="{text}" target="_blank">{text}</a>' if text.startswith("http") else text


def _text_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_short(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _html_table(caption: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(_short(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return (f'<table style="margin:4px 0"><caption style="text-align:left">{escape(caption)}'
            f"</caption><tr>{head}</tr>{body}</table>")


__all__ = ["Card", "escape"]
