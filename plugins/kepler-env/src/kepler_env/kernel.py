"""``kepler env kernel``: the environment as a Jupyter kernel named after the project.

The registration is ipykernel's own (``python -m ipykernel install --user``), run with the
environment's interpreter, so the kernel spec points at that interpreter and Jupyter — wherever
it is installed — starts notebooks inside the project's environment. ``JUPYTER_DATA_DIR`` moves
where specs go, as for Jupyter. When ipykernel is missing from the environment it is installed
first (say ``install=False`` to get an error instead); add ``ipykernel`` to
``requirements-dev.txt`` to keep it across ``sync``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from .errors import EnvError
from .plan import EnvPlan
from .process import environ, run
from .state import EnvState, read_state, write_state


def kernel_name(plan: EnvPlan) -> str:
    """The project's name (plus ``-<env>`` outside dev), as Jupyter allows it."""
    base = re.sub(r"[^a-z0-9._-]+", "-", plan.project_name.lower()).strip("-") or "kepler"
    return base if plan.env == "dev" else f"{base}-{plan.env}"


def register_kernel(plan: EnvPlan, manager: Any, python: Path, *, name: str | None = None,
                    install: bool = True) -> Path:
    """Register ``python``'s environment as a kernel; return the kernel spec's folder."""
    if not python.exists():
        raise EnvError(f"The {plan.env} environment does not exist.",
                       hint=f"Create it: kepler env create --env {plan.env}")
    has_kernel = run([python, "-c", "import ipykernel"], check=False, what="python").returncode
    if has_kernel != 0:
        if not install:
            raise EnvError(
                f"ipykernel is not installed in the {plan.env} environment.",
                hint="Add 'ipykernel' to requirements-dev.txt and run 'kepler env update', or "
                "run 'kepler env kernel' without --no-install.")
        _install_ipykernel(plan, manager, python)
    chosen = name or kernel_name(plan)
    display = f"Python ({plan.project_name}{'' if plan.env == 'dev' else ', ' + plan.env})"
    result = run([python, "-m", "ipykernel", "install", "--user", "--name", chosen,
                  "--display-name", display], what="ipykernel install", env=environ())
    match = re.search(r"Installed kernelspec \S+ in (.+)$", result.stdout.strip(), re.M)
    folder = Path(match.group(1).strip()) if match else None
    if folder is None or not (folder / "kernel.json").is_file():
        raise EnvError("ipykernel did not say where it installed the kernel spec.",
                       hint=f"Its output was: {result.stdout.strip()[:300]}")
    load_kepler_extension(folder)
    state = read_state(plan.envs_dir, plan.env)
    if state is not None:
        state.kernel = {"name": chosen, "path": str(folder)}
        write_state(plan.envs_dir, state)
    return folder


#: The kernel's own option that loads an IPython extension at start (``%load_ext kepler``).
EXTENSION_ARG = "--ext=kepler"


def load_kepler_extension(folder: Path) -> None:
    """Make the kernel load Kepler's magics at start: ``--ext=kepler`` on its command line.

    A kernel argument rather than an IPython profile, so it applies to this kernel only and
    not to every IPython of the user; where kepler is not importable IPython logs a warning
    and the kernel starts anyway."""
    spec_file = folder / "kernel.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    argv = list(spec.get("argv", []))
    if EXTENSION_ARG not in argv:
        spec["argv"] = [*argv, EXTENSION_ARG]
        spec_file.write_text(json.dumps(spec, indent=1), encoding="utf-8")


def _install_ipykernel(plan: EnvPlan, manager: Any, python: Path) -> None:
    installer = getattr(manager, "installer", None)
    if installer is not None:
        installer.install(plan, ["ipykernel"])
    else:
        run([python, "-m", "pip", "install", "ipykernel"], cwd=plan.project,
            env=environ(plan.pip_environ()), what="pip install ipykernel")


def forget_kernel(state: EnvState | None) -> None:
    """Remove the kernel spec registered for an environment (when there is one)."""
    if state is None or not state.kernel:
        return
    folder = Path(state.kernel.get("path", ""))
    if folder.is_dir() and (folder / "kernel.json").is_file():
        shutil.rmtree(folder, ignore_errors=True)
