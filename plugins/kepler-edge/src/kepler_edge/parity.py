"""The parity check: the ONNX model, scored exactly as the edge runner scores it, against the
native model on the same rows.

Rows are the caller's (``rows=``), else drawn from the feature schema (its ranges, every
category, an unseen category, missing values), because a Kepler artifact keeps no validation
rows. Labels must agree on every row; probabilities (classifiers) and values (regressors) must
stay within ``tolerance`` (absolute, relative beyond 1).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Rows drawn from the schema when none are given.
SAMPLE_ROWS = 200


def sample_rows(schema: Any, count: int = SAMPLE_ROWS, seed: int = 0) -> list[dict[str, Any]]:
    """Records spanning a feature schema: ranges and a bit beyond, every category, one never
    seen, and missing values where the feature is optional."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = [{} for _ in range(count)]
    for feature in schema:
        for i, row in enumerate(rows):
            row[feature.name] = _value(feature, i, rng)
    return rows


def _value(feature: Any, i: int, rng: Any) -> Any:
    if not feature.required and i % 7 == 3:
        return None
    if feature.kind in ("number", "integer"):
        low = feature.min if isinstance(feature.min, float | int) else 0.0
        high = feature.max if isinstance(feature.max, float | int) else 1.0
        spread = (high - low) or 1.0
        value = float(rng.uniform(low - 0.1 * spread, high + 0.1 * spread))
        return round(value) if feature.kind == "integer" else round(value, 4)
    if feature.kind == "boolean":
        return bool(i % 2)
    if feature.kind == "category":
        values = list(feature.categories or ["a"])
        return f"never-seen-{i}" if i % 13 == 6 else values[i % len(values)]
    if feature.kind == "datetime":
        return f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
    return f"text-{i}"


def _close(a: float, b: float, tolerance: float) -> bool:
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance) or a == b


def check(model: Any, scorer: Any, rows: list[dict[str, Any]], tolerance: float,
          source: str) -> dict[str, Any]:
    """The parity report of ``scorer`` (a :class:`kepler_edge.runner.Scorer`) against
    ``model`` (a :class:`kepler.api.Model`) on ``rows``."""
    native = np.asarray(model.predict(rows))
    scored = scorer.score(rows)
    edge = np.asarray(scored["predictions"], dtype=native.dtype if native.dtype.kind in "fiub"
                      else object)
    report: dict[str, Any] = {"rows": len(rows), "source": source, "tolerance": tolerance}
    if model.task == "regression":
        diffs = np.abs(edge.astype(float) - native.astype(float))
        report["max_abs_diff_values"] = float(diffs.max(initial=0.0))
        bad = [i for i in range(len(rows)) if not _close(float(edge[i]), float(native[i]),
                                                         tolerance)]
    else:
        bad = [i for i in range(len(rows)) if edge[i] != native[i]]
    report["label_mismatches"] = len(bad)
    report["first_mismatches"] = bad[:5]
    passed = not bad
    if "probabilities" in scored:
        expected = np.asarray(model.predict_proba(rows), dtype=float)
        got = np.asarray(scored["probabilities"], dtype=float)
        worst = float(np.abs(got - expected).max(initial=0.0))
        report["max_abs_diff_probabilities"] = worst
        passed = passed and got.shape == expected.shape and worst <= tolerance
    report["passed"] = passed
    return report


def render(report: dict[str, Any]) -> str:
    """The report as the CLI prints it."""
    verdict = "PASSED" if report["passed"] else "FAILED"
    lines = [f"parity {verdict}: {report['rows']} rows ({report['source']}), tolerance "
             f"{report['tolerance']:g}",
             f"  labels that differ: {report['label_mismatches']}"]
    for key in ("max_abs_diff_probabilities", "max_abs_diff_values"):
        if key in report:
            lines.append(f"  {key.replace('_', ' ')}: {report[key]:.3g}")
    return "\n".join(lines)
