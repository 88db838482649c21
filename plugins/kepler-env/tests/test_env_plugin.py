"""kepler-env as a plugin: its records, the CLI group, kp.env, the config section, the checks it
adds to ``kepler config validate``, and that loading it keeps ``kepler --help`` light."""

from __future__ import annotations

import json
import subprocess
import sys

import kepler as kp
import pytest
from env_testkit import installed, make_project
from kepler.api import EnvManager, EnvManagerSpec, find_record
from kepler_env import api
from kepler_env.errors import EnvError
from kepler_env.managers.uv import UvManager
from kepler_env.plan import plan_for

MANAGERS = ("venv", "uv", "poetry", "conda", "docker")


def test_the_plugin_is_enabled_with_its_hooks():
    info = kp.plugins.info("env")
    assert (info.status, info.distribution) == ("enabled", "kepler-env")
    assert {"kepler_env_managers", "kepler_commands", "kepler_sdk_functions",
            "kepler_config_sections", "kepler_project_templates", "kepler_validate"} <= set(
        info.hooks)


@pytest.mark.parametrize("name", MANAGERS)
def test_every_manager_implements_the_core_protocol(name):
    record = find_record(EnvManagerSpec, name)
    assert record is not None and record.distribution == "kepler-env"
    assert isinstance(record.create(kp.config.load()), EnvManager)


def test_the_sdk_namespace_lists_the_env_functions():
    for name in ("create", "update", "lock", "sync", "check", "doc", "list", "remove", "run",
                 "kernel", "info"):
        assert name in dir(kp.env)
    assert kp.env.create is api.create and kp.env.list is api.list_envs


def test_the_cli_group_is_listed_and_lazy(kepler_cli):
    assert "Isolated per-project environments" in kepler_cli("--help").out
    sub = kepler_cli("env", "--help").out
    for name in ("create", "update", "lock", "sync", "check", "doc", "list", "remove", "run",
                 "kernel"):
        assert f"  {name} " in sub
    probe = ("import json, sys\nfrom kepler.testing import run_cli\n"
             "run_cli('--help')\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith('kepler_env'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out.splitlines()[-1]) == ["kepler_env", "kepler_env.plugin"]


def test_the_config_section_validates_and_layers(kepler_home, kepler_cli, tmp_path, wheelhouse,
                                                 monkeypatch):
    root = make_project(tmp_path / "p", wheelhouse, "alpha==1.2\n", kepler_yml="  manager: venv\n")
    (root / "kepler.yml").write_text((root / "kepler.yml").read_text()
                                     + "environments:\n  dev: {}\n  prod:\n    env: {manager: uv}\n")
    assert plan_for(root, env="dev").manager == "venv"
    assert plan_for(root, env="prod").manager == "uv"
    monkeypatch.setenv("KEPLER_ENV__MANAGER", "docker")
    assert plan_for(root, env="prod").manager == "docker"
    monkeypatch.setenv("KEPLER_ENV__INSTALL_KEPLER", "maybe")
    with pytest.raises(kp.KeplerError, match="env.install_kepler = 'maybe'"):
        plan_for(root)
    monkeypatch.delenv("KEPLER_ENV__INSTALL_KEPLER")
    shown = kepler_cli("--project", str(root), "config", "show")
    assert "env.manager" in shown.out and "env.envs_dir" in shown.out


def test_validate_checks_tool_environment_and_lock(kepler_home, tmp_path, wheelhouse):
    root = make_project(tmp_path / "v", wheelhouse, "alpha==1.2\n", kepler_yml="  manager: uv\n")

    def checks():
        return {c.check: c for c in kp.config.validate(project=root) if c.plugin == "env"}

    found = checks()
    assert found["env: uv available"].status == "pass"
    assert found["env: dev environment exists"].status == "warn"
    kp.env.create(project=root)
    assert checks()["env: requirements.lock current"].status == "warn"
    kp.env.lock(project=root)
    assert checks()["env: dev environment matches requirements.lock"].status == "pass"
    python = root / ".kepler/envs/dev/bin/python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-index", "--find-links", str(root / "wheels"), "lonely==1.0"],
                   check=True, capture_output=True)
    broken = checks()["env: dev environment matches requirements.lock"]
    assert broken.status == "fail"
    assert "lonely 1.0 is installed but not in the lock" in broken.detail
    assert broken.hint == "kepler env sync --env dev"
    kp.env.sync(project=root)
    assert "lonely" not in installed(python)


def test_managers_accept_a_plain_options_mapping(kepler_home, tmp_path, wheelhouse):
    root = make_project(tmp_path / "m", wheelhouse, "delta==1.0\n")
    location = UvManager().create(root, {"env": "prod"})
    assert location == root / ".kepler/envs/prod"
    assert installed(location / "bin/python")["delta"] == "1.0"
    with pytest.raises(EnvError, match="Unknown environment option"):
        UvManager().create(root, {"colour": "blue"})
    with pytest.raises(EnvError, match="There is no environment manager 'pixi'"):
        kp.env.create(manager="pixi", project=root)


def test_kernel_without_ipykernel_and_no_install_says_what_to_do(kepler_home, tmp_path,
                                                                  wheelhouse, kepler_cli):
    root = make_project(tmp_path / "k", wheelhouse, "delta==1.0\n")
    kp.env.create(project=root)
    result = kepler_cli("--project", str(root), "env", "kernel", "--no-install")
    assert result.code == 1 and "ipykernel is not installed" in result.err
    assert "requirements-dev.txt" in result.err


def test_outside_a_project_the_error_says_how_to_start(kepler_home, kepler_cli):
    result = kepler_cli("env", "create")
    assert result.code == 3 and "kepler init NAME --template" in result.err
