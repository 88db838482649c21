"""The ``serve:`` and ``pipelines:`` configuration sections.

::

    serve:
      port: 8080                      # --port and $PORT win over it
      api_key: ${secret:serve-api-key}   # then every request but health checks needs X-API-Key
      max_batch: 10000                # instances per request
      max_body_bytes: 20000000
      log_to_splunk: true             # every prediction to HEC, in the background
      index: ml_predictions

    pipelines:
      hourly-pump-scores:
        model: pump-failure:prod
        spl: search index=pumps
        earliest: -1h
        latest: now
        schedule: "5 * * * *"         # cron, for your scheduler: kepler pipeline cron
        destination: {type: splunk, index: ml_predictions}

Environment variables override as everywhere: ``KEPLER_SERVE__PORT``,
``KEPLER_SERVE__LOG_TO_SPLUNK=true``, ``KEPLER_PIPELINES__HOURLY-PUMP-SCORES__MODEL``...
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    SecretStr,
    field_validator,
    model_validator,
)

#: Header checked for the API key (``Authorization: Bearer KEY`` is accepted too).
API_KEY_HEADER = "X-API-Key"


class ServeSettings(BaseModel):
    """The model server (``kepler serve``, local deployments, containers)."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="Interface to bind; containers use "
                      "0.0.0.0 (their entrypoint sets it).", examples=["127.0.0.1"])
    port: int = Field(default=8080, ge=1, le=65535, description="Port when neither --port nor "
                      "$PORT is set.")
    api_key: SecretStr | None = Field(default=None, description="When set, every request except "
                                      "health checks needs it in the X-API-Key header (or "
                                      "Authorization: Bearer).")
    max_batch: int = Field(default=10_000, ge=1, description="Most instances in one request.")
    max_body_bytes: int = Field(default=20_000_000, ge=1_000, description="Largest request body "
                                "accepted (413 beyond).")
    extra_fields: Literal["forbid", "ignore"] = Field(
        default="forbid", description="Fields that are not features: refused (422), so a "
        "misspelled optional feature is not silently imputed, or ignored.")
    fast_path: bool = Field(default=True, description="Score with the compiled path where the "
                            "model allows it (checked for identical predictions at start).")
    docs: bool = Field(default=True, description="Serve /docs and /openapi.json.")
    access_log: bool = Field(default=True, description="One JSON line per request on stderr.")
    graceful_seconds: float = Field(default=10.0, gt=0, description="On SIGTERM: seconds to "
                                    "finish requests in flight and send queued predictions.")
    # --- prediction logging to Splunk -------------------------------------------------------
    log_to_splunk: bool = Field(default=False, description="Send every prediction (inputs, "
                                "output, version, latency) to Splunk HEC in the background.")
    index: str | None = Field(default=None, description="HEC index for predictions (default: "
                              "the HEC token's).", examples=["ml_predictions"])
    sourcetype: str = "_json"
    source: str = "kepler-serve"
    connection: str | None = Field(default=None, description="Named Splunk connection "
                                   "(splunk.connections.NAME).")
    log_queue: int = Field(default=50_000, ge=1, description="Predictions waiting to be sent; "
                           "beyond that new ones are dropped and counted, never blocking a "
                           "request.")
    log_batch: int = Field(default=5_000, ge=1, description="Most predictions per HEC write.")
    log_interval: float = Field(default=1.0, gt=0, description="Seconds between HEC writes.")


_CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$|^[A-Za-z,]+$")
_CRON_ALIASES = {"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually",
                 "@midnight", "@reboot"}


class Destination(BaseModel):
    """Where a pipeline's predictions go."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["splunk", "file"] = "splunk"
    index: str | None = Field(default=None, description="splunk: the HEC index.")
    sourcetype: str = "_json"
    source: str = "kepler-batch"
    connection: str | None = None
    path: str | None = Field(default=None, description="file: .parquet, .csv or .jsonl "
                             "(relative to the project).")

    @field_validator("path")
    @classmethod
    def _suffix(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().endswith((".parquet", ".pq", ".csv",
                                                             ".jsonl", ".ndjson")):
            raise ValueError("must end in .parquet, .csv or .jsonl")
        return value


class Pipeline(BaseModel):
    """One batch scoring job: data in (SPL or a file), a model, predictions out."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="NAME, NAME:VERSION, NAME:ALIAS or an artifact folder.",
                       examples=["pump-failure:prod"])
    spl: str | None = Field(default=None, examples=["search index=pumps"])
    earliest: str | None = Field(default=None, examples=["-1h"])
    latest: str | None = Field(default=None, examples=["now"])
    connection: str | None = Field(default=None, description="Named Splunk connection for spl.")
    input: str | None = Field(default=None, description="Or: a table file to score.")
    keep: list[str] = Field(default_factory=list, description="Columns copied next to each "
                            "prediction (ids, _time); with splunk they ride in the event.")
    schedule: str | None = Field(default=None, description="Cron expression (5 fields, or "
                                 "@hourly...), for the scheduler that runs "
                                 "'kepler pipeline run NAME'.", examples=["5 * * * *"])
    destination: Destination = Field(default_factory=Destination)
    description: str = ""

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if value in _CRON_ALIASES:
            return value
        fields = value.split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            raise ValueError("must be a cron expression with 5 fields (minute hour day month "
                             "weekday), e.g. '5 * * * *', or @hourly/@daily/@weekly")
        return value

    @model_validator(mode="after")
    def _source_and_destination(self) -> Pipeline:
        if (self.spl is None) == (self.input is None):
            raise ValueError("give exactly one of spl (a Splunk search) or input (a file)")
        if self.destination.type == "file" and not self.destination.path:
            raise ValueError("destination.type file needs destination.path")
        return self


class Pipelines(RootModel[dict[str, Pipeline]]):
    """The ``pipelines:`` section: pipeline name -> :class:`Pipeline`."""

    root: dict[str, Pipeline] = Field(default_factory=dict)
