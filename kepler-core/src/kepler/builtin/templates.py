"""The default project template (``kepler init NAME``)."""

from __future__ import annotations

import json

from ..records import TemplateContext

GITIGNORE = """\
# Kepler: keep secrets, environments and generated artifacts out of git.
.kepler/
.venv/
.envs/
.env
*.env
secrets.*
*.key
*.pem
# data and models are reproducible from Splunk and the registry
data/
*.parquet
# Python and Jupyter
__pycache__/
*.py[cod]
.ipynb_checkpoints/
"""


def kepler_yml(context: TemplateContext) -> str:
    return f"""\
# Kepler project configuration.
# Secrets never go in this file: write a reference instead, e.g.
#   token: ${{secret:splunk-token}}     (stored with: kepler secrets set splunk-token)
#   token: ${{env:SPLUNK_TOKEN}}        (read from the environment)
# Layers, lowest first: defaults < your user config < this file < environments.<env>
# < environment variables KEPLER_<SECTION>__<FIELD>. See the result: kepler config show --env prod
project:
  name: {context.name}
default_env: dev

core:
  log_level: WARNING     # INFO shows each step; DEBUG everything

environments:
  dev: {{}}
  staging: {{}}
  prod:
    core:
      log_level: WARNING
"""


def readme(context: TemplateContext) -> str:
    return f"""\
# {context.name}

A [Kepler](https://pypi.org/project/kepler-core/) project.

```bash
kepler config show            # the configuration in force and where each value comes from
kepler config validate        # check connectivity, credentials and permissions
kepler config check           # make sure no secret sits in a file git tracks
```

Notebooks live in `notebooks/`; dependencies in `requirements.txt`.
Secrets go in your encrypted secrets file (`kepler secrets set NAME`), never in this folder.
"""


def notebook(context: TemplateContext) -> str:
    cells = [
        {"cell_type": "markdown", "metadata": {},
         "source": [f"# {context.name}: first look\n",
                    "Pull data with your own SPL, train, compare, ship."]},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": ["import kepler as kp\n", "\n",
                    "cfg = kp.config.load()\n", "cfg.to_dict()"]},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": ["[(p.name, p.status) for p in kp.plugins.list()]"]},
    ]
    document = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1) + "\n"


def core_requirement(version: str) -> str:
    """``kepler-core>=VERSION`` from an index, or ``kepler-core @ file:///…`` when Kepler runs
    from a clone (where kepler-core may not be published)."""
    from ..installs import requirement

    found = requirement("kepler-core")
    if found == "kepler-core":
        return f"kepler-core>={version}"
    from pathlib import Path

    return f"kepler-core @ {Path(found).as_uri()}"


def render_default(context: TemplateContext) -> dict[str, str | bytes]:
    return {
        "kepler.yml": kepler_yml(context),
        ".gitignore": GITIGNORE,
        "requirements.txt": core_requirement(context.kepler_version) + "\n",
        "requirements-dev.txt": "-r requirements.txt\njupyterlab\n",
        "README.md": readme(context),
        "notebooks/01-explore.ipynb": notebook(context),
    }
