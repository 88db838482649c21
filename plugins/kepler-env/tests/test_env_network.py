"""The two paths that need PyPI (skipped when it cannot be reached): poetry end to end, and an
environment holding Kepler itself plus a Jupyter kernel that really starts.

PyPI is reached through its simple API (``env.indexes`` with ``default: true``): poetry's default
JSON API is not served by every mirror, and the simple API is what every index offers."""

from __future__ import annotations

import json
import subprocess
import textwrap

import kepler as kp
import pytest
from env_testkit import freeze, installed, needs_pypi
from kepler_env.errors import LockError

pytestmark = needs_pypi

PYPI = "  indexes:\n    mirror: {url: 'https://pypi.org/simple', default: true}\n"


def test_poetry_end_to_end(kepler_home, tmp_path):
    root = tmp_path / "po"
    root.mkdir()
    (root / "kepler.yml").write_text("project: {name: po}\nenv:\n  install_kepler: false\n"
                                     + PYPI)
    (root / "requirements.txt").write_text("six==1.16.0\n")
    (root / "requirements-dev.txt").write_text("iniconfig==2.0.0\n")
    info = kp.env.create(env="dev", manager="poetry", project=root)
    assert info.manager == "poetry"
    python = root / ".kepler/envs/dev/bin/python"
    versions = installed(python)
    assert (versions["six"], versions["iniconfig"]) == ("1.16.0", "2.0.0")
    pyproject = (root / "pyproject.toml").read_text()
    assert "[tool.poetry.group.dev]\noptional = true" in pyproject
    assert 'name = "mirror"\nurl = "https://pypi.org/simple/"\npriority = "primary"' in pyproject
    assert (root / "poetry.lock").exists()
    before = freeze(python)
    kp.env.remove(env="dev", project=root)
    kp.env.sync(env="dev", locked=True, project=root, manager="poetry")
    assert freeze(python) == before
    info = kp.env.info(env="dev", project=root)
    assert (info.lock.name, info.lock_status) == ("poetry.lock", "in sync")
    kp.env.create(env="prod", manager="poetry", project=root)
    prod = installed(root / ".kepler/envs/prod/bin/python")
    assert prod["six"] == "1.16.0" and "iniconfig" not in prod
    (root / "requirements.txt").write_text("six==1.16.0\npackaging\n")
    with pytest.raises(LockError, match="pyproject.toml is out of date"):
        kp.env.sync(env="prod", locked=True, project=root)
    assert kp.env.check(env="prod", project=root) == []


def test_kepler_and_the_project_plugins_go_into_the_environment_and_a_kernel_runs(
        kepler_home, kepler_cli, tmp_path, monkeypatch):
    # Keep kepler-env and, where installed, the light template plugin; disable the rest.
    light = {"env", "audit"}
    kept = [p.name for p in kp.plugins.list() if p.name in light and p.status == "enabled"]
    others = [p.name for p in kp.plugins.list() if not p.builtin and p.name not in light]
    root = tmp_path / "k"
    root.mkdir()
    # Heavy plugins of the monorepo (pandas, scikit-learn…) are disabled for this project.
    (root / "kepler.yml").write_text(textwrap.dedent(f"""\
        project: {{name: Pump Study}}
        plugins: {{disabled: {json.dumps(others)}}}
        env:
          manager: uv
        """) + PYPI)
    (root / "requirements.txt").write_text("six==1.16.0\n")
    created = kepler_cli("--project", str(root), "env", "create")
    assert created.code == 0, created.err
    env_bin = root / ".kepler/envs/dev/bin"
    listed = subprocess.run([str(env_bin / "kepler"), "plugins", "list", "--json"],
                            capture_output=True, text=True, check=True, cwd=root)
    rows = {p["name"]: p for p in json.loads(listed.stdout)["plugins"]}
    assert all(rows[name]["status"] == "enabled" for name in kept) and "env" in kept
    assert not set(others) & set(rows)
    # The kernel: ipykernel is installed on demand, the spec points at the environment.
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    registered = kepler_cli("--project", str(root), "env", "kernel")
    assert registered.code == 0, registered.err
    spec = json.loads((tmp_path / "jupyter/kernels/pump-study/kernel.json").read_text())
    assert spec["argv"][0] == str(env_bin / "python")
    assert spec["display_name"] == "Python (Pump Study)"
    start = textwrap.dedent("""\
        from jupyter_client.manager import start_new_kernel
        km, kc = start_new_kernel(kernel_name="pump-study", startup_timeout=60)
        try:
            reply = kc.execute_interactive("import sys, six; print(sys.prefix)", timeout=60)
            assert reply["content"]["status"] == "ok", reply
        finally:
            kc.stop_channels(); km.shutdown_kernel(now=True)
        """)
    ran = subprocess.run([str(env_bin / "python"), "-c", start], capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert str(root / ".kepler/envs/dev") in ran.stdout
    kp.env.remove(project=root)
    assert not (tmp_path / "jupyter/kernels/pump-study").exists()
