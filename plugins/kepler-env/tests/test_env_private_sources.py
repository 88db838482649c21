"""Private sources: an index on 127.0.0.1 that demands Basic auth, whose password lives only in
Kepler's secret store; and git+ssh:// through --ssh-key, with a script standing in for ssh."""

from __future__ import annotations

import os
import stat
import textwrap

import kepler as kp
import pytest
from env_testkit import files_containing, installed, make_git_repo, serve_index, write_wheel
from kepler.api import ConfigError
from kepler.api import secret_store as get_store
from kepler_env.errors import EnvError

TOKEN = "s3cr3t-Index-Token-4242"


def corp_project(root, port, default=True):
    root.mkdir()
    (root / "kepler.yml").write_text(textwrap.dedent(f"""\
        project: {{name: corp}}
        env:
          install_kepler: false
          indexes:
            corp:
              url: http://127.0.0.1:{port}/simple/
              username: kepler-ci
              password: ${{secret:corp-token}}
              default: {str(default).lower()}
        """))
    (root / "requirements.txt").write_text("corp-lib==1.0\n")
    return root


@pytest.fixture
def corp_index(tmp_path):
    folder = tmp_path / "corp-packages"
    write_wheel(folder, "corp-lib", "1.0", ["corp-dep>=2"], license_text="Proprietary")
    write_wheel(folder, "corp-dep", "2.0", license_text="Proprietary")
    with serve_index(folder, auth=("kepler-ci", TOKEN)) as index:
        yield index


@pytest.mark.parametrize("manager", ["uv", "venv"])
def test_private_index_credentials_come_from_the_secret_store_only(
        kepler_home, kepler_cli, tmp_path, corp_index, manager):
    get_store().set("corp-token", TOKEN)
    root = corp_project(tmp_path / "proj", corp_index.port)
    result = kepler_cli("--project", str(root), "env", "create", "--manager", manager)
    assert result.code == 0, result.err
    python = root / ".kepler/envs/dev/bin/python"
    assert installed(python)["corp-lib"] == "1.0"
    assert kepler_cli("--project", str(root), "env", "lock").code == 0
    kp.env.remove(project=root)
    synced = kepler_cli("--project", str(root), "env", "sync", "--locked")
    assert synced.code == 0, synced.err
    assert kepler_cli("--project", str(root), "env", "doc").code == 0
    # The server saw the credentials (so they were used) ...
    assert any(header and header.startswith("Basic ") for _, header in corp_index.requests)
    # ... and no file Kepler wrote holds them: not the project (lock, docs, the environment
    # itself, its state) and not Kepler's home (the store is encrypted).
    assert files_containing(root, TOKEN) == []
    assert files_containing(kepler_home, TOKEN) == []
    lock = (root / "requirements.lock").read_text()
    assert "corp-lib==1.0 \\\n    --hash=sha256:" in lock and "127.0.0.1" not in lock
    assert TOKEN not in result.out + result.err + synced.out + synced.err


def test_a_missing_secret_is_a_clear_config_error(kepler_home, tmp_path, corp_index):
    root = corp_project(tmp_path / "proj", corp_index.port)
    with pytest.raises(ConfigError, match=r"\$\{secret:corp-token\}") as caught:
        kp.env.create(project=root)
    assert "kepler secrets set corp-token" in str(caught.value.hint)
    assert not (root / ".kepler/envs/dev").exists()


def test_a_wrong_password_fails_without_printing_it(kepler_home, tmp_path, corp_index):
    wrong = "wrong-password-123456"
    get_store().set("corp-token", wrong)
    root = corp_project(tmp_path / "proj", corp_index.port)
    with pytest.raises(EnvError, match=r"corp \(http://127.0.0.1:\d+/simple/: HTTP 401\) "
                       "refused Kepler's credentials") as caught:
        kp.env.create(manager="uv", project=root)
    assert wrong not in str(caught.value)
    assert not (root / ".kepler/envs/dev").exists()


def test_credentials_in_the_index_url_are_refused(kepler_home, tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "kepler.yml").write_text(
        "env:\n  indexes:\n    corp: {url: 'https://user:pw@pypi.corp/simple'}\n")
    (root / "requirements.txt").write_text("x\n")
    with pytest.raises(ConfigError, match="credentials do not belong in the URL"):
        kp.env.lock(project=root)


FAKE_SSH = """\
#!/bin/sh
# Stands in for ssh: records how it was called, then runs the remote git command locally.
echo "$@" >> "$SSH_LOG"
for arg in "$@"; do [ "$arg" = "-G" ] && exit 0; done
for last in "$@"; do :; done
exec sh -c "$last"
"""


def test_ssh_key_reaches_git_through_git_ssh_command(kepler_home, kepler_cli, tmp_path,
                                                     monkeypatch):
    repo = make_git_repo(tmp_path / "remote" / "sshlib", "sshlib")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ssh = bin_dir / "ssh"
    ssh.write_text(FAKE_SSH)
    ssh.chmod(ssh.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "ssh.log"
    monkeypatch.setenv("SSH_LOG", str(log))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("GIT_SSH_COMMAND", raising=False)
    monkeypatch.delenv("GIT_SSH", raising=False)
    key = tmp_path / "keys" / "deploy key"  # a space in the path: quoting matters
    key.parent.mkdir()
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key-0xC0FFEE\n")
    root = tmp_path / "proj"
    root.mkdir()
    (root / "kepler.yml").write_text("project: {name: ssh}\nenv: {install_kepler: false}\n")
    url = f"git+ssh://git@git.plant.local{repo.path}@v0.1.0"
    (root / "requirements.txt").write_text(f"{url}\n")
    result = kepler_cli("--project", str(root), "env", "create", "--ssh-key", str(key))
    assert result.code == 0, result.err
    assert installed(root / ".kepler/envs/dev/bin/python")["sshlib"] == "0.1.0"
    calls = log.read_text().splitlines()
    assert calls and all(f"-i {key} -o IdentitiesOnly=yes" in call for call in calls)
    assert any(call.endswith(f"git-upload-pack '{repo.path}'") for call in calls)
    assert kepler_cli("--project", str(root), "env", "lock", "--env", "dev").code == 0
    assert (f"git+ssh://git@git.plant.local{repo.path}@{repo.tag_sha}"
            in (root / "requirements.lock").read_text())
    # The key is used where it lies: no copy of it anywhere in the project or the environment.
    assert files_containing(root, "not-a-real-key-0xC0FFEE") == []
    # Without the key git is not told to use it.
    log.unlink()
    kp.env.remove(project=root)
    kp.env.create(project=root)
    assert all("-i " not in call for call in log.read_text().splitlines())
