"""``--manager uv`` (the default when uv is installed): ``uv venv`` + ``uv pip``.

The same environments, requirements and lock as the venv manager, installed by uv: from a warm
cache it is one to two orders of magnitude faster than pip. uv comes with kepler-env (the ``uv``
wheel from PyPI carries the binary); a ``uv`` on PATH works too.

Example::

    from kepler_env.managers.uv import UvManager
    UvManager().sync(project, {"env": "prod", "locked": True})
"""

from __future__ import annotations

from .base import PipFamilyManager
from .installers import UvInstaller


class UvManager(PipFamilyManager):
    name = "uv"
    installer = UvInstaller()
