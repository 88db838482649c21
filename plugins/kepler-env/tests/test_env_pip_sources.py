"""Every pip source in one project, end to end, offline: index packages with versions and a
pre-release (a --find-links folder), a git tag and a git branch (git+file://), an editable local
library, a wheel and an sdist built here; dev/staging/prod requirement sets; lock, delete, sync
--locked to the identical freeze (uv and pip); doc, run, list, check.

One project and its dev environment are built once for the module (uv, under a second)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import kepler as kp
import pytest
from env_testkit import (
    add_custom_lib,
    freeze,
    git,
    installed,
    make_git_repo,
    make_project,
    write_project,
    write_sdist,
    write_wheel,
)
from kepler_env.errors import LockError


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A Kepler home for the whole module (the per-test ``kepler_home`` is function-scoped)."""
    from kepler.api import reset_plugins as reset

    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("KEPLER_"):
                mp.delenv(name)
        mp.setenv("KEPLER_CONFIG_DIR", str(tmp_path_factory.mktemp("home")))
        mp.setenv("KEPLER_SECRETS_BACKEND", "file")
        reset()
        yield
        reset()


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    root = tmp_path_factory.mktemp("src")
    return make_git_repo(root / "gitlib", "gitlib"), make_git_repo(root / "branchlib", "branchlib")


@pytest.fixture(scope="module")
def project(home, tmp_path_factory, wheelhouse, repos):
    gitlib, branchlib = repos
    root = tmp_path_factory.mktemp("all-sources") / "plant"
    root.mkdir()
    extra = root / "wheels-extra"
    write_wheel(extra, "localwheel", "1.0", license_text="MIT")
    sdist = write_sdist(write_project(tmp_path_factory.mktemp("sd") / "sdlib", "sdlib", "0.3"),
                        root / "dists")
    add_custom_lib(root)
    make_project(root, wheelhouse, f"""\
        alpha==1.2
        pre>=1.0rc1
        git+{gitlib.url}@v0.1.0
        git+{branchlib.url}@feature
        ./wheels-extra/localwheel-1.0-py3-none-any.whl
        ./dists/{sdist.name}
        -e ./custom-libs/mylib
        """, dev="devtool==1.0\n")
    kp.env.create(env="dev", manager="uv", project=root)
    return root


def python_of(project: Path, env: str = "dev") -> Path:
    return project / ".kepler" / "envs" / env / "bin" / "python"


def test_create_installs_every_pip_source(project, repos):
    versions = installed(python_of(project))
    assert {k: versions.get(k) for k in ("alpha", "beta", "pre", "gitlib", "branchlib",
                                          "localwheel", "sdlib", "mylib", "devtool")} == {
        "alpha": "1.2", "beta": "1.5", "pre": "1.0rc1", "gitlib": "0.1.0",
        "branchlib": "0.2.0.dev1", "localwheel": "1.0", "sdlib": "0.3", "mylib": "0.3",
        "devtool": "1.0"}
    where = subprocess.run([str(python_of(project)), "-c", "import mylib; print(mylib.__file__)"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where) == project / "custom-libs" / "mylib" / "mylib" / "__init__.py"  # editable


def test_prod_never_gets_dev_only_packages(project):
    kp.env.create(env="prod", manager="uv", project=project)
    prod = installed(python_of(project, "prod"))
    assert "devtool" not in prod and prod["alpha"] == "1.2"
    prod_lock = kp.env.lock(env="prod", project=project)
    dev_lock = kp.env.lock(env="dev", project=project)
    assert (prod_lock.name, dev_lock.name) == ("requirements.lock", "requirements-dev.lock")
    assert "devtool" not in prod_lock.read_text()
    assert "devtool==1.0" in dev_lock.read_text()
    kp.env.remove(env="prod", project=project)
    assert not python_of(project, "prod").exists()


def test_lock_pins_versions_hashes_and_commits(project, repos):
    gitlib, branchlib = repos
    text = kp.env.lock(env="dev", project=project).read_text()
    alpha_hash = hashlib.sha256((project / "wheels" / "alpha-1.2-py3-none-any.whl")
                                .read_bytes()).hexdigest()
    assert f"alpha==1.2 \\\n    --hash=sha256:{alpha_hash}\n    # alpha==1.2 · via -r requirements.txt" in text
    assert "beta==1.5 \\\n    --hash=sha256:" in text and "# beta==1.5 · via alpha, mylib" in text
    assert "pre==1.0rc1 \\" in text
    assert f"git+{gitlib.url}@{gitlib.tag_sha}\n    # gitlib==0.1.0" in text
    assert f"git+{branchlib.url}@{branchlib.branch_sha}\n    # branchlib==0.2.0.dev1" in text
    assert "-e ./custom-libs/mylib\n    # mylib==0.3" in text
    wheel_hash = hashlib.sha256((project / "wheels-extra" / "localwheel-1.0-py3-none-any.whl")
                                .read_bytes()).hexdigest()
    assert f"./wheels-extra/localwheel-1.0-py3-none-any.whl \\\n    --hash=sha256:{wheel_hash}" in text
    assert "./dists/sdlib-0.3.tar.gz \\\n    --hash=sha256:" in text
    assert "--no-index\n--find-links ./wheels\n" in text


def test_lock_then_delete_then_sync_locked_gives_the_identical_freeze(project, repos,
                                                                       kepler_cli):
    _, branchlib = repos
    kp.env.lock(env="dev", project=project)
    before = freeze(python_of(project))
    assert kepler_cli("--project", str(project), "env", "remove", "--env", "dev").code == 0
    assert not (project / ".kepler" / "envs" / "dev").exists()
    # The branch moves on after the lock: the lock still installs the commit it recorded.
    git(branchlib.path, "checkout", "-q", "feature")
    write_project(branchlib.path, "branchlib", "0.3.0")
    git(branchlib.path, "commit", "-q", "-am", "later work")
    git(branchlib.path, "checkout", "-q", "main")
    result = kepler_cli("--project", str(project), "env", "sync", "--locked", "--env", "dev")
    assert result.code == 0, result.err
    assert "matches requirements-dev.lock" in result.out
    assert freeze(python_of(project)) == before
    assert any(line.endswith(f"@{branchlib.branch_sha}") for line in before)


def test_sync_locked_with_pip_gives_the_identical_freeze(project):
    """The venv manager (pip) reproduces the same lock: hash-checked and --no-deps."""
    kp.env.lock(env="staging", project=project)
    kp.env.sync(env="staging", locked=True, manager="venv", project=project)
    python = python_of(project, "staging")
    before = freeze(python)
    assert "devtool" not in " ".join(before) and any(x.startswith("alpha==1.2") for x in before)
    kp.env.remove(env="staging", project=project)
    info = kp.env.sync(env="staging", locked=True, manager="venv", project=project)
    assert (info.manager, info.lock_status) == ("venv", "in sync")
    assert freeze(python) == before


def test_doc_lists_sources_licenses_and_what_pulled_each_in(project, repos, kepler_cli):
    gitlib, _ = repos
    result = kepler_cli("--project", str(project), "env", "doc", "--env", "dev")
    assert result.code == 0, result.err
    text = (project / "DEPENDENCIES-dev.md").read_text()
    assert "| alpha | 1.2 | index | MIT | requirements.txt (top level) |" in text
    assert "| beta | 1.5 | index | BSD-3-Clause | alpha, mylib |" in text
    assert f"| gitlib | 0.1.0 | git+{gitlib.url}@{gitlib.tag_sha} | MIT |" in text
    assert "| mylib | 0.3 | editable local: custom-libs/mylib | MIT | requirements.txt (top level) |" in text
    assert "| localwheel | 1.0 | local: wheels-extra/localwheel-1.0-py3-none-any.whl |" in text
    assert "| devtool | 1.0 | index | MIT | requirements-dev.txt (top level) |" in text
    assert "## Licenses" in text and "| BSD-3-Clause | 1 |" in text


def test_run_executes_inside_the_environment_and_passes_the_exit_code(project, kepler_cli):
    result = kepler_cli("--project", str(project), "env", "run", "--", "python", "-c",
                        "import sys, alpha; print(sys.prefix)")
    assert result.code == 0, result.err
    assert Path(result.out.strip()) == project / ".kepler" / "envs" / "dev"
    failed = kepler_cli("--project", str(project), "env", "run", "--", "python", "-c",
                        "raise SystemExit(3)")
    assert failed.code == 3
    assert kp.env.run(["python", "-c", "import devtool"], env="dev", project=project) == 0


def test_list_and_check(project, kepler_cli):
    kp.env.sync(env="dev", project=project)  # locks again when the requirements changed
    rows = {i.env: i for i in kp.env.list(project=project)}
    assert rows["dev"].exists and rows["dev"].manager == "uv"
    assert rows["dev"].lock_status == "in sync" and rows["dev"].packages == 9
    assert not rows["prod"].exists
    listed = kepler_cli("--project", str(project), "env", "list")
    assert listed.code == 0 and "in sync" in listed.out
    checked = kepler_cli("--project", str(project), "env", "check", "--env", "dev")
    assert checked.code == 0, checked.out + checked.err
    assert "No conflicts" in checked.out


def test_sync_locked_refuses_a_stale_lock(home, tmp_path, wheelhouse, kepler_cli):
    root = make_project(tmp_path / "stale", wheelhouse, "alpha==1.2\n")
    kp.env.lock(env="prod", project=root)
    with (root / "requirements.txt").open("a") as handle:
        handle.write("delta==1.0\n")
    with pytest.raises(LockError, match="requirements.lock is out of date"):
        kp.env.sync(env="prod", locked=True, project=root)
    assert not (root / ".kepler" / "envs" / "prod").exists()
    result = kepler_cli("--project", str(root), "env", "sync", "--locked", "--env", "prod")
    assert result.code == 1 and "kepler env lock --env prod" in result.err
    # Without --locked, sync locks again and installs.
    info = kp.env.sync(env="prod", project=root)
    assert info.lock_status == "in sync"
    assert installed(python_of(root, "prod"))["delta"] == "1.0"


def test_update_installs_and_removes_only_what_changed(home, tmp_path, wheelhouse, kepler_cli):
    root = make_project(tmp_path / "upd", wheelhouse, "alpha==1.2\ndelta==1.0\nlonely==1.0\n")
    kp.env.create(env="prod", manager="uv", project=root)
    site = next((root / ".kepler/envs/prod/lib").glob("python3*/site-packages"))
    alpha_record = (site / "alpha-1.2.dist-info" / "RECORD").stat()
    (root / "requirements.txt").write_text(
        "--no-index\n--find-links ./wheels\nalpha==1.2\ndelta==2.0\ngamma==2.0\n")
    result = kepler_cli("--project", str(root), "env", "update", "--env", "prod")
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["+ gamma 2.0", "- lonely 1.0", "~ delta 1.0 -> 2.0",
                                       "3 change(s)."]
    versions = installed(python_of(root, "prod"))
    assert "lonely" not in versions and versions["beta"] == "1.5"  # beta still needed
    after = (site / "alpha-1.2.dist-info" / "RECORD").stat()
    assert (after.st_ino, after.st_mtime_ns) == (alpha_record.st_ino, alpha_record.st_mtime_ns)
    assert kp.env.update(env="prod", project=root).lines() == []


def test_create_refuses_an_existing_environment(project):
    from kepler_env.errors import EnvExistsError

    with pytest.raises(EnvExistsError, match="kepler env update"):
        kp.env.create(env="dev", project=project)


def test_python_version_is_chosen_with_python(home, tmp_path, wheelhouse):
    """--python picks another interpreter when the machine has one (pyenv installs count)."""
    from kepler_env.errors import PythonNotFoundError
    from kepler_env.pythons import find_python

    try:
        other = find_python("3.12")
    except PythonNotFoundError:
        pytest.skip("no Python 3.12 on this machine")
    root = make_project(tmp_path / "py312", wheelhouse, "delta==1.0\n")
    info = kp.env.create(env="prod", manager="venv", python="3.12", project=root)
    assert info.python.startswith("3.12.") and other.exists()
    with pytest.raises(PythonNotFoundError, match="uv python install 2.9"):
        find_python("2.9")


def test_missing_requirements_file_is_a_clear_error(home, tmp_path, wheelhouse):
    from kepler_env.errors import RequirementsError

    root = make_project(tmp_path / "nofile", wheelhouse, "alpha==1.2\n")
    (root / "requirements.txt").unlink()
    with pytest.raises(RequirementsError, match="requirements.txt does not exist"):
        kp.env.create(env="prod", project=root)
    assert not (root / ".kepler" / "envs" / "prod").exists()
    shutil.rmtree(root)


@pytest.mark.parametrize("manager", ["uv", "venv"])
def test_pep_508_direct_references_install_with_every_manager(home, repos, wheelhouse,
                                                              tmp_path, manager):
    """``name @ git+file:///…@tag`` is what a lock writes for git sources: every manager's
    fresh environment must install it (an old bundled pip in a new venv did not)."""
    gitlib, _ = repos
    root = make_project(tmp_path / "direct", wheelhouse, f"gitlib @ git+{gitlib.url}@v0.1.0\n")
    kp.env.create(env="dev", manager=manager, project=root)
    assert installed(python_of(root))["gitlib"] == "0.1.0"


def test_pep_508_direct_reference_installs_with_poetry(home, repos, tmp_path):
    """The same requirement through poetry: written into pyproject.toml as a git dependency with
    its tag, locked and installed. (No --no-index header: poetry refuses pip's options, and a
    git dependency with an in-tree build backend needs no index.)"""
    gitlib, _ = repos
    root = tmp_path / "direct-poetry"
    root.mkdir()
    (root / "kepler.yml").write_text("project: {name: dp}\nenv:\n  install_kepler: false\n")
    (root / "requirements.txt").write_text(f"gitlib @ git+{gitlib.url}@v0.1.0\n")
    info = kp.env.create(env="dev", manager="poetry", project=root)
    assert info.manager == "poetry"
    assert installed(python_of(root))["gitlib"] == "0.1.0"
    pyproject = (root / "pyproject.toml").read_text()
    assert f'gitlib = {{ git = "{gitlib.url}", rev = "v0.1.0" }}' in pyproject
    lock = (root / "poetry.lock").read_text()
    assert gitlib.tag_sha in lock


def test_create_shows_a_step_counter_when_asked_and_nothing_otherwise(home, tmp_path, wheelhouse,
                                                                     capsys):
    """A notebook cell creating an environment shows which tool runs; logs and CI get no bar."""
    root = make_project(tmp_path / "progress", wheelhouse, "delta==1.0\n")
    kp.env.create(env="dev", manager="venv", project=root, progress=True)
    shown = capsys.readouterr().err
    assert "env create dev:" in shown and "steps" in shown and "done" in shown
    assert "pip" in shown  # the venv manager's installer was named while it ran
    kp.env.sync(env="dev", project=root)  # not a terminal: no bar
    assert "steps" not in capsys.readouterr().err
