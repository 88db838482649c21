"""kepler-splunk's plugin module: records and hooks only, nothing heavy imported here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kepler.api import (
    CheckResult,
    CommandSpec,
    ConfigSectionSpec,
    ConnectorSpec,
    SdkFunctionSpec,
    SinkSpec,
    hookimpl,
)

KEPLER_PLUGIN_API = ">=1.0,<2"


@hookimpl
def kepler_connectors() -> Iterator[ConnectorSpec]:
    yield ConnectorSpec(
        name="splunk",
        target="kepler_splunk.connector:SplunkConnector", query_option="spl",
        description="Splunk Enterprise: your SPL to typed DataFrames.",
    )


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(
        name="splunk",
        target="kepler_splunk.config:SplunkSettings",
        description="Splunk connection(s), search and cache settings.",
    )


@hookimpl
def kepler_sdk_functions() -> Iterator[SdkFunctionSpec]:
    for name, target in (
        ("from_splunk", "kepler_splunk.extract:from_splunk"),
        ("from_splunk_chunks", "kepler_splunk.extract:from_splunk_chunks"),
        ("splunk_metrics", "kepler_splunk.metrics:splunk_metrics"),
        ("splunk_catalog", "kepler_splunk.metrics:splunk_catalog"),
    ):
        yield SdkFunctionSpec(namespace="data", name=name, target=target)
    for name, target in (
        ("to_splunk", "kepler_splunk.results:to_splunk"),
        ("metrics_to_splunk", "kepler_splunk.results:metrics_to_splunk"),
        ("flush", "kepler_splunk.results:flush"),
        ("create_dashboard", "kepler_splunk.dashboards:create_dashboard"),
        ("create_alert", "kepler_splunk.dashboards:create_alert"),
    ):
        yield SdkFunctionSpec(namespace="results", name=name, target=target)


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(
        name="splunk",
        parent="data",
        target="kepler_splunk.cli:data_splunk",
        help="Run SPL and save the results (Parquet/CSV) or preview them.",
    )
    yield CommandSpec(
        name="cache",
        parent="data",
        target="kepler_splunk.cli:data_cache",
        help="List or clear cached Splunk results.",
    )
    yield CommandSpec(
        name="splunk",
        target="kepler_splunk.cli:splunk",
        help="Splunk: catalog of indexes and metrics, dashboards, alerts.",
    )
    yield CommandSpec(
        name="to-splunk",
        parent="results",
        target="kepler_splunk.cli:results_to_splunk",
        help="Send a Parquet/CSV file's rows to Splunk through HEC.",
    )
    yield CommandSpec(
        name="flush",
        parent="results",
        target="kepler_splunk.cli:results_flush",
        help="Deliver rows spooled while Splunk was unreachable.",
    )
    yield CommandSpec(
        name="splunk-hec",
        parent="secrets rotate",
        target="kepler_splunk.cli:rotate_hec",
        help="New HEC token: create, store, verify, then disable the old one.",
    )


@hookimpl
def kepler_sinks() -> Iterator[SinkSpec]:
    yield SinkSpec(
        name="splunk-hec",
        target="kepler_splunk.sink:HecSink",
        description="Splunk HTTP Event Collector, at-least-once with a disk spool.",
    )


@hookimpl
def kepler_validate(config: Any) -> Iterator[CheckResult]:
    from .checks import validate

    yield from validate(config)
