"""What the routes share: :class:`ServerState` (the model, its scorer and input shapes, the
prediction log, counters) and :func:`score`, the one way a route scores records.

The request and row counters live in a :mod:`~kepler_serve.counters` slot: with
``serve.workers`` > 1 in the file every worker maps, so ``/metadata`` reports totals across
workers (:meth:`ServerState.counts`)."""

from __future__ import annotations

import time
from typing import Any

from . import counters
from .engine import Scorer, Scores
from .inputs import InputSpec
from .tolerance import Tolerance

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
                                extra=settings.extra_fields, strict=settings.strict_inputs,
                                tolerance=scorer.tolerance)
        self.prediction_log = prediction_log
        self.ready = True
        self.started = time.time()
        self.counters = counters.claim()
        self._figures = self.counters.values  # what score() stores into, per request

    @property
    def requests(self) -> int:
        """Requests scored by this process (``counts()`` has the totals across workers)."""
        return int(self._figures[counters.REQUESTS])

    @property
    def rows(self) -> int:
        """Rows scored by this process."""
        return int(self._figures[counters.ROWS])

    def counts(self) -> tuple[dict[str, int], dict[int, dict[str, int]]]:
        """The counters summed over every worker, and by worker pid: with workers, every slot
        of the shared file (a dead worker's counts included); in one process, this state's slot
        and its prediction log's."""
        if self.counters.shared:
            return counters.totals(self.counters.board.slots())
        slots = [self.counters]
        log_slot = getattr(getattr(self.prediction_log, "stats", None), "slot", None)
        if log_slot is not None:
            slots.append(log_slot)
        return counters.totals(slots)

    def input_stats(self) -> dict[str, Any]:
        """How requests are validated, and the unseen categories scored so far by feature."""
        inputs = self.inputs
        tolerance = Tolerance(frozenset(f.name for f in self.model.schema if not f.required)) \
            if inputs.strict else self.scorer.tolerance
        return {"strict": inputs.strict, "extra_fields": inputs.extra,
                "nullable": sorted(tolerance.nullable),
                "open_categories": sorted(tolerance.open_categories),
                "unseen_categories": dict(inputs.unseen),
                "unseen_categories_total": sum(inputs.unseen.values())}

    @property
    def version(self) -> str | None:
        return None if self.model.version is None else str(self.model.version)


#: The ASGI scope key through which a scoring route tells the access log how many unseen
#: categories its request held.
UNSEEN_KEY = "kepler.unseen_categories"


async def score(state: ServerState, rows: list[dict[str, Any]],
                scope: dict[str, Any] | None = None) -> Scores:
    """Score validated records, count them, and queue them for the prediction log; the request's
    unseen categories are noted in its ``scope`` for the access log."""
    if scope is not None and state.inputs.last_unseen:
        scope[UNSEEN_KEY] = state.inputs.last_unseen
    if state.scorer.fast is not None and len(rows) <= INLINE_ROWS:
        scores = state.scorer.score(rows)
    else:
        import anyio

        scores = await anyio.to_thread.run_sync(state.scorer.score, rows)
    figures = state._figures
    figures[counters.REQUESTS] += 1
    figures[counters.ROWS] += len(rows)
    if state.prediction_log is not None:
        state.prediction_log.submit(rows, scores.predictions, scores.confidence(),
                                    scores.seconds * 1000)
    return scores
