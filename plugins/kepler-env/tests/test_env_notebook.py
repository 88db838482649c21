"""Kernels ``kepler env kernel`` registers load Kepler's IPython extension; environments show
as cards in notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kepler_env.api import EnvInfo
from kepler_env.kernel import EXTENSION_ARG, load_kepler_extension


def _spec(folder: Path) -> Path:
    folder.mkdir()
    spec = folder / "kernel.json"
    spec.write_text(json.dumps({"argv": ["/env/bin/python", "-m", "ipykernel_launcher", "-f",
                                         "{connection_file}"], "language": "python"}))
    return spec


def test_the_kernel_spec_loads_the_extension_once(tmp_path):
    spec = _spec(tmp_path / "pumps")
    load_kepler_extension(spec.parent)
    load_kepler_extension(spec.parent)  # registering again adds nothing
    argv = json.loads(spec.read_text())["argv"]
    assert argv[:5] == ["/env/bin/python", "-m", "ipykernel_launcher", "-f",
                        "{connection_file}"]
    assert argv.count(EXTENSION_ARG) == 1


def test_ipykernel_reads_the_argument_as_an_extension_to_load():
    kernelapp = pytest.importorskip("ipykernel.kernelapp")
    app = kernelapp.IPKernelApp()
    app.parse_command_line([EXTENSION_ARG])
    assert "kepler" in app.extra_extensions


def test_an_environment_displays_as_a_card(tmp_path):
    info = EnvInfo(env="dev", manager="venv", location=tmp_path / ".venv", exists=True,
                   python="3.11.9", packages=42, lock=tmp_path / "requirements.lock",
                   lock_status="in sync", kernel="pumps")
    shown = info._repr_html_()
    assert "Environment dev (venv)" in shown and "3.11.9" in shown
    assert "requirements.lock (in sync)" in shown and "pumps" in shown
    missing = EnvInfo(env="prod", manager="uv", location=tmp_path / "p", exists=False)
    assert "(not created)" in missing._repr_html_()
