"""The plugin-boundary contracts: the committed file is current, and the rules catch what they must.

The second part builds a miniature monorepo (core, three plugins) and runs import-linter on it, so
a change to the generator that stops catching a forbidden import, or starts flagging the allowed
``from kepler.api import ...``, fails here rather than silently letting plugins drift.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("import_contracts", ROOT / "tools/import_contracts.py")
assert spec and spec.loader
contracts = importlib.util.module_from_spec(spec)
sys.modules["import_contracts"] = contracts
spec.loader.exec_module(contracts)


def test_committed_contracts_are_current() -> None:
    assert contracts.main(["--check"]) == 0, "run: python tools/import_contracts.py"


def _write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def _dist(root: Path, folder: str, name: str, package: str, deps: list[str],
          extras: dict[str, list[str]] | None = None) -> None:
    extra_lines = "".join(f"{k} = {v!r}\n" for k, v in (extras or {}).items())
    _write(root / folder / "pyproject.toml", f"""\
        [project]
        name = "{name}"
        dependencies = {deps!r}
        [project.optional-dependencies]
        {extra_lines}
        [tool.hatch.build.targets.wheel]
        packages = ["src/{package}"]
        """)
    _write(root / folder / "src" / package / "__init__.py")


@pytest.fixture
def mini_repo(tmp_path: Path) -> Path:
    """core (kepler: api, cli, testing), plugin a (declares b through an extra), b, c."""
    _dist(tmp_path, "kepler-core", "kepler-core", "kepler", ["click"])
    core = tmp_path / "kepler-core/src/kepler"
    _write(core / "api.py", "from kepler import cli\n")  # the API may use core's private parts
    _write(core / "cli" / "__init__.py")
    _write(core / "testing.py")
    _dist(tmp_path, "kepler-a", "kepler-a", "kepler_a", ["kepler-core>=0.1"],
          {"b": ["Kepler_B[x]>=1; python_version>'3'"]})
    _dist(tmp_path, "kepler-b", "kepler-b", "kepler_b", ["kepler-core"])
    _write(tmp_path / "kepler-b/src/kepler_b/inner.py")
    _dist(tmp_path, "plugins/kepler-c", "kepler-c", "kepler_c", [])
    return tmp_path


def _lint(root: Path, module: str) -> str:
    """Put `module` into kepler_a, generate the contracts, run import-linter; its output."""
    _write(root / "kepler-a/src/kepler_a/plugin.py", module)
    assert contracts.main(["--root", str(root)]) == 0
    lint = shutil.which("lint-imports", path=os.path.dirname(sys.executable))
    if lint is None:
        pytest.skip("import-linter is not installed here (nox -s lint installs it)")
    src = [str(p) for p in sorted(root.glob("**/src"))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(src)}
    done = subprocess.run([lint, "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


def test_allowed_imports_keep_every_contract(mini_repo: Path) -> None:
    out = _lint(mini_repo, """\
        import kepler.api
        from kepler import api
        from kepler.api import cli
        import kepler_b
        from kepler_b import something_exported
        """)
    assert "0 broken" in out, out


@pytest.mark.parametrize(("module", "broken"), [
    ("import kepler.cli\n", "kepler_a is not allowed to import kepler.cli"),
    ("from kepler.testing import x\n", "kepler_a is not allowed to import kepler.testing"),
    ("import kepler as kp\n", "kepler_a.plugin is not allowed to import kepler"),
    ("from kepler import hookimpl\n", "kepler_a.plugin is not allowed to import kepler"),
    ("import kepler_c\n", "kepler_a is not allowed to import kepler_c"),
    ("from kepler_b.inner import x\n", "kepler_a is not allowed to import kepler_b.inner"),
    ("from kepler_b import inner\n", "kepler_a is not allowed to import kepler_b.inner"),
])
def test_forbidden_imports_break_a_contract(mini_repo: Path, module: str, broken: str) -> None:
    out = _lint(mini_repo, module)
    assert "1 broken" in out, out
    assert broken in out, out


def test_core_may_not_import_a_plugin(mini_repo: Path) -> None:
    _write(mini_repo / "kepler-core/src/kepler/cli/__init__.py", "import kepler_c\n")
    out = _lint(mini_repo, "")
    assert "kepler is not allowed to import kepler_c" in out, out


def test_check_reports_a_stale_file(mini_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert contracts.main(["--root", str(mini_repo)]) == 0
    _write(mini_repo / "kepler-core/src/kepler/newmodule.py")
    assert contracts.main(["--root", str(mini_repo), "--check"]) == 1
    assert "stale" in capsys.readouterr().err
