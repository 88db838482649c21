"""The resolved configuration and how it is loaded.

Each plugin owns a section (``splunk:``, ``gcp:``) and validates it with its own pydantic model,
declared through the ``kepler_config_sections`` hook. Sections validate on first use, so a broken
``gcp:`` section never stops a Splunk extraction, and every error names the file (or environment
variable), the key, the bad value and the expected form.
"""

from __future__ import annotations

import difflib
import logging
import os
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from ..errors import ConfigError
from ..paths import PROJECT_FILE, find_project, user_config_file
from ..yamlio import read_yaml
from . import references
from .layers import RESERVED_KEYS, Layered, Path_, env_overrides, flatten, nest

log = logging.getLogger(__name__)

DEFAULT_ENV = "dev"
STANDARD_ENVS = ("dev", "staging", "prod")
MASK = "********"
#: Key names treated as secrets in sections no installed plugin describes.
SECRET_KEY_WORDS = ("token", "password", "secret", "api_key", "apikey", "private_key", "credential")


class CoreSettings(BaseModel):
    """Kepler core's own section, ``core:`` (``KEPLER_CORE__LOG_LEVEL`` ...)."""

    model_config = ConfigDict(extra="forbid")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] | None = Field(
        default=None, description="Logging level when --log-level and KEPLER_LOG_LEVEL are unset."
    )
    state_dir: str = Field(
        default=".kepler",
        description="Project folder (relative to the project) for models, caches and spools; "
        "kept out of git.",
    )
    models_dir: str | None = Field(
        default=None,
        description="The model registry's folder; relative paths are relative to the project. "
        "Default: <state_dir>/models in a project, else <user config dir>/models.",
        examples=["/srv/kepler/models"],
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


def secret_paths(model: type[BaseModel], prefix: Path_ = ()) -> set[Path_]:
    """Paths of the ``SecretStr`` fields of a model, nested models included."""
    found: set[Path_] = set()
    for name, info in model.model_fields.items():
        for candidate in _annotation_parts(info.annotation):
            if candidate is SecretStr:
                found.add((*prefix, name))
            elif isinstance(candidate, type) and issubclass(candidate, BaseModel):
                found |= secret_paths(candidate, (*prefix, name))
    return found


def _annotation_parts(annotation: Any) -> Iterator[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _annotation_parts(arg)
    elif origin is typing.Annotated:
        yield from _annotation_parts(typing.get_args(annotation)[0])
    else:
        yield annotation


def looks_secret(path: Path_) -> bool:
    last = path[-1].lower()
    return any(word in last for word in SECRET_KEY_WORDS)


def is_secret_path(model: type[BaseModel] | None, subpath: Path_) -> bool:
    """Whether ``subpath`` (below the section) holds a secret.

    Modeled fields are secrets when typed ``SecretStr``; inside free-form mappings (a section no
    plugin models, or a ``dict`` field such as ``splunk.connections``) a key named like ``token``
    or ``password`` is treated as one.
    """
    if model is None:
        return bool(subpath) and looks_secret(subpath)
    if subpath in secret_paths(model):
        return True
    field = model.model_fields.get(subpath[0]) if subpath else None
    if field is not None and len(subpath) > 1:
        origins = {typing.get_origin(p) for p in _annotation_parts(field.annotation)}
        if dict in origins:
            return looks_secret(subpath)
    return False


@dataclass
class Config:
    """The configuration in force: layered values, their sources, validated sections.

    Example::

        import kepler as kp
        cfg = kp.config.load(env="prod")
        cfg.section("splunk").host   # or cfg.splunk.host
        cfg.source_of("splunk.host") # 'kepler.yml [environments.prod]'
    """

    env: str
    project_dir: Path | None
    layered: Layered
    models: dict[str, type[BaseModel]]
    files: list[Path] = field(default_factory=list)
    #: Sections no installed plugin owns, each with the error explaining it (typos).
    unknown: dict[str, ConfigError] = field(default_factory=dict)
    _sections: dict[str, Any] = field(default_factory=dict, repr=False)

    # --- access -------------------------------------------------------------------------------

    @property
    def section_names(self) -> list[str]:
        return sorted(set(self.models) | set(self.layered.values))

    def section(self, name: str) -> Any:
        """The validated section (a pydantic model), or a plain dict when no plugin owns it."""
        if name in self._sections:
            return self._sections[name]
        if name not in self.models and name not in self.layered.values:
            close = difflib.get_close_matches(name, self.section_names, n=1)
            raise ConfigError(
                f"There is no configuration section {name!r}.",
                hint=(f"Did you mean {close[0]!r}? " if close else "")
                + "Sections come from installed plugins: see 'kepler config show'.",
            )
        raw = self.layered.values.get(name, {})
        if not isinstance(raw, Mapping):
            raise ConfigError(
                f"{self.source_of((name,))}: section {name!r} must be a mapping of keys, found "
                f"{raw!r}.",
                hint=f"Write it as '{name}:' followed by indented 'key: value' lines.",
            )
        resolved = self._resolve(name, raw)
        model = self.models.get(name)
        value: Any = resolved if model is None else self._validate(name, model, resolved)
        self._sections[name] = value
        self._remember_secrets(name, value)
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.section(name)
        except ConfigError as exc:
            if name not in self.models and name not in self.layered.values:
                raise AttributeError(str(exc)) from None
            raise

    def source_of(self, path: str | Path_) -> str:
        """Where a value came from: a file (and environment section), a variable, or default."""
        parts = tuple(path.split(".")) if isinstance(path, str) else path
        return self.layered.source_of(parts) or "default"

    def is_secret(self, path: Path_) -> bool:
        if is_secret_path(self.models.get(path[0]), path[1:]):
            return True
        raw = _dig(self.layered.values, path)
        if isinstance(raw, str) and references.REFERENCE.search(raw):
            kinds = {m["kind"] for m in references.REFERENCE.finditer(raw)}
            if kinds & {"secret", "keyring"}:
                return True
        return False

    def rows(self) -> list[tuple[str, str, str]]:
        """``(key, value shown with secrets masked, source)`` for every value in force."""
        out: list[tuple[str, str, str]] = []
        for name in self.section_names:
            try:
                section = self.section(name)
            except ConfigError:  # show what was written, unvalidated; errors() says what is wrong
                section = self.layered.values.get(name) or {}
                if not isinstance(section, Mapping):
                    section = {"": section}
            data = section.model_dump(mode="python") if isinstance(section, BaseModel) else section
            for sub, value in flatten(data, (name,)) if data else [((name,), {})]:
                shown = _display(value, secret=self.is_secret(sub))
                out.append((".".join(sub), shown, self.source_of(sub)))
        return out

    def errors(self) -> dict[str, ConfigError]:
        """Sections that fail validation (or reference resolution), with their errors."""
        found: dict[str, ConfigError] = dict(self.unknown)
        for name in self.section_names:
            if name in found:
                continue
            try:
                self.section(name)
            except ConfigError as exc:
                found[name] = exc
        return found

    def to_dict(self) -> dict[str, Any]:
        """Every value with secrets masked: safe to print or log."""
        result: dict[str, Any] = {}
        for key, shown, _ in self.rows():
            target = result
            *parents, last = key.split(".")
            for parent in parents:
                target = target.setdefault(parent, {})
            target[last] = shown
        return result

    # --- internals ----------------------------------------------------------------------------

    def _resolve(self, name: str, raw: Mapping[str, Any]) -> dict[str, Any]:
        resolved: dict[str, Any] = {}
        for sub, value in flatten(raw, (name,)):
            if isinstance(value, str) and references.is_reference(value):
                where = f"{self.source_of(sub)}: {'.'.join(sub)}"
                value = references.resolve(value, where)
            _set(resolved, sub[1:], value)
        return resolved

    def _validate(self, name: str, model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
        try:
            validated = model.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(
                "Invalid configuration:\n" + "\n".join(self._describe(name, model, exc)),
                hint="Fix the value where it is set (the file or variable named above); "
                "'kepler config show' lists every value and its source.",
            ) from None
        secrets = secret_paths(model)
        for path in secrets:
            self._warn_literal_secret((name, *path))
        return validated

    def _describe(self, name: str, model: type[BaseModel], exc: ValidationError) -> list[str]:
        lines = []
        secrets = secret_paths(model)
        for error in exc.errors(include_url=False):
            loc = tuple(str(part) for part in error["loc"])
            path = (name, *loc)
            key = ".".join(path)
            where = self.source_of(path)
            if error["type"] == "extra_forbidden":
                known = sorted(model.model_fields)
                close = difflib.get_close_matches(loc[-1], known, n=1)
                suggestion = f" Did you mean {close[0]!r}?" if close else ""
                lines.append(
                    f"  {where}: unknown key {key!r}.{suggestion} Known keys of {name!r}: "
                    f"{', '.join(known)}."
                )
                continue
            if error["type"] == "missing":
                lines.append(
                    f"  {key} is required and not set. Set it in kepler.yml or as "
                    f"KEPLER_{'__'.join(p.upper() for p in path)}."
                )
                continue
            shown = MASK if loc in secrets else repr(error.get("input"))
            lines.append(f"  {where}: {key} = {shown}: {error['msg']}{_expected(model, loc)}.")
        return lines

    def _warn_literal_secret(self, path: Path_) -> None:
        raw = _dig(self.layered.values, path)
        source = self.source_of(path)
        if raw in (None, "") or references.is_reference(raw) or self.project_dir is None:
            return
        if source.startswith(str(self.project_dir)):
            log.warning(
                "%s: %s holds a secret written in plain text; store it with 'kepler secrets set' "
                "and write a ${secret:NAME} reference instead.", source, ".".join(path)
            )

    def _remember_secrets(self, name: str, section: Any) -> None:
        from ..logs import register_secret

        if isinstance(section, BaseModel):
            for path in secret_paths(type(section)):
                value: Any = section
                for part in path:
                    value = getattr(value, part, None)
                if isinstance(value, SecretStr):
                    register_secret(value.get_secret_value())


def _expected(model: type[BaseModel], loc: tuple[str, ...]) -> str:
    info = model.model_fields.get(loc[0]) if loc else None
    if info is None:
        return ""
    type_name = _type_name(info.annotation)
    example = info.examples[0] if info.examples else info.default
    hint = f" (expected {type_name}"
    if example not in (None, ...) and not isinstance(example, SecretStr):
        hint += f", e.g. {example!r}"
    return hint + ")"


def _type_name(annotation: Any) -> str:
    parts = [p for p in _annotation_parts(annotation) if p is not type(None)]
    names = []
    for part in parts:
        if typing.get_origin(part) is Literal:
            names.append("one of " + ", ".join(repr(a) for a in typing.get_args(part)))
        else:
            names.append(getattr(part, "__name__", None) or str(part).replace("typing.", ""))
    return " or ".join(names)


def _dig(values: Mapping[str, Any], path: Path_) -> Any:
    current: Any = values
    for part in path:
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def _set(target: dict[str, Any], path: Path_, value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    if path:
        target[path[-1]] = value


def _display(value: Any, *, secret: bool) -> str:
    if secret:
        return MASK if value not in (None, "") else "(not set)"
    if isinstance(value, SecretStr):
        return MASK
    if value is None:
        return "(not set)"
    if isinstance(value, Path):
        return str(value)
    return value if isinstance(value, str) else repr(value)


def _section_models() -> dict[str, type[BaseModel]]:
    from ..plugins import get_host
    from ..records import ConfigSectionSpec, import_string

    models: dict[str, type[BaseModel]] = {}
    host = get_host()
    for record in host.records(ConfigSectionSpec):
        host.find(ConfigSectionSpec, record.name)  # raises on two owners
        models[record.name] = import_string(record.target)
    return models


def selected_env(env: str | None, project_data: Mapping[str, Any]) -> tuple[str, bool]:
    """The environment in force and whether the user asked for it explicitly."""
    if env:
        return env, True
    from ..selection import current

    chosen = current().env
    if chosen:
        return chosen, True
    from_var = os.environ.get("KEPLER_ENV")
    if from_var:
        return from_var, True
    default = project_data.get("default_env")
    return (str(default) if default else DEFAULT_ENV), False


def load(
    env: str | None = None,
    project: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    strict: bool = True,
) -> Config:
    """Read every layer and return the configuration in force.

    ``env`` (or ``KEPLER_ENV``) picks ``environments.<env>`` of kepler.yml; ``project`` picks a
    project folder instead of searching upward from the working directory. A section no
    installed plugin owns (a typo such as ``splnk:``) is a :class:`ConfigError`; with
    ``strict=False`` it is kept in ``config.unknown`` for ``kepler config show|check|validate``
    to report.
    """
    project_dir = find_project(project) if project is not None else find_project()
    if project is not None and project_dir is None:
        raise ConfigError(
            f"No {PROJECT_FILE} in {project}.", hint="Create a project with 'kepler init NAME'."
        )
    layered = Layered()
    files: list[Path] = []

    user_file = user_config_file()
    user_data = read_yaml(user_file)
    if user_data:
        files.append(user_file)
        layered.apply(_sections_only(user_data, user_file), str(user_file))

    project_data: dict[str, Any] = {}
    project_file = (project_dir or Path.cwd()) / PROJECT_FILE
    if project_dir is not None:
        project_data = read_yaml(project_file)
        files.append(project_file)
        layered.apply(_sections_only(project_data, project_file), str(project_file))

    name, explicit = selected_env(env, project_data)
    environments = project_data.get("environments") or {}
    if not isinstance(environments, Mapping):
        raise ConfigError(
            f"{project_file}: 'environments' must "
            f"map environment names to sections, found {environments!r}.",
            hint="Write 'environments:' then 'dev:', 'staging:', 'prod:' each with its sections.",
        )
    if name in environments:
        overrides = environments[name] or {}
        if not isinstance(overrides, Mapping):
            raise ConfigError(
                f"{project_file}: environments.{name} must be a mapping of sections, "
                f"found {overrides!r}."
            )
        layered.apply(dict(overrides), f"{project_file} [environments.{name}]")
    elif explicit and environments:
        raise ConfigError(
            f"Environment {name!r} is not defined in {project_file}.",
            hint="Defined environments: " + ", ".join(map(str, environments))
            + f". Add 'environments: {{{name}: {{}}}}' or pick one of them.",
        )

    for variable, path, value in env_overrides(environ):
        layered.apply(nest(path, value), f"environment variable {variable}")

    config = Config(env=name, project_dir=project_dir, layered=layered,
                    models=_section_models(), files=files)
    config.unknown = _unknown_sections(config)
    if strict and config.unknown:
        raise next(iter(config.unknown.values()))
    try:
        from ..logs import apply_config_level

        apply_config_level(config.section("core").log_level)
    except ConfigError:
        pass  # reported when the section is used, by 'config show' and by 'config validate'
    return config


def _unknown_sections(config: Config) -> dict[str, ConfigError]:
    """A section no installed plugin owns is a typo (``splnk:``): an error with the closest
    name. A first-party plugin's section where that plugin is not installed, or any section
    while some plugin is disabled or broken, is only a warning: it may be theirs."""
    unknown = sorted(set(config.layered.values) - set(config.models))
    errors: dict[str, ConfigError] = {}
    if not unknown:
        return errors
    from ..catalogue import provider
    from ..plugins import get_host

    inactive = sorted(p.name for p in get_host().plugins() if p.status != "enabled")
    for name in unknown:
        where = next((source for path, source in config.layered.sources.items()
                      if path[:1] == (name,)), "the configuration")
        owner = provider("config_sections", name)
        if owner is not None:
            log.warning("%s: section %r belongs to %s, which is not installed or not enabled; "
                        "it is ignored.", where, name, owner)
            continue
        if inactive:
            log.warning("%s: no enabled plugin owns section %r (disabled or failed plugins: "
                        "%s).", where, name, ", ".join(inactive))
            continue
        close = difflib.get_close_matches(name, sorted(config.models), n=1)
        errors[name] = ConfigError(
            f"{where}: unknown section {name!r}."
            + (f" Did you mean {close[0]!r}?" if close else ""),
            hint="Sections of the installed plugins: " + ", ".join(sorted(config.models))
            + ". A section of a plugin you have not installed needs that plugin "
            "('kepler plugins list').")
    return errors


def _sections_only(data: Mapping[str, Any], source: Path) -> dict[str, Any]:
    sections = {k: v for k, v in data.items() if k not in RESERVED_KEYS}
    for key, value in sections.items():
        if value is not None and not isinstance(value, Mapping):
            raise ConfigError(
                f"{source}: top-level key {key!r} must be a section (a mapping), found {value!r}.",
                hint=f"Known top-level keys besides sections: {', '.join(sorted(RESERVED_KEYS))}.",
            )
    return {k: (v or {}) for k, v in sections.items()}
