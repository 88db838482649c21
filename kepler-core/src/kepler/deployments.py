"""Deployments on any target: ``kp.deploy.*`` and the ``kepler deploy`` commands.

A target is a plugin's :class:`~kepler.records.DeployerSpec` (``local`` from kepler-serve,
``cloud-run`` from kepler-gcp...) whose factory builds a :class:`kepler.protocols.Deployer`.
Everything here is generic over those records: core resolves the model (registry reference,
artifact folder or :class:`~kepler.model.Model`), checks the deployment's name, remembers which
target holds which deployment, fires ``kepler_after_deploy``, and leaves the rest to the target.

Where deployments are remembered: ``<project>/<core.state_dir>/deployments/index.json``
(``.kepler/deployments``), or ``<user data dir>/deployments`` outside a project. A target keeps
its own records beside it (kepler-serve's ``local`` keeps the server's pid, port and log).

Example::

    import kepler as kp
    dep = kp.deploy.create("pump-failure:prod", target="local")   # or kp.deploy.to_local(model)
    kp.deploy.predict(dep.name, [{"temperature": 71.2, "pressure": 4.1}])
    kp.deploy.list(); kp.deploy.status(dep.name); kp.deploy.logs(dep.name, lines=20)
    kp.deploy.build("pump-failure:prod", "build/pump-failure")   # a container build context
    kp.deploy.delete(dep.name)
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DeploymentError, DeploymentNotFoundError, KeplerError
from .records import DeployerSpec, DeployEvent, Deployment

if TYPE_CHECKING:
    from .artifact.manifest import ModelManifest
    from .protocols import Deployer

log = logging.getLogger(__name__)

#: Deployment names: what Cloud Run services and Kubernetes objects accept.
NAME_PATTERN = re.compile(r"^[a-z](?:[a-z0-9-]{0,47}[a-z0-9])?$")
INDEX_FILE = "index.json"


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise DeploymentError(
            f"Invalid deployment name {name!r}.",
            hint="Use lowercase letters, digits and '-', starting with a letter and ending with a "
            "letter or digit, at most 49 characters (e.g. pump-failure).",
        )
    return name


def default_name(model_name: str) -> str:
    """A valid deployment name made from a model's name (``Pump_Failure.v2`` ->
    ``pump-failure-v2``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", model_name.lower()).strip("-")
    slug = re.sub(r"^[^a-z]+", "", slug)[:49].rstrip("-")
    return slug or "model"


def state_dir() -> Path:
    """Where deployments are recorded for the configuration in force."""
    from .config import load
    from .paths import user_data_dir

    config = load()
    if config.project_dir is None:
        return user_data_dir() / "deployments"
    state: str = config.section("core").state_dir
    return config.project_dir / state / "deployments"


# --- targets ----------------------------------------------------------------------------------


def targets() -> builtins.list[DeployerSpec]:
    """The installed deployment targets (``DeployerSpec`` records), by name."""
    from .plugins import get_host

    return sorted(get_host().records(DeployerSpec), key=lambda r: r.name)


def default_target(target: str | None = None) -> str:
    """``target``, else ``deploy.target`` from the configuration, else the only installed
    target; several installed and none chosen is an error that lists them."""
    from .capabilities import choose

    return choose(DeployerSpec, target).name


def deployer(target: str | None = None) -> Deployer:
    """The :class:`~kepler.protocols.Deployer` of ``target`` (default: :func:`default_target`),
    built with the config in force."""
    from .capabilities import choose
    from .config import load

    config = load()
    return choose(DeployerSpec, target, config=config).create(config)  # type: ignore[no-any-return]


# --- the index: which target holds which deployment --------------------------------------------


def _index_path() -> Path:
    return state_dir() / INDEX_FILE


def _read_index() -> dict[str, dict[str, Any]]:
    path = _index_path()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DeploymentError(f"{path} is damaged: {exc}",
                              hint="Delete it; 'kepler deploy list' asks every target again.") \
            from exc
    return {str(k): dict(v) for k, v in data.items() if isinstance(v, Mapping)}


def _write_index(index: Mapping[str, Any]) -> None:
    path = _index_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(dict(sorted(index.items())), indent=2) + "\n",
                         encoding="utf-8")
    os.replace(temporary, path)


def _remember(deployment: Deployment) -> None:
    index = _read_index()
    index[deployment.name] = {"target": deployment.target, "model": deployment.model,
                              "version": deployment.version}
    _write_index(index)


def _forget(name: str) -> None:
    index = _read_index()
    if index.pop(name, None) is not None:
        _write_index(index)


def find_target(name: str, target: str | None = None) -> str:
    """The target holding deployment ``name``: ``target`` if given, else the index, else the
    first target whose ``get`` knows it."""
    return locate(name, target)[1]


def known_name(name: str) -> str:
    """``name`` as deployments are named: a model name typed where a deployment name belongs
    (``failure-random_forest``) finds the deployment made from it (``failure-random-forest``)."""
    if isinstance(name, str) and NAME_PATTERN.match(name):
        return name
    candidate = default_name(name) if isinstance(name, str) else ""
    if candidate and candidate in _read_index():
        log.info("deployment %r is named %r", name, candidate)
        return candidate
    try:
        return check_name(name)
    except DeploymentError as exc:
        if candidate:
            exc.hint = f"Deployments are named like {candidate!r} (from the model's name). " \
                + (exc.hint or "")
        raise


def locate(name: str, target: str | None = None) -> tuple[str, str]:
    """The deployment's name (see :func:`known_name`) and the target holding it."""
    name = known_name(name)
    return name, _target_of(name, target)


def _target_of(name: str, target: str | None) -> str:
    if target is not None:
        return target
    entry = _read_index().get(name)
    if entry and entry.get("target"):
        return str(entry["target"])
    for spec in targets():
        try:
            deployer(spec.name).get(name)
        except DeploymentNotFoundError:
            continue
        except Exception as exc:  # a target that cannot answer must not hide the others
            log.debug("target %r could not be asked about %r: %s", spec.name, name, exc)
            continue
        return spec.name
    known = ", ".join(sorted(_read_index())) or "none"
    raise DeploymentNotFoundError(f"No deployment named {name!r}.",
                                  hint=f"Deployments: {known}. 'kepler deploy list' shows them "
                                  "all; 'kepler deploy MODEL --target TARGET' creates one.")


# --- models -----------------------------------------------------------------------------------


def resolve_model(model: Any) -> tuple[Path, ModelManifest]:
    """The artifact folder and manifest of ``model``: a registry reference (``"pumps"``,
    ``"pumps:3"``, ``"pumps:prod"``), an artifact folder, or a :class:`~kepler.model.Model`
    (saved to the registry first when it is not saved yet)."""
    from .artifact import read_manifest
    from .model import Model
    from .registry import resolve_models

    if isinstance(model, Model):
        if model.path is None:
            log.info("saving %s to the registry before deploying it", model.name)
            model.save()
        assert model.path is not None
        return model.path, model.manifest
    [resolved] = resolve_models([model])
    assert resolved.path is not None
    return resolved.path, read_manifest(resolved.path)


# --- the SDK: kp.deploy.* ---------------------------------------------------------------------


def target_settings(settings: Any, options: Mapping[str, Any], *, target: str, section: str,
                    known: Sequence[str]) -> tuple[Any, dict[str, Any]]:
    """One deployment's settings and the target's own options, from what ``-o KEY=VALUE`` (or
    ``**options``) gave a cloud target (plugin API 1.8).

    A key that is a field of the target's configuration section (``settings``, a pydantic
    model) overrides it for this deployment and is validated as the section is: an invalid
    value is a :class:`~kepler.errors.DeploymentError` naming it. A key in ``known`` is the
    target's own option (``canary`` is checked with :func:`canary_percent`); ``dry_run`` is
    core's. Anything else is ignored with a warning that lists what the target takes, so a
    typo never goes unnoticed. Example (kepler-gcp's deployer)::

        settings, extra = target_settings(self.settings, {"region": "europe-west1",
                                          "canary": "10"}, target="cloud-run", section="gcp",
                                          known=("image", "canary", "port", "build_options"))
        # settings.region == "europe-west1"; extra == {"canary": 10}
    """
    from pydantic import ValidationError

    model = type(settings)
    overrides = {k: v for k, v in options.items() if k in model.model_fields}
    extra = {k: v for k, v in options.items() if k in known}
    unknown = sorted(set(options) - set(overrides) - set(extra) - {"dry_run"})
    if unknown:
        log.warning("target %s ignores option(s) %s (options: %s and the %s section's fields)",
                    target, ", ".join(unknown), ", ".join(known), section)
    if overrides:
        try:
            settings = model.model_validate({**settings.model_dump(), **overrides})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}={e.get('input')!r}: "
                                 f"{e['msg']}" for e in exc.errors(include_url=False))
            raise DeploymentError(f"Invalid option for target {target}: {problems}",
                                  hint=f"Options take the values of the {section} section's "
                                  "fields; 'kepler config show' lists them.") from None
    if extra.get("canary") is not None:
        extra["canary"] = canary_percent(extra["canary"])
    return settings, extra


def canary_percent(value: Any) -> int | None:
    """``--canary N`` / ``-o canary=N``: the new revision's share of the traffic, a whole
    percentage from 1 to 99 (plugin API 1.8); None when not given."""
    if value is None:
        return None
    try:
        percent = int(value)
    except (TypeError, ValueError):
        percent = -1
    if not 1 <= percent <= 99:
        raise DeploymentError(f"canary={value!r} is not a percentage from 1 to 99.",
                              hint="e.g. --canary 10 (-o canary=10): the new revision gets 10% "
                              "of the traffic until 'kepler deploy promote'.")
    return percent


class DeploymentList(builtins.list[Deployment]):
    """Deployments, shown as a table in Jupyter. ``errors``: targets that could not answer."""

    COLUMNS = ("name", "target", "model", "version", "status", "url")

    def __init__(self, items: Any = (), errors: Mapping[str, str] | None = None) -> None:
        super().__init__(items)
        self.errors: dict[str, str] = dict(errors or {})

    def _repr_html_(self) -> str:
        import html

        head = "".join(f"<th>{c}</th>" for c in self.COLUMNS)
        body = "".join("<tr>" + "".join(
            f"<td>{html.escape('' if getattr(d, c) is None else str(getattr(d, c)))}</td>"
            for c in self.COLUMNS) + "</tr>" for d in self)
        return f"<table><tr>{head}</tr>{body}</table>"


def as_dict(deployment: Deployment) -> dict[str, Any]:
    """A deployment as plain JSON types (``--json`` output)."""
    from .lineage import json_safe

    return json_safe(asdict(deployment))  # type: ignore[no-any-return]


def _fire(deployment: Deployment, action: Any) -> None:
    from .plugins import get_host

    get_host().fire(DeployEvent(
        target=deployment.target, name=deployment.name, model=deployment.model,
        version=deployment.version, url=deployment.url, action=action))


def create(model: Any, *, target: str | None = None, name: str | None = None,
           replace: bool = False, **options: Any) -> Deployment:
    """Deploy ``model`` (reference, folder or Model) to ``target`` (default: ``deploy.target``,
    or the only installed target) as ``name`` (default: the model's name made DNS-safe). An
    existing deployment of that name is an error unless ``replace=True``, which updates it in
    place. ``options`` go to the target (``port=8080``,
    ``api_key=...``).

    Example::

        kp.deploy.create("pump-failure:prod", target="local", port=8080)
    """
    folder, manifest = resolve_model(model)
    name = check_name(name) if name is not None else default_name(manifest.name)
    target = default_target(target)
    existing = _read_index().get(name)
    if existing is not None:
        where = existing.get("target")
        if not replace:
            raise DeploymentError(
                f"A deployment named {name!r} exists already (target {where!r}, model "
                f"{existing.get('model')!r}).",
                hint=f"Update it: kepler deploy update {name} MODEL (or --replace; "
                f"replace=True in Python), delete it first (kepler deploy delete {name}), or "
                "choose another --name.")
        if where != target:
            raise DeploymentError(
                f"Deployment {name!r} lives on target {where!r}, not {target!r}.",
                hint=f"Delete it there first: kepler deploy delete {name}")
        return update(name, folder, target=target, **options)
    deployment = deployer(target).create(name, str(folder), options)
    _remember(deployment)
    _fire(deployment, "create")
    return deployment


def update(name: str, model: Any, *, target: str | None = None, **options: Any) -> Deployment:
    """Serve ``model`` under the existing deployment ``name`` (a new version, new options)."""
    folder, _ = resolve_model(model)
    name, where = locate(name, target)
    deployment = deployer(where).update(name, str(folder), options)
    _remember(deployment)
    _fire(deployment, "update")
    return deployment


def list(target: str | None = None) -> DeploymentList:  # noqa: A001 - kp.deploy.list()
    """Every deployment of every installed target (or of ``target``), each with its recorded
    state; a target that cannot answer is reported in ``.errors``, not raised.

    Example::

        kp.deploy.list()            # a table in Jupyter
    """
    names = [target] if target is not None else [r.name for r in targets()]
    found = DeploymentList()
    for each in names:
        try:
            found.extend(deployer(each).list())
        except KeplerError as exc:
            if target is not None:
                raise
            found.errors[each] = exc.message
    return found


def get(name: str, *, target: str | None = None) -> Deployment:
    """The deployment as its target recorded it (no health check)."""
    name, where = locate(name, target)
    return deployer(where).get(name)


def status(name: str, *, target: str | None = None) -> Deployment:
    """The deployment with its live state (``.status``: running, unhealthy, stopped...)."""
    name, where = locate(name, target)
    return deployer(where).status(name)


def logs(name: str, lines: int = 100, *, target: str | None = None) -> builtins.list[str]:
    """The last ``lines`` lines of the deployment's server log."""
    name, where = locate(name, target)
    return deployer(where).logs(name, lines)


def records(data: Any) -> builtins.list[dict[str, Any]]:
    """Prediction inputs as a list of JSON-safe records: a DataFrame, a list of records, one
    record, or ``{"instances": [...]}``."""
    from .lineage import json_safe

    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a DataFrame, without pandas here
        data = data.astype(object).where(data.notna(), None).to_dict("records")
    elif isinstance(data, Mapping):
        data = data.get("instances", [data])
    if not isinstance(data, builtins.list | tuple):
        raise DeploymentError(f"Cannot send {type(data).__name__} for prediction.",
                              hint="Pass a DataFrame, a list of records (dicts) or one record.")
    return [json_safe(dict(row)) if isinstance(row, Mapping) else json_safe(row) for row in data]


def predict(name: str, data: Any, *, target: str | None = None) -> Any:
    """Score ``data`` (DataFrame, records, one record) with deployment ``name``; returns the
    server's answer (``predictions``, ``probabilities`` for classifiers, ``model``, ``version``).
    """
    name, where = locate(name, target)
    return deployer(where).predict(name, records(data))


def delete(name: str, *, target: str | None = None) -> None:
    """Stop the deployment and forget it."""
    name, where = locate(name, target)
    backend = deployer(where)
    try:
        deployment = backend.get(name)
    except DeploymentNotFoundError:
        _forget(name)
        raise
    backend.delete(name)
    _forget(name)
    _fire(deployment, "delete")


def _optional(backend: Any, method: str, target: str) -> Any:
    """A deployer method outside the required protocol (rollback, promote, plan)."""
    function = getattr(backend, method, None)
    if not callable(function):
        raise DeploymentError(
            f"Target {target!r} does not support {method}.",
            hint="Revisions and traffic splits belong to targets that keep them (cloud-run); "
            "'kepler deploy targets' lists what is installed.")
    return function


def rollback(name: str, revision: str | None = None, *, target: str | None = None
             ) -> Deployment:
    """Send all of ``name``'s traffic back to ``revision`` (default: the one before the
    revision serving now, or the stable one while a canary runs).

    Example::

        kp.deploy.rollback("pump-failure", target="cloud-run")
    """
    name, where = locate(name, target)
    deployment: Deployment = _optional(deployer(where), "rollback", where)(name, revision)
    _remember(deployment)
    _fire(deployment, "rollback")
    return deployment


def promote(name: str, revision: str | None = None, *, target: str | None = None
            ) -> Deployment:
    """Give ``revision`` (default: the canary) all of ``name``'s traffic."""
    name, where = locate(name, target)
    deployment: Deployment = _optional(deployer(where), "promote", where)(name, revision)
    _remember(deployment)
    _fire(deployment, "promote")
    return deployment


def plan(model: Any, *, target: str | None = None, name: str | None = None,
         action: str = "create", **options: Any) -> builtins.list[Any]:
    """A dry run of :func:`create` (or ``action="update"``): every request the target would
    send, in order, each with ``render()`` and ``as_dict()``; nothing is sent or recorded."""
    folder, manifest = resolve_model(model)
    name = check_name(name) if name is not None else default_name(manifest.name)
    target = default_target(target)
    planned: builtins.list[Any] = _optional(deployer(target), "plan", target)(
        name, str(folder), options, action=action)
    return planned


def build(model: Any, out: Path | str, *, target: str | None = None, **options: Any) -> Path:
    """Write a container build context for ``model`` into folder ``out`` (Dockerfile, the model,
    a lock of the packages it needs, the entrypoint) and return the folder.

    Example::

        kp.deploy.build("pump-failure:prod", "build/pump-failure")
        # then: docker build -t pump-failure build/pump-failure
    """
    folder, _ = resolve_model(model)
    return deployer(target).build(str(folder), Path(out).expanduser().resolve(), options)
