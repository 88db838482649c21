"""Helpers shared by kepler-serve's tests (a module name no other distribution's tests use)."""

from __future__ import annotations

import socket
import warnings
from pathlib import Path


def instance(**changes):
    """A valid record for the sensor models."""
    row = {"_time": "2026-01-05T10:00:00Z", "pump": "pump-02", "temperature": 63.5,
           "pressure": 4.7, "vibration": 0.41, "flow": 95.5, "rpm": 1452.0, "mode": "auto",
           "efficiency": 88.1}
    row.update(changes)
    return {k: v for k, v in row.items() if v is not ...}


def asgi_client(app):
    """starlette's TestClient for an app (its import warns that it prefers httpx2)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    return TestClient(app)


def client_for(model, **settings):
    from kepler_serve.app import create_app
    from kepler_serve.config import ServeSettings

    return asgi_client(create_app(model, ServeSettings(**settings)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rows_of(frame) -> list[dict]:
    """DataFrame rows as JSON-ready records (missing values as None, times as ISO strings)."""
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
            for r in records]


HERE = Path(__file__).parent
