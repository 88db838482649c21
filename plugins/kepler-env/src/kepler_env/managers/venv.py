"""``--manager venv``: the standard library's venv and the environment's own pip.

Nothing to install beyond Python itself; the fallback when uv is not there.

Example::

    from kepler_env.managers.venv import VenvManager
    VenvManager().create(project, {"env": "prod"})
"""

from __future__ import annotations

from .base import PipFamilyManager
from .installers import PipInstaller


class VenvManager(PipFamilyManager):
    name = "venv"
    installer = PipInstaller()
