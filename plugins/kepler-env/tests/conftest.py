"""Fixtures for kepler-env's tests: a wheelhouse and a git repository made once per session,
projects built from them, and pip/uv kept away from the machine's own configuration so that
everything resolves offline from the folders the tests make."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from env_testkit import GitRepo, make_git_repo, write_wheel

#: Variables of the machine's pip/uv/poetry set-up that would add indexes or links to the tests.
FOREIGN = ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX",
           "PIP_CONSTRAINT", "PIP_REQUIRE_VIRTUALENV", "UV_INDEX", "UV_DEFAULT_INDEX",
           "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "UV_NO_INDEX",
           "VIRTUAL_ENV", "PYTHONHOME")


@pytest.fixture(scope="session", autouse=True)
def _quiet_pip() -> Iterator[None]:
    """pip reads no config file; uv no uv.toml; neither sees the machine's extra indexes."""
    saved = {name: os.environ.get(name) for name in (*FOREIGN, "PIP_CONFIG_FILE", "UV_NO_CONFIG")}
    for name in FOREIGN:
        os.environ.pop(name, None)
    os.environ["PIP_CONFIG_FILE"] = os.devnull
    os.environ["UV_NO_CONFIG"] = "1"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheels every project finds with ``--find-links ./wheels``."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    write_wheel(folder, "alpha", "1.2", ["beta<2"], license_text="MIT")
    write_wheel(folder, "beta", "1.5", license_text="BSD-3-Clause")
    write_wheel(folder, "beta", "2.1", license_text="BSD-3-Clause")
    write_wheel(folder, "gamma", "2.0", ["beta>=1"], license_text="Apache-2.0")
    write_wheel(folder, "gamma", "3.0", ["beta>=2"], license_text="Apache-2.0")
    write_wheel(folder, "pre", "0.9")
    write_wheel(folder, "pre", "1.0rc1")
    write_wheel(folder, "delta", "1.0")
    write_wheel(folder, "delta", "2.0")
    write_wheel(folder, "devtool", "1.0", license_text="MIT")
    write_wheel(folder, "lonely", "1.0")
    return folder


@pytest.fixture(scope="session")
def git_repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return make_git_repo(tmp_path_factory.mktemp("repos") / "gitlib")
