"""The ``env:`` configuration section (``KEPLER_ENV__<FIELD>`` variables override it).

Like every section it is layered, so ``environments.prod.env`` can change what prod installs::

    env:
      manager: uv                 # venv, uv, poetry, conda, docker (default: uv when available)
      python: "3.11"              # default: the Python running Kepler
      indexes:
        corp:                     # a private index; the password is a reference, never a value
          url: https://pypi.corp.local/simple
          username: ci-reader
          password: ${secret:corp-pypi-token}
    environments:
      prod:
        env: {install_kepler: true}
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

DEFAULT_ENVS_DIR = ".kepler/envs"
DEFAULT_GPU_PACKAGES = ("cuda-version>=12,<13", "cuda-runtime", "cudnn")


class IndexSettings(BaseModel):
    """A package index; credentials come from references so no file ever holds them."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(examples=["https://pypi.corp.local/simple"])
    username: str | None = Field(default=None, description="User name, or a reference to one.")
    password: SecretStr | None = Field(
        default=None, description="Password or token: write ${secret:NAME}, never the value.")
    default: bool = Field(
        default=False, description="Replace PyPI with this index instead of adding to it.")

    @field_validator("url")
    @classmethod
    def _no_credentials_in_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https", "file"):
            raise ValueError("the index URL must start with https://, http:// or file://")
        if parts.username or parts.password:
            raise ValueError("credentials do not belong in the URL: set username and "
                             "password (as ${secret:NAME}) instead")
        return value.rstrip("/") + "/"


class EnvSettings(BaseModel):
    """How ``kepler env`` builds the project's environments."""

    model_config = ConfigDict(extra="forbid")

    manager: str | None = Field(
        default=None, examples=["uv"],
        description="Environment manager: venv, uv, poetry, conda, docker or a plugin's. "
        "Default: uv when it is installed, else venv.")
    python: str | None = Field(
        default=None, examples=["3.11"],
        description="Python version (or interpreter path). Default: the one running Kepler.")
    envs_dir: str = Field(
        default=DEFAULT_ENVS_DIR,
        description="Folder, relative to the project, holding one environment per "
        "configuration environment (dev, staging, prod).")
    requirements: list[str] | None = Field(
        default=None, examples=[["requirements.txt", "requirements-gpu.txt"]],
        description="Requirement files of this environment. Default: requirements.txt plus "
        "requirements-<env>.txt when that file exists (dev gets requirements-dev.txt).")
    lock_file: str | None = Field(
        default=None, description="Lock file. Default: requirements.lock for requirements.txt "
        "alone, requirements-<env>.lock when the environment adds its own file.")
    indexes: dict[str, IndexSettings] = Field(
        default_factory=dict, description="Package indexes by name, credentials by reference.")
    ssh_key: str | None = Field(
        default=None, description="SSH private key for git+ssh:// requirements (used in place, "
        "through GIT_SSH_COMMAND; never copied).")
    install_kepler: bool = Field(
        default=True, description="Also install Kepler and the project's enabled plugins, from "
        "where they are installed now (PyPI version, local folder, git commit).")
    gpu: bool = Field(default=False, description="Add GPU (CUDA) packages where the manager can.")
    gpu_packages: list[str] = Field(
        default_factory=lambda: list(DEFAULT_GPU_PACKAGES),
        description="Conda packages --gpu adds (conda-forge names).")
    conda_channels: list[str] = Field(default_factory=lambda: ["conda-forge"])
    base_image: str | None = Field(
        default=None, examples=["python:3.11-slim"],
        description="Docker base image. Default: python:<version>-slim.")
