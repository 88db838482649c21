"""``kepler secrets rotate splunk-hec``: a new HEC token with no moment where writes fail.

Order matters: create the new token (same indexes, sourcetype and acknowledgement setting as the
old one) → store it in the secrets store under the name ``splunk.hec_token`` references → prove
it works (HEC health, then one test event) → only then disable the old token. Writers load the
token from the store, so from the moment it is stored they use the new one, while the old one
still works for anything already running. The old token is kept, disabled and marked, until
``--purge`` deletes the tokens Kepler rotated out.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kepler.api import ConfigError, KeplerError

from .errors import SplunkError, translated

HEC_APP = "splunk_httpinput"
ROTATED_MARK = "rotated out by kepler"
_SECRET_REF = re.compile(r"^\$\{secret:(?P<name>[^}]+)\}$")


@dataclass
class Rotation:
    old_name: str
    new_name: str
    secret: str
    purged: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"HEC token {self.new_name!r} created, verified and stored as secret "
                f"{self.secret!r}; {self.old_name!r} disabled")
        if self.purged:
            text += f"; purged {', '.join(self.purged)}"
        return text + "."


def _secret_name(config: Any, connection: str | None) -> str:
    """The secrets-store entry ``hec_token`` references; rotation refuses anything else, since a
    token written elsewhere (a literal, an env var) would keep the old value after rotation."""
    section = config.layered.values.get("splunk", {})
    raw = section.get("hec_token")
    path = "splunk.hec_token"
    if connection:
        named = (section.get("connections") or {}).get(connection) or {}
        if "hec_token" in named:
            raw, path = named["hec_token"], f"splunk.connections.{connection}.hec_token"
    match = _SECRET_REF.match(str(raw or "").strip())
    if match is None:
        raise ConfigError(
            f"{path} is {'not set' if raw is None else 'not a ${secret:NAME} reference'} "
            f"({config.source_of(tuple(path.split('.')))}), so a rotated token could not "
            "replace it.",
            hint="Store the current token first: kepler secrets set splunk-hec-token, then "
            "write hec_token: ${secret:splunk-hec-token} under splunk: in kepler.yml.",
        )
    return match["name"].strip()


def _entries(service: Any, conn: Any) -> list[dict[str, Any]]:
    with translated(conn, "listing HEC tokens"):
        body = service.get("data/inputs/http", owner="nobody", app=HEC_APP,
                           output_mode="json", count=0).body.read()
    return list(json.loads(body).get("entry", []))


def _bare(name: str) -> str:
    return name.removeprefix("http://")


def _prove(conn: Any, token: str, index: str | None) -> None:
    """HEC is healthy and takes one event with the new token (retried briefly: a new token can
    take a moment to reach every HEC instance)."""
    import httpx

    from .hec_writer import _ssl_verify

    base = conn.hec_base_url()
    with httpx.Client(base_url=base, verify=_ssl_verify(conn), timeout=conn.hec_timeout) as http:
        health = http.get("/services/collector/health")
        if health.status_code != 200:
            raise SplunkError(f"HEC at {base} is not healthy: {health.text[:200]}",
                              hint="Fix HEC first; the old token was left enabled.")
        event: dict[str, Any] = {"event": {"kepler": "hec token rotation check",
                                           "time": datetime.now(UTC).isoformat()},
                                 "sourcetype": "kepler:rotation"}
        if index:
            event["index"] = index
        reply: dict[str, Any] = {}
        for _ in range(10):
            answer = http.post("/services/collector/event", json=event,
                               headers={"Authorization": f"Splunk {token}"})
            reply = answer.json() if answer.content else {}
            if answer.status_code == 200 and reply.get("code") == 0:
                return
            time.sleep(0.5)
        raise SplunkError(f"The new HEC token was refused: {reply.get('text')} "
                          f"(code {reply.get('code')}).",
                          hint="The old token was left enabled; check the new token in Splunk.")


def rotate_hec_token(connection: str | None = None, *, purge: bool = False) -> Rotation:
    from kepler.api import load_config as load
    from kepler.api import secret_store as get_store

    from .connection import open_service

    config = load()
    secret = _secret_name(config, connection)
    conn = config.section("splunk").connection(connection)
    if conn.hec_token is None:
        raise ConfigError("splunk.hec_token resolves to nothing.",
                          hint=f"kepler secrets set {secret}")
    current = conn.hec_token.get_secret_value()
    service = open_service(conn)
    entries = _entries(service, conn)
    old = next((e for e in entries if e.get("content", {}).get("token") == current), None)
    if old is None:
        raise KeplerError(
            "Splunk has no HEC token with the value Kepler uses now.",
            hint="Check splunk.hec_token and that your Splunk user may list HEC tokens "
            "(capability edit_token_http).")
    content = old.get("content", {})
    old_name = _bare(old["name"])
    new_name = f"kepler-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
    params = {"name": new_name, "description": f"created by kepler, replaces {old_name}",
              "output_mode": "json"}
    for key in ("index", "indexes", "sourcetype", "useACK", "source"):
        if content.get(key) not in (None, "", []):
            params[key] = content[key]
    with translated(conn, f"creating HEC token {new_name}"):
        body = service.post("data/inputs/http", owner="nobody", app=HEC_APP,
                            **params).body.read()
    new_token = json.loads(body)["entry"][0]["content"]["token"]
    get_store().set(secret, new_token)
    _prove(conn, new_token, content.get("index") or None)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with translated(conn, f"disabling HEC token {old_name}"):
        service.post(f"data/inputs/http/{old_name}", owner="nobody", app=HEC_APP,
                     description=f"{ROTATED_MARK} on {stamp}, replaced by {new_name}")
        service.post(f"data/inputs/http/{old_name}/disable", owner="nobody", app=HEC_APP)
    result = Rotation(old_name, new_name, secret)
    if purge:
        result.purged = purge_rotated(service, conn)
    return result


def purge_rotated(service: Any, conn: Any) -> list[str]:
    """Delete the disabled tokens Kepler rotated out."""
    purged = []
    for entry in _entries(service, conn):
        content = entry.get("content", {})
        disabled = str(content.get("disabled")).lower() in {"1", "true"}
        if disabled and ROTATED_MARK in str(content.get("description", "")):
            name = _bare(entry["name"])
            with translated(conn, f"deleting HEC token {name}"):
                service.delete(f"data/inputs/http/{name}", owner="nobody", app=HEC_APP)
            purged.append(name)
    return purged
