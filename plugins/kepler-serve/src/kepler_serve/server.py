"""Running the model server: ``kepler serve``, ``python -m kepler_serve``, the container's
entrypoint and local deployments all end in :func:`run`.

uvicorn serves the app (uvloop and httptools where installed) in one process, or with
``serve.workers`` (``kepler serve --workers N``) in N worker processes sharing the socket. On
SIGTERM or Ctrl-C it stops accepting connections, lets requests in flight finish
(``serve.graceful_seconds``) and then the app's shutdown sends the predictions still queued for
the log's sink.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def load_model(ref: Any) -> Any:
    """A model from the registry (``NAME[:VERSION|ALIAS]``), an artifact folder, or as given."""
    from kepler.api import Model

    if isinstance(ref, Model):
        return ref
    from kepler.api import load_model as load

    return load(Path(ref) if isinstance(ref, Path) else str(ref))


def settings_from_config(**overrides: Any) -> Any:
    """The ``serve`` section in force, with ``overrides`` (None values ignored) on top."""
    from kepler.api import load_config as load

    settings = load().section("serve")
    changes = {k: v for k, v in overrides.items() if v is not None}
    if not changes:
        return settings
    from .config import ServeSettings

    return ServeSettings.model_validate({**settings.model_dump(), **changes})


def resolve_port(port: int | None, settings: Any) -> int:
    """``port`` if given, else ``$PORT`` (Cloud Run and most platforms set it), else
    ``serve.port``."""
    if port is not None:
        return port
    from_env = os.environ.get("PORT", "").strip()
    if from_env:
        if not from_env.isdigit() or not 1 <= int(from_env) <= 65535:
            from kepler.api import ConfigError

            raise ConfigError(f"$PORT is {from_env!r}, not a port number.",
                              hint="Set PORT to a number between 1 and 65535, or unset it.")
        return int(from_env)
    return int(settings.port)


def _access_logging(enabled: bool) -> None:
    logger = logging.getLogger("kepler_serve.access")
    logger.propagate = False
    logger.setLevel(logging.INFO if enabled else logging.WARNING)
    if enabled and not logger.handlers:
        from .accesslog import AccessLogHandler

        handler = AccessLogHandler(sys.stderr)  # batched writes: one system call per batch
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)


def build_app(model: Any, settings: Any) -> Any:
    """The app for ``model`` with the prediction log ``settings`` ask for."""
    from .app import create_app
    from .predlog import from_settings

    return create_app(model, settings, prediction_log=from_settings(settings, model))


def run(model: Any, *, host: str | None = None, port: int | None = None, settings: Any = None,
        log_level: str = "info", announce: Any = None) -> None:
    """Serve ``model`` in the foreground until SIGTERM or Ctrl-C, in ``serve.workers``
    processes."""
    settings = settings if settings is not None else settings_from_config()
    model = load_model(model)
    host = host or settings.host
    port = resolve_port(port, settings)
    _access_logging(settings.access_log)
    workers = int(getattr(settings, "workers", 1) or 1)
    if workers > 1:
        _run_workers(model, settings, host=host, port=port, log_level=log_level,
                     announce=announce)
        return
    app = build_app(model, settings)
    _announce(model, app.app.state.kepler.scorer, settings, host, port, announce)
    _Server(_uvicorn_config(app, settings, host=host, port=port, log_level=log_level)).run()


def _announce(model: Any, scorer: Any, settings: Any, host: str, port: int,
              announce: Any) -> None:
    version = f" version {model.version}" if model.version is not None else ""
    workers = int(getattr(settings, "workers", 1) or 1)
    message = (f"Serving {model.name}{version} ({model.algorithm}, {model.task}) at "
               f"http://{host}:{port}: POST /predict, /v2/models/{model.name}/infer"
               + (", docs at /docs" if settings.docs else "")
               + f"; scoring path: {scorer.path} ({scorer.fast_note})"
               + (f"; {workers} worker processes" if workers > 1 else "")
               + ("; predictions logged through a sink" if settings.prediction_sink() else ""))
    (announce or (lambda text: print(text, file=sys.stderr, flush=True)))(message)


def _uvicorn_config(app: Any, settings: Any, *, host: str, port: int, log_level: str,
                    **more: Any) -> Any:
    import uvicorn

    return uvicorn.Config(
        app, host=host, port=port, log_level=log_level, access_log=False,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        timeout_graceful_shutdown=int(max(1, settings.graceful_seconds)),
        server_header=False, proxy_headers=True, forwarded_allow_ips="127.0.0.1", **more,
    )


#: Environment variables through which the supervisor hands each worker its model and settings.
WORKER_MODEL = "KEPLER_SERVE_WORKER_MODEL"
WORKER_SETTINGS = "KEPLER_SERVE_WORKER_SETTINGS"


def _run_workers(model: Any, settings: Any, *, host: str, port: int, log_level: str,
                 announce: Any) -> None:
    """uvicorn's supervisor and ``serve.workers`` processes sharing one listening socket. Each
    worker loads the model and builds its own app and prediction log: every prediction is logged
    once, by the worker that scored it. The counters live in a file of slots every worker maps
    (:mod:`kepler_serve.counters`, in a temporary folder removed at exit), so ``/metadata`` from
    any worker reports the totals, ``per_worker`` by pid, and names the ``worker`` that
    answered."""
    import orjson
    from kepler.api import ConfigError
    from uvicorn.supervisors import Multiprocess

    from .engine import Scorer

    path = getattr(model, "path", None)
    if path is None:
        raise ConfigError("serve.workers > 1 needs a saved model: each worker loads it.",
                          hint="Save the model (model.save(...)) or serve with one worker.")
    dumped = settings.model_dump(mode="json")
    if settings.api_key is not None:
        dumped["api_key"] = settings.api_key.get_secret_value()
    os.environ[WORKER_MODEL] = str(path)
    os.environ[WORKER_SETTINGS] = orjson.dumps(dumped).decode()
    _announce(model, Scorer(model, fast=settings.fast_path, compiler=settings.compiler),
              settings, host, port, announce)
    config = _uvicorn_config("kepler_serve.server:worker_app", settings, host=host, port=port,
                             log_level=log_level, factory=True, workers=settings.workers)
    sock = config.bind_socket()
    # uvicorn before 0.51 takes the worker's target; later ones build each worker's server
    import inspect

    with _shared_counters(settings.workers):
        if "target" in inspect.signature(Multiprocess).parameters:
            Multiprocess(config, target=_Server(config).run, sockets=[sock]).run()
        else:
            Multiprocess(config, sockets=[sock]).run()


@contextlib.contextmanager
def _shared_counters(workers: int) -> Iterator[Path]:
    """The workers' counters file, named to them by ``$KEPLER_SERVE_COUNTERS``: eight slots a
    worker (each claims two, a restarted one two more) and eight spare; removed at exit."""
    import tempfile

    from .counters import COUNTERS_ENV, create_board

    with tempfile.TemporaryDirectory(prefix="kepler-serve-counters-") as folder:
        path = create_board(Path(folder) / "counters", slots=8 * workers + 8)
        previous = os.environ.get(COUNTERS_ENV)
        os.environ[COUNTERS_ENV] = str(path)
        try:
            yield path
        finally:
            if previous is None:
                os.environ.pop(COUNTERS_ENV, None)
            else:
                os.environ[COUNTERS_ENV] = previous


def worker_app() -> Any:
    """The app of one worker process (uvicorn's factory): the model and settings the supervisor
    put in the environment."""
    from .config import ServeSettings

    settings = ServeSettings.model_validate_json(os.environ[WORKER_SETTINGS])
    _access_logging(settings.access_log)
    return build_app(load_model(Path(os.environ[WORKER_MODEL])), settings)


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):  # type: ignore[misc]
        """uvicorn's server, but a stop by SIGTERM or Ctrl-C is a clean exit (code 0): uvicorn
        re-raises the signal after its graceful shutdown, which platforms log as a crash."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    return Server


def _Server(config: Any) -> Any:
    return _server_class()(config)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kepler_serve MODEL [--host H] [--port P]``: what local deployments and
    containers run. Errors print as ``Error:``/``Hint:`` and exit with Kepler's codes."""
    parser = argparse.ArgumentParser(prog="python -m kepler_serve",
                                     description="Serve a Kepler model as a REST API.")
    parser.add_argument("model", nargs="?", default=os.environ.get("KEPLER_MODEL"),
                        help="NAME[:VERSION|ALIAS] or an artifact folder ($KEPLER_MODEL).")
    parser.add_argument("--host", default=None, help="Interface (default: serve.host).")
    parser.add_argument("--port", type=int, default=None,
                        help="Port (default: $PORT, else serve.port).")
    parser.add_argument("--workers", type=int, default=None,
                        help="Worker processes (default: serve.workers, 1).")
    parser.add_argument("--log-level", default=os.environ.get("KEPLER_SERVE_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)
    if not args.model:
        parser.error("give the model (NAME[:VERSION] or a folder) or set KEPLER_MODEL")
    from kepler.api import KeplerError

    try:
        settings = settings_from_config(workers=args.workers)
        run(args.model, host=args.host, port=args.port, settings=settings,
            log_level=args.log_level)
    except KeplerError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"Hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return 0
