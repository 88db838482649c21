"""Scoring validated records with any Kepler model: the model format's compiled scorer where it
offers one and it proved identical (:mod:`kepler_serve.fastpath`), else the model's own
``predict`` on a DataFrame (any framework, through its format plugin)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .fastpath import predict_and_proba

log = logging.getLogger(__name__)


@dataclass
class Scores:
    """What a model said about a batch of records, as plain Python values."""

    predictions: list[Any]
    probabilities: list[list[float]] | None = None
    #: Anomaly models: the anomaly score of each record (lower: more anomalous).
    scores: list[float] | None = None
    seconds: float = 0.0

    def confidence(self) -> list[float] | None:
        """The probability of each predicted class (what the prediction log keeps)."""
        if self.probabilities is None:
            return None
        return [max(p) if p else float("nan") for p in self.probabilities]


def _plain(values: Any) -> list[Any]:
    if isinstance(values, list):  # a compiler's plain answer: only NaN to replace
        return [None if isinstance(v, float) and v != v else
                [None if w != w else w for w in v] if isinstance(v, list) else v
                for v in values]
    array = np.asarray(values)
    if array.dtype.kind == "f" and np.isnan(array).any():
        # JSON has no NaN: a model's NaN output becomes null
        return [None if v != v else v for v in array.tolist()]
    return array.tolist()  # type: ignore[no-any-return]


class Scorer:
    """One model, ready to score records (lists of dicts) as fast as it allows."""

    def __init__(self, model: Any, *, fast: bool = True, compiler: str = "auto") -> None:
        """``fast=False`` scores with the model's own ``predict`` only; ``compiler`` picks the
        compiled scorer (:func:`kepler_serve.fastpath.choose_compiled`)."""
        from .fastpath import choose_compiled
        from .tolerance import probe

        self.model = model
        self.task = model.task
        self.classes = model.classes
        #: What the model scores beyond its training values (nulls it imputes, unseen
        #: categories): what the lenient API accepts, and what the fast path is checked on.
        self.tolerance = probe(model)
        #: The compiled scorer's name: a compiler's ("onnxruntime"), "fast" for the model
        #: format's own, "model" when the model's own predict scores.
        self.compiled_by = "model"
        self.fast, self.fast_note = None, "switched off"
        if fast:
            self.fast, self.fast_note, self.compiled_by = choose_compiled(
                model, tolerance=self.tolerance, compiler=compiler)
        log.info("scoring path for %s: %s", model.name,
                 f"{self.compiled_by} ({self.fast_note})" if self.fast is not None else
                 "the model's own predict (" + self.fast_note + ")")
        self.probabilities = self.task == "classification" and self._has_probabilities()
        self.anomaly_scores = self.task == "anomaly" and callable(
            getattr(model.predictor, "score_samples", None))

    def _has_probabilities(self) -> bool:
        if not callable(getattr(self.model.predictor, "predict_proba", None)):
            return False
        from .fastpath import sample_rows

        try:
            self.model.predict_proba(sample_rows(self.model.schema, 2))
        except Exception:
            return False
        return True

    @property
    def path(self) -> str:
        return self.compiled_by if self.fast is not None else "model"

    def _frame(self, rows: list[dict[str, Any]]) -> Any:
        import pandas as pd

        return pd.DataFrame.from_records(rows, columns=self.model.features) if rows else \
            pd.DataFrame(columns=self.model.features)

    def score(self, rows: list[dict[str, Any]]) -> Scores:
        """Predictions (and probabilities or anomaly scores) for validated records."""
        started = time.perf_counter()
        scores = None
        if self.fast is not None:
            if self.probabilities:
                predicted, proba = predict_and_proba(self.fast, rows)
                predictions, probabilities = _plain(predicted), _plain(proba)
            else:
                predictions, probabilities = _plain(self.fast.predict(rows)), None
            if self.anomaly_scores:
                scores = _plain(self.fast.score_samples(rows))
        else:
            frame = self._frame(rows)
            predictions = _plain(self.model.predict(frame))
            probabilities = _plain(self.model.predict_proba(frame)) if self.probabilities \
                else None
            if self.anomaly_scores:
                scores = _plain(self.model.score_samples(frame))
        return Scores(predictions, probabilities, scores, time.perf_counter() - started)
