"""kepler-env's plugin module: records only, imported each time ``kepler`` starts.

Everything heavy (pydantic models, subprocess work, templates) sits behind the records' import
strings and inside the functions, so this module costs next to nothing at start-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kepler.api import (
    CheckResult,
    CommandSpec,
    ConfigSectionSpec,
    EnvManagerSpec,
    ProjectTemplateSpec,
    SdkFunctionSpec,
    hookimpl,
)

if TYPE_CHECKING:
    from kepler.api import Config

#: The range of Kepler's plugin API this plugin was written for.
KEPLER_PLUGIN_API = ">=1.0,<2"

MANAGERS = {
    "venv": ("kepler_env.managers.venv:VenvManager", "Standard library venv + pip."),
    "uv": ("kepler_env.managers.uv:UvManager", "uv venv + uv pip (the default when uv is "
           "installed)."),
    "poetry": ("kepler_env.managers.poetry:PoetryManager", "Poetry: pyproject.toml + "
               "poetry.lock."),
    "conda": ("kepler_env.managers.conda:CondaManager", "conda, mamba or micromamba from "
              "environment.yml (CUDA packages with --gpu)."),
    "docker": ("kepler_env.managers.docker:DockerManager", "A Docker image built from the lock "
               "(Dockerfile written with --base-image)."),
}

TEMPLATES = {
    "classification": "Predict a failure flag from sensor readings (scikit-learn classifier).",
    "regression": "Predict a continuous value (power draw) from sensor readings.",
    "anomaly": "Unsupervised anomaly detection on sensor readings (IsolationForest).",
    "forecasting": "Forecast a sensor's next values from lagged features.",
    "deep-learning": "A PyTorch network on sensor readings (CPU or GPU).",
}

SDK_FUNCTIONS = ("create", "update", "lock", "sync", "check", "doc", "list", "remove", "run",
                 "kernel", "info")


@hookimpl
def kepler_env_managers() -> Iterator[EnvManagerSpec]:
    for name, (factory, description) in MANAGERS.items():
        yield EnvManagerSpec(name=name, target=factory, description=description)


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="env", target="kepler_env.cli:env",
                      help="Isolated per-project environments: create, lock, sync, check, doc.")


@hookimpl
def kepler_sdk_functions() -> Iterator[SdkFunctionSpec]:
    for name in SDK_FUNCTIONS:
        yield SdkFunctionSpec(namespace="env", name=name, target=f"kepler_env.api:{name}")


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(name="env", target="kepler_env.settings:EnvSettings",
                            description="Project environments: manager, Python, indexes.")


@hookimpl
def kepler_project_templates() -> Iterator[ProjectTemplateSpec]:
    for name, description in TEMPLATES.items():
        yield ProjectTemplateSpec(name=name, description=description,
                                  target=f"kepler_env.templates:render_{name.replace('-', '_')}")


@hookimpl
def kepler_validate(config: Config) -> Iterator[CheckResult]:
    from .checks import validate

    yield from validate(config)
