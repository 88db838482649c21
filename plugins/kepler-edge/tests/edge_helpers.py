"""Helpers of the kepler-edge tests (a module of its own name, so it never clashes with
another distribution's ``conftest``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from kepler_tabular import make_sensor_data

SENSORS = make_sensor_data(rows=400, seed=0)


def train(algorithm: str, target: str = "failure", data: Any = None, **params: Any) -> Any:
    import kepler as kp

    return getattr(kp.train, algorithm)(SENSORS.copy() if data is None else data,
                                        target=target, **params)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(method: str, url: str, body: Any = None, timeout: float = 10.0
         ) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode()


def wait_ready(url: str, process: subprocess.Popen[bytes] | None = None,
               timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"runner exited with {process.returncode}")
        try:
            if http("GET", f"{url}/ready", timeout=1)[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never became ready")


class InProcess:
    """The runner's server in a thread of this process (fast; the subprocess tests cover the
    real process)."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None) -> None:
        from kepler_edge import runner

        self.runner = runner.Runner(folder, runner.verify_bundle(folder), env or {})
        handler = type("H", (runner.Handler,), {"runner": self.runner})
        self.server = runner.Server(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> InProcess:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.runner.forwarder is not None:
            self.runner.forwarder.stopping.set()
            self.runner.forwarder.join(5)


def start_runner(folder: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``python runner.py`` as the device runs it, in its own process."""
    return subprocess.Popen([sys.executable, str(folder / "runner.py"), "--port", str(port),
                             "--host", "127.0.0.1"], env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
