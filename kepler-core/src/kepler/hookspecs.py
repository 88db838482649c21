"""The hooks a Kepler plugin can implement.

A plugin is a module registered under the entry-point group ``kepler``::

    [project.entry-points.kepler]
    splunk = "kepler_splunk.plugin"

That module declares the plugin API range it was written for and implements any of the hooks
below with :data:`hookimpl`::

    KEPLER_PLUGIN_API = ">=1.0,<2"

    @hookimpl
    def kepler_connectors():
        yield ConnectorSpec(name="splunk", target="kepler_splunk.connector:SplunkConnector")

Registration hooks yield small records (:mod:`kepler.records`) that point at the heavy code with
import strings, so keep the plugin module itself free of heavy imports. Lifecycle hooks receive one
event record; a subscriber that raises is logged and skipped, it never breaks the user's work.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .config import Config
    from .records import (
        CheckResult,
        CommandSpec,
        CompilerSpec,
        ConfigSectionSpec,
        ConnectorSpec,
        DeployerSpec,
        DeployEvent,
        EnvManagerSpec,
        ExecutorSpec,
        ExtractEvent,
        MagicSpec,
        ModelFormatSpec,
        PredictionEvent,
        ProjectTemplateSpec,
        SdkFunctionSpec,
        SinkSpec,
        TrainerSpec,
        TrainEvent,
    )

PROJECT_NAME = "kepler"

#: Version of the plugin API (``kepler.api`` and these hooks). Minor bumps add hooks, record fields,
#: protocol methods or ``kepler.api`` names; major bumps break. 1.1 added model formats; 1.2 the
#: Deployer's status, logs and build; 1.3 ``kepler.api`` as the one module plugins import,
#: ``target=`` as every record's import string, a format's ``prepare`` and ``compiled``, and
#: connectors and sinks used by core (``read_data``, ``write_results``); 1.4 IPython magics
#: (``kepler_magics``) and a trainer's ``signature``; 1.5 executors (``kepler_executors``); 1.6
#: the deploy shortcut (``deploy_to``, ``plan_deploy``, ``DeploymentExistsError``); 1.7 model
#: compilers for serving (``kepler_compilers``); 1.8 ``NumericRecords`` (validated records with
#: their float64 matrix, for compiled scorers), ``target_settings`` and ``canary_percent``.
PLUGIN_API_VERSION = "1.8"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

class KeplerSpecs:
    """Every hook Kepler calls. Each docstring shows an implementation."""

    # --- registration -------------------------------------------------------------------------

    @hookspec
    def kepler_connectors(self) -> Iterable[ConnectorSpec]:
        """Data sources this plugin provides.

        Example::

            @hookimpl
            def kepler_connectors():
                yield ConnectorSpec(name="splunk",
                                    target="kepler_splunk.connector:SplunkConnector")
        """
        raise NotImplementedError

    @hookspec
    def kepler_trainers(self) -> Iterable[TrainerSpec]:
        """Algorithms this plugin trains; each becomes ``kp.train.<name>``.

        Example::

            @hookimpl
            def kepler_trainers():
                yield TrainerSpec(name="random_forest", framework="scikit-learn",
                                  tasks=("classification", "regression"),
                                  target="kepler_sklearn.trainers:random_forest")
        """
        raise NotImplementedError

    @hookspec
    def kepler_deployers(self) -> Iterable[DeployerSpec]:
        """Deployment targets (``kepler deploy MODEL --target <name>``, ``kp.deploy.create``).

        The factory returns a :class:`kepler.protocols.Deployer`; core's ``kepler deploy``
        commands (create, update, list, status, logs, predict, delete, build) drive it, so a
        target needs no command of its own.

        Example::

            @hookimpl
            def kepler_deployers():
                yield DeployerSpec(name="cloud-run", target="kepler_gcp.deployer:CloudRunDeployer")
        """
        raise NotImplementedError

    @hookspec
    def kepler_env_managers(self) -> Iterable[EnvManagerSpec]:
        """Environment managers (``kepler env create --manager <name>``).

        Example::

            @hookimpl
            def kepler_env_managers():
                yield EnvManagerSpec(name="uv", target="kepler_env.uv:UvManager")
        """
        raise NotImplementedError

    @hookspec
    def kepler_sinks(self) -> Iterable[SinkSpec]:
        """Destinations for results and predictions.

        Example::

            @hookimpl
            def kepler_sinks():
                yield SinkSpec(name="splunk-hec", target="kepler_splunk.hec:HecSink")
        """
        raise NotImplementedError

    @hookspec
    def kepler_project_templates(self) -> Iterable[ProjectTemplateSpec]:
        """Project templates for ``kepler init NAME --template <name>``.

        Example::

            @hookimpl
            def kepler_project_templates():
                yield ProjectTemplateSpec(name="anomaly", description="Sensor anomaly detection",
                                          target="kepler_templates.anomaly:render")
        """
        raise NotImplementedError

    @hookspec
    def kepler_commands(self) -> Iterable[CommandSpec]:
        """Click commands added to the ``kepler`` CLI, imported only when invoked.

        Example::

            @hookimpl
            def kepler_commands():
                yield CommandSpec(name="splunk", parent="data", help="Run SPL, save the rows.",
                                  target="kepler_splunk.cli:data_splunk")
        """
        raise NotImplementedError

    @hookspec
    def kepler_config_sections(self) -> Iterable[ConfigSectionSpec]:
        """Configuration sections this plugin owns and validates.

        The section ``splunk`` is read from ``splunk:`` in the config files and from environment
        variables ``KEPLER_SPLUNK__<FIELD>``.

        Example::

            @hookimpl
            def kepler_config_sections():
                yield ConfigSectionSpec(name="splunk", target="kepler_splunk.config:SplunkSettings")
        """
        raise NotImplementedError

    @hookspec
    def kepler_sdk_functions(self) -> Iterable[SdkFunctionSpec]:
        """Functions exposed in the SDK as ``kp.<namespace>.<name>``.

        Example::

            @hookimpl
            def kepler_sdk_functions():
                yield SdkFunctionSpec(namespace="data", name="from_splunk",
                                      target="kepler_splunk.sdk:from_splunk")
        """
        raise NotImplementedError

    @hookspec
    def kepler_model_formats(self) -> Iterable[ModelFormatSpec]:
        """Payload formats of model artifacts this plugin can write and read (plugin API 1.1).

        A model's manifest (``kepler-model.json``) names its format; ``kp.models.load`` finds the
        format's record here and calls its ``load``, so a payload is only ever read by the plugin
        that owns the format, never by importing a class named in a file.

        Example::

            @hookimpl
            def kepler_model_formats():
                yield ModelFormatSpec(name="skops", framework="scikit-learn",
                                      save="kepler_sklearn.formats:save_skops",
                                      load="kepler_sklearn.formats:load_skops",
                                      install="kepler-sklearn")
        """
        raise NotImplementedError

    @hookspec
    def kepler_magics(self) -> Iterable[MagicSpec]:
        """IPython magics added by ``%load_ext kepler`` (plugin API 1.4).

        Core already makes one query magic per connector with a ``query_option`` (``%%spl``
        for kepler-splunk's); this hook is for anything else a plugin wants in notebooks. A
        magic here wins over core's magic of the same name.

        Example::

            @hookimpl
            def kepler_magics():
                yield MagicSpec(name="historian_tags", magic_kind="line",
                                target="acme_kepler.magics:tags")
        """
        raise NotImplementedError

    @hookspec
    def kepler_executors(self) -> Iterable[ExecutorSpec]:
        """Executors that run a batch of independent tasks (plugin API 1.5).

        ``kp.train.compare(..., executor=...)``, ``kp.train.per_group`` and partitioned batch
        scoring hand their tasks to an executor by name: ``"local"`` (core's process pool),
        ``"dask"`` or ``"dask://scheduler:8786"`` (kepler-dask). The target returns a
        :class:`kepler.protocols.Executor`.

        Example::

            @hookimpl
            def kepler_executors():
                yield ExecutorSpec(name="dask", target="kepler_dask.executor:DaskExecutor")
        """
        raise NotImplementedError

    @hookspec
    def kepler_compilers(self) -> Iterable[CompilerSpec]:
        """Compilers that turn a trained model into a faster scorer for serving (plugin API 1.7).

        The model server (kepler-serve) asks every installed compiler, highest ``priority``
        first, for a :class:`kepler.protocols.CompiledPredictor` of the model it serves, checks
        its answers against the model's within the compiler's ``tolerance`` and uses the first
        that passes; then the model format's own ``compiled``; then the model's ``predict``.

        Example::

            @hookimpl
            def kepler_compilers():
                yield CompilerSpec(name="onnxruntime", target="kepler_edge.compiler:compile_model",
                                   priority=20, tolerance=1e-5)
        """
        raise NotImplementedError

    # --- checks -------------------------------------------------------------------------------

    @hookspec
    def kepler_validate(self, config: Config) -> Iterable[CheckResult]:
        """Checks run by ``kepler config validate``: connectivity, credentials, permissions.

        Yield one :class:`~kepler.records.CheckResult` per check, with a hint on failure. Import
        client libraries inside the function, not at module level.

        Example::

            @hookimpl
            def kepler_validate(config):
                settings = config.section("splunk")
                ok = ping(settings.host)
                yield CheckResult(check="splunk: server answers", status="pass" if ok else "fail",
                                  hint="Check splunk.host and splunk.port")
        """
        raise NotImplementedError

    # --- lifecycle ----------------------------------------------------------------------------

    @hookspec
    def kepler_after_extract(self, event: ExtractEvent) -> None:
        """Called after a connector returned data.

        Example::

            @hookimpl
            def kepler_after_extract(event):
                log.info("pulled %d rows with %s", event.rows, event.query)
        """

    @hookspec
    def kepler_after_train(self, event: TrainEvent) -> None:
        """Called after a model was trained.

        Example::

            @hookimpl
            def kepler_after_train(event):
                tracker.log_metrics(event.metrics)
        """

    @hookspec
    def kepler_after_deploy(self, event: DeployEvent) -> None:
        """Called after a deployment was created, updated, rolled back or deleted.

        Example::

            @hookimpl
            def kepler_after_deploy(event):
                notify(f"{event.model} {event.version} is live at {event.url}")
        """

    @hookspec
    def kepler_after_predictions(self, event: PredictionEvent) -> None:
        """Called after a batch of predictions was made.

        Example::

            @hookimpl
            def kepler_after_predictions(event):
                metrics.observe(event.latency_ms)
        """
