"""Core's built-in plugin: its CLI commands, config section, default template and checks.

Registering core's own pieces through the public hooks keeps one way in: anything core does here,
a third-party plugin can do the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..hookspecs import hookimpl
from ..records import (
    CheckResult,
    CheckStatus,
    CommandSpec,
    ConfigSectionSpec,
    ExecutorSpec,
    ProjectTemplateSpec,
    SdkFunctionSpec,
)

if TYPE_CHECKING:
    from ..config import Config

KEPLER_PLUGIN_API = ">=1.0,<2"


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="plugins", target="kepler.cli.plugins_cmd:plugins",
                      help="List, inspect, enable and disable plugins.")
    yield CommandSpec(name="config", target="kepler.cli.config_cmd:config",
                      help="Show, check and validate the configuration.")
    yield CommandSpec(name="secrets", target="kepler.cli.secrets_cmd:secrets",
                      help="Manage secrets in your encrypted secrets file.")
    yield CommandSpec(name="init", target="kepler.cli.init_cmd:init",
                      help="Create a new Kepler project from a template.")
    yield CommandSpec(name="train", target="kepler.cli.train_cmd:train",
                      help="Train a model with any installed algorithm.")
    yield CommandSpec(name="models", target="kepler.cli.models_cmd:models",
                      help="List, show, compare, promote and delete registered models.")
    yield CommandSpec(name="deploy", target="kepler.cli.deploy_cmd:deploy",
                      help="Deploy a model to any installed target; list, inspect, delete.")


@hookimpl
def kepler_sdk_functions() -> Iterator[SdkFunctionSpec]:
    """The model registry, ``kp.models.*``, and deployments, ``kp.deploy.*``: framework- and
    target-agnostic, so they live in core."""
    for name, target, description in (
        ("list", "list_models", "Every version of every registered model."),
        ("load", "load", "A model by name[:version|alias], or an artifact folder."),
        ("promote", "promote", "Point an alias (prod, staging...) at a version."),
        ("delete", "delete", "Delete a version, or every version, of a model."),
    ):
        yield SdkFunctionSpec(namespace="models", name=name, target=f"kepler.registry:{target}",
                              description=description)
    # Deployments on any target, ``kp.deploy.*``: generic over the kepler_deployers records.
    for name, description in (
        ("create", "Deploy a model to a target (local, cloud-run...)."),
        ("update", "Serve another model or version under an existing deployment."),
        ("list", "Every deployment of every installed target."),
        ("get", "One deployment as recorded."),
        ("status", "One deployment with its live state."),
        ("logs", "The last lines of a deployment's server log."),
        ("predict", "Score records with a deployed model."),
        ("delete", "Stop a deployment and forget it."),
        ("build", "Write a container build context for a model."),
        ("targets", "The installed deployment targets."),
        ("rollback", "Return a deployment's traffic to an earlier revision."),
        ("promote", "Give a deployment's new (canary) revision all the traffic."),
        ("plan", "A dry run: the requests a deployment would send, none sent."),
    ):
        yield SdkFunctionSpec(namespace="deploy", name=name, target=f"kepler.deployments:{name}",
                              description=description)
    # Data in and out through whichever connector or sink is installed: kp.data.read,
    # kp.results.write (plugins add shorthands such as kp.data.from_splunk).
    yield SdkFunctionSpec(namespace="data", name="read", target="kepler.capabilities:read_data",
                          description="Run a query through a connector (default: data.connector).")
    yield SdkFunctionSpec(namespace="results", name="write",
                          target="kepler.capabilities:write_results",
                          description="Write results through a sink (default: results.sink).")


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(name="core", target="kepler.config.model:CoreSettings",
                            description="Kepler core: logging, project state folder.")
    yield ConfigSectionSpec(name="deploy", target="kepler.config.sections:DeploySettings",
                            description="The default deployment target.")
    yield ConfigSectionSpec(name="data", target="kepler.config.sections:DataSettings",
                            description="The default connector.")
    yield ConfigSectionSpec(name="results", target="kepler.config.sections:ResultsSettings",
                            description="The default sink for results and prediction logs.")
    yield ConfigSectionSpec(name="executor", target="kepler.config.sections:ExecutorSettings",
                            description="Where batches of tasks run: local processes or a "
                            "cluster.")


@hookimpl
def kepler_executors() -> Iterator[ExecutorSpec]:
    """Core's ``local`` executor: a pool of processes on this machine."""
    yield ExecutorSpec(name="local", target="kepler.executors:LocalExecutor",
                       description="A pool of worker processes on this machine.")


@hookimpl
def kepler_project_templates() -> Iterator[ProjectTemplateSpec]:
    yield ProjectTemplateSpec(name="default", target="kepler.builtin.templates:render_default",
                              description="Minimal project: kepler.yml with dev/staging/prod, "
                              ".gitignore, requirements.txt, a starter notebook.")


@hookimpl
def kepler_validate(config: Config) -> Iterator[CheckResult]:
    from ..config import known_secret_values
    from ..config.check import find_secret_literals
    from ..errors import KeplerError
    from ..secrets import get_store

    if config.project_dir is None:
        yield CheckResult(check="project found", status="warn",
                          detail="no kepler.yml here or above; using user config only",
                          hint="Create a project with: kepler init NAME")
    else:
        yield CheckResult(check="project found", status="pass", detail=str(config.project_dir))
    for name in config.section_names:
        if name in config.unknown:
            error = config.unknown[name]
            yield CheckResult(check=f"section {name!r} valid", status="fail",
                              detail=error.message, hint=error.hint or "")
            continue
        try:
            config.section(name)
        except KeplerError as exc:
            yield CheckResult(check=f"section {name!r} valid", status="fail",
                              detail=exc.message, hint=exc.hint or "")
        else:
            status: CheckStatus = "pass" if name in config.models else "warn"
            detail = "" if name in config.models else "no installed plugin validates it"
            yield CheckResult(check=f"section {name!r} valid", status=status, detail=detail,
                              hint="" if status == "pass" else "Install the plugin that owns it "
                              "or remove the section.")
    store = get_store()
    try:
        count = len(store.names())
    except KeplerError as exc:
        yield CheckResult(check="secrets store readable", status="fail", detail=exc.message,
                          hint=exc.hint or "")
    else:
        yield CheckResult(check="secrets store readable", status="pass",
                          detail=f"{count} secret(s), key in {store.backend}")
    if config.project_dir is not None:
        findings, _ = find_secret_literals(config.project_dir, config.models,
                                           known_secret_values(config))
        if findings:
            yield CheckResult(check="no secrets in tracked files", status="fail",
                              detail="; ".join(f"{f.file}:{f.line} {f.what}" for f in findings),
                              hint="Run 'kepler config check' for the fix of each.")
        else:
            yield CheckResult(check="no secrets in tracked files", status="pass")
