"""Project templates: ``kepler init NAME --template classification|regression|anomaly|
forecasting|deep-learning`` (contributed through core's ``kepler_project_templates`` hook).

Each writes: ``kepler.yml`` (dev/staging/prod, Splunk by secret reference, the ``env`` section),
``requirements.txt`` (what the model needs in every environment), ``requirements-dev.txt``
(notebook tools, dev only — prod never installs them), ``notebooks/01-<template>.ipynb`` (a
starter notebook that pulls synthetic pump data from kepler-splunk's local test server with
``kp.data.from_splunk`` and fits a first model), a README and a .gitignore.

Kepler and its plugins are *not* listed in the requirements: ``kepler env create`` installs them
from wherever they are installed now (see :mod:`kepler_env.kepler_dists`).

Example::

    from kepler.api import create_project
    create_project("pump-failures", template="classification")
"""

from __future__ import annotations

# The same ignore rules as core's default template: one list to keep secrets out of git.
from kepler.api import GITIGNORE, TemplateContext

from .content import TEMPLATES, Template
from .notebook import notebook


def kepler_yml(context: TemplateContext, template: Template) -> str:
    return f"""\
# Kepler project configuration ({template.name} template).
# Secrets never go in this file: write a reference instead, e.g.
#   token: ${{secret:splunk-token}}     (stored with: kepler secrets set splunk-token)
# Layers, lowest first: defaults < your user config < this file < environments.<env>
# < environment variables KEPLER_<SECTION>__<FIELD>. See the result: kepler config show --env prod
project:
  name: {context.name}
default_env: dev

splunk:
  host: splunk.plant.local
  token: ${{secret:splunk-token}}

# Environments (kepler env …): requirements.txt everywhere, requirements-<env>.txt on top.
env:
  # manager: uv          # venv, uv, poetry, conda, docker (default: uv when installed)
  # python: "3.11"
  install_kepler: true
  # indexes:             # private package index; credentials by reference only
  #   corp:
  #     url: https://pypi.corp.local/simple
  #     username: ci-reader
  #     password: ${{secret:corp-pypi-token}}

environments:
  dev: {{}}
  staging:
    splunk: {{host: splunk-staging.plant.local}}
  prod:
    splunk: {{host: splunk-prod.plant.local}}
{template.prod_env_extra}"""


def readme(context: TemplateContext, template: Template) -> str:
    return f"""\
# {context.name}

{template.summary}

A [Kepler](https://pypi.org/project/kepler-core/) project from the `{template.name}` template.

## Start

```bash
kepler env create                 # .kepler/envs/dev: requirements.txt + requirements-dev.txt,
                                  # plus Kepler and its plugins (kepler-splunk is needed)
kepler env kernel                 # Jupyter kernel "{context.name}"
jupyter lab notebooks/            # open 01-{template.name}.ipynb with that kernel
```

The notebook starts kepler-splunk's local Splunk test server with synthetic pump data, pulls it
with `kp.data.from_splunk`, and fits a first model. Point it at your Splunk by setting
`splunk.host` in kepler.yml and `kepler secrets set splunk-token`, and drop the server cell.

## Dependencies

| file | what | environments |
|---|---|---|
| `requirements.txt` | what the model needs to run | dev, staging, prod |
| `requirements-dev.txt` | notebook and test tools | dev only |

```bash
kepler env check                  # conflicts, before they bite
kepler env lock --env prod        # requirements.lock: exact versions + hashes; commit it
kepler env sync --locked --env prod   # production gets exactly the lock
kepler env doc                    # DEPENDENCIES.md: source, license, what pulled each in
```

Secrets go in your encrypted secrets file (`kepler secrets set NAME`), never in this folder.
"""


def render(context: TemplateContext, key: str) -> dict[str, str | bytes]:
    template = TEMPLATES[key]
    return {
        "kepler.yml": kepler_yml(context, template),
        ".gitignore": GITIGNORE,
        "requirements.txt": template.requirements,
        "requirements-dev.txt": template.dev_requirements,
        "README.md": readme(context, template),
        f"notebooks/01-{template.name}.ipynb": notebook(context, template),
    }


def render_classification(context: TemplateContext) -> dict[str, str | bytes]:
    return render(context, "classification")


def render_regression(context: TemplateContext) -> dict[str, str | bytes]:
    return render(context, "regression")


def render_anomaly(context: TemplateContext) -> dict[str, str | bytes]:
    return render(context, "anomaly")


def render_forecasting(context: TemplateContext) -> dict[str, str | bytes]:
    return render(context, "forecasting")


def render_deep_learning(context: TemplateContext) -> dict[str, str | bytes]:
    return render(context, "deep-learning")
