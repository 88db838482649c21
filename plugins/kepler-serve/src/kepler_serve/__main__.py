"""``python -m kepler_serve MODEL [--host H] [--port P]``: serve a model (local deployments and
containers run this)."""

import sys

from .server import main

sys.exit(main())
