"""Pytest helpers for Kepler and its plugins (registered as the pytest plugin ``kepler``).

Fixtures:

``kepler_home``
    An isolated Kepler: user config folder, working directory and ``KEPLER_*`` variables of its
    own, secrets in a key file, and a fresh plugin host. Returns the user config folder.
``kepler_plugin``
    Registers in-process plugin objects for one test and unregisters them after
    (``kepler_plugin(MyPlugin(), name="mine")``).
``kepler_cli``
    Runs the ``kepler`` CLI in-process: ``result = kepler_cli("plugins", "list", stdin="...")``
    with ``result.code``, ``result.out``, ``result.err``.

Example::

    def test_my_connector(kepler_home, kepler_plugin, kepler_cli):
        kepler_plugin(my_plugin_module, name="mine")
        assert kepler_cli("plugins", "list").code == 0
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(*args: str, stdin: str | None = None) -> CliResult:
    """Run ``kepler ARGS`` in this process and capture what it prints."""
    from .cli.main import run

    out, err = io.StringIO(), io.StringIO()
    old_stdin, old_environ = sys.stdin, dict(os.environ)
    sys.stdin = io.StringIO(stdin or "")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(list(args))
    finally:
        sys.stdin = old_stdin
        os.environ.clear()  # --env/--project export variables; keep them out of the next run
        os.environ.update(old_environ)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def kepler_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from . import logs
    from .plugins import reset

    for name in list(os.environ):
        if name.startswith("KEPLER_"):
            monkeypatch.delenv(name)
    home = tmp_path / "kepler-home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("KEPLER_CONFIG_DIR", str(home))
    monkeypatch.setenv("KEPLER_CACHE_DIR", str(tmp_path / "kepler-cache"))
    monkeypatch.setenv("KEPLER_DATA_DIR", str(tmp_path / "kepler-data"))
    monkeypatch.setenv("KEPLER_SECRETS_BACKEND", "file")
    monkeypatch.chdir(work)
    monkeypatch.setattr(logs, "_explicit_level", False)
    reset()
    yield home
    reset()


@pytest.fixture
def kepler_plugin() -> Iterator[Callable[..., Any]]:
    from .plugins import get_host

    registered: list[str] = []

    def register(plugin: Any, name: str) -> Any:
        get_host().register(plugin, name=name)
        registered.append(name)
        return plugin

    try:
        yield register
    finally:
        host = get_host()
        for name in registered:
            if host.pm.has_plugin(name):
                host.unregister(name)


@pytest.fixture
def kepler_cli(kepler_home: Path) -> Callable[..., CliResult]:
    return run_cli
