"""kepler-edge as a compiler for the model server (``kepler_compilers``, plugin API 1.7).

``kepler serve`` asks installed compilers for a faster scorer before it settles for the model
format's own. This one exports the model to ONNX exactly as ``kp.models.to_onnx`` does, parity
check included (a model ONNX cannot express, or whose export scores differently, is refused
with the reason, and the server stays on its other paths), and scores with onnxruntime through
the edge runner's own :class:`~kepler_edge.runner.Scorer`: one session per process, one
intra-op thread, one row through a reused I/O binding. So a model served by ``kepler serve``
and by an edge runner answers the same.

The server hands over records it has already validated against the model's schema; they are
only put in feature order here, nulls as the runner's missing values.
"""

from __future__ import annotations

import math
import os
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from .export import DEFAULT_TOLERANCE, to_onnx

#: Name of the compiler record (what ``serve.compiler`` and ``/metadata`` call it).
NAME = "onnxruntime"
TOLERANCE = DEFAULT_TOLERANCE
#: Requests of more rows than this are scored by the multi-threaded session.
BATCH_ROWS = 64


class OnnxPredictor:
    """A :class:`kepler.api.CompiledPredictor` over an ONNX export of one model."""

    def __init__(self, onnx: bytes, manifest: dict[str, Any]) -> None:
        import onnxruntime

        from .runner import MISSING, Scorer

        self.scorer = Scorer(onnx, manifest)
        #: Large requests (scored off the event loop) use every core: a second session.
        cores = os.cpu_count() or 1
        self.batch_scorer = Scorer(onnx, manifest, threads=min(cores, 4)) if cores > 1 \
            else self.scorer
        self.parity: dict[str, Any] = manifest["parity"]
        self._features = [(f["name"], f["dtype"] == "string") for f in manifest["features"]]
        self._numeric = not any(is_string for _, is_string in self._features)
        self._names = tuple(name for name, _ in self._features)
        getter = itemgetter(*self._names)
        self._getter = getter if len(self._names) > 1 else (lambda row: (getter(row),))
        self._missing = MISSING
        opset = manifest["opset"].get("ai.onnx", "?")
        self.description = (
            f"ONNX opset {opset} in onnxruntime {onnxruntime.__version__}; parity at export: "
            f"{self.parity['label_mismatches']} label(s) differ on {self.parity['rows']} rows, "
            f"{_worst(self.parity)}")

    def _table(self, rows: list[dict[str, Any]]) -> Any:
        """Validated records as the runner's table: feature order, floats or strings; the
        server's float64 matrix itself when it decoded them column by column (plugin API 1.8's
        ``NumericRecords``, its columns in this model's order)."""
        if self._numeric:  # nulls as NaN; the feed converts the whole table at once
            names = self._names
            if getattr(rows, "features", None) == names:
                return rows.matrix  # type: ignore[attr-defined]
            if len(rows) >= BATCH_ROWS // 4:  # fewer: the lists below cost less than NumPy
                try:  # every value present and a number: one C-level pass, one conversion
                    flat = list(chain.from_iterable(map(self._getter, rows)))
                    return np.fromiter(flat, dtype=np.float64,
                                       count=len(flat)).reshape(len(rows), len(names))
                except (KeyError, TypeError):  # an absent or null value: NaN, row by row
                    pass
            nan = math.nan
            return [[nan if (value := row.get(name)) is None else value for name in names]
                    for row in rows]
        missing = self._missing
        table = []
        for row in rows:
            values: list[Any] = []
            for name, is_string in self._features:
                value = row.get(name)
                if value is None:
                    values.append(missing if is_string else math.nan)
                elif is_string:
                    values.append(value if isinstance(value, str) else str(value))
                else:
                    values.append(float(value))
            table.append(values)
        return table

    def _score(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        try:
            table = self._table(rows)
        except (TypeError, ValueError) as exc:  # the server validated already: a backstop
            from kepler.api import ModelInputError

            raise ModelInputError(f"A value the ONNX model cannot take: {exc}") from exc
        scorer = self.scorer if len(table) <= BATCH_ROWS else self.batch_scorer
        return scorer.score_table(table, plain=len(table) <= 1)

    def predict(self, rows: list[dict[str, Any]]) -> list[Any]:
        predictions: list[Any] = self._score(rows)["predictions"]
        return predictions

    def predict_proba(self, rows: list[dict[str, Any]]) -> list[list[float]]:
        probabilities: list[list[float]] = self._score(rows)["probabilities"]
        return probabilities

    def predict_and_proba(self, rows: list[dict[str, Any]]) -> tuple[list[Any], Any]:
        scored = self._score(rows)
        return scored["predictions"], scored.get("probabilities")


def _worst(report: dict[str, Any]) -> str:
    for key, what in (("max_abs_diff_probabilities", "probabilities"),
                      ("max_abs_diff_values", "values")):
        if key in report:
            return f"{what} within {report[key]:.1e}"
    return "labels only"


def compile_model(model: Any) -> OnnxPredictor:
    """The ONNX scorer of ``model``; raises :class:`~kepler_edge.errors.ExportError` (naming the
    step ONNX cannot express) or :class:`~kepler_edge.errors.ParityError`."""
    exported = to_onnx(model, tolerance=TOLERANCE)
    return OnnxPredictor(exported.onnx, exported.manifest)
