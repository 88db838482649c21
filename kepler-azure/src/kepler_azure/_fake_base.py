"""Shared pieces of the fake ARM server (:mod:`kepler_azure.testing`)."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    code: str
    message: str
    times: int
    retry_after: int | None


@dataclass
class _Op:
    """A long-running operation: ``polls`` answers of InProgress, then ``finish`` runs."""

    polls: int | None = 1  # None: never done
    finish: Callable[[], None] | None = None
    error: dict[str, str] | None = None
    done: bool = False

    def poll(self) -> str:
        if self.done:
            return "Failed" if self.error else "Succeeded"
        if self.polls is None or self.polls > 0:
            if self.polls is not None:
                self.polls -= 1
            return "InProgress"
        self.done = True
        if self.finish is not None:
            self.finish()
        return "Failed" if self.error else "Succeeded"


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat().replace("+00:00", "Z")




def error(code: str, message: str) -> dict[str, Any]:
    """ARM's error body."""
    return {"error": {"code": code, "message": message}}


def public(resource: dict[str, Any]) -> dict[str, Any]:
    """A stored resource without the fake's private keys (``_...``)."""
    return {k: v for k, v in resource.items() if not k.startswith("_")}
