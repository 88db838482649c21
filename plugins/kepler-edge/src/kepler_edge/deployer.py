"""The ``edge`` deployment target: an offline bundle written to a folder, for a device.

``kepler deploy MODEL --target edge -o out=DIR [-o platform=manylinux_2_28_aarch64]
[-o python=3.11] [-o tolerance=1e-4] [-o force=true] [-o wheels=false]`` exports the model to
ONNX (parity checked), then writes the bundle (:mod:`kepler_edge.bundle`). Nothing runs here:
the deployment is "built", its URL the bundle's folder; copying it to the device is yours (or
your fleet tool's). ``predict`` scores with the bundle's own runner code in this process, so
``kepler deploy predict`` shows what the device will answer.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kepler.api import Deployment, DeploymentError, DeploymentNotFoundError

TARGET = "edge"
#: Options besides the ``edge`` section's fields.
OPTIONS = ("out", "force", "rows")


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")


class EdgeDeployer:
    """The ``edge`` target (:class:`kepler.api.Deployer`)."""

    def __init__(self, config: Any) -> None:
        self.config = config

    @property
    def folder(self) -> Path:
        from kepler.api import deployment_state_dir

        return Path(deployment_state_dir()) / TARGET

    def _settings(self, options: Mapping[str, Any]) -> Any:
        from pydantic import ValidationError

        from .config import EdgeSettings

        try:
            base = self.config.section(TARGET)
        except Exception:
            base = EdgeSettings()
        fields = set(EdgeSettings.model_fields)
        unknown = sorted(set(options) - fields - set(OPTIONS))
        if unknown:
            raise DeploymentError(f"Unknown option(s) for the edge target: {', '.join(unknown)}.",
                                  hint=f"Options: {', '.join(sorted(fields | set(OPTIONS)))}.")
        data = base.model_dump() if hasattr(base, "model_dump") else dict(base or {})
        data.update({k: v for k, v in options.items() if k in fields})
        try:
            return EdgeSettings.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                 for e in exc.errors(include_url=False))
            raise DeploymentError(f"Bad option(s) for the edge target: {problems}.",
                                  hint="e.g. -o platform=manylinux_2_28_aarch64 -o python=3.11 "
                                  "-o tolerance=1e-4") from None

    def build(self, model: str, out: Path, config: Mapping[str, Any]) -> Path:
        """Export ``model`` (an artifact folder) and write its bundle into ``out``."""
        from .bundle import write_bundle
        from .export import to_onnx

        settings = self._settings({k: v for k, v in config.items() if k != "out"})
        export = to_onnx(Path(model), tolerance=float(settings.tolerance),
                         force=_flag(config.get("force", False)))
        return write_bundle(export, out, platform=settings.platform, python=settings.python,
                            wheels=_flag(settings.wheels), spool_max_bytes=settings.spool_max_bytes,
                            spool_policy=settings.spool_policy)

    def create(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        out = config.get("out")
        if not out:
            raise DeploymentError("The edge target writes a bundle to a folder: give it.",
                                  hint="kepler deploy MODEL --target edge -o out=DIR")
        bundle = self.build(model, Path(str(out)).resolve(), config)
        manifest = json.loads((bundle / "kepler-model.json").read_text())
        record = {"name": name, "model": manifest["name"], "version": manifest.get("version"),
                  "bundle": str(bundle), "platform": manifest["bundle"]["platform"],
                  "python": manifest["bundle"]["python"], "parity": manifest["parity"]}
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"{name}.json").write_text(json.dumps(record, indent=2))
        return self._deployment(record)

    def update(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        previous = self._read(name)
        return self.create(name, model, {"out": previous["bundle"], **config})

    def delete(self, name: str) -> None:
        """Forget the deployment; the bundle stays (devices may run copies of it)."""
        self._read(name)
        (self.folder / f"{name}.json").unlink(missing_ok=True)

    def list(self) -> builtins.list[Deployment]:
        return [self._deployment(json.loads(p.read_text()))
                for p in sorted(self.folder.glob("*.json"))] if self.folder.is_dir() else []

    def get(self, name: str) -> Deployment:
        return self._deployment(self._read(name))

    def status(self, name: str) -> Deployment:
        """``built`` while the bundle verifies, else ``damaged`` with the reason."""
        from .runner import BundleError, verify_bundle

        record = self._read(name)
        try:
            verify_bundle(Path(record["bundle"]))
        except BundleError as exc:
            return self._deployment(record, "damaged", reason=str(exc))
        return self._deployment(record)

    def predict(self, name: str, data: Any) -> Any:
        """Score ``data`` (records) with the bundle's runner code, as the device would."""
        from .runner import Runner, verify_bundle

        folder = Path(self._read(name)["bundle"])
        rows = data.to_dict(orient="records") if hasattr(data, "to_dict") else list(data)
        return Runner(folder, verify_bundle(folder), {}).predict(rows, "local")

    def logs(self, name: str, lines: int = 100) -> builtins.list[str]:
        self._read(name)
        return []  # the runner logs on the device (journald, docker logs)

    def _read(self, name: str) -> dict[str, Any]:
        path = self.folder / f"{name}.json"
        if not path.is_file():
            raise DeploymentNotFoundError(f"No edge deployment named {name!r}.",
                                          hint="kepler deploy list shows them.")
        record: dict[str, Any] = json.loads(path.read_text())
        return record

    def _deployment(self, record: Mapping[str, Any], status: str = "built",
                    **extra: Any) -> Deployment:
        version = record.get("version")
        return Deployment(name=record["name"], target=TARGET, model=record["model"],
                          version=str(version) if version is not None else None,
                          url=Path(record["bundle"]).as_uri(), status=status,
                          details={**record, **extra})
