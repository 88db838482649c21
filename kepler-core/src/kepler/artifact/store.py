"""Writing, verifying and reading model artifact folders.

An artifact is a folder: ``kepler-model.json`` plus the payload files a format plugin wrote.
Writing happens in a hidden temporary sibling that is renamed into place at the end, so a crash
never leaves half an artifact where a reader could find it. Reading verifies the sha256 of every
payload file and refuses a folder with a missing, changed or unlisted file before any payload byte
reaches a deserializer; then the format's own plugin reads the payload.

The hashes live in the manifest, so they catch corruption and partial tampering, not an attacker
who rewrites the manifest too: that is why the payload readers themselves are safe (skops with an
allow-list of types, native model formats) and never unpickle.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import (
    ArtifactError,
    ArtifactIncompleteError,
    ArtifactTamperedError,
    ModelFormatNotInstalledError,
)
from ..lineage import json_safe
from .manifest import FORMAT_VERSION, MANIFEST_FILE, FileEntry, FormatInfo, ModelManifest

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _payload_files(folder: Path) -> dict[str, Path]:
    """Every file under ``folder`` except the manifest, by "/"-separated relative path."""
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            raise ArtifactTamperedError(
                f"{path} is a symbolic link; model artifacts hold plain files only.",
                hint="Remove the link; links can point a reader at files outside the artifact.",
            )
        if path.is_file():
            relative = path.relative_to(folder).as_posix()
            if relative != MANIFEST_FILE:
                found[relative] = path
    return found


def payload_file(folder: Path, options: Mapping[str, Any], key: str, default: str) -> Path:
    """The payload file a format recorded under ``options[key]`` (or ``default``), refusing a
    name that leaves the artifact folder or a file that is not there."""
    name = str(options.get(key, default))
    path = folder / name
    if Path(name).name != name or not path.is_file():
        raise ArtifactError(f"{folder}: payload file {name!r} is not in the artifact.",
                            hint="The manifest is damaged; retrain or restore the model.")
    return path


def format_spec(name: str, info: FormatInfo | None = None) -> Any:
    """The installed ``ModelFormatSpec`` called ``name``, or an error saying what to install."""
    from ..plugins import get_host
    from ..records import ModelFormatSpec

    host = get_host()
    spec = host.find(ModelFormatSpec, name)
    if spec is not None:
        return spec
    distribution = info.distribution if info and info.distribution else None
    install = info.install if info and info.install else distribution
    for plugin in host.plugins():
        if distribution and plugin.distribution == distribution and plugin.status != "enabled":
            raise ModelFormatNotInstalledError(
                f"Model format {name!r} is read by {distribution}, whose plugin {plugin.name!r} "
                f"is {plugin.status}" + (f": {plugin.error}" if plugin.error else "."),
                hint=f"kepler plugins enable {plugin.name}" if plugin.status == "disabled"
                else f"Reinstall it: pip install --force-reinstall {distribution}",
            )
    from ..installs import pip_install

    known = sorted(r.name for r in host.records(ModelFormatSpec))
    raise ModelFormatNotInstalledError(
        f"Model format {name!r} is not provided by any installed plugin"
        + (f"; it is read by {distribution}." if distribution else "."),
        hint=(pip_install(install) if install else "Install the plugin that trained it.")
        + f" Installed formats: {', '.join(known) or 'none'}.",
    )


def stage_artifact(parent: Path, manifest: ModelManifest, predictor: Any) -> tuple[Path,
                                                                                   ModelManifest]:
    """Write a complete artifact into a new hidden folder under ``parent``; return it and the
    final manifest (format options, file hashes and size filled in)."""
    from ..records import import_string

    spec = format_spec(manifest.format.name, manifest.format)
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".staging-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        options: Mapping[str, Any] = import_string(spec.save)(predictor, staging) or {}
        files = {rel: FileEntry(sha256=sha256_file(p), size=p.stat().st_size)
                 for rel, p in _payload_files(staging).items()}
        if not files:
            raise ArtifactError(f"Format {spec.name!r} ({spec.distribution}) wrote no payload.",
                                hint=f"Report it to the authors of {spec.distribution}.")
        final = manifest.model_copy(update={
            "format": FormatInfo(name=spec.name, distribution=spec.distribution,
                                 install=spec.install or spec.distribution,
                                 options=json_safe(dict(options))),
            "files": files,
            "size_bytes": sum(f.size for f in files.values()),
        })
        write_manifest(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, final


def write_manifest(folder: Path, manifest: ModelManifest) -> None:
    """(Re)write the manifest atomically; it is not a payload file, so no hash changes."""
    temporary = folder / f".{MANIFEST_FILE}.tmp"
    temporary.write_text(manifest.to_json(), encoding="utf-8")
    os.replace(temporary, folder / MANIFEST_FILE)


def write_artifact(folder: Path | str, manifest: ModelManifest, predictor: Any) -> ModelManifest:
    """Write an artifact to ``folder``, which must not exist or be empty."""
    folder = Path(folder).expanduser().resolve()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ArtifactError(f"{folder} already exists and is not empty.",
                            hint="Choose a new folder; Kepler never overwrites a model.")
    staging, final = stage_artifact(folder.parent, manifest, predictor)
    try:
        os.replace(staging, folder)  # an empty target folder is replaced, a full one refused
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ArtifactError(f"Cannot write {folder}: {exc}",
                            hint="Choose a new, writable folder.") from exc
    return final


def read_manifest(folder: Path | str) -> ModelManifest:
    """The manifest of the artifact in ``folder``, validated, without touching the payload."""
    folder = Path(folder).expanduser()
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise ArtifactError(
            f"{folder} is not a Kepler model: it has no {MANIFEST_FILE}.",
            hint="Point at a folder written by model.save() or 'kepler train', or load a model "
            "from the registry by name: kp.models.load('NAME').",
        )
    try:
        raw = path.read_text(encoding="utf-8")
        import json

        data = json.loads(raw)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ArtifactError(f"{path} cannot be read as JSON: {exc}",
                            hint="The artifact is damaged; retrain or restore it.") from exc
    version = data.get("kepler_model_format") if isinstance(data, dict) else None
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise ArtifactError(
            f"{path} uses model format version {version}; this kepler-core reads up to "
            f"{FORMAT_VERSION}.",
            hint="Upgrade kepler-core: pip install -U kepler-core",
        )
    try:
        return ModelManifest.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                             for e in exc.errors(include_url=False))
        raise ArtifactError(f"{path} is not a valid Kepler model manifest: {problems}",
                            hint="The artifact is damaged; retrain or restore it.") from None


def verify_artifact(folder: Path | str, manifest: ModelManifest) -> None:
    """Refuse an artifact with a missing, changed or unlisted payload file."""
    folder = Path(folder).expanduser()
    present = _payload_files(folder)
    missing = sorted(set(manifest.files) - set(present))
    if missing:
        raise ArtifactIncompleteError(
            f"Model artifact {folder} is incomplete: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing.",
            hint="Copy the whole artifact folder, or retrain the model.",
        )
    unlisted = sorted(set(present) - set(manifest.files))
    if unlisted:
        raise ArtifactTamperedError(
            f"Model artifact {folder} holds file(s) its manifest does not list: "
            f"{', '.join(unlisted)}.",
            hint="Someone added files after the model was saved; do not load it unless you know "
            "why. Remove them to load the model as it was saved.",
        )
    for relative, entry in sorted(manifest.files.items()):
        actual = sha256_file(present[relative])
        if actual != entry.sha256:
            raise ArtifactTamperedError(
                f"Model artifact {folder} was modified after it was saved: the sha256 of "
                f"{relative} is {actual[:16]}…, the manifest says {entry.sha256[:16]}….",
                hint="Do not load it: restore the artifact from a trusted copy, or retrain.",
            )


def load_payload(folder: Path | str, manifest: ModelManifest, **options: Any) -> Any:
    """Verify the artifact, then let the format's plugin read the payload into a predictor."""
    from ..records import import_string

    folder = Path(folder).expanduser()
    verify_artifact(folder, manifest)
    spec = format_spec(manifest.format.name, manifest.format)
    return import_string(spec.load)(folder, manifest.format.options, **options)
