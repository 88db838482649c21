"""The plugin module Kepler imports at start-up: records and hook implementations only.

Everything heavy is imported inside functions or behind the import strings of the records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kepler.api import (
    CheckResult,
    CommandSpec,
    ConfigSectionSpec,
    ConnectorSpec,
    SinkSpec,
    hookimpl,
)

#: The range of Kepler's plugin API this plugin was written for (1.3: records name their code
#: with ``target=``; connectors and sinks are used by ``kepler train``, batch scoring and the
#: model server's prediction log).
KEPLER_PLUGIN_API = ">=1.3,<2"


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(name="audit", target="kepler_audit.config:AuditSettings",
                            description="Audit log of lifecycle events.")


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="audit", target="kepler_audit.cli:audit",
                      help="Show the project's audit log of lifecycle events.")


@hookimpl
def kepler_connectors() -> Iterator[ConnectorSpec]:
    # "Bring your own data source": the target is imported only when the connector is used.
    yield ConnectorSpec(name="http-csv", target="kepler_audit.http_csv:HttpCsvConnector",
                        description="A CSV table from an HTTP(S) URL (the query is the URL).")


@hookimpl
def kepler_sinks() -> Iterator[SinkSpec]:
    # "Bring your own destination": results and prediction logs as JSON Lines.
    yield SinkSpec(name="jsonl", target="kepler_audit.jsonl:JsonlSink",
                   description="Append rows to a JSON Lines file (path=FILE).")


def _record(event_name: str, event: Any) -> None:
    from kepler.api import load_config as load

    from .log import record

    record(load(), event_name, event)


@hookimpl
def kepler_after_extract(event: Any) -> None:
    _record("extract", event)


@hookimpl
def kepler_after_train(event: Any) -> None:
    _record("train", event)


@hookimpl
def kepler_after_deploy(event: Any) -> None:
    _record("deploy", event)


@hookimpl
def kepler_after_predictions(event: Any) -> None:
    _record("predictions", event)


@hookimpl
def kepler_validate(config: Any) -> Iterator[CheckResult]:
    import os

    from .log import log_path

    path = log_path(config)
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    writable = os.access(folder, os.W_OK)
    yield CheckResult(
        check="audit log writable",
        status="pass" if writable else "fail",
        detail=str(path),
        hint="" if writable else f"Make {folder} writable or set audit.path to a writable file.",
    )
