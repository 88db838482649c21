"""kepler-splunk's plugin module: records and hooks only, nothing heavy imported here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kepler.hookspecs import hookimpl
from kepler.records import (
    CheckResult,
    CommandSpec,
    ConfigSectionSpec,
    ConnectorSpec,
    SdkFunctionSpec,
)

KEPLER_PLUGIN_API = ">=1.0,<2"


@hookimpl
def kepler_connectors() -> Iterator[ConnectorSpec]:
    yield ConnectorSpec(
        name="splunk",
        factory="kepler_splunk.connector:SplunkConnector",
        description="Splunk Enterprise: your SPL to typed DataFrames.",
    )


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(
        name="splunk",
        model="kepler_splunk.config:SplunkSettings",
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
        help="Splunk: catalog of indexes and metrics.",
    )


@hookimpl
def kepler_validate(config: Any) -> Iterator[CheckResult]:
    from .checks import validate

    yield from validate(config)
