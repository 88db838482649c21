"""Which types a skops payload may contain: the allow-list checked at save and at load.

skops never unpickles: it rebuilds objects from a description, and only of types it is told to
trust. Its own defaults cover most of scikit-learn; anything else a payload needs (a tree's
``Tree``, ``numpy.dtype``, a user's estimator) skops reports with ``get_untrusted_types``. Kepler
records that list in the manifest at save time and, at load time, refuses the artifact unless
every recorded type is on this allow-list:

- **classes** from scikit-learn, NumPy, SciPy and Kepler's own preprocessing (a function from those
  packages is not enough: a payload could name any callable there);
- names the user trusts explicitly: ``trusted=["mypkg.MyModel"]`` when training or loading, or the
  ``sklearn.trusted_types`` list in kepler.yml (so a server loads them too).

A name like ``builtins.eval`` or ``os.system`` is never on it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

#: Packages whose *classes* may be rebuilt from a payload.
TRUSTED_PACKAGES = ("sklearn", "numpy", "scipy", "kepler_sklearn")


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
    """Whether a payload may contain type ``name``."""
    if name in set(trusted):
        return True
    return isinstance(_resolve(name), type)


def refused(names: Iterable[str], trusted: Iterable[str] = ()) -> list[str]:
    """The names among ``names`` that are not allowed, sorted."""
    extra = set(trusted)
    return sorted({n for n in names if not is_allowed(n, extra)})


def configured() -> list[str]:
    """``sklearn.trusted_types`` from the configuration in force."""
    from kepler.config import load

    return list(load().section("sklearn").trusted_types)
