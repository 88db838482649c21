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
        yield from _check_hec(section, name)


#: HEC's answer to an event post with an empty body, by code: 5 ("No data") proves the token
#: is valid without indexing anything; the others name what is wrong with it.
_TOKEN_CODES = {
    1: "the token is disabled",
    2: "no token was sent",
    3: "the Authorization header is malformed",
    4: "the token is not valid on this HEC",
}


def _check_hec(section: Any, name: str | None) -> Iterator[CheckResult]:
    """When HEC is configured: it is healthy, and the token is accepted (an empty post, so
    nothing is indexed). A wrong token used to pass validation and fail at the first write."""
    conn = section.connection(name)
    label = f"splunk[{name}]" if name else "splunk"
    if conn.hec_token is None:
        return
    import httpx

    from .hec_writer import _ssl_verify

    base = conn.hec_base_url()
    try:
        with httpx.Client(base_url=base, verify=_ssl_verify(conn),
                          timeout=conn.hec_timeout) as http:
            health = http.get("/services/collector/health")
            answer = http.post("/services/collector/event", content=b"",
                               headers={"Authorization": f"Splunk "
                                        f"{conn.hec_token.get_secret_value()}"})
    except httpx.HTTPError as exc:
        yield CheckResult(check=f"{label}: HEC answers", status="fail",
                          detail=f"{base}: {type(exc).__name__}: {exc}",
                          hint="Check splunk.hec_url (scheme, host, port 8088) and that HEC is "
                          "enabled in Settings > Data inputs > HTTP Event Collector.")
        return
    healthy = health.status_code == 200
    yield CheckResult(check=f"{label}: HEC answers and is healthy",
                      status="pass" if healthy else "fail",
                      detail=f"{base}: {health.status_code} {health.text[:120].strip()}",
                      hint="" if healthy else "HEC is up but unhealthy (queues full or "
                      "disabled): ask your Splunk admin.")
    yield _token_result(label, answer)


def _token_result(label: str, answer: Any) -> CheckResult:
    try:
        code = int(answer.json().get("code", -1))
    except (ValueError, AttributeError):
        code = -1
    if code == 5:
        return CheckResult(check=f"{label}: HEC token accepted", status="pass",
                           detail="an empty post was refused only for having no data")
    reason = _TOKEN_CODES.get(code, f"HEC answered {answer.status_code}: {answer.text[:120]}")
    return CheckResult(check=f"{label}: HEC token accepted", status="fail", detail=reason,
                       hint="Set splunk.hec_token to a valid, enabled token (a reference such "
                       "as ${secret:splunk-hec}); 'kepler secrets rotate splunk-hec' makes one.")


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
