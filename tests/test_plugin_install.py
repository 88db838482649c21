"""Real distributions, pip-installed into this environment and removed again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
KEPLER = str(BIN / "kepler")

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "{dist}"
version = "0.3.0"
dependencies = []

[project.entry-points.kepler]
{name} = "{package}.plugin"

[tool.hatch.build.targets.wheel]
packages = ["{package}"]
"""

GOOD = """
import click
from kepler.hookspecs import hookimpl
from kepler.records import CommandSpec

KEPLER_PLUGIN_API = ">=1.0,<2"

@hookimpl
def kepler_commands():
    yield CommandSpec(name="greet", target="{package}.plugin:greet", help="Greet the plant.")

@click.command()
def greet():
    click.echo("hello from {dist}")
"""


def build(tmp_path: Path, dist: str, name: str, plugin_source: str) -> Path:
    package = dist.replace("-", "_")
    root = tmp_path / dist
    (root / package).mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT.format(dist=dist, name=name, package=package))
    (root / package / "__init__.py").write_text("")
    (root / package / "plugin.py").write_text(
        textwrap.dedent(plugin_source).replace("{package}", package).replace("{dist}", dist))
    return root


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
                   check=True, capture_output=True, text=True)


def kepler(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KEPLER, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def plugin_row(name: str) -> dict:
    data = json.loads(kepler("plugins", "list", "--json").stdout)
    [row] = [p for p in data["plugins"] if p["name"] == name]
    return row


@pytest.fixture
def installed(tmp_path):
    names: list[str] = []

    def install(root: Path, dist: str) -> None:
        pip("install", "--no-build-isolation", "--no-deps", "--no-index", str(root))
        names.append(dist)

    yield install
    for dist in names:
        pip("uninstall", "-y", dist)


def test_a_pip_installed_plugin_is_listed_disabled_enabled_and_uninstalled(tmp_path, installed):
    root = build(tmp_path, "kepler-greeter", "greeter", GOOD)
    installed(root, "kepler-greeter")
    row = plugin_row("greeter")
    assert (row["distribution"], row["version"], row["status"]) == (
        "kepler-greeter", "0.3.0", "enabled")
    assert row["hooks"] == ["kepler_commands"]
    assert "Greet the plant." in kepler("--help").stdout
    assert kepler("greet").stdout == "hello from kepler-greeter\n"

    assert kepler("plugins", "disable", "greeter").returncode == 0
    assert plugin_row("greeter")["status"] == "disabled"
    assert kepler("greet").returncode == 2  # the command is gone with it
    assert kepler("plugins", "enable", "greeter").returncode == 0
    assert plugin_row("greeter")["status"] == "enabled"

    pip("uninstall", "-y", "kepler-greeter")
    data = json.loads(kepler("plugins", "list", "--json").stdout)
    assert "greeter" not in [p["name"] for p in data["plugins"]]


def test_a_plugin_whose_import_raises_breaks_no_command(tmp_path, installed):
    root = build(tmp_path, "kepler-broken", "broken",
                 "raise RuntimeError('vendor SDK missing: install acme-sdk')\n")
    installed(root, "kepler-broken")
    row = plugin_row("broken")
    assert row["status"] == "failed"
    assert "vendor SDK missing: install acme-sdk" in row["error"]
    listing = kepler("plugins", "list")
    assert listing.returncode == 0 and "failed: Plugin 'broken'" in listing.stdout
    for command in (["--help"], ["plugins", "info", "broken"], ["config", "show"],
                    ["secrets", "list"], ["init", "plant", "--dir", str(tmp_path)],
                    ["config", "validate"]):
        result = kepler(*command)
        assert result.returncode == 0, (command, result.stderr)
    strict = kepler("plugins", "list", env={"KEPLER_STRICT_PLUGINS": "1"})
    assert strict.returncode == 4 and "vendor SDK missing" in strict.stderr
    assert kepler("plugins", "disable", "broken").returncode == 0
    assert plugin_row("broken")["status"] == "disabled"
