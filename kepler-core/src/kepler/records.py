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
from dataclasses import InitVar, dataclass, field
from typing import Any, ClassVar, Literal

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
            "e.g. 'acme_kepler.connector:Connector'.",
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
    """Fields every record shares.

    Every record points at its code with one field, ``target`` (an import string); records of
    plugin API 1.0-1.2 named it ``factory``, ``render`` or ``model``, still accepted as keywords.
    """

    #: The hook that yields records of this type (checked against pluggy's specs in the tests).
    hook: ClassVar[str] = ""
    #: Shown by ``kepler plugins info``.
    kind: ClassVar[str] = ""

    name: str
    description: str = ""
    #: Filled in by the registry: the plugin (entry-point name) that yielded the record.
    plugin: str = ""
    #: Filled in by the registry: the distribution that installed that plugin.
    distribution: str = ""

    def identity(self) -> tuple[str, ...]:
        """What two plugins must not both claim (a name, or a namespace plus a name)."""
        return (type(self).__name__, self.name)

    @property
    def label(self) -> str:
        return self.name


def _legacy_target(record: Any, old_name: str, old_value: str | None) -> None:
    """Accept the import string under its pre-1.3 keyword (``factory=``, ``render=``...)."""
    if old_value is not None:
        if record.target:
            raise TypeError(f"{type(record).__name__}: give target= only, not also {old_name}=")
        object.__setattr__(record, "target", old_value)
    if not record.target:
        raise TypeError(f"{type(record).__name__} {record.name!r} needs target='module:attr'")


@dataclass(frozen=True, kw_only=True)
class _FactoryRecord(_Record):
    #: Import string of a callable ``factory(config) -> object implementing the Protocol``.
    target: str = ""
    factory: InitVar[str | None] = None

    def __post_init__(self, factory: str | None) -> None:
        _legacy_target(self, "factory", factory)

    def create(self, config: Any) -> Any:
        """Import the factory on first use and build the capability with the resolved config."""
        return import_string(self.target)(config)


@dataclass(frozen=True, kw_only=True)
class ConnectorSpec(_FactoryRecord):
    """A data source (``kepler.api.Connector``), e.g. Splunk.

    ``query_option`` names a shorthand the CLI offers for this connector's query: kepler-splunk
    sets ``"spl"``, so ``kepler train ... --spl "index=pumps"`` means
    ``--connector splunk --query "index=pumps"``.
    """

    hook: ClassVar[str] = "kepler_connectors"
    kind: ClassVar[str] = "connector"
    query_option: str = ""


@dataclass(frozen=True, kw_only=True)
class TrainerSpec(_FactoryRecord):
    """An algorithm reachable as ``kp.train.<name>`` (``kepler.api.Trainer``)."""

    hook: ClassVar[str] = "kepler_trainers"
    kind: ClassVar[str] = "trainer"
    #: Tasks the trainer handles: "classification", "regression", "anomaly", "forecasting", ...
    tasks: tuple[str, ...] = ()
    #: Framework name shown in listings, e.g. "scikit-learn".
    framework: str = ""
    #: Import string of a function or method whose parameters and docstring document the
    #: trainer's keywords (plugin API 1.4): ``help(kp.train.<name>)``, ``inspect.signature`` and
    #: Jupyter's Shift-Tab show them. Keep its module light: it is imported when the name is
    #: first reached, before any training. Without it the trainer's ``train`` method is used
    #: when ``target`` is a class, else the signature says only ``**params``.
    signature: str = ""


@dataclass(frozen=True, kw_only=True)
class DeployerSpec(_FactoryRecord):
    """A deployment target (``kepler.api.Deployer``), e.g. "local", "cloud-run"."""

    hook: ClassVar[str] = "kepler_deployers"
    kind: ClassVar[str] = "deployer"
    #: One line for ``kepler deploy targets``: what the target offers and lacks (autoscaling...).
    features: str = ""


@dataclass(frozen=True, kw_only=True)
class EnvManagerSpec(_FactoryRecord):
    """An environment manager (``kepler.api.EnvManager``), e.g. "venv", "uv"."""

    hook: ClassVar[str] = "kepler_env_managers"
    kind: ClassVar[str] = "env manager"


@dataclass(frozen=True, kw_only=True)
class SinkSpec(_FactoryRecord):
    """A destination for results and prediction logs (``kepler.api.Sink``), e.g. Splunk HEC."""

    hook: ClassVar[str] = "kepler_sinks"
    kind: ClassVar[str] = "sink"


@dataclass(frozen=True, kw_only=True)
class ExecutorSpec(_FactoryRecord):
    """Where a batch of independent tasks runs (``kepler.api.Executor``), e.g. "local" (a
    process pool) or "dask" (a Dask cluster); plugin API 1.5.

    The target is called as ``target(config, address=None, **options)``: ``address`` is what
    followed the name in ``executor="dask://host:8786"`` (the whole string), or config's
    ``executor.address``.
    """

    hook: ClassVar[str] = "kepler_executors"
    kind: ClassVar[str] = "executor"


@dataclass(frozen=True, kw_only=True)
class ProjectTemplateSpec(_Record):
    """A project template for ``kepler init NAME --template <name>``."""

    hook: ClassVar[str] = "kepler_project_templates"
    kind: ClassVar[str] = "project template"
    #: Import string of ``render(context: TemplateContext) -> Mapping[str, str | bytes]``:
    #: relative file paths to their contents.
    target: str = ""
    render: InitVar[str | None] = None

    def __post_init__(self, render: str | None) -> None:
        _legacy_target(self, "render", render)


@dataclass(frozen=True, kw_only=True)
class CommandSpec(_Record):
    """A click command or group a plugin adds to the ``kepler`` CLI.

    ``help`` is shown by ``kepler --help`` without importing ``target``; ``parent`` is the
    command path to nest it under (``"data"`` makes ``kepler data <name>``, ``"secrets rotate"``
    makes ``kepler secrets rotate <name>``); core creates missing groups on demand.
    """

    hook: ClassVar[str] = "kepler_commands"
    kind: ClassVar[str] = "command"
    #: Import string of the ``click.Command`` (or ``click.Group``).
    target: str
    help: str = ""
    parent: str | None = None

    def identity(self) -> tuple[str, ...]:
        return (type(self).__name__, self.parent or "", self.name)

    @property
    def label(self) -> str:
        return " ".join(filter(None, (self.parent, self.name)))


@dataclass(frozen=True, kw_only=True)
class ConfigSectionSpec(_Record):
    """A section of the configuration (``splunk:`` in kepler.yml) and the model validating it."""

    hook: ClassVar[str] = "kepler_config_sections"
    kind: ClassVar[str] = "config section"
    #: Import string of a pydantic ``BaseModel`` subclass; ``SecretStr`` fields are secrets.
    target: str = ""
    model: InitVar[str | None] = None

    def __post_init__(self, model: str | None) -> None:
        _legacy_target(self, "model", model)


@dataclass(frozen=True, kw_only=True)
class SdkFunctionSpec(_Record):
    """A function exposed in an SDK namespace: ``kp.<namespace>.<name>``."""

    hook: ClassVar[str] = "kepler_sdk_functions"
    kind: ClassVar[str] = "SDK function"
    namespace: str
    #: Import string of the function.
    target: str

    def identity(self) -> tuple[str, ...]:
        return (type(self).__name__, self.namespace, self.name)

    @property
    def label(self) -> str:
        return f"{self.namespace}.{self.name}"


@dataclass(frozen=True, kw_only=True)
class ModelFormatSpec(_Record):
    """A payload format of model artifacts (``"skops"``, ``"xgboost-ubj"``) and its reader/writer.

    A model's manifest records the format's name; loading looks the name up among these records,
    so no class named in a file is ever imported. ``save`` and ``load`` are import strings of::

        save(predictor, folder: Path) -> Mapping[str, Any]   # writes payload files into folder,
                                                             # returns JSON-safe options to keep
        load(folder: Path, options: Mapping[str, Any], **load_options) -> predictor

    The predictor is the object :class:`kepler.api.Model` calls: ``predict(df)`` and, where it
    applies, ``predict_proba(df)`` (:class:`kepler.api.Predictor`).

    Optional (plugin API 1.3):

    ``prepare``
        ``prepare(schema: FeatureSchema, data) -> inputs``: turns what a user passes to
        ``Model.predict`` (a table, records, one record) into what the predictor takes, refusing
        a missing required feature with a :class:`~kepler.errors.ModelInputError`. Without it
        the predictor gets ``data`` as given.
    ``compiled``
        ``compiled(model: Model) -> CompiledPredictor | None``: a faster scorer for serving one
        request at a time (:class:`kepler.api.CompiledPredictor`), or None when this particular
        model cannot be compiled. The model server asks the format for it and never names a
        framework; it checks the compiled scorer against the predictor before using it.
    """

    hook: ClassVar[str] = "kepler_model_formats"
    kind: ClassVar[str] = "model format"
    save: str
    load: str
    prepare: str = ""
    compiled: str = ""
    #: Framework shown in listings, e.g. "scikit-learn".
    framework: str = ""
    #: What to ``pip install`` when a model in this format is loaded where the plugin is missing.
    install: str = ""


@dataclass(frozen=True, kw_only=True)
class MagicSpec(_Record):
    """An IPython magic (``%name`` / ``%%name``) added when ``%load_ext kepler`` runs (plugin API
    1.4). The target is imported only then, so it may import IPython.

    ``kind`` is ``"line"``, ``"cell"`` or ``"line_cell"`` (one function serving both).
    """

    hook: ClassVar[str] = "kepler_magics"
    kind: ClassVar[str] = "magic"
    #: Import string of ``magic(line: str, cell: str | None = None) -> object``.
    target: str
    magic_kind: Literal["line", "cell", "line_cell"] = "line_cell"


@dataclass(frozen=True, kw_only=True)
class CompilerSpec(_Record):
    """A compiler of trained models into a faster scorer for serving (plugin API 1.7), e.g.
    kepler-edge's ``onnxruntime``: ONNX export plus onnxruntime.

    A model format's own ``compiled`` (:class:`ModelFormatSpec`) is exact by construction; a
    compiler works across formats and may round (ONNX computes in float32), so it says how far
    its answers may stray: labels must always agree, probabilities and regression values within
    ``tolerance`` (absolute, relative beyond 1). A server checks that on sample rows at start and
    otherwise falls back to the format's own scorer, then the model's ``predict``.
    """

    hook: ClassVar[str] = "kepler_compilers"
    kind: ClassVar[str] = "compiler"
    #: Import string of ``compile(model: Model) -> CompiledPredictor``; it raises
    #: :class:`~kepler.errors.KeplerError` (say why, e.g. the step ONNX cannot express) when it
    #: cannot compile this model, and checks its own parity before returning.
    target: str
    #: Tried in descending order; the format's own compiled scorer counts as priority 0.
    priority: int = 10
    #: How far probabilities and values may differ from the model's (0: identical).
    tolerance: float = 0.0
    #: Model formats it compiles (``ModelFormatSpec`` names); empty: it decides per model.
    formats: tuple[str, ...] = ()


#: Every registration record type, in the order ``kepler plugins list`` reports their hooks.
RECORD_TYPES: tuple[type[_Record], ...] = (
    ConnectorSpec, TrainerSpec, DeployerSpec, EnvManagerSpec, SinkSpec, ProjectTemplateSpec,
    CommandSpec, ConfigSectionSpec, SdkFunctionSpec, ModelFormatSpec, MagicSpec,
    ExecutorSpec, CompilerSpec,
)


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

    hook: ClassVar[str] = "kepler_after_extract"

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

    hook: ClassVar[str] = "kepler_after_train"

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

    hook: ClassVar[str] = "kepler_after_deploy"

    target: str
    name: str
    model: str
    version: str | None = None
    url: str | None = None
    action: Literal["create", "update", "delete", "rollback", "promote"] = "create"


@dataclass(frozen=True, kw_only=True)
class PredictionEvent:
    """Fired after a batch of predictions was made (served or batch-scored)."""

    hook: ClassVar[str] = "kepler_after_predictions"

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

    def card(self) -> Any:
        """The :class:`kepler.display.Card` shown in notebooks: URL, status, traffic, details."""
        from .display import Card

        card = Card(f"Deployment {self.name} ({self.target})")
        card.add("model", f"{self.model}" + (f" v{self.version}" if self.version else ""))
        card.add("status", self.status).add("url", self.url)
        card.add("traffic", self.details.get("traffic"))
        for key, value in self.details.items():
            if key != "traffic" and isinstance(value, str | int | float | bool):
                card.add(key, value)
        return card

    def _repr_html_(self) -> str:
        return str(self.card().html())
