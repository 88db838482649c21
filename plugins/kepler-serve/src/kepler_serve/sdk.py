"""``kp.deploy.to_local`` and ``kp.deploy.serve``: kepler-serve's own SDK functions
(``kp.deploy.batch_score`` is :func:`kepler_serve.batch.batch_score`; ``kp.deploy.list``,
``status``, ``logs``, ``predict``, ``delete`` and ``build`` are core's, for every target)."""

from __future__ import annotations

from typing import Any


def to_local(model: Any, *, name: str | None = None, port: int | None = None,
             replace: bool = False, **options: Any) -> Any:
    """Serve ``model`` (a Model, ``NAME[:VERSION|ALIAS]`` or a folder) on this machine in the
    background and return the :class:`~kepler.records.Deployment` once it answers.

    An unsaved model is saved to the registry first. ``options``: ``host``, ``api_key``,
    ``api_key_env``, ``timeout`` and any ``serve`` setting (``log_sink="jsonl"``,
    ``log_sink_options={"path": "preds.jsonl"}``, ``log_to_splunk=True``...).

    Example::

        dep = kp.deploy.to_local(board.best)
        dep.url                       # http://127.0.0.1:PORT  (POST /predict, /docs)
        kp.deploy.predict(dep.name, df.head(5))
        kp.deploy.delete(dep.name)
    """
    from kepler.api import create_deployment

    if port is not None:
        options["port"] = port
    return create_deployment(model, target="local", name=name, replace=replace, **options)


def serve(model: Any, *, host: str | None = None, port: int | None = None,
          **settings: Any) -> None:
    """Serve ``model`` in this process until interrupted (what ``kepler serve`` does).
    ``settings`` override the ``serve`` section (``api_key=...``, ``log_to_splunk=True``...)."""
    from .server import run, settings_from_config

    run(model, host=host, port=port, settings=settings_from_config(**settings))
