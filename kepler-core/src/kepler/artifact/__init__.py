"""The Kepler model artifact: a folder with ``kepler-model.json`` and hashed payload files.

Every trainer writes it and every deployer reads it, whatever the framework. Payload bytes are
written and read only by the plugin that owns the payload's format (``kepler_model_formats``).
"""

from __future__ import annotations

from .manifest import (
    FORMAT_VERSION,
    MANIFEST_FILE,
    Environment,
    FileEntry,
    FormatInfo,
    ModelManifest,
    TargetInfo,
    TrainerInfo,
    TrainingInfo,
)
from .store import (
    format_spec,
    load_payload,
    payload_file,
    read_manifest,
    sha256_file,
    stage_artifact,
    verify_artifact,
    write_artifact,
    write_manifest,
)

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "Environment",
    "FileEntry",
    "FormatInfo",
    "ModelManifest",
    "TargetInfo",
    "TrainerInfo",
    "TrainingInfo",
    "format_spec",
    "load_payload",
    "package_versions",
    "payload_file",
    "read_manifest",
    "sha256_file",
    "stage_artifact",
    "verify_artifact",
    "write_artifact",
    "write_manifest",
]


def package_versions(*names: str) -> dict[str, str]:
    """Installed versions of the named distributions (absent ones are left out)."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found
