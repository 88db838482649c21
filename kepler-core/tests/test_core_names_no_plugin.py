"""Core names no plugin: only ``catalogue.toml`` maps capabilities to distributions, for the
"pip install …" hint. A distribution or package name anywhere else in core's code (docstrings
aside) would be a plugin that core depends on by name."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import kepler

CORE = Path(kepler.__file__).parent
REPO = Path(__file__).resolve().parents[2]


def _sibling_names() -> list[str]:
    names = set()
    for pyproject in [*REPO.glob("kepler-*/pyproject.toml"), *REPO.glob("plugins/*/pyproject.toml")]:
        project = tomllib.loads(pyproject.read_text())["project"]["name"]
        if project != "kepler-core":
            names |= {project, project.replace("-", "_")}
    catalogue = tomllib.loads((CORE / "catalogue.toml").read_text())
    for kind, entries in catalogue.items():
        if kind != "query_options":  # that table maps options to connector names
            names |= {value.split("[")[0] for value in entries.values()}
    names.discard("kepler-core")
    return sorted(names)


def _code_strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value) for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def test_core_code_names_no_sibling_distribution():
    names = _sibling_names()
    assert "kepler-splunk" in names and "kepler_serve" in names  # the repo was found
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?![\w-])")
    found = [f"{path.relative_to(CORE)}:{line}: {text[:70]!r}"
             for path in sorted(CORE.rglob("*.py")) for line, text in _code_strings(path)
             if pattern.search(text)]
    assert found == []


def test_core_imports_no_plugin_package():
    names = {n for n in _sibling_names() if "_" in n}
    imported = set()
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    assert imported & names == set()
