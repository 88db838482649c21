"""Sessions for the whole monorepo: ``nox -s lint``, ``tests``, ``plugins``, ``demo``, ``bench``.

Every distribution (``kepler-core``, ``kepler-*``, ``plugins/*``) is found by its pyproject.toml.
``tests`` installs them all editable into one environment, so the tests see exactly what users get:
entry points, plugin discovery and all. ``plugins`` then runs each distribution's own tests in an
environment holding only it, kepler-core and the Kepler distributions it declares, so a plugin
that leans on an undeclared one fails there. ``lint`` checks the import contracts between them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
sys.path.insert(0, str(ROOT / "tools"))
import import_contracts  # noqa: E402  (the one reading of the pyproject.toml files)

nox.options.sessions = ["lint", "tests", "plugins"]
nox.options.reuse_existing_virtualenvs = True

# torch must come from the CPU build on local disk: a bare 'torch' pulls several GB of CUDA.
TORCH_PIN = "torch==2.13.0"
TEST_TOOLS = ["pytest>=8", "hatchling>=1.21",
              # kepler-env: its poetry manager runs poetry; its templates' notebooks are validated
              "poetry>=2", "nbformat>=5",
              # kepler-serve: the generated OpenAPI of a model is fuzzed
              "schemathesis>=4", "hypothesis>=6",
              # kepler-aws: the real boto3 against moto in server mode
              "moto[server]>=5",
              # the IPython extension and magics; the example notebooks run with nbclient
              "ipython>=8", "ipykernel>=6", "nbclient>=0.10",
              # kepler-pyfunc: a statsmodels model registered from code
              "statsmodels>=0.14",
              # kepler-serve: Triton's own client speaks the binary tensor extension
              "tritonclient[http]>=2.40",
              # kepler-edge: XGBoost and LightGBM models to ONNX (its xgboost/lightgbm extras)
              "onnxmltools>=1.12"]


def distributions() -> list[Path]:
    """kepler-core first (the others depend on it), then every other distribution."""
    found = sorted(p.parent for p in ROOT.glob("kepler-*/pyproject.toml"))
    found += sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml"))
    core = ROOT / "kepler-core"
    return [core] + [d for d in found if d != core]


def test_paths() -> list[str]:
    paths = [str(d / "tests") for d in distributions() if (d / "tests").is_dir()]
    return [*paths, str(ROOT / "tests")]


def install_monorepo(session: nox.Session, editable: bool = True) -> None:
    args: list[str] = []
    for dist in distributions():
        args += ["-e", str(dist)] if editable else [str(dist)]
    session.install(*args)


@nox.session
def tests(session: nox.Session) -> None:
    """Install every distribution editable into one venv and run all their tests."""
    session.install(*TEST_TOOLS)
    # kepler-sklearn's xgboost and lightgbm trainers are tested too; xgboost-cpu avoids the
    # 470 MB CUDA dependency of plain xgboost.
    session.install("xgboost-cpu>=2", "lightgbm>=4")
    session.install(TORCH_PIN)  # before kepler-torch, whose torch>=2.4 it then satisfies
    install_monorepo(session)
    session.run("pytest", *test_paths(), *session.posargs)


def source_dirs(*, core: bool = True) -> list[str]:
    """Every distribution's src/ folder: import-linter and mypy find the packages there."""
    return [str(d / "src") for d in distributions() if core or d.name != "kepler-core"]


def plugin_api_files() -> list[str]:
    """Each plugin package's front door: its top-level ``__init__.py`` and ``plugin.py``."""
    files = []
    for folder in source_dirs(core=False):
        for package in sorted(Path(folder).iterdir()):
            files += [str(package / n) for n in ("__init__.py", "plugin.py")
                      if (package / n).is_file()]
    return files


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over everything; the plugin-boundary import contracts; mypy over core (strict) and
    over each plugin's front door (``__init__``, ``plugin``)."""
    session.install("ruff>=0.5", "mypy>=1.10", "types-PyYAML", "pytest>=8", "import-linter>=2.1")
    session.install("-e", str(ROOT / "kepler-core"))
    session.run("ruff", "check", ".")
    session.run("python", "tools/import_contracts.py", "--check")
    # grimp reads source files; it needs the packages findable, not installed with their deps.
    session.run("lint-imports", "--no-cache",
                env={"PYTHONPATH": os.pathsep.join(source_dirs())})
    session.run("mypy", "--config-file", "kepler-core/pyproject.toml", "kepler-core/src/kepler")
    # Not strict: the plugins' third-party libraries are not installed here (they are Any).
    session.run("mypy", "--python-version", "3.11", "--ignore-missing-imports",
                "--follow-imports=silent", *plugin_api_files(),
                env={"MYPYPATH": os.pathsep.join(source_dirs(core=False))})


#: What each distribution's own tests need beyond pytest and hatchling (tests that build wheels),
#: where its pyproject.toml has no ``test`` extra saying so.
PLUGIN_TEST_TOOLS: dict[str, tuple[str, ...]] = {
    # the IPython extension (kepler-core[jupyter]) and the query magics over the connector
    "kepler-core": ("ipython>=8",),
    "kepler-splunk": ("ipython>=8",),
    # the xgboost and lightgbm trainers; xgboost-cpu avoids plain xgboost's 470 MB CUDA library
    "kepler-sklearn": ("xgboost-cpu>=2", "lightgbm>=4"),
    # the poetry manager runs poetry; the templates' notebooks are validated
    "kepler-env": ("poetry>=2", "nbformat>=5", "ipykernel>=6"),
    # the generated OpenAPI of a model is fuzzed
    "kepler-serve": ("schemathesis>=4", "hypothesis>=6"),
}
DISTRIBUTIONS = import_contracts.load_distributions(ROOT)


def kepler_closure(name: str) -> dict[str, set[str]]:
    """The Kepler distributions ``name``'s environment holds, each with the extras to install.

    Its own ``test`` extra and every Kepler distribution it declares (required or in any extra);
    then, transitively, what those require and what the extras they are asked with name.
    """
    root = DISTRIBUTIONS[name]
    wanted: dict[str, set[str]] = {import_contracts.CORE: set(),
                                   name: {"test"} if "test" in root.extras else set()}
    todo = [(dep, set(extras)) for dep, extras in root.requires.items()]
    todo += [(dep, set(extras)) for deps in root.extras.values() for dep, extras in deps.items()]
    while todo:
        dep, extras = todo.pop()
        if dep in wanted and extras <= wanted[dep]:
            continue
        wanted.setdefault(dep, set()).update(extras)
        dist = DISTRIBUTIONS[dep]
        todo += [(d, set(e)) for d, e in dist.requires.items()]
        todo += [(d, set(e)) for x in extras for d, e in dist.extras.get(x, {}).items()]
    return wanted


@nox.session
@nox.parametrize("dist", [nox.param(name, id=name) for name in DISTRIBUTIONS])
def plugins(session: nox.Session, dist: str) -> None:
    """One distribution's own tests, with only kepler-core and the Kepler dists it declares."""
    wanted = kepler_closure(dist)
    if any("torch" in DISTRIBUTIONS[name].requirement_names for name in wanted):
        session.install(TORCH_PIN)  # first, from the CPU build; see TORCH_PIN
    session.install("pytest>=8", "hatchling>=1.21", *PLUGIN_TEST_TOOLS.get(dist, ()))
    args: list[str] = []
    for name, extras in sorted(wanted.items()):
        suffix = f"[{','.join(sorted(extras))}]" if extras else ""
        args += ["-e", f"{DISTRIBUTIONS[name].path}{suffix}"]
    session.install(*args)  # local folders given by path, so pip never asks PyPI for them
    # A reused environment may hold a Kepler distribution a previous declaration brought in.
    extra = sorted(set(DISTRIBUTIONS) - set(wanted))
    if extra:
        session.run("python", "-m", "pip", "uninstall", "--yes", "--quiet", *extra, silent=True)
    tests_dir = DISTRIBUTIONS[dist].path / "tests"
    if not tests_dir.is_dir():
        session.error(f"{dist} has no tests/ folder: every distribution is tested alone")
    session.run("pytest", str(tests_dir), *session.posargs)


#: What the demo runs on (installed as users install them, not editable): the Splunk connector and
#: its test server, the scikit-learn trainers, the model server. No torch, no cloud SDK.
DEMO_DISTRIBUTIONS = ("kepler-core", "kepler-splunk", "plugins/kepler-splunk-testing",
                      "plugins/kepler-tabular", "kepler-sklearn", "plugins/kepler-serve")


@nox.session
def demo(session: nox.Session) -> None:
    """Kepler's main job end to end on embedded defaults (no Splunk, no cloud needed)."""
    session.install(*(str(ROOT / name) for name in DEMO_DISTRIBUTIONS))
    session.run("python", str(ROOT / "demo" / "run_demo.py"), *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks; each writes its section of BENCHMARKS.md with the command that made it."""
    session.install(TORCH_PIN)  # for torch_training.py; before kepler-torch asks for torch
    install_monorepo(session)
    session.install("mlflow>=2.17")  # serving.py's baseline; only ever installed here
    # serving_limit.py's XGBoost model and its ONNX export (it also needs wrk: apt-get install wrk)
    session.install("xgboost-cpu>=2", "onnxmltools>=1.12")
    for script in ("startup.py", "splunk_extract.py", "training.py", "env_create.py",
                   "torch_training.py", "keras_training.py", "serving.py", "edge.py",
                   "per_group.py", "serving_limit.py", "boundaries.py"):
        session.run("python", str(ROOT / "benchmarks" / script), *session.posargs)
