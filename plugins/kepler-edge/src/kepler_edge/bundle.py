"""The offline edge bundle: everything a device needs to score a model, nothing it must fetch.

::

    DIR/model.onnx            the model, preprocessing included
    DIR/kepler-model.json     the manifest: sha256 of every other file, features (order, types),
                              outputs, opset, the parity report
    DIR/requirements.txt      onnxruntime and numpy, pinned to the versions the parity check used
    DIR/wheels/               those wheels (and their dependencies) for the device's platform
    DIR/runner.py             the runner (standard library + onnxruntime + NumPy)
    DIR/Dockerfile            an image of the same, built without network
    DIR/kepler-edge.service   a systemd unit
    DIR/README.md             how to install and run it on the device

The manifest is written last, so a bundle whose writing was cut short has none and the runner
refuses it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from .errors import BundleError
from .export import OnnxExport

MANIFEST = "kepler-model.json"
RUNNER_PACKAGES = ("onnxruntime", "numpy")


def requirements() -> str:
    """The runner's requirements, pinned to what exported and checked the model here."""
    lines = [f"{name}=={importlib.metadata.version(name)}" for name in RUNNER_PACKAGES]
    return "\n".join(lines) + "\n"


def download_wheels(folder: Path, *, platform: str, python: str) -> list[str]:
    """Download every wheel of ``requirements.txt`` (dependencies included) for the device's
    platform and Python into ``folder/wheels``; binary wheels only, so the device never
    compiles."""
    wheels = folder / "wheels"
    wheels.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--only-binary=:all:", "--platform", platform, "--python-version", python,
               "--dest", str(wheels), "-r", str(folder / "requirements.txt")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BundleError(f"pip could not download the runner's wheels for {platform}, Python "
                          f"{python}:\n{done.stderr.strip()[-1500:]}",
                          hint="Check the platform tag (e.g. manylinux_2_28_aarch64) and that "
                          "the package index is reachable, or write the bundle with "
                          "-o wheels=false and install on the device from an index.")
    return sorted(p.name for p in wheels.iterdir())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_target(out: Path) -> None:
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise BundleError(f"{out} is not empty and holds no edge bundle.",
                          hint="Choose an empty or new folder: it is replaced as a whole.")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)


def write_bundle(export: OnnxExport, out: Path | str, *, platform: str, python: str,
                 wheels: bool = True, spool_max_bytes: int = 256 << 20,
                 spool_policy: str = "drop-oldest") -> Path:
    """Write the bundle of ``export`` into ``out`` (created; an old bundle there is replaced)."""
    from . import templates

    out = Path(out)
    _check_target(out)
    (out / "model.onnx").write_bytes(export.onnx)
    (out / "requirements.txt").write_text(requirements())
    shutil.copyfile(Path(__file__).with_name("runner.py"), out / "runner.py")
    found = download_wheels(out, platform=platform, python=python) if wheels else []
    name = export.manifest["name"]
    env = {"KEPLER_EDGE__SPOOL_MAX_BYTES": str(spool_max_bytes),
           "KEPLER_EDGE__SPOOL_POLICY": spool_policy}
    (out / "Dockerfile").write_text(templates.dockerfile(python, bool(found), env))
    (out / "kepler-edge.service").write_text(templates.systemd_unit(name, env))
    (out / "README.md").write_text(templates.device_readme(export.manifest, platform, python,
                                                          bool(found)))
    manifest: dict[str, Any] = {**export.manifest, "bundle": {
        "platform": platform, "python": python, "wheels": found,
        "requirements": requirements().split()}}
    manifest["files"] = {str(p.relative_to(out)): _sha256(p) for p in sorted(out.rglob("*"))
                         if p.is_file()}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return out
