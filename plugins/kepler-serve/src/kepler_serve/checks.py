"""``kepler config validate`` checks of kepler-serve: the server's settings and the pipelines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kepler.api import CheckResult, KeplerError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def validate(config: Any) -> Iterator[CheckResult]:
    try:
        serve = config.section("serve")
    except KeplerError as exc:  # reported by core's "section valid" check
        yield CheckResult(check="serve: settings", status="skip", detail=exc.message)
        return
    if serve.host not in LOOPBACK and serve.api_key is None:
        yield CheckResult(check="serve: API key when listening beyond this machine",
                          status="warn", detail=f"serve.host is {serve.host} and no api_key",
                          hint="Set serve.api_key: ${secret:serve-api-key} (kepler secrets set "
                          "serve-api-key), or keep serve.host 127.0.0.1.")
    chosen = serve.prediction_sink()
    if chosen is not None:
        yield _log_sink(config, chosen[0])
    if serve.log_to_splunk:
        yield _prediction_log(config, serve)
    yield from _pipelines(config)


def _log_sink(config: Any, name: str) -> CheckResult:
    from kepler.api import SinkSpec, choose

    check = f"serve: prediction log sink {name} installed"
    try:
        choose(SinkSpec, name, config=config)
    except KeplerError as exc:
        return CheckResult(check=check, status="fail", detail=exc.message, hint=exc.hint or "")
    return CheckResult(check=check, status="pass")


def _prediction_log(config: Any, serve: Any) -> CheckResult:
    """The Splunk shorthand's own configuration: a HEC token for the connection."""
    check = "serve: prediction logging to Splunk configured"
    try:
        connection = config.section("splunk").connection(serve.connection)
    except KeplerError as exc:
        return CheckResult(check=check, status="fail", detail=exc.message, hint=exc.hint or "")
    if connection.hec_token is None:
        return CheckResult(check=check, status="fail", detail="no HEC token",
                           hint="Set splunk.hec_token: ${secret:hec-token}.")
    return CheckResult(check=check, status="pass",
                       detail=f"{connection.hec_base_url()}, index {serve.index or 'default'}")


def _pipelines(config: Any) -> Iterator[CheckResult]:
    try:
        pipelines = config.section("pipelines").root
    except KeplerError:
        return
    from kepler.api import resolve_models

    for name, pipeline in pipelines.items():
        check = f"pipeline {name}: model {pipeline.model} exists"
        try:
            resolve_models([pipeline.model])
        except KeplerError as exc:
            yield CheckResult(check=check, status="fail", detail=exc.message,
                              hint=exc.hint or "")
        else:
            yield CheckResult(check=check, status="pass")
