"""The ``splunk:`` configuration section.

Read from kepler.yml / the user config / ``KEPLER_SPLUNK__<FIELD>`` variables by Kepler core.
Several named connections share the section's values as defaults::

    splunk:
      host: splunk.plant.local
      token: ${secret:splunk-token}
      connections:
        lab: {host: splunk-lab.plant.local, verify: false}

``kp.data.from_splunk(spl, connection="lab")`` then uses the lab host with the shared token.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

DEFAULT_CONNECTION = "default"


class SplunkConnection(BaseModel):
    """How to reach one Splunk deployment's management port (REST API)."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="localhost", examples=["splunk.plant.local"])
    port: int = Field(default=8089, ge=1, le=65535, examples=[8089])
    scheme: Literal["https", "http"] = "https"
    token: SecretStr | None = Field(
        default=None, description="Splunk authentication token (Bearer), preferred over a password."
    )
    username: str | None = None
    password: SecretStr | None = None
    verify: bool = Field(default=True, description="Verify the server's TLS certificate.")
    ca_file: str | None = Field(
        default=None, description="CA bundle to verify a private or self-signed certificate."
    )
    app: str | None = Field(default=None, examples=["search"])
    owner: str | None = Field(default=None, examples=["nobody"])
    timeout: float = Field(default=60.0, gt=0, description="Seconds to wait for one HTTP answer.")
    job_timeout: float = Field(
        default=3600.0, gt=0, description="Seconds a search job may run before it is cancelled."
    )
    page_size: int = Field(
        default=50_000,
        ge=1,
        description="Rows per results request (Splunk caps it at "
        "limits.conf [restapi] maxresultrows, 50,000 by default).",
    )
    max_workers: int = Field(default=2, ge=1, le=16, description="Result pages fetched at once.")
    parallel: int = Field(
        default=1,
        ge=1,
        le=32,
        description="Time slices a search's range is cut into, searched as that many concurrent "
        "jobs (plain event searches only; see kp.data.from_splunk).",
    )

    # --- HTTP Event Collector (writing results back) ---------------------------------------------
    hec_url: str | None = Field(
        default=None,
        description="HEC base URL; default: <scheme>://<host>:8088.",
        examples=["https://splunk.plant.local:8088"],
    )
    hec_token: SecretStr | None = Field(default=None, description="HEC token (a GUID).")
    hec_verify: bool | None = Field(
        default=None, description="Verify HEC's TLS certificate (default: same as verify)."
    )
    hec_ca_file: str | None = Field(
        default=None, description="CA bundle for HEC (default: ca_file)."
    )
    hec_ack: bool = Field(
        default=False, description="Use indexer acknowledgement (the token must have it enabled)."
    )
    hec_ack_timeout: float = Field(
        default=60.0, gt=0, description="Seconds before an unacknowledged batch is sent again."
    )
    hec_ack_poll: float = Field(default=0.5, gt=0, description="Seconds between ack polls.")
    hec_batch_bytes: int = Field(
        default=800_000,
        ge=1_000,
        description="Uncompressed bytes per request; keep below the server's "
        "limits.conf [http_input] max_content_length.",
    )
    hec_concurrency: int = Field(default=4, ge=1, le=32, description="Requests in flight at once.")
    hec_max_retries: int = Field(
        default=6, ge=0, description="Retries of one batch (503, 5xx, timeouts, dropped "
        "connections) before it goes to the spool."
    )
    hec_backoff: float = Field(
        default=0.25, gt=0, description="First retry delay in seconds; doubles each time, with "
        "jitter."
    )
    hec_timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for HEC to answer.")

    def hec_base_url(self) -> str:
        if self.hec_url:
            return self.hec_url.rstrip("/")
        return f"{self.scheme}://{self.host}:8088"


class SplunkSettings(SplunkConnection):
    """The section: the default connection's fields, plus named connections and the cache."""

    connections: dict[str, dict[str, Any]] = Field(default_factory=dict)
    cache: bool = Field(
        default=False,
        description="Keep results of searches whose time range lies wholly in the "
        "past as Parquet in the project, and reuse them.",
    )
    cache_dir: str | None = Field(
        default=None, description="Cache folder (default: <project>/.kepler/cache/splunk)."
    )
    spool_dir: str | None = Field(
        default=None, description="Where undelivered HEC batches wait (default: "
        "<project>/.kepler/spool/hec, outside git)."
    )

    @model_validator(mode="after")
    def _check_connections(self) -> SplunkSettings:
        for name in self.connections:
            self.connection(name)  # validates each named connection eagerly
        return self

    def connection(self, name: str | None = None) -> SplunkConnection:
        """The named connection, its unset fields taken from the section's own values."""
        base = {k: getattr(self, k) for k in SplunkConnection.model_fields}
        if name in (None, DEFAULT_CONNECTION):
            return SplunkConnection.model_validate(base)
        assert name is not None
        try:
            overrides = self.connections[name]
        except KeyError:
            from kepler.api import ConfigError

            known = ", ".join([DEFAULT_CONNECTION, *self.connections])
            raise ConfigError(
                f"There is no Splunk connection named {name!r}.",
                hint=f"Known connections: {known}. Add it under splunk.connections.{name} in "
                "kepler.yml.",
            ) from None
        return SplunkConnection.model_validate({**base, **(overrides or {})})
