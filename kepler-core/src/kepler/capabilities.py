"""Choosing a connector, sink or deployer by name, or by default, and using connectors and sinks.

Data enters Kepler through connector records and leaves through sink records: ``kepler train
--connector``, batch scoring, pipelines and the model server's prediction log all call
:func:`read_data` and :func:`write_results`, so a third party's connector or sink works there
with no change to core or to any other plugin.

Example::

    from kepler.api import read_data, write_results
    frame = read_data("index=pumps | head 1000", connector="splunk", earliest="-7d")
    report = write_results(scores, sink="jsonl", path="scores.jsonl")
"""

from __future__ import annotations

import time
from typing import Any, TypeVar

from .errors import CapabilityNotInstalledError, KeplerError, PluginNotFoundError
from .records import ConnectorSpec, DeployerSpec, ExtractEvent, SinkSpec

R = TypeVar("R", ConnectorSpec, DeployerSpec, SinkSpec)

#: record type -> (config section, field, catalogue kind, what the CLI calls it)
_DEFAULTS: dict[type, tuple[str, str, Any, str]] = {
    ConnectorSpec: ("data", "connector", "connectors", "--connector"),
    SinkSpec: ("results", "sink", "sinks", "--sink"),
    DeployerSpec: ("deploy", "target", "deployers", "--target"),
}


def choose(kind: type[R], name: str | None = None, *, config: Any = None) -> R:
    """The record of ``kind`` called ``name``; else the configured default; else the only one.

    Raises a :class:`~kepler.errors.PluginNotFoundError` that lists what is installed and says
    what to install or configure.
    """
    from .plugins import get_host

    section, field, catalogue_kind, flag = _DEFAULTS[kind]
    host = get_host()
    installed = sorted(r.name for r in host.records(kind))
    if name is None:
        if config is None:
            from .config import load

            config = load()
        name = getattr(config.section(section), field)
    if name is not None:
        found = host.find(kind, name)
        if found is None:
            raise not_installed(kind, name, installed)
        return found
    if len(installed) == 1:
        only = host.find(kind, installed[0])
        assert only is not None
        return only
    label = kind.kind
    if not installed:
        from .catalogue import install_hint

        raise PluginNotFoundError(f"No {label} is installed.", hint=install_hint(catalogue_kind))
    raise PluginNotFoundError(
        f"Several {label}s are installed ({', '.join(installed)}) and none is chosen.",
        hint=f"Name one with {flag} NAME, or set {section}.{field} in kepler.yml "
        f"(KEPLER_{section.upper()}__{field.upper()}).")


def not_installed(kind: type, name: str, installed: list[str]) -> PluginNotFoundError:
    """The error for a capability name no enabled plugin provides, with the install hint."""
    from .catalogue import provider

    catalogue_kind = _DEFAULTS[kind][2]
    distribution = provider(catalogue_kind, name)
    label = kind.kind  # type: ignore[attr-defined]
    from .installs import pip_install

    hint = (pip_install(distribution) + ". " if distribution else "") + \
        f"Installed {label}s: {', '.join(installed) or 'none'}."
    disabled = _disabled_owner(distribution)
    if disabled:
        hint = disabled
    return PluginNotFoundError(f"No installed plugin provides the {label} {name!r}.", hint=hint)


def _disabled_owner(distribution: str | None) -> str | None:
    if distribution is None:
        return None
    from .plugins import get_host

    base = distribution.split("[")[0]
    for info in get_host().plugins():
        if info.distribution == base and info.status == "disabled":
            return f"{base} is installed but its plugin {info.name!r} is disabled: " \
                f"kepler plugins enable {info.name}"
        if info.distribution == base and info.status == "failed":
            return f"{base} failed to load: {info.error}"
    return None


def connector(name: str | None = None, *, config: Any = None) -> Any:
    """The :class:`~kepler.protocols.Connector` called ``name`` (default: ``data.connector``,
    or the only one installed), built with the configuration in force."""
    if config is None:
        from .config import load

        config = load()
    return choose(ConnectorSpec, name, config=config).create(config)


def sink(name: str | None = None, *, config: Any = None) -> Any:
    """The :class:`~kepler.protocols.Sink` called ``name`` (default: ``results.sink``, or the
    only one installed)."""
    if config is None:
        from .config import load

        config = load()
    return choose(SinkSpec, name, config=config).create(config)


def read_data(query: str, *, connector: str | None = None, config: Any = None,
              **options: Any) -> Any:
    """Run ``query`` through a connector and return its rows (a DataFrame for tabular
    sources), firing ``kepler_after_extract``. ``options`` go to the connector
    (``earliest=``, ``latest=`` for time-ranged sources).

    Example::

        frame = read_data("index=pumps", connector="splunk", earliest="-7d@d")
    """
    from .plugins import get_host

    if config is None:
        from .config import load

        config = load()
    spec = choose(ConnectorSpec, connector, config=config)
    source = spec.create(config)
    started = time.perf_counter()
    data = source.query(query, **{k: v for k, v in options.items() if v is not None})
    if data is None:
        raise KeplerError(f"Connector {spec.name!r} returned nothing for {query!r}.",
                          hint=f"Report it to the authors of {spec.distribution}.")
    attrs = getattr(data, "attrs", None)
    if isinstance(attrs, dict):
        attrs.setdefault("source", spec.name)
        attrs.setdefault("connector", spec.name)
    lineage = dict(attrs) if isinstance(attrs, dict) else {}
    lineage.setdefault("seconds", round(time.perf_counter() - started, 3))
    get_host().fire(ExtractEvent(connector=spec.name, query=query, rows=_rows(data),
                                 lineage=lineage, data=data))
    return data


def write_results(data: Any, *, sink: str | None = None, config: Any = None,
                  **options: Any) -> Any:
    """Write ``data`` through a sink and return the sink's report of what was delivered.

    Example::

        report = write_results(scores, sink="splunk-hec", index="ml_predictions")
    """
    if config is None:
        from .config import load

        config = load()
    spec = choose(SinkSpec, sink, config=config)
    return spec.create(config).write(data, **options)


def query_options() -> dict[str, str]:
    """CLI query shorthands: an installed connector's ``query_option`` (``spl`` -> ``splunk``),
    then the first-party ones from the catalogue (so ``--spl`` explains what to install)."""
    from .catalogue import query_options as catalogued
    from .plugins import get_host

    found = dict(catalogued())
    for record in get_host().records(ConnectorSpec):
        if record.query_option:
            found[record.query_option] = record.name
    return found


def _rows(data: Any) -> int:
    try:
        return len(data)
    except TypeError:
        return 0


__all__ = ["CapabilityNotInstalledError", "choose", "connector", "not_installed",
           "query_options", "read_data", "sink", "write_results"]
