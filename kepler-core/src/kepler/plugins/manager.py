"""Discovering, loading and calling plugins.

Entry points in group ``kepler`` are enumerated with :mod:`importlib.metadata` (stevedore's
managers import every plugin before they can filter one out, and a disabled plugin must never be
imported). Each plugin is then loaded inside its own ``try``: a broken plugin is recorded as
``failed`` with its error and everything else keeps working, unless ``KEPLER_STRICT_PLUGINS=1``
asks for the error to be raised (CI). pluggy does the calling.

The host is built once per process, on first use (:func:`get_host`), never at ``import kepler``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, TypeVar

import pluggy

from .._version import __version__
from ..errors import (
    KeplerError,
    PluginConflictError,
    PluginIncompatibleError,
    PluginLoadError,
    PluginNotFoundError,
)
from ..hookspecs import PLUGIN_API_VERSION, PROJECT_NAME, KeplerSpecs
from ..paths import find_project
from ..records import RECORD_TYPES
from .state import PluginState, read_state

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "kepler"
ENV_STRICT = "KEPLER_STRICT_PLUGINS"

#: Core's own capabilities, registered through the same hooks as any plugin.
DEFAULT_PLUGINS = ("kepler.builtin.plugin",)
BUILTIN_NAME = "kepler"

Status = Literal["enabled", "disabled", "failed"]
R = TypeVar("R")


@dataclass(frozen=True)
class PluginInfo:
    """One row of ``kepler plugins list``."""

    name: str
    distribution: str
    version: str
    status: Status
    module: str
    hooks: tuple[str, ...] = ()
    error: str | None = None
    #: Why a disabled plugin is disabled (which config layer).
    disabled_by: str | None = None
    #: The plugin API range the plugin declares.
    api: str | None = None
    builtin: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def strict_plugins() -> bool:
    return os.environ.get(ENV_STRICT, "").strip().lower() in {"1", "true", "yes", "on"}


def check_api(name: str, module: ModuleType) -> str:
    """Return the plugin's declared API range, refusing one this core does not provide."""
    declared = getattr(module, "KEPLER_PLUGIN_API", None)
    if not isinstance(declared, str) or not declared.strip():
        raise PluginIncompatibleError(
            f"Plugin {name!r} ({module.__name__}) does not declare which Kepler plugin API it "
            f"supports.",
            hint=f"Its module must set KEPLER_PLUGIN_API, e.g. KEPLER_PLUGIN_API = "
            f"'>={PLUGIN_API_VERSION},<{int(PLUGIN_API_VERSION.split('.')[0]) + 1}'.",
        )
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        spec = SpecifierSet(declared)
    except InvalidSpecifier as exc:
        raise PluginIncompatibleError(
            f"Plugin {name!r} declares KEPLER_PLUGIN_API = {declared!r}, which is not a version "
            f"range.",
            hint="Use a PEP 440 range such as '>=1.0,<2'.",
        ) from exc
    if not spec.contains(PLUGIN_API_VERSION, prereleases=True):
        raise PluginIncompatibleError(
            f"Plugin {name!r} supports Kepler plugin API {declared}, but kepler-core {__version__} "
            f"provides API {PLUGIN_API_VERSION}.",
            hint=f"Install a version of the plugin whose KEPLER_PLUGIN_API includes "
            f"{PLUGIN_API_VERSION}, or a kepler-core whose plugin API matches {declared}; "
            f"or disable it: kepler plugins disable {name}",
        )
    return declared


@dataclass
class _Candidate:
    name: str
    distribution: str
    version: str
    module: str
    entry_point: EntryPoint | None


def _discover() -> list[_Candidate]:
    seen: set[tuple[str, str, str]] = set()
    found: list[_Candidate] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        dist_name = dist.metadata["Name"] if dist is not None else "?"
        key = (ep.name, ep.value, dist_name)
        if key in seen:  # the same distribution found twice on sys.path
            continue
        seen.add(key)
        version = dist.version if dist is not None else "?"
        found.append(_Candidate(ep.name, dist_name, version, ep.value, ep))
    return found


class PluginHost:
    """The loaded plugins, their records and the hooks to call them."""

    def __init__(self, project_dir: Path | None = None, extra: Iterable[ModuleType] = ()) -> None:
        self.project_dir = project_dir
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(KeplerSpecs)
        self.infos: dict[str, PluginInfo] = {}
        self._records: dict[str, list[Any]] = {}
        self.state: PluginState = read_state(project_dir)
        self._load_builtins()
        self._load_entry_points()
        for module in extra:
            self.register(module, name=module.__name__)

    # --- loading ------------------------------------------------------------------------------

    def _load_builtins(self) -> None:
        for module_name in DEFAULT_PLUGINS:
            module = importlib.import_module(module_name)
            self.pm.register(module, name=BUILTIN_NAME)
            self.infos[BUILTIN_NAME] = PluginInfo(
                name=BUILTIN_NAME,
                distribution="kepler-core",
                version=__version__,
                status="enabled",
                module=module_name,
                hooks=self._hook_names(module),
                api=PLUGIN_API_VERSION,
                builtin=True,
            )

    def _load_entry_points(self) -> None:
        by_name: dict[str, list[_Candidate]] = defaultdict(list)
        for candidate in _discover():
            by_name[candidate.name].append(candidate)
        for name, candidates in sorted(by_name.items()):
            if name == BUILTIN_NAME or len(candidates) > 1:
                self._refuse_duplicates(name, candidates)
                continue
            self._load_one(candidates[0])

    def _refuse_duplicates(self, name: str, candidates: list[_Candidate]) -> None:
        owners = [f"{c.distribution} {c.version} ({c.module})" for c in candidates]
        if name == BUILTIN_NAME:
            owners.insert(0, f"kepler-core {__version__} (built-in)")
        error = PluginConflictError(
            f"Conflicting plugins found for name {name!r}: " + " and ".join(owners) + ".",
            hint="Uninstall one of them with pip; neither is loaded while both are installed.",
        )
        if strict_plugins():
            raise error
        log.warning("%s", error)
        for c in candidates:
            self.infos.setdefault(
                f"{name} [{c.distribution}]",
                PluginInfo(name, c.distribution, c.version, "failed", c.module, error=str(error)),
            )

    def _load_one(self, c: _Candidate) -> None:
        if c.name in self.state.disabled:
            self.pm.set_blocked(c.name)  # blocked before import: its code never runs
            self.infos[c.name] = PluginInfo(
                c.name, c.distribution, c.version, "disabled", c.module,
                disabled_by=self.state.reasons.get(c.name),
            )
            return
        try:
            assert c.entry_point is not None
            module = c.entry_point.load()
            api = check_api(c.name, module)
            self.register(module, name=c.name)
        except Exception as exc:  # a broken plugin must not break Kepler
            if self.pm.has_plugin(c.name):
                self.pm.unregister(name=c.name)
            error = exc if isinstance(exc, KeplerError) else PluginLoadError(
                f"Plugin {c.name!r} from {c.distribution} {c.version} failed to load: "
                f"{type(exc).__name__}: {exc}",
                hint=f"Reinstall or upgrade {c.distribution}, or disable it: "
                f"kepler plugins disable {c.name}",
            )
            if strict_plugins():
                raise error from exc
            log.warning("%s", error)
            self.infos[c.name] = PluginInfo(
                c.name, c.distribution, c.version, "failed", c.module, error=error.message
            )
            return
        self.infos[c.name] = PluginInfo(
            c.name, c.distribution, c.version, "enabled", c.module,
            hooks=self._hook_names(module), api=api,
        )

    @property
    def known_hooks(self) -> frozenset[str]:
        """Every hook name the specs define, as pluggy knows them (a plugin's misspelt hook
        gets a caller too, but one without a spec)."""
        return frozenset(name for name, caller in vars(self.pm.hook).items()
                         if name.startswith("kepler_") and caller.has_spec())

    def register(self, plugin: Any, name: str) -> None:
        """Register a plugin object, refusing hooks Kepler does not define."""
        self.pm.register(plugin, name=name)
        known = self.known_hooks
        unknown = [h for h in self._hook_names(plugin) if h not in known]
        if unknown:
            self.pm.unregister(plugin)
            raise PluginLoadError(
                f"Plugin {name!r} implements unknown hook(s) {', '.join(unknown)}.",
                hint="Known hooks: " + ", ".join(sorted(known)) + ". Check the spelling.",
            )
        self._records.clear()
        if name not in self.infos:
            self.infos[name] = PluginInfo(
                name, "(in-process)", "", "enabled", getattr(plugin, "__name__", repr(plugin)),
                hooks=self._hook_names(plugin),
            )

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.infos.pop(name, None)
        self._records.clear()

    @staticmethod
    def _hook_names(plugin: Any) -> tuple[str, ...]:
        return tuple(
            sorted(
                attr
                for attr in dir(plugin)
                if attr.startswith("kepler_") and callable(getattr(plugin, attr, None))
                and hasattr(getattr(plugin, attr), f"{PROJECT_NAME}_impl")
            )
        )

    # --- records ------------------------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        return sorted(self.infos.values(), key=lambda p: (not p.builtin, p.name))

    def plugin(self, name: str) -> PluginInfo:
        try:
            return self.infos[name]
        except KeyError:
            from ..catalogue import provider
            from ..installs import pip_install

            distribution = provider("plugins", name)
            raise PluginNotFoundError(
                f"No plugin named {name!r} is installed"
                + (f"; it comes with {distribution}." if distribution else "."),
                hint=(pip_install(distribution) + ". " if distribution else "")
                + "See the installed ones with 'kepler plugins list'.",
            ) from None

    def records(self, kind: type[R]) -> list[R]:
        """Every record of type ``kind`` (``TrainerSpec``...) the enabled plugins yield, in
        registration order, each with the plugin and distribution that provided it."""
        hook_name = getattr(kind, "hook", "")
        if kind not in RECORD_TYPES or hook_name not in self.known_hooks:
            raise TypeError(f"{kind!r} is not a record type of a registration hook")
        cached = self._records.get(hook_name)
        if cached is not None:
            return cached
        collected: list[Any] = []
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():  # registration order
            info = self.infos.get(impl.plugin_name)
            try:
                produced = list(impl.function() or ())
            except Exception as exc:
                if strict_plugins():
                    raise
                log.warning("plugin %r failed in %s: %s", impl.plugin_name, hook_name, exc)
                continue
            for record in produced:
                if not isinstance(record, kind):
                    self._wrong_record(impl.plugin_name, hook_name, kind, record)
                    continue
                owned: Any = record
                collected.append(dataclasses.replace(
                    owned, plugin=impl.plugin_name,
                    distribution=info.distribution if info else ""))
        self._records[hook_name] = collected
        return collected

    @staticmethod
    def _wrong_record(plugin: str, hook_name: str, kind: type, record: Any) -> None:
        error = PluginLoadError(
            f"Plugin {plugin!r} yielded {type(record).__name__} from {hook_name}, which "
            f"yields {kind.__name__} records.", hint="Report it to the plugin's authors.")
        if strict_plugins():
            raise error
        log.warning("%s", error)

    def find(self, kind: type[R], name: str) -> R | None:
        """The one record of type ``kind`` called ``name``; two plugins claiming it is a
        conflict error."""
        matches = [r for r in self.records(kind) if getattr(r, "name", None) == name]
        if len(matches) > 1:
            raise conflict(matches)
        return matches[0] if matches else None

    def conflicts(self) -> list[PluginConflictError]:
        """Names claimed by more than one plugin, across every record type."""
        found: list[PluginConflictError] = []
        for kind in RECORD_TYPES:
            groups: dict[tuple[str, ...], list[Any]] = defaultdict(list)
            for record in self.records(kind):
                groups[record.identity()].append(record)
            found.extend(conflict(g) for g in groups.values() if len(g) > 1)
        return found

    # --- calling ------------------------------------------------------------------------------

    def fire(self, event: Any) -> None:
        """Call the lifecycle hook of ``event`` (an ``ExtractEvent``, ``TrainEvent``...); a
        failing subscriber is logged, never raised (unless strict)."""
        hook_name = getattr(type(event), "hook", "")
        if not hook_name.startswith("kepler_after_") or hook_name not in self.known_hooks:
            raise TypeError(f"{type(event).__name__} is not a lifecycle event")
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            try:
                impl.function(event=event)
            except Exception as exc:
                if strict_plugins():
                    raise
                log.warning("plugin %r failed in %s: %s", impl.plugin_name, hook_name, exc)

    def call_validate(self, config: Any) -> list[Any]:
        """Run every plugin's ``kepler_validate`` checks, turning a crash into a failed check."""
        from ..records import CheckResult

        results: list[Any] = []
        for impl in self.pm.hook.kepler_validate.get_hookimpls():
            try:
                produced: Iterable[Any] = impl.function(config=config) or ()  # type: ignore[assignment]
                for result in produced:
                    results.append(dataclasses.replace(result, plugin=impl.plugin_name))
            except Exception as exc:
                if strict_plugins():
                    raise
                results.append(
                    CheckResult(
                        check=f"{impl.plugin_name}: checks ran",
                        status="fail",
                        detail=f"{type(exc).__name__}: {exc}",
                        hint=getattr(exc, "hint", None) or "Run with --debug for the traceback.",
                        plugin=impl.plugin_name,
                    )
                )
        return results


def conflict(records: list[Any]) -> PluginConflictError:
    """The error for two or more plugins claiming the same capability."""
    first = records[0]
    owners = " and ".join(f"{r.distribution} (plugin {r.plugin!r})" for r in records)
    return PluginConflictError(
        f"Conflicting plugins found for {first.kind} {first.label!r}: {owners}.",
        hint="Disable all but one: kepler plugins disable <plugin>",
    )


@functools.cache
def get_host() -> PluginHost:
    """The process-wide plugin host, built on first use."""
    return PluginHost(project_dir=find_project())


def reset() -> None:
    """Forget the loaded host (after enable/disable, or between tests)."""
    get_host.cache_clear()
