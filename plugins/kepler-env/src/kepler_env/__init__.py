"""kepler-env: isolated per-project Python environments for Kepler projects.

Use it through ``kepler env …`` or ``kp.env.*`` (see :mod:`kepler_env.api`); managers
(venv, uv, poetry, conda, docker) are in :mod:`kepler_env.managers`. Importing this package
imports nothing else: Kepler loads it at every start.
"""

__version__ = "0.1.0"
