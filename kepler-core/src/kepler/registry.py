"""The local model registry: numbered versions of named models, aliases, delete.

Layout, under ``<project>/<core.state_dir>/models`` (``.kepler/models``; ``core.models_dir``
moves it; outside a project, ``<user config dir>/models``)::

    models/
      failure-random_forest/
        1/  kepler-model.json  pipeline.skops
        2/  ...
        aliases.json          {"prod": 1}

A new version is written in a hidden staging folder and renamed to the next free number: the
rename is atomic and refuses an existing version, so two processes saving at once get distinct
versions and no reader ever sees half a model.

SDK (``kp.models``)::

    kp.models.list()                          # every version of every model
    model = kp.models.load("failure-random_forest")          # latest
    model = kp.models.load("failure-random_forest:prod")     # alias, or ":2", or a folder path
    kp.models.promote("failure-random_forest", 2, alias="prod")
    kp.models.delete("failure-random_forest", 1)
"""

from __future__ import annotations

import builtins
import html
import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ModelError, ModelNotFoundError
from .metrics import beats_baseline

if TYPE_CHECKING:
    from .artifact.manifest import ModelManifest
    from .model import Model

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
ALIAS_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,49}$")
ALIASES_FILE = "aliases.json"
LATEST = "latest"


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ModelError(
            f"Invalid model name {name!r}.",
            hint="Use letters, digits, '.', '_' or '-', starting with a letter or digit, at most "
            "100 characters (e.g. pump-failures).",
        )
    return name


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not ALIAS_PATTERN.match(alias) or alias == LATEST:
        raise ModelError(
            f"Invalid alias {alias!r}.",
            hint="An alias starts with a letter (e.g. prod, staging, champion); 'latest' is "
            "reserved and always means the newest version.",
        )
    return alias


def default_root() -> Path:
    """Where the registry lives for the configuration in force."""
    from .config import load
    from .config.model import CoreSettings
    from .paths import user_config_dir

    config = load()
    core: CoreSettings = config.section("core")
    base = config.project_dir or user_config_dir()
    if core.models_dir:
        return (base / Path(core.models_dir).expanduser()).resolve()
    if config.project_dir is None:
        return (base / "models").resolve()
    return (base / core.state_dir / "models").resolve()


@dataclass(frozen=True)
class ModelEntry:
    """One version in the registry, as ``kp.models.list()`` and ``kepler models list`` show it."""

    name: str
    version: int
    aliases: tuple[str, ...]
    task: str
    algorithm: str
    main_metric: str | None
    score: float | None
    beats_baseline: bool | None
    created: str
    path: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ModelList(builtins.list[ModelEntry]):
    """A list of registry entries that shows as a table in Jupyter (for pandas:
    ``pd.DataFrame([e.to_dict() for e in entries])``)."""

    COLUMNS = ("name", "version", "aliases", "task", "algorithm", "main_metric", "score",
               "beats_baseline", "created")

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in self.COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(getattr(e, c)))}</td>"
                             for c in self.COLUMNS) + "</tr>" for e in self)
        return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


class Registry:
    """The model registry in folder ``root``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser()

    @classmethod
    def default(cls) -> Registry:
        return cls(default_root())

    # --- reading ------------------------------------------------------------------------------

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and NAME_PATTERN.match(p.name) and self.versions(p.name))

    def versions(self, name: str) -> list[int]:
        folder = self.root / name
        if not folder.is_dir():
            return []
        return sorted(int(p.name) for p in folder.iterdir()
                      if p.is_dir() and p.name.isdigit() and (p / "kepler-model.json").is_file())

    def aliases(self, name: str) -> dict[str, int]:
        path = self.root / name / ALIASES_FILE
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path} is damaged: {exc}",
                             hint="Fix or delete it; aliases can be set again with promote.") \
                from exc
        return {str(k): int(v) for k, v in data.items()}

    def _missing(self, name: str) -> ModelNotFoundError:
        import difflib

        names = self.names()
        close = difflib.get_close_matches(name, names, n=1)
        return ModelNotFoundError(
            f"No model named {name!r} in the registry at {self.root}."
            + (f" Did you mean {close[0]!r}?" if close else ""),
            hint=f"Models here: {', '.join(names) or 'none yet (model.save() adds one)'}. "
            "'kepler models list' shows every version.",
        )

    def resolve(self, name: str, version: int | str | None = None) -> tuple[int, Path]:
        """The version number and folder that ``version`` (number, alias, 'latest') means."""
        check_name(name)
        versions = self.versions(name)
        if not versions:
            raise self._missing(name)
        if version is None or version == LATEST:
            number = versions[-1]
        elif isinstance(version, int) or (isinstance(version, str) and version.isdigit()):
            number = int(version)
            if number not in versions:
                raise ModelNotFoundError(
                    f"Model {name!r} has no version {number}.",
                    hint=f"Versions: {', '.join(map(str, versions))}.",
                )
        else:
            aliases = self.aliases(name)
            if version not in aliases:
                shown = ", ".join(f"{a} -> {v}" for a, v in aliases.items()) or "none"
                raise ModelNotFoundError(
                    f"Model {name!r} has no alias {version!r}.",
                    hint=f"Aliases: {shown}; versions: {', '.join(map(str, versions))}. "
                    f"Set one with 'kepler models promote {name} VERSION --alias {version}'.",
                )
            number = aliases[version]
            if number not in versions:
                raise ModelNotFoundError(
                    f"Alias {version!r} of {name!r} points at version {number}, which is gone.",
                    hint=f"Point it at an existing version: kepler models promote {name} "
                    f"{versions[-1]} --alias {version}",
                )
        return number, self.root / name / str(number)

    def manifest(self, name: str, version: int | str | None = None) -> ModelManifest:
        from .artifact import read_manifest

        return read_manifest(self.resolve(name, version)[1])

    def load(self, name: str, version: int | str | None = None, **options: Any) -> Model:
        from .model import Model

        return Model.load(self.resolve(name, version)[1], **options)

    def entries(self, name: str | None = None) -> ModelList:
        from .artifact import read_manifest

        if name is not None and not self.versions(name):
            raise self._missing(name)
        found = ModelList()
        for model_name in [name] if name else self.names():
            by_version: dict[int, list[str]] = {}
            for alias, number in self.aliases(model_name).items():
                by_version.setdefault(number, []).append(alias)
            for number in self.versions(model_name):
                folder = self.root / model_name / str(number)
                m = read_manifest(folder)
                score = m.metrics.get(m.main_metric) if m.main_metric else None
                found.append(ModelEntry(
                    name=model_name, version=number,
                    aliases=tuple(sorted(by_version.get(number, []))), task=m.task,
                    algorithm=m.algorithm, main_metric=m.main_metric, score=score,
                    beats_baseline=beats_baseline(m.metrics, m.baseline, m.main_metric),
                    created=m.created.isoformat(), path=str(folder)))
        return found

    # --- writing ------------------------------------------------------------------------------

    def find_identical(self, name: str, fingerprint: str | None) -> int | None:
        """The newest version of ``name`` with this fingerprint (same data, algorithm,
        parameters, features, split and versions: see
        :func:`kepler.artifact.manifest.fingerprint_of`), or None."""
        from .artifact import read_manifest
        from .artifact.manifest import fingerprint_of
        from .errors import ArtifactError

        if fingerprint is None:
            return None
        for number in reversed(self.versions(check_name(name))):
            try:
                stored = read_manifest(self.root / name / str(number))
            except ArtifactError:
                continue  # a damaged version is nobody's twin
            if (stored.fingerprint or fingerprint_of(stored)) == fingerprint:
                return number
        return None

    def save(self, manifest: ModelManifest, predictor: Any) -> tuple[ModelManifest, Path]:
        """Write a new version of ``manifest.name``; returns the final manifest and folder.
        Always a new version: :meth:`kepler.model.Model.save` is where an identical one is
        reused."""
        from .artifact import stage_artifact, write_manifest
        from .artifact.manifest import fingerprint_of

        name = check_name(manifest.name)
        if manifest.fingerprint is None:
            manifest = manifest.model_copy(update={"fingerprint": fingerprint_of(manifest)})
        folder = self.root / name
        staging, final = stage_artifact(folder, manifest, predictor)
        try:
            for _ in range(1000):
                number = _next_free(folder)
                final = final.model_copy(update={"version": number})
                write_manifest(staging, final)
                target = folder / str(number)
                try:
                    os.rename(staging, target)  # atomic; refuses an existing (non-empty) version
                except OSError:
                    if target.exists():
                        continue  # another process took this number: try the next one
                    raise
                return final, target
            raise ModelError(f"Could not allocate a version of {name!r} in {folder}.",
                             hint="Too many concurrent saves; retry.")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def promote(self, name: str, version: int | str, alias: str = "prod") -> int:
        """Point ``alias`` at ``version`` (a number, another alias or 'latest'); returns it."""
        check_alias(alias)
        number, _ = self.resolve(name, version)
        aliases = self.aliases(name)
        aliases[alias] = number
        self._write_aliases(name, aliases)
        return number

    def delete(self, name: str, version: int | str | None = None, *, force: bool = False
               ) -> builtins.list[int]:
        """Delete one version, or every version of ``name`` when ``version`` is None.

        A version an alias points at is kept unless ``force``; then its aliases go too.
        Returns the deleted version numbers.
        """
        check_name(name)
        if version is None:
            numbers = self.versions(name)
            if not numbers:
                raise self._missing(name)
        else:
            numbers = [self.resolve(name, version)[0]]
        aliases = self.aliases(name)
        pinned = {a: v for a, v in aliases.items() if v in numbers}
        if pinned and not force:
            shown = ", ".join(f"{a} -> {v}" for a, v in sorted(pinned.items()))
            raise ModelError(
                f"Refusing to delete {name!r} version(s) {', '.join(map(str, numbers))}: "
                f"alias(es) point at them ({shown}).",
                hint="Promote another version to those aliases first, or delete with force "
                "(--force), which removes the aliases too.",
            )
        for number in numbers:
            shutil.rmtree(self.root / name / str(number))
        remaining = {a: v for a, v in aliases.items() if v not in numbers}
        if self.versions(name):
            if remaining != aliases:
                self._write_aliases(name, remaining)
        else:
            shutil.rmtree(self.root / name, ignore_errors=True)
        return numbers

    def _write_aliases(self, name: str, aliases: dict[str, int]) -> None:
        path = self.root / name / ALIASES_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(dict(sorted(aliases.items())), indent=2) + "\n",
                             encoding="utf-8")
        os.replace(temporary, path)


def _next_free(folder: Path) -> int:
    """One above every number in use; a numbered folder without a manifest (a hand-made one)
    blocks its number too, so a version number never refers to two different models."""
    taken = [int(p.name) for p in folder.iterdir() if p.name.isdigit()]
    return max(taken, default=0) + 1


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``"name"``, ``"name:3"``, ``"name:prod"`` -> (name, version or alias or None)."""
    name, sep, version = ref.partition(":")
    return name, (version or None) if sep else None


def _looks_like_path(ref: str) -> bool:
    if os.sep in ref or "/" in ref or ref.startswith((".", "~")):
        return True
    return (Path(ref) / "kepler-model.json").is_file()


# --- the SDK: kp.models.* ---------------------------------------------------------------------


def list_models(name: str | None = None) -> ModelList:
    """Every version of every model in the registry (or of ``name``), oldest first.

    Example::

        kp.models.list()                  # a table in Jupyter
        kp.models.list("pump-failures")[-1].score
    """
    return Registry.default().entries(name)


def load(ref: str | Path, version: int | str | None = None, **options: Any) -> Model:
    """A model from the registry (``"name"``, ``"name:3"``, ``"name:prod"``) or an artifact
    folder. Every payload file's sha256 is verified before the model's plugin reads it;
    ``options`` go to the format's reader (e.g. ``trusted=["mypkg.MyModel"]`` for skops).

    Example::

        model = kp.models.load("pump-failures")            # latest version
        model = kp.models.load("pump-failures", "prod")    # alias
        model = kp.models.load("exports/pump-failures")    # a folder
    """
    from .model import Model

    if isinstance(ref, Path) or (version is None and _looks_like_path(ref)):
        return Model.load(ref, **options)
    name, in_ref = parse_ref(ref)
    return Registry.default().load(name, version if version is not None else in_ref, **options)


def promote(name: str, version: int | str, alias: str = "prod") -> int:
    """Point ``alias`` (default ``prod``) at a version; returns the version number.

    Example::

        kp.models.promote("pump-failures", 3, alias="prod")
    """
    return Registry.default().promote(name, version, alias)


def delete(name: str, version: int | str | None = None, *, force: bool = False
           ) -> builtins.list[int]:
    """Delete one version (or all versions) of a model; aliased versions need ``force=True``.

    Example::

        kp.models.delete("pump-failures", 1)
    """
    if version is None:
        name, version = parse_ref(name)
    return Registry.default().delete(name, version, force=force)


def resolve_models(models: Sequence[Any]) -> builtins.list[Model]:
    """Models given as Model objects, registry references or artifact folders (lazy payloads)."""
    from .artifact import read_manifest
    from .model import Model

    resolved: builtins.list[Model] = []
    registry: Registry | None = None
    for item in models:
        if isinstance(item, Model):
            resolved.append(item)
            continue
        ref = str(item)
        if isinstance(item, Path) or _looks_like_path(ref):
            folder = Path(ref).expanduser().resolve()
            resolved.append(Model(read_manifest(folder), path=folder))
            continue
        registry = registry or Registry.default()
        name, version = parse_ref(ref)
        _, folder = registry.resolve(name, version)
        resolved.append(Model(read_manifest(folder), path=folder))
    return resolved
