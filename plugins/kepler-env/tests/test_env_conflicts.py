"""Conflicts reported as "A 1.2 needs B<2, but C 3.0 needs B>=2", with a change that resolves,
and nothing half-installed: pip's resolver (and uv's) decide before the environment is touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kepler as kp
import pytest
from env_testkit import freeze, make_project
from kepler_env.conflicts import parse_causes, pip_check_sentences, sentences
from kepler_env.errors import EnvConflictError, RequirementsError
from kepler_env.sources import read_requirements

PIP_OUTPUT = """\
ERROR: Cannot install -r requirements.txt (line 3) and -r requirements.txt (line 4) because these
package versions have conflicting dependencies.

The conflict is caused by:
    alpha 1.2 depends on beta<2
    gamma 3.0 depends on beta>=2
    The user requested (constraint) torch<=2.14.1

To fix this you could try to:
"""


def test_pip_causes_become_one_sentence_per_package(tmp_path):
    reasons = parse_causes(PIP_OUTPUT)
    assert [(r.package, r.requirement) for r in reasons] == [
        ("alpha", "beta<2"), ("gamma", "beta>=2"), (None, "torch<=2.14.1")]
    assert sentences(reasons) == ["alpha 1.2 needs beta<2, but gamma 3.0 needs beta>=2"]
    req = tmp_path / "requirements.txt"
    req.write_text("alpha==1.2\nbeta>=2\n")
    user = parse_causes("The conflict is caused by:\n    The user requested beta>=2\n"
                        "    alpha 1.2 depends on beta<2\n\n")
    assert sentences(user, read_requirements([req], tmp_path)) == [
        "requirements.txt (line 2) asks for beta>=2, but alpha 1.2 needs beta<2"]


def test_pip_check_lines_become_sentences():
    out = ("alpha 1.2 has requirement beta<2, but you have beta 2.1.\n"
           "gamma 3.0 requires beta, which is not installed.\n")
    assert pip_check_sentences(out) == [
        "alpha 1.2 needs beta<2, but beta 2.1 is installed",
        "gamma 3.0 needs beta, which is not installed"]


@pytest.mark.parametrize("manager", ["uv", "venv"])
def test_create_reports_the_conflict_and_leaves_nothing(kepler_home, kepler_cli, tmp_path,
                                                        wheelhouse, manager):
    root = make_project(tmp_path / "c", wheelhouse, "alpha==1.2\ngamma==3.0\n")
    result = kepler_cli("--project", str(root), "env", "create", "--manager", manager)
    assert result.code == 6, result.err
    assert "alpha 1.2 needs beta<2, but gamma 3.0 needs beta>=2" in result.err
    # What to change, checked by resolving again: gamma 2.0 is the newest that fits alpha 1.2.
    assert "change 'gamma==3.0' (requirements.txt line 4) to 'gamma==2.0'" in result.err
    assert not (root / ".kepler" / "envs" / "dev").exists()


def test_check_reports_conflicts_before_they_bite(kepler_home, kepler_cli, tmp_path, wheelhouse):
    root = make_project(tmp_path / "c", wheelhouse, "alpha==1.2\nbeta>=2\n")
    found = kp.env.check(project=root)
    assert found[0].startswith("requirements.txt (line 4) asks for beta>=2, but alpha 1.2 needs "
                               "beta<2 — to resolve it, change 'beta>=2' (requirements.txt line 4)"
                               " to 'beta==1.5'")
    result = kepler_cli("--project", str(root), "env", "check", "--json")
    assert result.code == 6 and '"conflicts"' in result.out


def test_update_with_a_conflict_changes_nothing(kepler_home, tmp_path, wheelhouse):
    root = make_project(tmp_path / "u", wheelhouse, "alpha==1.2\n")
    kp.env.create(env="prod", manager="uv", project=root)
    python = root / ".kepler/envs/prod/bin/python"
    before = freeze(python)
    (root / "requirements.txt").write_text(
        "--no-index\n--find-links ./wheels\nalpha==1.2\ngamma==3.0\n")
    with pytest.raises(EnvConflictError) as caught:
        kp.env.update(env="prod", project=root)
    assert caught.value.conflicts == ["alpha 1.2 needs beta<2, but gamma 3.0 needs beta>=2"]
    assert freeze(python) == before


def test_a_missing_version_names_the_available_ones(kepler_home, tmp_path, wheelhouse):
    root = make_project(tmp_path / "m", wheelhouse, "alpha==7\n")
    with pytest.raises(RequirementsError, match=r"No version of 'alpha==7' \(requirements.txt "
                       r"line 3\) exists; available: 1.2"):
        kp.env.lock(env="prod", project=root)


def test_check_finds_a_broken_environment_with_pip_check(kepler_home, tmp_path, wheelhouse):
    root = make_project(tmp_path / "b", wheelhouse, "alpha==1.2\n")
    kp.env.create(env="prod", manager="uv", project=root)
    python = root / ".kepler/envs/prod/bin/python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", "--find-links", str(root / "wheels"), "beta==2.1"],
                   check=True, capture_output=True)
    found = kp.env.check(env="prod", project=root)
    assert found == ["installed: alpha 1.2 needs beta<2, but beta 2.1 is installed"]
    assert Path(root / "requirements.lock").exists() is False  # check writes nothing
