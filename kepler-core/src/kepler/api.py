"""The plugin API: the one module through which a Kepler plugin uses kepler-core.

Everything a plugin needs from core is named here, and only here; every other module of the
``kepler`` package is private and may change in any release. This module is versioned by
:data:`PLUGIN_API_VERSION` (a plugin declares the range it supports in ``KEPLER_PLUGIN_API``):
a minor bump adds names, a major bump removes or changes one. ``nox -s lint`` enforces the rule
with import-linter contracts, and a plugin's tests may also use :mod:`kepler.testing`.

A minimal plugin module::

    from kepler.api import ConnectorSpec, hookimpl

    KEPLER_PLUGIN_API = ">=1.3,<2"

    @hookimpl
    def kepler_connectors():
        yield ConnectorSpec(name="historian", target="acme_kepler.connector:Historian")

The names, by what they are for:

- hooks and records: :data:`hookimpl`, ``*Spec`` records, lifecycle events, :class:`CheckResult`,
  :class:`Deployment`, :func:`import_string`;
- the protocols a record's target implements: :class:`Connector`, :class:`Trainer`,
  :class:`Predictor`, :class:`CompiledPredictor`, :class:`Deployer`, :class:`EnvManager`,
  :class:`Sink`;
- errors (each with a hint and an exit code): :class:`KeplerError` and its family;
- configuration: :func:`load_config`, :class:`Config`, :func:`use_selection`,
  :func:`child_environment`, the user's folders, :func:`secret_store`, :func:`redact`;
- data in and out through connectors and sinks: :func:`read_data`, :func:`write_results`,
  :func:`connector`, :func:`sink`;
- models: :class:`Model`, the manifest parts, :class:`FeatureSchema`, :class:`Lineage`,
  artifact helpers, the registry (:func:`load_model`, :func:`resolve_models`), the metric
  vocabulary (:data:`MAIN_METRIC`, :func:`beats_baseline`), :func:`finish_training`;
- deployments: :func:`deployer`, :func:`deployment_state_dir`, :func:`deployment_as_dict`,
  :func:`deploy_to` (a target's ``kp.deploy.to_<target>`` shortcut: create or update, canary,
  dry run), :func:`plan_deploy`, :class:`DeployDryRun` (of :class:`PlannedRequest`, 1.8);
  the local Docker engine (:func:`docker_answers`, :func:`run_docker`); a cloud target's
  per-deployment options (:func:`target_settings`, :func:`canary_percent`, plugin API 1.8);
- plugins: :func:`records`, :func:`find_record`, :func:`fire`, :func:`list_plugins`;
- compilers for serving (plugin API 1.7): :class:`CompilerSpec` records, whose targets return a
  :class:`CompiledPredictor` checked within the record's ``tolerance``; records decoded column
  by column arrive as :class:`NumericRecords` (plugin API 1.8);
- executors (plugin API 1.5): :class:`Executor`, :class:`LocalExecutor`, :class:`TaskResult`,
  :func:`executor` (one by name or address), :func:`using_executor`, :func:`run_task`,
  :func:`task_labels`, :func:`caller_context`, :func:`executor_failures`;
- CLI helpers: :func:`echo_table`, :func:`echo_json`, :func:`parse_key_values`,
  :func:`training_options`, :func:`run_training`;
- notebooks: :class:`Card`, the rich display (``_repr_html_``) every Kepler result uses.

Names are resolved on first use, so importing this module (as every plugin module does while
``kepler --help`` runs) costs no more than the hook markers and the record types.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    EXIT_CHECK_FAILED,
    EXIT_CONFIG,
    EXIT_EMPTY,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PLUGIN,
    EXIT_SECRET,
    EXIT_SERVICE,
    EXIT_USAGE,
    ArtifactError,
    ArtifactIncompleteError,
    ArtifactTamperedError,
    CapabilityNotInstalledError,
    CheckFailedError,
    ConfigError,
    DeploymentError,
    DeploymentExistsError,
    DeploymentNotFoundError,
    EmptyResultError,
    KeplerError,
    ModelError,
    ModelFormatNotInstalledError,
    ModelInputError,
    ModelNotFoundError,
    PluginConflictError,
    PluginError,
    PluginIncompatibleError,
    PluginLoadError,
    PluginNotFoundError,
    ProjectError,
    SecretError,
    ServiceError,
    TrainingError,
    UnsafeModelError,
)
from .hookspecs import PLUGIN_API_VERSION, hookimpl
from .records import (
    CheckResult,
    CheckStatus,
    CommandSpec,
    CompilerSpec,
    ConfigSectionSpec,
    ConnectorSpec,
    DeployerSpec,
    DeployEvent,
    Deployment,
    EnvManagerSpec,
    ExecutorSpec,
    ExtractEvent,
    MagicSpec,
    ModelFormatSpec,
    PredictionEvent,
    ProjectTemplateSpec,
    SdkFunctionSpec,
    SinkSpec,
    TemplateContext,
    TrainerSpec,
    TrainEvent,
    import_string,
)

if TYPE_CHECKING:
    from .artifact import (
        MANIFEST_FILE as MANIFEST_FILE,
    )
    from .artifact import (
        Environment as Environment,
    )
    from .artifact import (
        FileEntry as FileEntry,
    )
    from .artifact import (
        FormatInfo as FormatInfo,
    )
    from .artifact import (
        ModelManifest as ModelManifest,
    )
    from .artifact import (
        TargetInfo as TargetInfo,
    )
    from .artifact import (
        TrainerInfo as TrainerInfo,
    )
    from .artifact import (
        TrainingInfo as TrainingInfo,
    )
    from .artifact import (
        package_versions as package_versions,
    )
    from .artifact import (
        payload_file as payload_file,
    )
    from .artifact import (
        read_manifest as read_manifest,
    )
    from .artifact import (
        sha256_file as sha256_file,
    )
    from .artifact import (
        verify_artifact as verify_artifact,
    )
    from .builtin.templates import GITIGNORE as GITIGNORE
    from .capabilities import (
        choose as choose,
    )
    from .capabilities import (
        connector as connector,
    )
    from .capabilities import (
        query_options as query_options,
    )
    from .capabilities import (
        read_data as read_data,
    )
    from .capabilities import (
        sink as sink,
    )
    from .capabilities import (
        write_results as write_results,
    )
    from .cli.output import echo_json as echo_json
    from .cli.output import echo_table as echo_table
    from .cli.output import table as table
    from .cli.train_cmd import parse_params as parse_key_values
    from .cli.train_cmd import report as print_model_report
    from .cli.train_cmd import run_training as run_training
    from .cli.train_cmd import training_options as training_options
    from .config import Config as Config
    from .config import load as load_config
    from .config.model import DEFAULT_ENV as DEFAULT_ENV
    from .config.model import STANDARD_ENVS as STANDARD_ENVS
    from .containers import docker_answers as docker_answers
    from .containers import run_docker as run_docker
    from .deployments import as_dict as deployment_as_dict
    from .deployments import canary_percent as canary_percent
    from .deployments import check_name as check_deployment_name
    from .deployments import create as create_deployment
    from .deployments import default_name as default_deployment_name
    from .deployments import deployer as deployer
    from .deployments import records as prediction_records
    from .deployments import resolve_model as resolve_model_folder
    from .deployments import state_dir as deployment_state_dir
    from .deployments import target_settings as target_settings
    from .executors import LocalExecutor as LocalExecutor
    from .executors import TaskResult as TaskResult
    from .executors import caller_context as caller_context
    from .executors import executor as executor
    from .executors import failures as executor_failures
    from .executors import run_task as run_task
    from .executors import task_labels as task_labels
    from .executors import using as using_executor
    from .installs import InstallOrigin as InstallOrigin
    from .installs import install_origin as install_origin
    from .lineage import Lineage as Lineage
    from .lineage import json_safe as json_safe
    from .logs import redact as redact
    from .logs import register_secret as register_secret
    from .metrics import (
        BASELINE_LABEL as BASELINE_LABEL,
    )
    from .metrics import (
        LOWER_IS_BETTER as LOWER_IS_BETTER,
    )
    from .metrics import (
        MAIN_METRIC as MAIN_METRIC,
    )
    from .metrics import (
        beats_baseline as beats_baseline,
    )
    from .metrics import (
        higher_is_better as higher_is_better,
    )
    from .metrics import (
        is_better as is_better,
    )
    from .metrics import (
        main_metric as main_metric,
    )
    from .model import Model as Model
    from .paths import find_project as find_project
    from .paths import user_cache_dir as user_cache_dir
    from .paths import user_config_dir as user_config_dir
    from .paths import user_data_dir as user_data_dir
    from .plugins import list_plugins as list_plugins
    from .plugins import reset as reset_plugins
    from .project import create_project as create_project
    from .protocols import (
        CompiledPredictor as CompiledPredictor,
    )
    from .protocols import (
        Connector as Connector,
    )
    from .protocols import (
        Deployer as Deployer,
    )
    from .protocols import (
        EnvManager as EnvManager,
    )
    from .protocols import (
        Executor as Executor,
    )
    from .protocols import (
        NumericRecords as NumericRecords,
    )
    from .protocols import (
        Predictor as Predictor,
    )
    from .protocols import (
        Sink as Sink,
    )
    from .protocols import (
        Trainer as Trainer,
    )
    from .registry import check_name as check_model_name
    from .registry import list_models as list_models
    from .registry import load as load_model
    from .registry import resolve_models as resolve_models
    from .schema import Feature as Feature
    from .schema import FeatureSchema as FeatureSchema
    from .sdk import Namespace as Namespace
    from .sdk import finish_training as finish_training
    from .secrets import get_store as secret_store
    from .selection import child_environment as child_environment
    from .selection import use as use_selection
    from .shortcuts import DryRun as DeployDryRun
    from .shortcuts import PlannedRequest as PlannedRequest
    from .shortcuts import deploy_to as deploy_to
    from .shortcuts import plan_deploy as plan_deploy
    from .yamlio import read_yaml as read_yaml

#: name -> (module, attribute): resolved on first use by ``__getattr__``.
_LAZY: dict[str, tuple[str, str]] = {
    "Card": ("kepler.display", "Card"),
    **{name: ("kepler.artifact", name) for name in (
        "MANIFEST_FILE", "Environment", "FileEntry", "FormatInfo", "ModelManifest", "TargetInfo",
        "TrainerInfo", "TrainingInfo", "package_versions", "payload_file", "read_manifest",
        "sha256_file", "verify_artifact")},
    "GITIGNORE": ("kepler.builtin.templates", "GITIGNORE"),
    **{name: ("kepler.capabilities", name) for name in (
        "choose", "connector", "query_options", "read_data", "sink", "write_results")},
    "echo_json": ("kepler.cli.output", "echo_json"),
    "echo_table": ("kepler.cli.output", "echo_table"),
    "table": ("kepler.cli.output", "table"),
    "parse_key_values": ("kepler.cli.train_cmd", "parse_params"),
    "print_model_report": ("kepler.cli.train_cmd", "report"),
    "run_training": ("kepler.cli.train_cmd", "run_training"),
    "training_options": ("kepler.cli.train_cmd", "training_options"),
    "Config": ("kepler.config", "Config"),
    "load_config": ("kepler.config", "load"),
    "DEFAULT_ENV": ("kepler.config.model", "DEFAULT_ENV"),
    "STANDARD_ENVS": ("kepler.config.model", "STANDARD_ENVS"),
    "deployment_as_dict": ("kepler.deployments", "as_dict"),
    "check_deployment_name": ("kepler.deployments", "check_name"),
    "create_deployment": ("kepler.deployments", "create"),
    "default_deployment_name": ("kepler.deployments", "default_name"),
    "deployer": ("kepler.deployments", "deployer"),
    "prediction_records": ("kepler.deployments", "records"),
    "resolve_model_folder": ("kepler.deployments", "resolve_model"),
    "deployment_state_dir": ("kepler.deployments", "state_dir"),
    "target_settings": ("kepler.deployments", "target_settings"),
    "canary_percent": ("kepler.deployments", "canary_percent"),
    "docker_answers": ("kepler.containers", "docker_answers"),
    "run_docker": ("kepler.containers", "run_docker"),
    "DeployDryRun": ("kepler.shortcuts", "DryRun"),
    "PlannedRequest": ("kepler.shortcuts", "PlannedRequest"),
    "deploy_to": ("kepler.shortcuts", "deploy_to"),
    "plan_deploy": ("kepler.shortcuts", "plan_deploy"),
    **{name: ("kepler.executors", name) for name in (
        "LocalExecutor", "TaskResult", "caller_context", "executor", "run_task",
        "task_labels")},
    "executor_failures": ("kepler.executors", "failures"),
    "using_executor": ("kepler.executors", "using"),
    "InstallOrigin": ("kepler.installs", "InstallOrigin"),
    "install_origin": ("kepler.installs", "install_origin"),
    "Lineage": ("kepler.lineage", "Lineage"),
    "json_safe": ("kepler.lineage", "json_safe"),
    "redact": ("kepler.logs", "redact"),
    "register_secret": ("kepler.logs", "register_secret"),
    **{name: ("kepler.metrics", name) for name in (
        "BASELINE_LABEL", "LOWER_IS_BETTER", "MAIN_METRIC", "beats_baseline",
        "higher_is_better", "is_better", "main_metric")},
    "Model": ("kepler.model", "Model"),
    **{name: ("kepler.paths", name) for name in (
        "find_project", "user_cache_dir", "user_config_dir", "user_data_dir")},
    "list_plugins": ("kepler.plugins", "list_plugins"),
    "reset_plugins": ("kepler.plugins", "reset"),
    "create_project": ("kepler.project", "create_project"),
    **{name: ("kepler.protocols", name) for name in (
        "CompiledPredictor", "Connector", "Deployer", "EnvManager", "Executor", "NumericRecords",
        "Predictor", "Sink", "Trainer")},
    "check_model_name": ("kepler.registry", "check_name"),
    "list_models": ("kepler.registry", "list_models"),
    "load_model": ("kepler.registry", "load"),
    "resolve_models": ("kepler.registry", "resolve_models"),
    "Feature": ("kepler.schema", "Feature"),
    "FeatureSchema": ("kepler.schema", "FeatureSchema"),
    "Namespace": ("kepler.sdk", "Namespace"),
    "finish_training": ("kepler.sdk", "finish_training"),
    "secret_store": ("kepler.secrets", "get_store"),
    "child_environment": ("kepler.selection", "child_environment"),
    "use_selection": ("kepler.selection", "use"),
    "read_yaml": ("kepler.yamlio", "read_yaml"),
}


def records(kind: Any) -> list[Any]:
    """Every record of type ``kind`` (``TrainerSpec``, ``SinkSpec``...) the enabled plugins
    yield, each with ``plugin`` and ``distribution`` filled in.

    Example::

        names = [r.name for r in records(TrainerSpec)]
    """
    from .plugins import get_host

    return get_host().records(kind)


def find_record(kind: Any, name: str) -> Any | None:
    """The record of type ``kind`` called ``name`` (None if absent); two plugins claiming the
    name raise :class:`PluginConflictError`."""
    from .plugins import get_host

    return get_host().find(kind, name)


def fire(event: Any) -> None:
    """Send a lifecycle event (``TrainEvent``, ``PredictionEvent``...) to its subscribers; a
    failing subscriber is logged, never raised."""
    from .plugins import get_host

    get_host().fire(event)


def disabled_plugins(project: Any = None) -> frozenset[str]:
    """Names of the plugins disabled for ``project`` (a folder; None: the user's config only,
    plus ``KEPLER_DISABLE_PLUGINS``), read without loading any plugin."""
    from .plugins.state import read_state

    return frozenset(read_state(project).disabled)


def namespace(name: str) -> Any:
    """An SDK namespace (``"train"`` is ``kp.train``), for a plugin that drives another
    plugin's capability by name without importing it."""
    from .sdk import Namespace

    return Namespace(name)


def missing_capability(namespace: str, name: str) -> CapabilityNotInstalledError:
    """The error for ``kp.<namespace>.<name>`` that no enabled plugin provides, saying what to
    install or enable."""
    from .sdk import missing

    return missing(namespace, name)


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'kepler.api' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = sorted([
    "EXIT_CHECK_FAILED", "EXIT_CONFIG", "EXIT_EMPTY", "EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK",
    "EXIT_PLUGIN", "EXIT_SECRET", "EXIT_SERVICE", "EXIT_USAGE", "PLUGIN_API_VERSION",
    "ArtifactError", "ArtifactIncompleteError", "ArtifactTamperedError",
    "CapabilityNotInstalledError", "CheckFailedError", "CheckResult", "CheckStatus",
    "CommandSpec", "CompilerSpec", "ConfigError", "ConfigSectionSpec", "ConnectorSpec",
    "DeployEvent",
    "DeployerSpec", "Deployment", "DeploymentError", "DeploymentNotFoundError", "EmptyResultError",
    "EnvManagerSpec", "ExecutorSpec", "ExtractEvent", "KeplerError", "MagicSpec", "ModelError",
    "ModelFormatNotInstalledError",
    "ModelFormatSpec", "ModelInputError", "ModelNotFoundError", "PluginConflictError",
    "PluginError", "PluginIncompatibleError", "PluginLoadError", "PluginNotFoundError",
    "PredictionEvent", "ProjectError", "ProjectTemplateSpec", "SdkFunctionSpec", "SecretError",
    "ServiceError", "SinkSpec", "TemplateContext", "TrainEvent", "TrainerSpec", "TrainingError",
    "UnsafeModelError", "disabled_plugins", "find_record", "fire", "hookimpl", "import_string",
    "missing_capability", "namespace", "records", *_LAZY,
])
