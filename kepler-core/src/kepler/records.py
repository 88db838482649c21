"""Small typed records that plugins yield from the registration hooks.

A record names its capability and points at the heavy part with an *import string*
(``"package.module:attribute"``) that core imports only when the capability is first used, so
listing plugins or printing ``kepler --help`` never imports pandas, torch or a cloud SDK.
Records are frozen: the registry fills in ``plugin`` and ``distribution`` (who provided it) with
:func:`dataclasses.replace` when it collects them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import PluginLoadError


def import_string(target: str) -> Any:
    """Import ``"package.module:attr.sub"`` and return the attribute.

    Raises :class:`PluginLoadError` naming the import string when it cannot be resolved.
    """
    module_name, sep, attr_path = target.partition(":")
    if not sep or not module_name or not attr_path:
        raise PluginLoadError(
            f"Invalid import string {target!r}.",
            hint="Write it as 'package.module:attribute', "
            "e.g. 'kepler_splunk.connector:Connector'.",
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise PluginLoadError(
            f"Cannot import {module_name!r} (from {target!r}): {exc}",
            hint="Install the missing package or reinstall the plugin that declares it.",
        ) from exc
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise PluginLoadError(
                f"{module_name!r} has no attribute {attr_path!r} (from {target!r}).",
                hint="The plugin declares a target that does not exist; report it to its authors.",
            ) from exc
    return obj


@dataclass(frozen=True, kw_only=True)
class _Record:
    """Fields every record shares."""

    name: str
    description: str = ""
    #: Filled in by the registry: the plugin (entry-point name) that yielded the record.
    plugin: str = ""
    #: Filled in by the registry: the distribution that installed that plugin.
    distribution: str = ""

    @property
    def kind(self) -> str:
        return _KIND_NAMES[type(self).__name__]


@dataclass(frozen=True, kw_only=True)
class _FactoryRecord(_Record):
    #: Import string of a callable ``factory(config) -> object implementing the Protocol``.
    factory: str

    def create(self, config: Any) -> Any:
        """Import the factory on first use and build the capability with the resolved config."""
        return import_string(self.factory)(config)


@dataclass(frozen=True, kw_only=True)
class ConnectorSpec(_FactoryRecord):
    """A data source (``kepler.protocols.Connector``), e.g. Splunk."""


@dataclass(frozen=True, kw_only=True)
class TrainerSpec(_FactoryRecord):
    """An algorithm reachable as ``kp.train.<name>`` (``kepler.protocols.Trainer``)."""

    #: Tasks the trainer handles: "classification", "regression", "anomaly", "forecasting", ...
    tasks: tuple[str, ...] = ()
    #: Framework name shown in listings, e.g. "scikit-learn".
    framework: str = ""


@dataclass(frozen=True, kw_only=True)
class DeployerSpec(_FactoryRecord):
    """A deployment target (``kepler.protocols.Deployer``), e.g. "local", "cloud-run"."""


@dataclass(frozen=True, kw_only=True)
class EnvManagerSpec(_FactoryRecord):
    """An environment manager (``kepler.protocols.EnvManager``), e.g. "venv", "uv"."""


@dataclass(frozen=True, kw_only=True)
class SinkSpec(_FactoryRecord):
    """A destination for results (``kepler.protocols.Sink``), e.g. Splunk HEC."""


@dataclass(frozen=True, kw_only=True)
class ProjectTemplateSpec(_Record):
    """A project template for ``kepler init NAME --template <name>``."""

    #: Import string of ``render(context: TemplateContext) -> Mapping[str, str | bytes]``:
    #: relative file paths to their contents.
    render: str


@dataclass(frozen=True, kw_only=True)
class CommandSpec(_Record):
    """A click command or group a plugin adds to the ``kepler`` CLI.

    ``help`` is shown by ``kepler --help`` without importing ``target``; ``parent`` is the
    command path to nest it under (``"data"`` makes ``kepler data <name>``, ``"secrets rotate"``
    makes ``kepler secrets rotate <name>``); core creates missing groups on demand.
    """

    #: Import string of the ``click.Command`` (or ``click.Group``).
    target: str
    help: str = ""
    parent: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConfigSectionSpec(_Record):
    """A section of the configuration (``splunk:`` in kepler.yml) and the model validating it."""

    #: Import string of a pydantic ``BaseModel`` subclass; ``SecretStr`` fields are secrets.
    model: str


@dataclass(frozen=True, kw_only=True)
class SdkFunctionSpec(_Record):
    """A function exposed in an SDK namespace: ``kp.<namespace>.<name>``."""

    namespace: str
    #: Import string of the function.
    target: str


@dataclass(frozen=True, kw_only=True)
class ModelFormatSpec(_Record):
    """A payload format of model artifacts (``"skops"``, ``"xgboost-ubj"``) and its reader/writer.

    A model's manifest records the format's name; loading looks the name up among these records,
    so no class named in a file is ever imported. ``save`` and ``load`` are import strings of::

        save(predictor, folder: Path) -> Mapping[str, Any]   # writes payload files into folder,
                                                             # returns JSON-safe options to keep
        load(folder: Path, options: Mapping[str, Any], **load_options) -> predictor

    The predictor is the object :class:`kepler.model.Model` calls: ``predict(df)`` and, where it
    applies, ``predict_proba(df)`` (:class:`kepler.protocols.Predictor`).
    """

    save: str
    load: str
    #: Framework shown in listings, e.g. "scikit-learn".
    framework: str = ""
    #: What to ``pip install`` when a model in this format is loaded where the plugin is missing.
    install: str = ""


CheckStatus = Literal["pass", "fail", "warn", "skip"]


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """One line of ``kepler config validate``: what was checked and how to fix a failure."""

    check: str
    status: CheckStatus
    detail: str = ""
    hint: str = ""
    plugin: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "fail"


@dataclass(frozen=True, kw_only=True)
class TemplateContext:
    """What a project template receives."""

    name: str
    kepler_version: str
    #: Names of the enabled plugins, so a template can add their config sections.
    plugins: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)


# --- lifecycle events -------------------------------------------------------------------------
# One record per lifecycle hook keeps the hook signatures stable: new fields can be added without
# breaking subscribers that do not read them.


@dataclass(frozen=True, kw_only=True)
class ExtractEvent:
    """Fired after a connector returned data."""

    connector: str
    query: str
    rows: int
    #: Where the data came from (for Splunk: spl, earliest, latest, sid, ...).
    lineage: Mapping[str, Any] = field(default_factory=dict)
    data: Any = None


@dataclass(frozen=True, kw_only=True)
class TrainEvent:
    """Fired after a model was trained (and saved, when ``artifact_path`` is set).

    ``model`` is the :class:`kepler.model.Model` (manifest and predictor in memory).
    """

    trainer: str
    model: Any
    metrics: Mapping[str, Any] = field(default_factory=dict)
    artifact_path: str | None = None
    #: The model's registry name and version (version is set once it was saved to the registry).
    model_name: str | None = None
    version: int | None = None


@dataclass(frozen=True, kw_only=True)
class DeployEvent:
    """Fired after a deployer created or updated a deployment."""

    target: str
    name: str
    model: str
    version: str | None = None
    url: str | None = None
    action: Literal["create", "update", "delete", "rollback", "promote"] = "create"


@dataclass(frozen=True, kw_only=True)
class PredictionEvent:
    """Fired after a batch of predictions was made (served or batch-scored)."""

    model: str
    version: str | None
    rows: int
    latency_ms: float | None = None
    destination: str | None = None
    predictions: Any = None


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """What a deployer reports about one deployment."""

    name: str
    target: str
    model: str
    version: str | None = None
    url: str | None = None
    status: str = "unknown"
    details: Mapping[str, Any] = field(default_factory=dict)


_KIND_NAMES = {
    "ConnectorSpec": "connector",
    "TrainerSpec": "trainer",
    "DeployerSpec": "deployer",
    "EnvManagerSpec": "env manager",
    "SinkSpec": "sink",
    "ProjectTemplateSpec": "project template",
    "CommandSpec": "command",
    "ConfigSectionSpec": "config section",
    "SdkFunctionSpec": "SDK function",
    "ModelFormatSpec": "model format",
}
