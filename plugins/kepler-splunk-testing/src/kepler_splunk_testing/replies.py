"""Small shared reply helpers: splunkd's error envelope, acknowledgements, paging, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

from kepler_splunk_testing import atom
from kepler_splunk_testing.protocol import Request, Response

__all__ = ["ack", "error_response", "int_param", "now_iso", "paging", "wants_json"]

JSON_TYPE = "application/json; charset=UTF-8"


def wants_json(request: Request) -> bool:
    return (request.params.get("output_mode") or "").lower() == "json"


def error_response(
    request: Request,
    status: int,
    text: str,
    type_: str = "ERROR",
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """splunkd's error envelope in XML, or ``{"messages": [...]}`` with output_mode=json."""
    if wants_json(request):
        return Response(status, atom.messages_json([(type_, text)]), JSON_TYPE, headers or [])
    return Response(status, atom.messages_xml([(type_, text)]), headers=headers or [])


def ack(request: Request, text: str) -> Response:
    """A 200 with one INFO message (job control, job deletion)."""
    if wants_json(request):
        return Response(200, atom.messages_json([("INFO", text)]), JSON_TYPE)
    return Response(200, atom.messages_xml([("INFO", text)]))


def int_param(request: Request, name: str) -> int | None:
    """An integer parameter, or None when absent or unreadable."""
    text = request.params.get(name)
    if text in (None, ""):
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


def paging(request: Request, default_count: int) -> tuple[int, int]:
    """``offset`` and ``count`` of a collection listing; count <= 0 means all (splunkd)."""
    offset = int_param(request, "offset")
    count = int_param(request, "count")
    return max(0, offset or 0), default_count if count is None else count


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def feed_response(
    request: Request,
    *,
    title: str,
    url: str,
    version: str,
    entries: list[atom.Entry],
    status: int = 200,
    total: int | None = None,
    offset: int = 0,
    per_page: int = 30,
) -> Response:
    """An Atom feed of ``entries`` (JSON with output_mode=json), as every splunkd listing is."""
    count = len(entries) if total is None else total
    if wants_json(request):
        body = atom.feed_json(origin=url, updated=now_iso(), generator_version=version,
                              entries=entries, total=count, offset=offset, per_page=per_page)
        return Response(status, body, JSON_TYPE)
    body = atom.feed_xml(title=title, id_url=url, updated=now_iso(), generator_version=version,
                         entries=entries, total=count, offset=offset, per_page=per_page)
    return Response(status, body)
