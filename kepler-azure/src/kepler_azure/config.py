"""The ``azure:`` configuration section: where and how models run on Azure.

Every field can differ per environment through core's layering (``environments.<env>.azure``)
and be overridden by ``KEPLER_AZURE__<FIELD>`` variables::

    azure:
      subscription: 00000000-0000-0000-0000-000000000000
      resource_group: plant-analytics-dev
      location: westeurope
      environment: kepler-env            # the Container Apps managed environment
      registry: plantkepler              # Azure Container Registry (name, no .azurecr.io)
      app_name: "{name}-{env}"           # the container app / group of deployment NAME
      min_replicas: 0                    # dev may scale to zero
      max_replicas: 3
      key_vault: plant-kv                # holds the HEC token secret
      hec_token_secret: kepler-hec-token
    environments:
      prod:
        azure: {resource_group: plant-analytics, min_replicas: 1, max_replicas: 20,
                ingress: internal}

``arm_endpoint`` is for sovereign clouds (``https://management.usgovcloudapi.net``) and tests
(:mod:`kepler_azure.testing`); unset, the public cloud's Resource Manager is used.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_CPU = re.compile(r"^(auto|\d+(\.\d+)?)$")
_MEMORY = re.compile(r"^(auto|\d+(\.\d+)?Gi)$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_WORDS = ("TOKEN", "PASSWORD", "SECRET", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL")
PUBLIC_ARM = "https://management.azure.com"


class AzureSettings(BaseModel):
    """Azure Container Apps and Container Instances deployments (kepler-azure)."""

    model_config = ConfigDict(extra="forbid")

    subscription: str | None = Field(default=None, description="Azure subscription ID.")
    tenant: str | None = Field(default=None, description="Microsoft Entra tenant ID (default: "
                               "the credential's).")
    resource_group: str = Field(default="kepler", description="Resource group of everything "
                                "Kepler deploys and provisions.")
    location: str = Field(default="westeurope", description="Azure region.")
    environment: str = Field(default="kepler-env", description="Container Apps managed "
                             "environment.")
    log_workspace: str = Field(default="kepler-logs", description="Log Analytics workspace of "
                               "the managed environment.")
    registry: str | None = Field(default=None, description="Azure Container Registry name (no "
                                 ".azurecr.io); images are <registry>.azurecr.io/<model>:v<N>.")
    builder: Literal["acr", "docker", "auto"] = Field(
        default="acr", description="Who builds the image: an ACR build task from a source "
        "archive, the local Docker engine, or auto (Docker where one answers, else ACR).")
    identity: str = Field(default="kepler-runtime", description="User-assigned managed "
                          "identity the app runs under (pulls images, reads Key Vault).")
    app_name: str = Field(default="{name}", description="The container app (or container "
                          "group) of deployment NAME; {name} and {env} are replaced.")
    # --- sizing and autoscaling ---------------------------------------------------------------
    min_replicas: int = Field(default=0, ge=0, le=300, description="Replicas kept warm (0: "
                              "scale to zero).")
    max_replicas: int = Field(default=10, ge=1, le=300, description="Upper bound of the HTTP "
                              "scale rule.")
    concurrent_requests: int = Field(default=50, ge=1, le=10000, description="Concurrent "
                                     "requests per replica before scaling out.")
    cpu: str = Field(default="auto", description="CPU cores per replica ('0.5', '1'); auto: "
                     "from the memory.")
    memory: str = Field(default="auto", description="Memory per replica ('1Gi', '2.5Gi'); "
                        "auto: from the model's artifact size.")
    workers: Annotated[int, Field(ge=1, le=64)] | Literal["auto"] = Field(
        default="auto", description="Model-server worker processes per replica (the "
        "container's KEPLER_SERVE__WORKERS); auto: one per whole CPU core of the replica (cpu, "
        "or the cores auto gives the memory), at least 1. A KEPLER_SERVE__WORKERS in env_vars "
        "wins.", examples=[2, "auto"])
    ingress: Literal["external", "internal"] = Field(
        default="external", description="external: reachable from the internet; internal: "
        "only inside the managed environment's network.")
    ip_address: Literal["public", "private"] = Field(
        default="public", description="Container Instances: a public IP (with a DNS label) or "
        "a private one in subnet_id.")
    subnet_id: str | None = Field(default=None, description="Container Instances with a "
                                  "private IP: the subnet's resource ID.")
    # --- environment of the container ---------------------------------------------------------
    env_vars: dict[str, str] = Field(default_factory=dict, description="Plain environment "
                                     "variables (never secrets: see hec_token_secret).")
    key_vault: str | None = Field(default=None, description="Key Vault holding the secrets the "
                                  "app reads.")
    hec_token_secret: str | None = Field(
        default=None, description="Key Vault secret with the Splunk HEC token: a Container "
        "Apps secret referencing it (Container Instances: a secure variable), never a value.")
    tags: dict[str, str] = Field(default_factory=dict, description="Extra resource tags.")
    # --- endpoints and waiting ----------------------------------------------------------------
    arm_endpoint: str = Field(default=PUBLIC_ARM, description="Azure Resource Manager endpoint "
                              "(sovereign clouds, tests).")
    ready_timeout: float = Field(default=900.0, gt=0, description="Seconds to wait for a "
                                 "long-running operation (a revision to provision).")
    build_timeout: float = Field(default=1800.0, gt=0, description="Seconds to wait for an ACR "
                                 "build.")
    poll_interval: float = Field(default=5.0, ge=0, description="Seconds between polls of a "
                                 "long-running operation (when ARM sends no Retry-After).")

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: str) -> str:
        if not _CPU.match(str(value)):
            raise ValueError("write a number of cores ('0.5', '1', '2') or 'auto'")
        return str(value)

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _MEMORY.match(str(value)):
            raise ValueError("write a size in Gi ('1Gi', '2.5Gi') or 'auto'")
        return str(value)

    @field_validator("env_vars")
    @classmethod
    def _plain_env(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not _ENV_NAME.match(key):
                raise ValueError(f"{key!r} is not a valid environment variable name")
            if any(word in key.upper() for word in _SECRET_WORDS):
                raise ValueError(f"{key} looks like a secret: keep it in Key Vault (azure."
                                 "key_vault), never in env_vars")
        return value

    # --- derived ------------------------------------------------------------------------------

    def app_id(self, name: str, env: str) -> str:
        """The container app / group name of deployment ``name`` in environment ``env``."""
        return self.app_name.format(name=name, env=env)

    def login_server(self) -> str:
        return f"{self.registry}.azurecr.io"

    def arm(self) -> str:
        return self.arm_endpoint.rstrip("/")
