"""What a model scores beyond the values it was trained on, found by asking it.

A feature no training row lacked is "required" in the feature schema, yet a tabular model's
preprocessing imputes a missing value of any feature (kepler-tabular: the training median, a
missing-indicator, the "(missing)" category), and its one-hot encoder scores a category it never
saw. Whether a given model does is the model format's business, not the server's, so the server
does not guess from the framework: at start it scores, with the model's own ``predict``, one row
per required feature with that feature null and one row per category feature with a value that
was never seen, and accepts over REST exactly what the model answered. ``serve.strict_inputs``
turns all of it off (null only where the schema says optional, categories only from training).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

#: The value the probe (and the fast path's parity check) sends for a never-seen category.
UNSEEN = "(kepler-serve: a category not seen in training)"


@dataclass(frozen=True)
class Tolerance:
    """Features whose null the model imputes, and category features that take unseen values."""

    nullable: frozenset[str] = frozenset()
    open_categories: frozenset[str] = frozenset()

    def as_dict(self) -> dict[str, list[str]]:
        return {"nullable": sorted(self.nullable),
                "open_categories": sorted(self.open_categories)}


def _answers(model: Any, rows: Sequence[dict[str, Any]]) -> bool:
    """Whether the model scores ``rows`` with every output the server asks of it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown categories warn; that is the question
            model.predict(rows)
            if model.task == "classification" and callable(
                    getattr(model.predictor, "predict_proba", None)):
                model.predict_proba(rows)
            if model.task == "anomaly" and callable(
                    getattr(model.predictor, "score_samples", None)):
                model.score_samples(rows)
    except Exception:
        return False
    return True


def probe(model: Any) -> Tolerance:
    """The :class:`Tolerance` of ``model``: one batch of trial rows scored at once, each trial
    alone only when the batch fails (a model that refuses one of them)."""
    from .fastpath import sample_rows

    schema = model.schema
    if not len(schema):
        return Tolerance()
    base = sample_rows(schema, 12)[11]  # training means, first categories: a valid row
    trials: list[tuple[str, str, dict[str, Any]]] = []
    for feature in schema:
        if feature.required:
            trials.append(("null", feature.name, {**base, feature.name: None}))
        if feature.kind == "category" and feature.categories:
            trials.append(("unseen", feature.name, {**base, feature.name: UNSEEN}))
    if not trials:
        return Tolerance()
    if _answers(model, [row for _, _, row in trials]):
        passed = trials
    elif not _answers(model, [base]):
        log.debug("%s: the tolerance probe's base row is refused", model.name)
        passed = []
    else:
        passed = [trial for trial in trials if _answers(model, [trial[2]])]
    nullable = {f.name for f in schema if not f.required}
    nullable |= {name for what, name, _ in passed if what == "null"}
    open_categories = {name for what, name, _ in passed if what == "unseen"}
    return Tolerance(frozenset(nullable), frozenset(open_categories))


__all__ = ["UNSEEN", "Tolerance", "probe"]
