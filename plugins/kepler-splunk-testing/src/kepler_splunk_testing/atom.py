"""splunkd's envelopes: Atom feeds/entries with ``<s:dict>`` content, their JSON twins, messages.

Most management endpoints answer an Atom document whose ``<content>`` is an ``<s:dict>`` of
``<s:key>`` elements (``<s:list>``/``<s:item>`` for lists), which is what splunklib's
``data.load`` parses. With ``output_mode=json`` the same entries come back as JSON objects with
typed values (booleans and numbers instead of "1" and "0.5"). Errors and acknowledgements use a
``<response><messages><msg type="...">`` envelope, or ``{"messages": [...]}`` in JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "Entry",
    "entry_document_xml",
    "feed_json",
    "feed_xml",
    "messages_json",
    "messages_xml",
    "response_xml",
    "xml_value",
]

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_NAMESPACES = (
    'xmlns="http://www.w3.org/2005/Atom" xmlns:s="http://dev.splunk.com/ns/rest" '
    'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
)


@dataclass(frozen=True)
class Entry:
    """One Atom entry: ``content`` holds typed values (bool/int/float/str/dict/list)."""

    title: str
    id_url: str
    updated: str
    links: Mapping[str, str]
    content: Mapping[str, Any]
    author: str = "nobody"
    published: str | None = None
    acl: Mapping[str, Any] = field(default_factory=dict)


def xml_value(value: Any, indent: str = "") -> str:
    """A typed value as splunkd's ``s:`` markup (booleans as "1"/"0")."""
    inner = indent + "  "
    if isinstance(value, Mapping):
        if not value:
            return "<s:dict/>"
        keys = "".join(
            f"\n{inner}<s:key name={quoteattr(str(key))}>{xml_value(item, inner)}</s:key>"
            for key, item in value.items()
        )
        return f"<s:dict>{keys}\n{indent}</s:dict>"
    if isinstance(value, (list, tuple)):
        if not value:
            return "<s:list/>"
        items = "".join(f"\n{inner}<s:item>{xml_value(item, inner)}</s:item>" for item in value)
        return f"<s:list>{items}\n{indent}</s:list>"
    return _text(_scalar(value))


def _text(value: str) -> str:
    """Escaped text whose line breaks are character references, so the re-indenting of
    entries inside a feed cannot change a multi-line value (a dashboard's ``eai:data``)."""
    return escape(value).replace("\r", "&#13;").replace("\n", "&#10;")


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def _entry_xml(entry: Entry, *, root: bool) -> str:
    opening = f"<entry {_NAMESPACES}>" if root else "<entry>"
    links = "".join(
        f"\n  <link href={quoteattr(href)} rel={quoteattr(rel)}/>"
        for rel, href in entry.links.items()
    )
    published = f"\n  <published>{entry.published}</published>" if entry.published else ""
    content = dict(entry.content)
    if entry.acl:
        content["eai:acl"] = entry.acl
    return (
        f"{opening}\n  <title>{_text(entry.title)}</title>\n  <id>{escape(entry.id_url)}</id>"
        f"\n  <updated>{entry.updated}</updated>{links}{published}"
        f"\n  <author>\n    <name>{escape(entry.author)}</name>\n  </author>"
        f'\n  <content type="text/xml">\n    {xml_value(content, "    ")}\n  </content>\n</entry>'
    )


def entry_document_xml(entry: Entry) -> bytes:
    """A standalone ``<entry>`` document (what ``GET search/jobs/{sid}`` returns)."""
    return (XML_DECLARATION + _entry_xml(entry, root=True) + "\n").encode("utf-8")


def feed_xml(
    *,
    title: str,
    id_url: str,
    updated: str,
    generator_version: str,
    entries: Sequence[Entry],
    total: int,
    offset: int,
    per_page: int,
    links: Mapping[str, str] | None = None,
) -> bytes:
    """An Atom ``<feed>`` with opensearch paging, as splunkd lists collections."""
    feed_links = "".join(
        f"\n  <link href={quoteattr(href)} rel={quoteattr(rel)}/>"
        for rel, href in (links or {}).items()
    )
    body = "".join(
        "\n  " + _entry_xml(entry, root=False).replace("\n", "\n  ") for entry in entries
    )
    return (
        f"{XML_DECLARATION}<feed {_NAMESPACES}>\n  <title>{escape(title)}</title>"
        f"\n  <id>{escape(id_url)}</id>\n  <updated>{updated}</updated>"
        f'\n  <generator build="kepler" version={quoteattr(generator_version)}/>'
        f"\n  <author>\n    <name>Splunk</name>\n  </author>{feed_links}"
        f"\n  <opensearch:totalResults>{total}</opensearch:totalResults>"
        f"\n  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>"
        f"\n  <opensearch:startIndex>{offset}</opensearch:startIndex>"
        f"\n  <s:messages/>{body}\n</feed>\n"
    ).encode()


def entry_json(entry: Entry) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": entry.title,
        "id": entry.id_url,
        "updated": entry.updated,
        "links": dict(entry.links),
    }
    if entry.published:
        data["published"] = entry.published
    data["author"] = entry.author
    if entry.acl:
        data["acl"] = dict(entry.acl)
    data["content"] = dict(entry.content)
    return data


def feed_json(
    *,
    origin: str,
    updated: str,
    generator_version: str,
    entries: Sequence[Entry],
    total: int,
    offset: int,
    per_page: int,
    links: Mapping[str, str] | None = None,
) -> bytes:
    """The JSON form of a feed (``output_mode=json``)."""
    document = {
        "links": dict(links or {}),
        "origin": origin,
        "updated": updated,
        "generator": {"build": "kepler", "version": generator_version},
        "entry": [entry_json(entry) for entry in entries],
        "paging": {"total": total, "perPage": per_page, "offset": offset},
        "messages": [],
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def messages_xml(messages: Iterable[tuple[str, str]]) -> bytes:
    """``<response><messages><msg type="T">text</msg>...`` (errors, control acknowledgements)."""
    body = "".join(
        f"\n    <msg type={quoteattr(kind)}>{escape(text)}</msg>" for kind, text in messages
    )
    return (
        f"{XML_DECLARATION}<response>\n  <messages>{body}\n  </messages>\n</response>\n"
    ).encode()


def messages_json(messages: Iterable[tuple[str, str]]) -> bytes:
    document = {"messages": [{"type": kind, "text": text} for kind, text in messages]}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def response_xml(**values: str) -> bytes:
    """``<response>\\n  <key>value</key>\\n</response>`` (login's sessionKey, a job's sid)."""
    body = "".join(f"\n  <{key}>{escape(value)}</{key}>" for key, value in values.items())
    return f"{XML_DECLARATION}<response>{body}\n</response>\n".encode()
