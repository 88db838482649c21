"""Sessions for the whole monorepo: ``nox -s tests``, ``lint``, ``demo``, ``bench``.

Every distribution (``kepler-core``, ``kepler-*``, ``plugins/*``) is found by its pyproject.toml
and installed editable into one environment, so the tests see exactly what users get: entry
points, plugin discovery and all.
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

# torch must come from the CPU build on local disk: a bare 'torch' pulls several GB of CUDA.
TORCH_PIN = "torch==2.13.0"
TEST_TOOLS = ["pytest>=8", "hatchling>=1.21",
              # kepler-env: its poetry manager runs poetry; its templates' notebooks are validated
              "poetry>=2", "nbformat>=5",
              # kepler-serve: the generated OpenAPI of a model is fuzzed
              "schemathesis>=4", "hypothesis>=6"]


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


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over everything, mypy over core."""
    session.install("ruff>=0.5", "mypy>=1.10", "types-PyYAML", "pytest>=8")
    session.install("-e", str(ROOT / "kepler-core"))
    session.run("ruff", "check", ".")
    session.run("mypy", "--config-file", "kepler-core/pyproject.toml", "kepler-core/src/kepler")


#: What the demo runs on (installed as users install them, not editable): the Splunk connector and
#: its test server, the scikit-learn trainers, the model server. No torch, no cloud SDK.
DEMO_DISTRIBUTIONS = ("kepler-core", "kepler-splunk", "kepler-sklearn", "plugins/kepler-serve")


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
    for script in ("startup.py", "splunk_extract.py", "training.py", "env_create.py",
                   "torch_training.py", "serving.py"):
        session.run("python", str(ROOT / "benchmarks" / script), *session.posargs)
