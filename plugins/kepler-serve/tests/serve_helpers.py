"""Helpers shared by kepler-serve's tests (a module name no other distribution's tests use)."""

from __future__ import annotations

import socket
import warnings
from pathlib import Path
from typing import ClassVar


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


# --- an in-process connector and sink: a third party's, as far as kepler-serve knows ---------


class MemoryConnector:
    """Connector ``memory``: ``query(NAME)`` returns the table stored under NAME."""

    tables: ClassVar[dict] = {}
    calls: ClassVar[list] = []

    def __init__(self, config):
        self.config = config

    def query(self, query, **options):
        MemoryConnector.calls.append((query, options))
        return MemoryConnector.tables[query].copy()


class MemorySink:
    """Sink ``memory``: keeps each frame it is given with the write's options; raises while
    ``failures`` is above zero (a destination that is down)."""

    written: ClassVar[list] = []
    failures = 0

    def __init__(self, config):
        self.config = config

    def write(self, data, **options):
        if MemorySink.failures > 0:
            MemorySink.failures -= 1
            raise ConnectionError("memory sink is down")
        MemorySink.written.append((data.copy(), options))
        return {"rows": len(data)}


class MemoryPlugin:
    """Registers both, and records every PredictionEvent fired."""

    def __init__(self):
        self.events = []

    def kepler_connectors(self):
        from kepler.api import ConnectorSpec

        return [ConnectorSpec(name="memory", target="serve_helpers:MemoryConnector")]

    def kepler_sinks(self):
        from kepler.api import SinkSpec

        return [SinkSpec(name="memory", target="serve_helpers:MemorySink")]

    def kepler_after_predictions(self, event):
        self.events.append(event)


def memory_plugin(kepler_plugin):
    """A fresh :class:`MemoryPlugin`, registered through kepler.testing's fixture."""
    from kepler.api import hookimpl

    MemoryConnector.tables.clear()
    MemoryConnector.calls.clear()
    MemorySink.written.clear()
    MemorySink.failures = 0
    plugin = MemoryPlugin()
    for name in ("kepler_connectors", "kepler_sinks", "kepler_after_predictions"):
        hookimpl(getattr(plugin, name).__func__)
    return kepler_plugin(plugin, name="memory-test")


def fake_wheels(monkeypatch):
    """Kepler's editable distributions as placeholder wheels (building real ones is tested
    below, once)."""
    from kepler_serve import build

    def fake(source: Path, out: Path) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{source.name.replace('-', '_')}-0.1.0-py3-none-any.whl"
        path.write_bytes(b"placeholder")
        return path

    monkeypatch.setattr(build, "build_wheel", fake)
