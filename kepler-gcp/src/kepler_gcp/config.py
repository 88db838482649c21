"""The ``gcp:`` configuration section: where and how models run on Cloud Run.

Every field can differ per environment through core's layering (``environments.<env>.gcp``) and
be overridden by ``KEPLER_GCP__<FIELD>`` variables::

    gcp:
      project: plant-analytics-dev
      region: europe-west1
      service_name: "{name}-{env}"          # the Cloud Run service of deployment NAME
      min_instances: 0                      # dev may scale to zero
      max_instances: 3
      invoker: authenticated                # or public (allUsers may call it)
      hec_token_secret: kepler-hec-token    # Secret Manager secret holding the HEC token
      credentials: ${secret:gcp-deployer-key}   # a service-account key (JSON); default: ADC
    environments:
      prod:
        gcp: {project: plant-analytics, min_instances: 1, max_instances: 20,
              ingress: internal-and-cloud-load-balancing}

Endpoints (``run_endpoint``, ``build_endpoint``, ``storage_endpoint``, ``artifact_endpoint``,
``secrets_endpoint``, ``iam_endpoint``, ``resourcemanager_endpoint``, ``logging_endpoint``) are
for Private Service Connect (``https://run-myendpoint.p.googleapis.com``) and for tests
(:mod:`kepler_gcp.testing`); unset, the public Google endpoints are used.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

INGRESS = {
    "all": "INGRESS_TRAFFIC_ALL",
    "internal": "INGRESS_TRAFFIC_INTERNAL_ONLY",
    "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
}
_SIZE = re.compile(r"^(auto|\d+(\.\d+)?(Mi|Gi))$")
_CPU = re.compile(r"^(auto|\d+(\.\d+)?|\d+m)$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_WORDS = ("TOKEN", "PASSWORD", "SECRET", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL")


class GcpSettings(BaseModel):
    """Google Cloud Run deployments (kepler-gcp)."""

    model_config = ConfigDict(extra="forbid")

    project: str | None = Field(default=None, description="Google Cloud project ID.",
                                examples=["plant-analytics-prod"])
    region: str = Field(default="europe-west1", description="Cloud Run and Artifact Registry "
                        "region.", examples=["europe-west1"])
    service_name: str = Field(default="{name}", description="The Cloud Run service of deployment "
                              "NAME; {name} and {env} are replaced.", examples=["{name}-{env}"])
    repository: str = Field(default="kepler", description="Artifact Registry repository (Docker) "
                            "for model images.")
    builder: Literal["cloud-build", "docker", "auto"] = Field(
        default="cloud-build", description="Who builds the image: Cloud Build (from a source "
        "archive in the staging bucket), the local Docker engine (build and push), or auto "
        "(Docker where one answers, else Cloud Build).")
    staging_bucket: str | None = Field(default=None, description="Cloud Storage bucket for "
                                       "Cloud Build sources (default: <project>-kepler-builds).")
    # --- sizing and autoscaling ---------------------------------------------------------------
    min_instances: int = Field(default=0, ge=0, le=1000, description="Instances kept warm "
                               "(0: scale to zero).")
    max_instances: int = Field(default=10, ge=1, le=1000, description="Upper bound of "
                               "autoscaling.")
    concurrency: int = Field(default=80, ge=1, le=1000, description="Requests one instance "
                             "handles at once.")
    cpu: str = Field(default="auto", description="CPUs per instance ('1', '2', '500m'); auto: "
                     "from the memory.", examples=["2"])
    memory: str = Field(default="auto", description="Memory per instance ('512Mi', '2Gi'); auto: "
                        "from the model's artifact size.", examples=["2Gi"])
    timeout: int = Field(default=300, ge=1, le=3600, description="Request timeout in seconds.")
    cpu_idle: bool = Field(default=True, description="Throttle CPU between requests (cheaper).")
    workers: Annotated[int, Field(ge=1, le=64)] | Literal["auto"] = Field(
        default="auto", description="Model-server worker processes per instance (the "
        "container's KEPLER_SERVE__WORKERS); auto: one per whole CPU of the instance (cpu, or "
        "the CPUs auto gives the memory), at least 1. A KEPLER_SERVE__WORKERS in env_vars "
        "wins.", examples=[2, "auto"])
    # --- identity and access ------------------------------------------------------------------
    service_account: str | None = Field(default=None, description="Runtime service account "
                                        "(email, or an account ID in the project; default "
                                        "kepler-runtime).", examples=["kepler-runtime"])
    ingress: Literal["all", "internal", "internal-and-cloud-load-balancing"] = "all"
    invoker: Literal["authenticated", "public"] = Field(
        default="authenticated", description="public: anyone may call the service (allUsers "
        "gets roles/run.invoker); authenticated: callers need an ID token.")
    # --- environment of the container ---------------------------------------------------------
    env_vars: dict[str, str] = Field(default_factory=dict, description="Plain environment "
                                     "variables of the container (never secrets: see "
                                     "secret_env).")
    secret_env: dict[str, str] = Field(
        default_factory=dict, description="Environment variables read from Secret Manager: "
        "NAME: SECRET or SECRET:VERSION.", examples=[{"KEPLER_SERVE__API_KEY": "serve-api-key"}])
    hec_token_secret: str | None = Field(
        default=None, description="Secret Manager secret holding the Splunk HEC token; the "
        "container gets it as KEPLER_SPLUNK__HEC_TOKEN (a secret reference, never a value).",
        examples=["kepler-hec-token"])
    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels of the "
                                   "service.")
    # --- credentials and endpoints ------------------------------------------------------------
    credentials: SecretStr | None = Field(
        default=None, description="A service-account key: its JSON (write ${secret:NAME}) or "
        "the path of the key file. Unset: Application Default Credentials.")
    anonymous: bool = Field(default=False, description="No credentials at all (emulators and "
                            "kepler_gcp.testing only).")
    run_endpoint: str | None = None
    build_endpoint: str | None = None
    storage_endpoint: str | None = None
    artifact_endpoint: str | None = None
    secrets_endpoint: str | None = None
    iam_endpoint: str | None = None
    resourcemanager_endpoint: str | None = None
    logging_endpoint: str | None = None
    # --- waiting ------------------------------------------------------------------------------
    ready_timeout: float = Field(default=600.0, gt=0, description="Seconds to wait for a "
                                 "revision to become ready.")
    build_timeout: float = Field(default=1800.0, gt=0, description="Seconds to wait for Cloud "
                                 "Build.")
    poll_interval: float = Field(default=2.0, gt=0, description="Seconds between polls of a "
                                 "long-running operation.")

    @field_validator("credentials", mode="before")
    @classmethod
    def _key_as_text(cls, value: Any) -> Any:
        # a key's JSON given inline (KEPLER_GCP__CREDENTIALS='{...}') is read as YAML: a mapping
        return json.dumps(value) if isinstance(value, dict) else value

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: str) -> str:
        if not _CPU.match(str(value)):
            raise ValueError("write a number of CPUs ('1', '2', '0.5', '500m') or 'auto'")
        return str(value)

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _SIZE.match(str(value)):
            raise ValueError("write a size with Mi or Gi ('512Mi', '2Gi') or 'auto'")
        return str(value)

    @field_validator("env_vars")
    @classmethod
    def _plain_env(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not _ENV_NAME.match(key):
                raise ValueError(f"{key!r} is not a valid environment variable name")
            if any(word in key.upper() for word in _SECRET_WORDS):
                raise ValueError(f"{key} looks like a secret: put it in Secret Manager and list "
                                 f"it under gcp.secret_env ({key}: SECRET_NAME)")
        return value

    # --- derived ------------------------------------------------------------------------------

    def service_id(self, name: str, env: str) -> str:
        """The Cloud Run service ID of deployment ``name`` in environment ``env``."""
        return self.service_name.format(name=name, env=env)

    def runtime_account(self) -> str:
        """The runtime service account's email."""
        account = self.service_account or "kepler-runtime"
        if "@" in account:
            return account
        return f"{account}@{self.project}.iam.gserviceaccount.com"

    def bucket(self) -> str:
        return self.staging_bucket or f"{self.project}-kepler-builds"

    def registry_host(self) -> str:
        return f"{self.region}-docker.pkg.dev"

    def image_base(self) -> str:
        """``REGION-docker.pkg.dev/PROJECT/REPOSITORY`` (images are ``<base>/<model>:<tag>``)."""
        return f"{self.registry_host()}/{self.project}/{self.repository}"
