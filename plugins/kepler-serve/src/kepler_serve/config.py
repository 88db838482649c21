"""The ``serve:`` and ``pipelines:`` configuration sections.

::

    serve:
      port: 8080                      # --port and $PORT win over it
      api_key: ${secret:serve-api-key}   # then every request but health checks needs X-API-Key
      max_batch: 10000                # instances per request
      max_body_bytes: 20000000
      strict_inputs: false            # true (or --strict-inputs): 422 for numeric strings,
                                      # nulls, unseen categories and fields that are not features
      log_sink: jsonl                 # every prediction through this sink, in the background
      log_sink_options: {path: preds.jsonl}
      # or the Splunk shorthand: log_to_splunk: true + index: ml_predictions (sink splunk-hec)

    pipelines:
      hourly-pump-scores:
        model: pump-failure:prod
        connector: splunk             # any installed connector; spl: is its shorthand
        query: search index=pumps
        earliest: -1h
        latest: now
        schedule: "5 * * * *"         # cron, for your scheduler: kepler pipeline cron
        destination: {sink: splunk-hec, options: {index: ml_predictions}}
        # shorthands: destination: {type: splunk, index: ...} or {type: file, path: out.csv}

Environment variables override as everywhere: ``KEPLER_SERVE__PORT``,
``KEPLER_SERVE__LOG_TO_SPLUNK=true``, ``KEPLER_PIPELINES__HOURLY-PUMP-SCORES__MODEL``...
"""

from __future__ import annotations

import re
from typing import Any, Literal

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
    strict_inputs: bool = Field(
        default=False, description="Refuse (422) what the model would score but was not seen "
        "in training: numeric strings, null in a feature no training row lacked, unseen "
        "categories, fields that are not features. Off: those are coerced, imputed, scored as "
        "the model's encoder scores them (and counted in /metadata) and ignored.")
    extra_fields: Literal["forbid", "ignore"] | None = Field(
        default=None, description="Fields that are not features (the target, _time...): "
        "ignored, as the SDK and batch scoring ignore them, or refused (422, so a misspelled "
        "optional feature is not silently imputed). Default: refused in strict mode only.")
    fast_path: bool = Field(default=True, description="Score with the compiled path where the "
                            "model allows it (checked for identical predictions at start).")
    compiler: str = Field(
        default="auto", description="Which compiled scorer serves, when fast_path is on: auto "
        "(installed compilers by priority, e.g. kepler-edge's onnxruntime, then the model "
        "format's own), a compiler's name (it, then the format's own), or format (the "
        "format's own only). Each is checked against the model at start; one that fails is "
        "passed over with a warning.", examples=["auto", "onnxruntime", "format"])
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes sharing the "
                         "port (one per core). Each scores, logs its predictions and counts "
                         "its requests in /metadata on its own.")
    docs: bool = Field(default=True, description="Serve /docs and /openapi.json.")
    access_log: bool = Field(default=True, description="One JSON line per request on stderr.")
    graceful_seconds: float = Field(default=10.0, gt=0, description="On SIGTERM: seconds to "
                                    "finish requests in flight and send queued predictions.")
    # --- prediction logging ------------------------------------------------------------------
    log_sink: str | None = Field(default=None, description="Send every prediction (inputs, "
                                 "output, version, latency) through this sink in the "
                                 "background.", examples=["splunk-hec", "jsonl"])
    log_sink_options: dict[str, Any] = Field(default_factory=dict, description="Options "
                                             "given to the sink's write.",
                                             examples=[{"path": "preds.jsonl"}])
    log_to_splunk: bool = Field(default=False, description="Shorthand for log_sink: "
                                "splunk-hec with index, sourcetype, source and connection.")
    index: str | None = Field(default=None, description="HEC index for predictions (default: "
                              "the HEC token's).", examples=["ml_predictions"])
    sourcetype: str = "_json"
    source: str = "kepler-serve"
    connection: str | None = Field(default=None, description="Named Splunk connection "
                                   "(splunk.connections.NAME).")
    log_queue: int = Field(default=50_000, ge=1, description="Predictions waiting to be sent; "
                           "beyond that new ones are dropped and counted, never blocking a "
                           "request.")
    log_batch: int = Field(default=5_000, ge=1, description="Most predictions per sink write.")
    log_interval: float = Field(default=1.0, gt=0, description="Seconds between sink writes.")
    log_writer: Literal["process", "thread"] = Field(
        default="process", description="Where the sink's writes run: a process of its own "
        "(the requests never wait for the interpreter while events are encoded), or a "
        "thread of the server. Sinks registered at run time, not installed, always use a "
        "thread.")

    @model_validator(mode="after")
    def _one_log_sink(self) -> ServeSettings:
        if self.log_to_splunk and self.log_sink not in (None, "splunk-hec"):
            raise ValueError(f"log_to_splunk is the splunk-hec sink, but log_sink is "
                             f"{self.log_sink!r}: set one of them")
        return self

    def prediction_sink(self) -> tuple[str, dict[str, Any]] | None:
        """The sink the prediction log writes through and its options, shorthands resolved;
        None when predictions are not logged."""
        if self.log_to_splunk or (self.log_sink == "splunk-hec" and not self.log_sink_options):
            options: dict[str, Any] = {"index": self.index, "sourcetype": self.sourcetype,
                                       "source": self.source, "connection": self.connection,
                                       "progress": False}
            options = {k: v for k, v in options.items() if v is not None}
            return "splunk-hec", {**options, **self.log_sink_options}
        if self.log_sink is None:
            return None
        return self.log_sink, dict(self.log_sink_options)


_CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$|^[A-Za-z,]+$")
_CRON_ALIASES = {"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually",
                 "@midnight", "@reboot"}


class Destination(BaseModel):
    """Where a pipeline's predictions go: a sink (``{sink: NAME, options: {...}}``), or the
    shorthands ``{type: splunk, index: ...}`` (the splunk-hec sink) and ``{type: file, path:
    ...}`` (a scored table written by kepler-serve)."""

    model_config = ConfigDict(extra="forbid")

    sink: str | None = Field(default=None, description="Any installed sink, given one "
                             "prediction event per row.", examples=["splunk-hec", "jsonl"])
    options: dict[str, Any] = Field(default_factory=dict, description="sink: options of its "
                                    "write.")
    type: Literal["splunk", "file"] | None = Field(default=None, description="Shorthands: "
                                                   "splunk (sink splunk-hec), file (path).")
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

    @model_validator(mode="after")
    def _sink_or_type(self) -> Destination:
        if self.sink is not None and self.type is not None:
            raise ValueError("give sink (with options) or type, not both")
        if self.options and self.sink is None:
            raise ValueError("options go with sink")
        return self

    def resolved(self) -> tuple[str, str | None, dict[str, Any]]:
        """(``"sink"`` or ``"file"``, the sink's name or the file's path, the sink's
        options), shorthands resolved (no type and no sink: Splunk, as before)."""
        if self.sink is not None:
            return "sink", self.sink, dict(self.options)
        if self.type == "file":
            return "file", self.path, {}
        options = {"index": self.index, "sourcetype": self.sourcetype, "source": self.source,
                   "connection": self.connection, "progress": False}
        return "sink", "splunk-hec", {k: v for k, v in options.items() if v is not None}

    def label(self) -> str:
        """What ``kepler pipeline list`` shows."""
        kind, name, _options = self.resolved()
        if kind == "file":
            return f"file:{name}"
        if name == "splunk-hec" and self.sink is None:
            return f"splunk:{self.index or 'default'}"
        return f"sink:{name}"


class Pipeline(BaseModel):
    """One batch scoring job: data in (a connector's query; spl and input are the Splunk and
    file shorthands), a model, predictions out."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="NAME, NAME:VERSION, NAME:ALIAS or an artifact folder.",
                       examples=["pump-failure:prod"])
    connector: str | None = Field(default=None, description="The connector that runs query "
                                  "(default: data.connector, or the only one installed).",
                                  examples=["splunk", "file"])
    query: str | None = Field(default=None, description="What the connector reads.",
                              examples=["search index=pumps"])
    spl: str | None = Field(default=None, description="Shorthand: query run by the connector "
                            "of --spl (splunk).", examples=["search index=pumps"])
    earliest: str | None = Field(default=None, examples=["-1h"])
    latest: str | None = Field(default=None, examples=["now"])
    connection: str | None = Field(default=None, description="Named Splunk connection for spl.")
    input: str | None = Field(default=None, description="Shorthand: a table file to score "
                              "(the file connector).")
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
        if sum(x is not None for x in (self.query, self.spl, self.input)) != 1:
            raise ValueError("give exactly one of query (with connector), spl (a Splunk "
                             "search) or input (a file)")
        if self.connector is not None and self.query is None:
            raise ValueError("connector goes with query")
        if self.destination.type == "file" and not self.destination.path:
            raise ValueError("destination.type file needs destination.path")
        return self


class Pipelines(RootModel[dict[str, Pipeline]]):
    """The ``pipelines:`` section: pipeline name -> :class:`Pipeline`."""

    root: dict[str, Pipeline] = Field(default_factory=dict)
