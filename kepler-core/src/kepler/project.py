"""Creating a project from a template (``kepler init``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from ._version import __version__
from .errors import ProjectError
from .records import ProjectTemplateSpec, TemplateContext, import_string

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def create_project(name: str, *, template: str = "default", parent: Path | None = None) -> Path:
    """Write a new project folder ``parent/name`` from ``template``; refuse to overwrite anything.

    Example::

        from kepler.project import create_project
        create_project("pump-failures", template="default")
    """
    from .plugins import get_host

    if not NAME_PATTERN.match(name):
        raise ProjectError(
            f"Invalid project name {name!r}.",
            hint="Use letters, digits, '.', '_' or '-', starting with a letter or digit "
            "(e.g. pump-failures).",
        )
    host = get_host()
    spec = host.find(ProjectTemplateSpec, template)
    if spec is None:
        names = sorted(r.name for r in host.records(ProjectTemplateSpec))
        raise ProjectError(
            f"Unknown project template {template!r}.",
            hint=f"Available templates: {', '.join(names)}. Plugins can add more.",
        )
    target = (parent or Path.cwd()) / name
    if target.exists() and any(target.iterdir()):
        raise ProjectError(
            f"{target} already exists and is not empty.",
            hint="Choose another name or folder; Kepler never overwrites existing files.",
        )
    plugins = tuple(p.name for p in host.plugins() if p.status == "enabled")
    context = TemplateContext(name=name, kepler_version=__version__, plugins=plugins)
    files: Mapping[str, str | bytes] = import_string(spec.target)(context)
    for relative in files:
        path = Path(relative)
        if path.is_absolute() or ".." in path.parts:
            raise ProjectError(
                f"Template {template!r} tried to write outside the project: {relative!r}.",
                hint=f"Report it to the authors of {spec.distribution}.",
            )
    for relative, content in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return target


def init_git(folder: Path) -> str:
    """Make ``folder`` a git repository (nothing committed) and say what happened; a missing
    git or a folder already inside a repository is reported, never an error."""
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        return "git is not installed: run 'git init' in the project once it is."
    inside = subprocess.run([git, "-C", str(folder), "rev-parse", "--is-inside-work-tree"],
                            capture_output=True, text=True, check=False)
    if inside.returncode == 0 and inside.stdout.strip() == "true":
        return "The project lies inside an existing git repository; no new one was made."
    done = subprocess.run([git, "init", "--quiet", str(folder)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        return f"git init failed ({done.stderr.strip() or done.returncode}); run it yourself."
    return "Initialised a git repository (nothing committed yet)."
