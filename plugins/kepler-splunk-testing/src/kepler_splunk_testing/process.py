"""Run the test server in a child process and connect to it from the test or benchmark.

Kepler's benchmark measures the client's CPU time; a server in the same process would be counted
too (and would compete for the GIL). ``SplunkTestServerProcess`` starts
``python -m kepler_splunk_testing``, waits for its JSON "ready" line and stops it on exit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import kepler_splunk_testing

__all__ = ["SplunkTestServerProcess"]


class SplunkTestServerProcess:
    """``python -m kepler_splunk_testing`` as a context manager.

    Args:
        generate: index name -> rows of ``generate_sensor_data`` to serve.
        data: index name -> .parquet/.csv/.json(l) file to serve.
        https, version, dispatch_delay, max_result_rows: as for ``SplunkTestServer``.
        extra_args: further CLI arguments (see ``python -m kepler_splunk_testing --help``).
        startup_timeout: seconds to wait for the ready line (generating data takes time).
        max_seconds: the child stops by itself after this long, even if never stopped.
    """

    def __init__(
        self,
        *,
        generate: Mapping[str, int] | None = None,
        data: Mapping[str, str | Path] | None = None,
        https: bool = False,
        version: str | None = None,
        dispatch_delay: float | None = None,
        max_result_rows: int | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 120.0,
        max_seconds: float = 3600.0,
    ) -> None:
        command = [sys.executable, "-m", "kepler_splunk_testing", "--exit-with-parent"]
        command += ["--max-seconds", str(max_seconds)]
        for name, rows in (generate or {}).items():
            command += ["--generate", f"{name}={rows}"]
        for name, path in (data or {}).items():
            command += ["--data", f"{name}={path}"]
        if https:
            command.append("--https")
        if version is not None:
            command += ["--splunk-version", version]
        if dispatch_delay is not None:
            command += ["--delay", str(dispatch_delay)]
        if max_result_rows is not None:
            command += ["--max-result-rows", str(max_result_rows)]
        command += list(extra_args)
        self.command = command
        self.startup_timeout = startup_timeout
        self.info: dict[str, Any] = {}
        self._process: subprocess.Popen[str] | None = None
        self._stderr: Any = None

    def start(self) -> SplunkTestServerProcess:
        if self._process is not None:
            return self
        env = dict(os.environ)
        package_root = str(Path(kepler_splunk_testing.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join([package_root, *filter(None, [env.get("PYTHONPATH")])])
        # kept open for the child's lifetime and closed in stop(), so no context manager
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self._process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env
        )
        line = self._ready_line()
        try:
            self.info = json.loads(line)
        except json.JSONDecodeError:
            self.stop()
            raise RuntimeError(f"test server printed {line!r} instead of its JSON line") from None
        return self

    def _ready_line(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        lines: list[str] = []
        reader = threading.Thread(
            target=lambda: lines.append(self._process.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(self.startup_timeout)
        if not lines or not lines[0]:
            self._stderr.seek(0)
            errors = self._stderr.read()[-4000:]
            self.stop()
            raise RuntimeError(
                f"the test server did not start within {self.startup_timeout}s: {errors}"
            )
        return lines[0]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> SplunkTestServerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def host(self) -> str:
        return str(self.info["host"])

    @property
    def port(self) -> int:
        return int(self.info["port"])

    @property
    def scheme(self) -> str:
        return str(self.info["scheme"])

    @property
    def username(self) -> str:
        return str(self.info["username"])

    @property
    def password(self) -> str:
        return str(self.info["password"])

    @property
    def token(self) -> str | None:
        return self.info.get("token")

    @property
    def ca_file(self) -> str | None:
        """The CA certificate of an ``https=True`` child (removed when it stops)."""
        return self.info.get("ca_file")
