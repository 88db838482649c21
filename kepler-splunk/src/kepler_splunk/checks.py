"""``kepler config validate`` for Splunk: the server answers, the credentials work, the user may
search and list indexes — each failure with Splunk's words and what to change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kepler.api import CheckResult, KeplerError

REQUIRED_CAPABILITIES = {
    "search": "run searches (kp.data.from_splunk)",
    "indexes_list_all": "list indexes (kp.data.splunk_catalog)",
}


def validate(config: Any) -> Iterator[CheckResult]:
    if "splunk" not in config.layered.values:
        yield CheckResult(
            check="splunk: configured",
            status="skip",
            detail="no splunk section in the configuration",
            hint="Add splunk.host and splunk.token to kepler.yml to use Splunk.",
        )
        return
    try:
        section = config.section("splunk")
    except KeplerError as exc:
        yield CheckResult(
            check="splunk: configuration valid",
            status="fail",
            detail=exc.message,
            hint=exc.hint or "",
        )
        return
    names = [None, *section.connections]
    for name in names:
        yield from _check_connection(section, name)


def _check_connection(section: Any, name: str | None) -> Iterator[CheckResult]:
    from .connection import open_service
    from .errors import translated

    label = f"splunk[{name}]" if name else "splunk"
    conn = section.connection(name)
    url = f"{conn.scheme}://{conn.host}:{conn.port}"
    try:
        service = open_service(conn)
        with translated(conn, "reading server info"):
            info = service.info
    except KeplerError as exc:
        yield CheckResult(
            check=f"{label}: server answers, credentials accepted",
            status="fail",
            detail=exc.message,
            hint=exc.hint or "",
        )
        return
    yield CheckResult(
        check=f"{label}: server answers, credentials accepted",
        status="pass",
        detail=f"{url}, Splunk {info.get('version', '?')}",
    )
    try:
        with translated(conn, "reading the current user's capabilities"):
            body = service.get("authentication/current-context", output_mode="json").body.read()
        import json

        content = json.loads(body)["entry"][0]["content"]
        capabilities = set(content.get("capabilities") or [])
        user = content.get("username", "?")
    except (KeplerError, KeyError, IndexError, ValueError) as exc:
        yield CheckResult(
            check=f"{label}: permissions",
            status="warn",
            detail=f"could not read the user's capabilities: {exc}",
            hint="Kepler will find out at the first search.",
        )
        return
    for capability, purpose in REQUIRED_CAPABILITIES.items():
        ok = capability in capabilities
        yield CheckResult(
            check=f"{label}: may {purpose.split(' (')[0]}",
            status="pass" if ok else "fail",
            detail=f"user {user!r} {'has' if ok else 'lacks'} capability {capability!r}",
            hint=""
            if ok
            else f"Ask your Splunk admin to give {user!r} a role with the "
            f"{capability!r} capability, needed to {purpose}.",
        )
