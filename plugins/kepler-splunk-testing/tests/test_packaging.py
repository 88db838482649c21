"""The boundary between the connector and its test server, as the built wheels draw it.

The server and its pytest plugin used to ship inside kepler-splunk, so every production install
carried 8,800 lines of test code and registered fixtures with pytest. Here both wheels are built
from this monorepo (hatchling, no network) and read: the connector's holds neither, this one holds
both, and this one neither imports nor requires the connector (or Kepler).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement  # pytest's own dependency

HERE = Path(__file__).resolve().parents[1]
CONNECTOR = HERE.parents[1] / "kepler-splunk"
PACKAGE = HERE / "src" / "kepler_splunk_testing"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, zipfile.ZipFile]:
    """distribution name -> its freshly built wheel."""
    out = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(CONNECTOR), str(HERE)],
        check=True, capture_output=True, text=True,
    )
    built = {path.name.split("-")[0]: zipfile.ZipFile(path) for path in out.glob("*.whl")}
    assert set(built) == {"kepler_splunk", "kepler_splunk_testing"}
    return built


def _dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    [member] = [n for n in wheel.namelist() if n.endswith(f".dist-info/{name}")]
    return wheel.read(member).decode()


def _requires(wheel: zipfile.ZipFile) -> list[str]:
    return Parser().parsestr(_dist_info(wheel, "METADATA")).get_all("Requires-Dist") or []


def test_the_connector_wheel_carries_no_test_server_and_no_pytest_plugin(
    wheels: dict[str, zipfile.ZipFile],
) -> None:
    connector = wheels["kepler_splunk"]
    names = connector.namelist()
    assert "kepler_splunk/plugin.py" in names  # the right wheel, really built
    assert [n for n in names if n.startswith(("kepler_splunk/testing", "kepler_splunk_testing"))] == []
    assert "[pytest11]" not in _dist_info(connector, "entry_points.txt")
    server = [Requirement(r) for r in _requires(connector) if r.startswith("kepler-splunk-testing")]
    assert server, "the connector's test extra should install the server"
    for requirement in server:  # only with the "test" extra, never by default
        assert requirement.marker is not None
        assert requirement.marker.evaluate({"extra": "test"})
        assert not requirement.marker.evaluate({"extra": ""})


def test_this_wheel_carries_the_server_its_fixtures_and_nothing_of_kepler(
    wheels: dict[str, zipfile.ZipFile],
) -> None:
    testing = wheels["kepler_splunk_testing"]
    names = set(testing.namelist())
    assert {
        "kepler_splunk_testing/__main__.py",
        "kepler_splunk_testing/fixtures.py",
        "kepler_splunk_testing/render/export.py",
        "kepler_splunk_testing/py.typed",
    } <= names
    assert not any(n.startswith("kepler_splunk/") for n in names)
    entry_points = _dist_info(testing, "entry_points.txt")
    assert "[pytest11]\nkepler_splunk_testing = kepler_splunk_testing.fixtures" in entry_points
    assert [r for r in _requires(testing) if r.startswith("kepler")] == []


def test_no_module_imports_the_connector_or_kepler() -> None:
    """The server must run where only it is installed (and test clients other than Kepler's)."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            offenders += [
                f"{path.relative_to(PACKAGE)}: {module}"
                for module in modules
                if module.split(".")[0] in ("kepler", "kepler_splunk")
            ]
    assert offenders == []
