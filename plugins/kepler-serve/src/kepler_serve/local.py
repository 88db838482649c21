"""The ``local`` deployment target: the model server as a background process on this machine.

``kepler deploy MODEL --target local`` (or ``kp.deploy.to_local(model)``) starts
``python -m kepler_serve <artifact folder>`` detached from the terminal, waits until ``/ready``
answers, and records the deployment in the project's state folder::

    .kepler/deployments/local/<name>.json   pid, port, URL, model, version, artifact folder
    .kepler/deployments/local/<name>.log    the server's output: startup, access log, errors

The server runs in the project folder with the project's configuration (``serve:``,
``splunk:``), so prediction logging and API keys work as configured. Options (``-o KEY=VALUE``):
``port`` (default: a free one), ``host`` (default 127.0.0.1), ``timeout`` (seconds to wait for
readiness, default 120), ``api_key``, ``api_key_env`` (name of a variable holding it),
``workers`` (worker processes, ``--workers N`` of the server; default ``serve.workers``), and any
field of the ``serve`` section (``log_to_splunk=true``, ``index=ml_predictions``...), passed to
the server as ``KEPLER_SERVE__<FIELD>``.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as _dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kepler.api import Deployment, DeploymentError, DeploymentNotFoundError

TARGET = "local"
READY_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0
#: Servers this process started, kept so they are reaped (and not reported as leaked) here.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks (Linux), to tell it from a later one with the
    same pid before signalling it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def alive(pid: int, ticks: str | None) -> bool:
    """Whether process ``pid`` runs and is the one recorded (same start time where known)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    if ticks is None or not Path("/proc").is_dir():
        return True
    now = _start_ticks(pid)
    if now is None:
        return False
    if now != ticks:
        return False
    with contextlib.suppress(OSError):  # a zombie is not serving
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        if state == "Z":
            return False
    return True


def _http(method: str, url: str, body: bytes | None = None, *, api_key: str | None = None,
          timeout: float = 30.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - http URLs only
    request.add_header("Content-Type", "application/json")
    if api_key:
        request.add_header("X-API-Key", api_key)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


class LocalDeployer:
    """The ``local`` target (:class:`kepler.protocols.Deployer`)."""

    def __init__(self, config: Any) -> None:
        self.config = config

    # --- where things are -------------------------------------------------------------------

    @property
    def folder(self) -> Path:
        from kepler.api import deployment_state_dir as state_dir

        return state_dir() / TARGET

    def _record_path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def _log_path(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def _read(self, name: str) -> dict[str, Any]:
        path = self._record_path(name)
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in self.folder.glob("*.json"))) or "none"
            raise DeploymentNotFoundError(
                f"No local deployment named {name!r}.",
                hint=f"Local deployments: {known}. Create one: kepler deploy MODEL --target local")
        try:
            record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DeploymentError(f"{path} is damaged: {exc}",
                                  hint="Delete it (the server, if any, keeps running: stop "
                                  "it by hand) and deploy again.") from exc
        return record

    def _write(self, record: Mapping[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._record_path(str(record["name"]))
        temporary = path.with_name(f".{path.name}.tmp")
        # The record may hold an API key given as an option: readable by its owner only.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(dict(record), indent=2) + "\n")
        os.replace(temporary, path)

    # --- Deployer ----------------------------------------------------------------------------

    def create(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        if self._record_path(name).is_file():
            record = self._read(name)
            if alive(int(record.get("pid", 0)), record.get("ticks")):
                raise DeploymentError(
                    f"Local deployment {name!r} exists and is running at {record.get('url')}.",
                    hint=f"kepler deploy update {name} MODEL, or kepler deploy delete {name}")
        record = self._start(name, Path(model), dict(config))
        return self._deployment(record, "running")

    def update(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        old = self._read(name)
        options = {**old.get("options", {}), **dict(config)}
        if "port" not in config:
            options["port"] = old.get("port")
        if old.get("api_key") and "api_key" not in config and "api_key_env" not in config:
            options["api_key"] = old["api_key"]
        self._stop(old)
        record = self._start(name, Path(model), options)
        return self._deployment(record, "running")

    def delete(self, name: str) -> None:
        record = self._read(name)
        self._stop(record)
        self._record_path(name).unlink(missing_ok=True)
        self._log_path(name).unlink(missing_ok=True)

    def list(self) -> builtins.list[Deployment]:
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                record = self._read(path.stem)
            except DeploymentError:
                continue
            running = alive(int(record.get("pid", 0)), record.get("ticks"))
            found.append(self._deployment(record, "running" if running else "stopped"))
        return found

    def get(self, name: str) -> Deployment:
        record = self._read(name)
        running = alive(int(record.get("pid", 0)), record.get("ticks"))
        return self._deployment(record, "running" if running else "stopped")

    def status(self, name: str) -> Deployment:
        record = self._read(name)
        if not alive(int(record.get("pid", 0)), record.get("ticks")):
            return self._deployment(record, "stopped", reason="the server process is not "
                                    "running; see kepler deploy logs " + name)
        try:
            code, body = _http("GET", f"{record['url']}/ready", timeout=5)
        except OSError as exc:
            return self._deployment(record, "unhealthy", reason=f"no answer: {exc}")
        if code != 200:
            return self._deployment(record, "unhealthy", reason=f"/ready answered {code}")
        extra: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError, KeyError):
            code, body = _http("GET", f"{record['url']}/metadata", timeout=5,
                               api_key=self._api_key(record))
            if code == 200:
                serving = json.loads(body)["serving"]
                extra = {"requests": serving["requests"], "rows": serving["rows"],
                         "scoring_path": serving["scoring_path"],
                         "prediction_log": serving["prediction_log"]}
        return self._deployment(record, "running", **extra)

    def predict(self, name: str, data: Any) -> Any:
        import orjson

        record = self._read(name)
        if not alive(int(record.get("pid", 0)), record.get("ticks")):
            raise DeploymentError(f"Local deployment {name!r} is not running.",
                                  hint=f"kepler deploy logs {name} shows why; "
                                  f"kepler deploy update {name} MODEL starts it again.")
        rows = list(data)
        try:
            code, body = _http("POST", f"{record['url']}/predict",
                               orjson.dumps({"instances": rows}),
                               api_key=self._api_key(record), timeout=300)
        except OSError as exc:
            raise DeploymentError(f"Local deployment {name!r} did not answer: {exc}",
                                  hint=f"kepler deploy status {name}") from exc
        try:
            answer = json.loads(body)
        except ValueError:
            answer = {"detail": body[:200].decode("utf-8", "replace")}
        if code != 200:
            detail = answer.get("detail") if isinstance(answer, dict) else answer
            if isinstance(detail, list):
                detail = "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}"
                                   for d in detail[:10])
            raise DeploymentError(f"Deployment {name!r} refused the input ({code}): {detail}",
                                  hint="GET /docs on the deployment shows the expected input.")
        return answer

    def logs(self, name: str, lines: int = 100) -> builtins.list[str]:
        self._read(name)
        path = self._log_path(name)
        if not path.is_file():
            return []
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 256 * max(lines, 1) - 4096))
            tail = handle.read().decode("utf-8", "replace").splitlines()
        return tail[-lines:]

    def build(self, model: str, out: Path, config: Mapping[str, Any]) -> Path:
        from .build import build_context

        return build_context(Path(model), out, dict(config))

    # --- processes ---------------------------------------------------------------------------

    def _api_key(self, record: Mapping[str, Any]) -> str | None:
        if record.get("api_key"):
            return str(record["api_key"])
        if record.get("api_key_env"):
            return os.environ.get(str(record["api_key_env"]))
        try:
            key = self.config.section("serve").api_key
        except Exception:
            return None
        return key.get_secret_value() if key is not None else None

    def _start(self, name: str, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
        from kepler.api import read_manifest

        from .config import ServeSettings

        manifest = read_manifest(folder)
        host = str(options.pop("host", None) or "127.0.0.1")
        port = options.pop("port", None)
        port = int(port) if port else free_port(host)
        timeout = float(options.pop("timeout", READY_TIMEOUT))
        if port_in_use(host, port):
            raise DeploymentError(f"Port {port} on {host} is in use.",
                                  hint="Pick another with --port, or leave it out for a free one.")
        from kepler.api import child_environment, use_selection

        project = getattr(self.config, "project_dir", None)
        # the command's environment and project (and the user's KEPLER_SERVE__* variables)
        # apply to the server; options win
        with use_selection(project=project):
            env = child_environment()
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("PORT", None)
        api_key = options.pop("api_key", None)
        api_key_env = options.pop("api_key_env", None)
        if api_key_env:
            api_key = os.environ.get(str(api_key_env))
            if not api_key:
                raise DeploymentError(f"api_key_env={api_key_env!r}, but that variable is not "
                                      "set.", hint=f"export {api_key_env}=... first.")
        if api_key:
            env["KEPLER_SERVE__API_KEY"] = str(api_key)
        workers = _workers(options.get("workers"))
        unknown = []
        for key, value in options.items():
            if key == "workers":
                continue  # the server's --workers
            if key in ServeSettings.model_fields and key not in ("host", "port", "api_key"):
                env[f"KEPLER_SERVE__{key.upper()}"] = json.dumps(value) if isinstance(
                    value, bool | list | dict) else str(value)
            else:
                unknown.append(key)
        if unknown:
            raise DeploymentError(
                f"Unknown option(s) for target local: {', '.join(sorted(unknown))}.",
                hint="Options: port, host, timeout, api_key, api_key_env and the serve "
                f"section's fields ({', '.join(sorted(ServeSettings.model_fields))}).")
        self.folder.mkdir(parents=True, exist_ok=True)
        log_path = self._log_path(name)
        command = [sys.executable, "-m", "kepler_serve", str(folder), "--host", host,
                   "--port", str(port)] + (["--workers", str(workers)] if workers else [])
        with log_path.open("ab") as log_file:
            log_file.write(f"--- {_now()} starting: {' '.join(command)}\n".encode())
            log_file.flush()
            process = subprocess.Popen(  # detached: it outlives this command
                command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                cwd=str(project or self.folder), env=env, start_new_session=True)
        _CHILDREN[process.pid] = process
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"  # noqa: S104
        record: dict[str, Any] = {
            "name": name, "target": TARGET, "model": manifest.name,
            "version": None if manifest.version is None else str(manifest.version),
            "path": str(folder), "pid": process.pid, "ticks": _start_ticks(process.pid),
            "host": host, "port": port, "url": url, "log": str(log_path), "created": _now(),
            "options": dict(options),
        }
        if api_key_env:
            record["api_key_env"] = str(api_key_env)
        elif api_key:
            record["api_key"] = str(api_key)
        self._write(record)
        self._wait_ready(record, process, timeout)
        return record

    def _wait_ready(self, record: dict[str, Any], process: subprocess.Popen[bytes],
                    timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = process.poll()
            if code is not None:
                _CHILDREN.pop(process.pid, None)
                self._record_path(record["name"]).unlink(missing_ok=True)
                tail = "\n".join(self.logs_of(record, 15))
                raise DeploymentError(
                    f"The server for {record['name']!r} exited ({code}) before it was ready:\n"
                    f"{tail}", hint=f"Full log: {record['log']}")
            try:
                status, _ = _http("GET", f"{record['url']}/ready", timeout=2)
            except OSError:
                status = 0
            if status == 200:
                return
            time.sleep(0.1)
        self._stop(record)
        self._record_path(record["name"]).unlink(missing_ok=True)
        raise DeploymentError(f"The server for {record['name']!r} was not ready within "
                              f"{timeout:.0f} s; it was stopped.",
                              hint=f"Its log: {record['log']}; -o timeout=SECONDS waits longer.")

    def logs_of(self, record: Mapping[str, Any], lines: int) -> builtins.list[str]:
        path = Path(str(record.get("log", "")))
        if not path.is_file():
            return []
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]

    def _stop(self, record: Mapping[str, Any]) -> None:
        """SIGTERM (the server finishes requests and sends queued predictions), then SIGKILL
        after ``STOP_TIMEOUT`` seconds."""
        pid, ticks = int(record.get("pid", 0)), record.get("ticks")
        if not alive(pid, ticks):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        child = _CHILDREN.pop(pid, None)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            if child is not None and child.poll() is not None:
                return
            if child is None and not alive(pid, ticks):
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        if child is not None:
            child.wait(5)

    def _deployment(self, record: Mapping[str, Any], status: str, **extra: Any) -> Deployment:
        details = {"pid": record.get("pid"), "port": record.get("port"),
                   "path": record.get("path"), "log": record.get("log"),
                   "created": record.get("created"), **extra}
        return Deployment(name=str(record["name"]), target=TARGET, model=str(record["model"]),
                          version=record.get("version"), url=record.get("url"), status=status,
                          details=details)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def _workers(value: Any) -> int | None:
    """The ``workers`` option as the server's ``--workers`` (None: ``serve.workers`` applies)."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise DeploymentError(f"workers={value!r} is not a number of worker processes.",
                              hint="Give a whole number from 1 to 64, e.g. -o workers=2.")
    return int(text)
