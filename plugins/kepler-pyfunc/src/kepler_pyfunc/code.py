"""Finding, copying and importing a model's code.

Stored code is imported under a name unique to its content (``kepler_code_<sha>``), so two models
whose files are both called ``model.py`` never share a module, and it is imported from a private
copy, never from the artifact folder itself: Python would write ``__pycache__`` there, and
the artifact's hashes must keep matching (and a deployed artifact may be read-only).
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from types import ModuleType

from kepler.api import ModelError

#: What the model class must define, and the hint for each.
REQUIRED_METHODS = {
    "load": "def load(self, artifacts: dict[str, Path]) -> None: read your files here",
    "predict": "def predict(self, frame: pandas.DataFrame): return one prediction per row",
}
#: The private copies' folder prefix, which tells the user's frames in a traceback.
COPY_PREFIX = "kepler-code-"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".*")


def check_source(path: Path | str) -> Path:
    """The code's path, refused unless it is a ``.py`` file or a package folder."""
    source = Path(path).expanduser().resolve()
    if source.is_file() and source.suffix == ".py":
        return source
    if source.is_dir() and (source / "__init__.py").is_file():
        return source
    if source.is_dir():
        raise ModelError(f"{source} is a folder without __init__.py, so not a Python package.",
                         hint="Add an __init__.py that imports your model class, or point at "
                         "the .py file that defines it.")
    raise ModelError(f"{source} is not a Python file or package folder.",
                     hint="Point at the .py file (or package folder) defining a class with "
                     "load(self, artifacts) and predict(self, frame).")


def code_digest(source: Path) -> str:
    """sha256 over the code's files (names and contents), what names its module."""
    digest = hashlib.sha256()
    files = [source] if source.is_file() else sorted(
        p for p in source.rglob("*.py") if "__pycache__" not in p.parts)
    for path in files:
        digest.update(path.relative_to(source.parent).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def copy_code(source: Path, destination: Path) -> Path:
    """Copy the file or package into ``destination`` (created); return the copy's path."""
    destination.mkdir(parents=True, exist_ok=True)
    target = destination / source.name
    if source.is_file():
        shutil.copy2(source, target)
    else:
        shutil.copytree(source, target, ignore=IGNORED)
    return target


def import_code(source: Path) -> tuple[ModuleType, tempfile.TemporaryDirectory[str]]:
    """Import a private copy of the code; return the module and the copy (keep it alive)."""
    copy = tempfile.TemporaryDirectory(prefix=COPY_PREFIX)
    copied = copy_code(source, Path(copy.name))
    name = f"kepler_code_{code_digest(source)[:16]}"
    if name in sys.modules:
        return sys.modules[name], copy
    if copied.is_file():
        spec = importlib.util.spec_from_file_location(name, copied)
    else:
        spec = importlib.util.spec_from_file_location(
            name, copied / "__init__.py", submodule_search_locations=[str(copied)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ModelError(f"Importing {source.name} failed: {type(exc).__name__}: {exc}",
                         hint=_where(exc) + "Inside a package, import its own modules "
                         "relatively (from .features import x); install what it imports and "
                         "list it in requirements.") from exc
    return module, copy


def _where(exc: BaseException) -> str:
    """Where in the user's code it went wrong: the deepest frame of the code's copy (a
    library's own frame deeper down says less), else the deepest frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if COPY_PREFIX in f.filename] or list(frames)
    if not own:
        return ""
    return f"(at {Path(own[-1].filename).name}:{own[-1].lineno}) "


def find_class(module: ModuleType, class_name: str | None, source: Path) -> type:
    """The model class: ``class_name``, or the one class the code defines with ``predict``."""
    if class_name:
        found = getattr(module, class_name, None)
        if not inspect.isclass(found):
            raise ModelError(f"{source.name} defines no class {class_name!r}.",
                             hint=f"Classes found: {', '.join(_classes(module)) or 'none'}.")
        return check_class(found)
    candidates = [cls for cls in _own_classes(module) if callable(getattr(cls, "predict", None))]
    if len(candidates) == 1:
        return check_class(candidates[0])
    names = ", ".join(c.__name__ for c in candidates) or "none"
    raise ModelError(f"{source.name}: expected one class with predict(self, frame); found {names}.",
                     hint="Name it: class_name='MyModel' (CLI: --class MyModel), or define one "
                     "class with load(self, artifacts) and predict(self, frame).")


def check_class(cls: type) -> type:
    """Refuse a class lacking ``load`` or ``predict``, saying what to write."""
    for method, signature in REQUIRED_METHODS.items():
        if not callable(getattr(cls, method, None)):
            raise ModelError(f"Model class {cls.__name__} has no {method}() method.",
                             hint=f"Add it: {signature}.")
    return cls


def _own_classes(module: ModuleType) -> list[type]:
    return [obj for obj in vars(module).values()
            if inspect.isclass(obj) and obj.__module__.startswith(module.__name__)]


def _classes(module: ModuleType) -> list[str]:
    return sorted(c.__name__ for c in _own_classes(module))


def describe_call_error(what: str, cls: type, exc: BaseException) -> str:
    return f"{cls.__name__}.{what} raised {type(exc).__name__}: {exc} {_where(exc)}".rstrip()


__all__ = ["check_class", "check_source", "code_digest", "copy_code", "find_class",
           "import_code"]
