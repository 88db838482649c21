"""``kp.models.to_onnx``: a Kepler model as ONNX, checked against itself before it is trusted.

The export is refused (:class:`~kepler_edge.errors.ParityError`) when the ONNX model and the
native one disagree beyond the tolerance, unless ``force=True``; the parity report travels with
the export (``OnnxExport.parity``), into the bundle's manifest and next to a saved ``.onnx``.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ExportError, ParityError

#: Manifest format of an edge bundle (``kepler-model.json``), read by the runner.
EDGE_FORMAT = 1
DEFAULT_TOLERANCE = 1e-5
#: Model formats exported by kepler_edge.sklearn_export (kepler-sklearn's).
SKLEARN_FORMATS = ("skops", "xgboost-ubj", "lightgbm-text")
#: kepler-keras's model format, exported by kepler_edge.keras_export.
KERAS_FORMAT = "keras-v3"


@dataclass
class OnnxExport:
    """The ONNX bytes, the runner's manifest (without file hashes) and the parity report."""

    onnx: bytes
    manifest: dict[str, Any]

    @property
    def parity(self) -> dict[str, Any]:
        report: dict[str, Any] = self.manifest["parity"]
        return report

    def save(self, path: Path | str) -> Path:
        """Write ``path`` (the .onnx) and ``<path>.parity.json`` beside it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.onnx)
        path.with_suffix(".parity.json").write_text(json.dumps(self.parity, indent=2) + "\n")
        return path

    def __str__(self) -> str:
        from .parity import render

        return render(self.parity)


def _load(model: Any) -> Any:
    if hasattr(model, "predictor") and hasattr(model, "manifest"):
        return model
    from kepler.api import load_model

    return load_model(model)


def _convert(model: Any, opset: int | None) -> Any:
    """The converter for the model's format, or an error naming what blocks it."""
    name = model.manifest.format.name
    if name in SKLEARN_FORMATS:
        from .sklearn_export import convert

        return convert(model, opset)
    if name.startswith("torch"):
        from .torch_export import convert as convert_torch

        return convert_torch(model, opset)
    if name == KERAS_FORMAT:
        from .keras_export import convert as convert_keras

        return convert_keras(model, opset)
    raise ExportError(f"Model {model.name!r} (format {name!r}) has no ONNX exporter.",
                      hint=f"Blocking step: model format {name}. Exported: "
                      f"{', '.join(SKLEARN_FORMATS)}, PyTorch and {KERAS_FORMAT}.")


def to_onnx(model: Any, *, rows: Any = None, tolerance: float = DEFAULT_TOLERANCE,
            force: bool = False, opset: int | None = None) -> OnnxExport:
    """Export ``model`` (a Model, ``"name[:version|:alias]"`` or an artifact folder) to ONNX.

    The parity check scores ``rows`` (records or a DataFrame; default: rows drawn from the
    feature schema) both ways; labels must agree and probabilities stay within ``tolerance``.
    A failing check raises :class:`ParityError` unless ``force=True`` (then the report says
    so). Example::

        onnx = kp.models.to_onnx("pump-failure:prod")
        print(onnx)                  # the parity report
        onnx.save("pump.onnx")
    """
    from . import parity
    from .runner import Scorer

    model = _load(model)
    converted = _convert(model, opset)
    data = converted.onnx.SerializeToString()
    manifest = _manifest(model, converted)
    given = rows is not None
    records = _records(rows) if given else parity.sample_rows(model.schema)
    report = parity.check(model, Scorer(data, manifest), records, tolerance,
                          "given rows" if given else "rows drawn from the feature schema")
    report["forced"] = bool(force and not report["passed"])
    manifest["parity"] = report
    if not report["passed"] and not force:
        raise ParityError(f"Model {model.name!r}: the ONNX model scores differently from the "
                          f"native one.\n{parity.render(report)}",
                          hint="Raise the tolerance (--tolerance) if the difference is "
                          "acceptable, or export anyway with --force (force=True).")
    return OnnxExport(data, manifest)


def _records(rows: Any) -> list[dict[str, Any]]:
    if hasattr(rows, "to_dict"):  # a DataFrame: plain Python values, NaN as null
        frame = rows.astype(object).where(rows.notna(), None)
        records: list[dict[str, Any]] = frame.to_dict(orient="records")
        return records
    return list(rows)


def _manifest(model: Any, converted: Any) -> dict[str, Any]:
    import onnx

    opsets = {o.domain or "ai.onnx": o.version for o in converted.onnx.opset_import}
    return {
        "kepler_edge_format": EDGE_FORMAT, "name": model.name, "version": model.version,
        "task": model.task, "algorithm": model.algorithm, "target": model.target,
        "classes": _plain(model.classes), "label_decode": _plain(converted.label_decode),
        "features": converted.features,
        "feature_names": [f["name"] for f in converted.features],
        "outputs": converted.outputs, "opset": opsets, "onnx": onnx.__version__,
        "fingerprint": model.manifest.fingerprint,
        "exported": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def _plain(values: Any) -> Any:
    if values is None:
        return None
    return [v.item() if hasattr(v, "item") else v for v in values]
