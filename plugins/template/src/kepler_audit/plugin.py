"""The plugin module Kepler imports at start-up: records and hook implementations only.

Everything heavy is imported inside functions or behind the import strings of the records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kepler.hookspecs import hookimpl
from kepler.records import CheckResult, CommandSpec, ConfigSectionSpec

#: The range of Kepler's plugin API this plugin was written for.
KEPLER_PLUGIN_API = ">=1.0,<2"


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(name="audit", model="kepler_audit.config:AuditSettings",
                            description="Audit log of lifecycle events.")


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="audit", target="kepler_audit.cli:audit",
                      help="Show the project's audit log of lifecycle events.")


def _record(event_name: str, event: Any) -> None:
    from kepler.config import load

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
