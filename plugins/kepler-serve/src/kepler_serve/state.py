"""What the routes share: :class:`ServerState` (the model, its scorer and input shapes, the
prediction log, counters) and :func:`score`, the one way a route scores records."""

from __future__ import annotations

import time
from typing import Any

from .engine import Scorer, Scores
from .inputs import InputSpec

#: Requests of at most this many rows are scored on the event loop (the fast path takes
#: microseconds); larger ones, and every request on the model's own path, in a worker thread.
INLINE_ROWS = 64


class ServerState:
    """What the routes share: the model, its scorer and input shapes, the prediction log."""

    def __init__(self, model: Any, settings: Any, scorer: Scorer, prediction_log: Any) -> None:
        self.model = model
        self.settings = settings
        self.scorer = scorer
        self.inputs = InputSpec(model.schema, max_batch=settings.max_batch,
                                extra=settings.extra_fields)
        self.prediction_log = prediction_log
        self.ready = True
        self.started = time.time()
        self.requests = 0
        self.rows = 0

    @property
    def version(self) -> str | None:
        return None if self.model.version is None else str(self.model.version)


async def score(state: ServerState, rows: list[dict[str, Any]]) -> Scores:
    """Score validated records, count them, and queue them for the prediction log."""
    if state.scorer.fast is not None and len(rows) <= INLINE_ROWS:
        scores = state.scorer.score(rows)
    else:
        import anyio

        scores = await anyio.to_thread.run_sync(state.scorer.score, rows)
    state.requests += 1
    state.rows += len(rows)
    if state.prediction_log is not None:
        state.prediction_log.submit(rows, scores.predictions, scores.confidence(),
                                    scores.seconds * 1000)
    return scores
