"""Saving scikit-learn objects (the preprocessing) with skops, behind an allow-list.

skops never unpickles: it rebuilds objects from a description, and only of types it is told to
trust. Its own defaults cover most of scikit-learn; anything else a payload needs (a tree's
``Tree``, ``numpy.dtype``, a user's estimator) skops reports with ``get_untrusted_types``.
:func:`dump_skops` returns that list for the manifest and refuses, before writing, what loading
would refuse; :func:`load_skops_file` refuses an artifact unless every recorded type is on the
allow-list and the payload needs nothing the manifest does not record. The allow-list:

- **classes** from scikit-learn, NumPy, SciPy and this library's preprocessing (a function from
  those packages is not enough: a payload could name any callable there);
- names the caller trusts explicitly (``trusted=``: a user's own classes, a plugin's config).

A name like ``builtins.eval`` or ``os.system`` is never on it.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kepler.api import UnsafeModelError

#: Packages whose *classes* may be rebuilt from a payload.
TRUSTED_PACKAGES = ("sklearn", "numpy", "scipy", "kepler_tabular")

#: Modules that held Kepler's transformers before they moved here (kepler-sklearn 0.1 saved
#: pipelines naming ``kepler_sklearn.preprocessing.AsFloat``...): such payloads still load, the
#: old name standing for the class that lives here now. Nothing else is aliased.
LEGACY_MODULES = {"kepler_sklearn.preprocessing": "kepler_tabular"}
LEGACY_CLASSES = frozenset({"AsFloat", "Categories", "DatetimeFeatures"})


def _current_name(name: str) -> str:
    """The name a legacy transformer type has now (any other name unchanged)."""
    module, _, cls = name.rpartition(".")
    if module in LEGACY_MODULES and cls in LEGACY_CLASSES:
        return f"{LEGACY_MODULES[module]}.{cls}"
    return name


@contextlib.contextmanager
def _legacy_modules(names: Iterable[str]) -> Iterator[None]:
    """While a payload naming a legacy module loads, that module name resolves to a namespace
    holding exactly the moved classes (removed again afterwards, never shadowing a real one)."""
    added = []
    for module in sorted({n.rpartition(".")[0] for n in names} & set(LEGACY_MODULES)):
        if module in sys.modules or _importable(module):
            continue
        target = importlib.import_module(LEGACY_MODULES[module])
        sys.modules[module] = types.SimpleNamespace(  # type: ignore[assignment]
            **{cls: getattr(target, cls) for cls in LEGACY_CLASSES})
        added.append(module)
    try:
        yield
    finally:
        for module in added:
            sys.modules.pop(module, None)


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _resolve(name: str) -> object | None:
    """The object a dotted type name refers to, importing only trusted packages."""
    parts = name.split(".")
    if parts[0] not in TRUSTED_PACKAGES:
        return None
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            obj: object = importlib.import_module(module_name)
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def is_allowed(name: str, trusted: Iterable[str] = ()) -> bool:
    """Whether a skops payload may contain type ``name``."""
    if name in set(trusted):
        return True
    return isinstance(_resolve(_current_name(name)), type)


def refused(names: Iterable[str], trusted: Iterable[str] = ()) -> list[str]:
    """The names among ``names`` that are not allowed, sorted."""
    extra = set(trusted)
    return sorted({n for n in names if not is_allowed(n, extra)})


def dump_skops(obj: Any, path: Path, trusted: Iterable[str] = ()) -> list[str]:
    """Write a scikit-learn object with skops, refusing (before writing) what the allow-list
    would refuse at load time; returns the non-default types it needs, for the manifest's format
    options (pass them to :func:`load_skops_file` as ``recorded``)."""
    import skops.io as sio

    data = sio.dumps(obj)
    needed = sorted(sio.get_untrusted_types(data=data))
    bad = refused(needed, trusted)
    if bad:
        raise UnsafeModelError(
            f"The model contains type(s) Kepler does not trust: {', '.join(bad)}; it would not "
            "load safely.",
            hint="If this is your own code and you trust it, pass trusted="
            f"{bad!r} when training (and again, or in the plugin's trusted_types config, "
            "when loading).",
        )
    path.write_bytes(data)
    return needed


def load_skops_file(path: Path, recorded: Iterable[str], trusted: Iterable[str] = ()) -> Any:
    """Read what :func:`dump_skops` wrote: ``recorded`` (from the manifest) and every type the
    payload needs must be on the allow-list, or it is refused before anything is built."""
    import skops.io as sio

    recorded = sorted(recorded)
    trusted = list(trusted)
    bad = refused(recorded, trusted)
    if bad:
        raise UnsafeModelError(
            f"Refusing to load {path.parent}: its manifest lists type(s) outside the allow-list: "
            f"{', '.join(bad)}.",
            hint="Loading would build these types and could run their code. If they are your own "
            f"trusted classes, load with trusted={bad!r} or add them to the trusted_types of the "
            "model's plugin in kepler.yml; never for names like builtins.eval or os.system.",
        )
    needed = sorted(sio.get_untrusted_types(file=path))
    unrecorded = sorted(set(needed) - set(recorded))
    if unrecorded:
        raise UnsafeModelError(
            f"Refusing to load {path.parent}: the payload needs type(s) its manifest does not "
            f"record: {', '.join(unrecorded)}.",
            hint="The payload was replaced after saving; restore the artifact from a trusted "
            "copy or retrain.",
        )
    with _legacy_modules(needed):
        return sio.load(path, trusted=needed)
