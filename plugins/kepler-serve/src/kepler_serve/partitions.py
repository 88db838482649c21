"""Batch scoring in partitions: ``kepler predict MODEL --spl ... --executor dask://...``.

A search over weeks of sensor data is too big to read, score and send from one process. Here
the time range is cut into slices; each slice is one task on an executor (``kepler.api``'s:
``local``, or a Dask cluster with kepler-dask): the worker reads its slice through the
connector, scores it with the model (scattered to the workers once) and writes its predictions
through the sink itself (HEC from the workers; every write has its own row ids). The report
lists rows read and written per partition. A partition that fails is run once more; if it
fails again it is reported with its error and traceback, and the run's exit code says so:
a partition is never dropped silently.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kepler.api import KeplerError

_RELATIVE = re.compile(r"^-(\d+)(s|m|h|d|w)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def moment(text: str | None, now: dt.datetime) -> dt.datetime:
    """``-6h``, ``now``, epoch seconds or ISO 8601 as an aware UTC datetime (the slices must
    be absolute so every worker reads the same range whenever it starts)."""
    if text is None or text == "now":
        return now
    found = _RELATIVE.match(text.strip())
    if found:
        return now - dt.timedelta(seconds=int(found[1]) * _UNITS[found[2]])
    try:
        return dt.datetime.fromtimestamp(float(text), tz=dt.UTC)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise KeplerError(f"Cannot cut {text!r} into time slices.",
                          hint="With --executor give --earliest/--latest as -6h, -2d, epoch "
                          "seconds or ISO 8601 (2026-01-01T00:00:00Z).") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def slices(earliest: str | None, latest: str | None, partitions: int,
           now: dt.datetime | None = None) -> list[tuple[str, str]]:
    """``partitions`` equal, adjacent ``[earliest, latest)`` ranges as ISO 8601 strings."""
    if earliest is None:
        raise KeplerError("Partitioned scoring needs a time range to cut.",
                          hint="Add --earliest (and --latest, default now).")
    now = now or dt.datetime.now(dt.UTC)
    start, end = moment(earliest, now), moment(latest, now)
    if end <= start:
        raise KeplerError(f"--earliest {earliest} is not before --latest {latest or 'now'}.",
                          hint="Swap them.")
    step = (end - start) / partitions
    edges = [start + step * i for i in range(partitions)] + [end]
    return [(a.isoformat(), b.isoformat()) for a, b in itertools.pairwise(edges)]


@dataclass(frozen=True)
class _Partition:
    number: int
    earliest: str
    latest: str
    query: str
    connector: str | None
    read_options: dict[str, Any]
    sink: str | None
    sink_options: dict[str, Any]
    keep: tuple[str, ...]
    batch_id: str


def score_partition(part: _Partition, model: Any) -> dict[str, Any]:
    """On a worker: read one slice, score it, write it through the sink; what it did."""
    from kepler.api import write_results

    from .batch import Source, events, read, score_frame, written_as_dict

    started = time.perf_counter()
    frame = read(Source(query=part.query, connector=part.connector,
                        options={**part.read_options, "earliest": part.earliest,
                                 "latest": part.latest}))
    written: Any = None
    if len(frame) and part.sink is not None:
        predictions, probabilities, seconds = score_frame(model, frame)
        scored = events(model, frame, predictions, probabilities,
                        latency_ms=seconds * 1000 / len(frame),
                        batch_id=f"{part.batch_id}-{part.number}", keep=part.keep)
        written = write_results(scored, sink=part.sink, **part.sink_options)
    return {"partition": part.number, "earliest": part.earliest, "latest": part.latest,
            "rows": len(frame), "written": written_as_dict(written),
            "seconds": round(time.perf_counter() - started, 3)}


@dataclass
class PartitionedReport:
    """What a partitioned batch did, partition by partition."""

    model: str
    version: int | None
    destination: str | None
    executor: str
    partitions: list[dict[str, Any]] = field(default_factory=list)
    #: Partitions that failed twice: number, range, error, traceback.
    failed: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    batch_id: str = ""

    @property
    def rows(self) -> int:
        return sum(p["rows"] for p in self.partitions)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        text = (f"Scored {self.rows:,} rows with {self.model} in {len(self.partitions)} of "
                f"{len(self.partitions) + len(self.failed)} partitions on {self.executor} in "
                f"{self.seconds:.2f} s -> {self.destination}")
        if self.failed:
            text += f"; FAILED partitions: {', '.join(str(f['partition']) for f in self.failed)}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "rows": self.rows,
                "destination": self.destination, "executor": self.executor,
                "partitions": self.partitions, "failed": self.failed,
                "seconds": round(self.seconds, 3), "batch_id": self.batch_id}


def batch_score_partitioned(model: Any, *, executor: Any, partitions: int = 8,
                            query: str | None = None, connector: str | None = None,
                            spl: str | None = None, earliest: str | None = None,
                            latest: str | None = None, connection: str | None = None,
                            sink: str | None = None, sink_options: Any = None,
                            to_splunk: bool = False, index: str | None = None,
                            sourcetype: str = "_json", source: str = "kepler-batch",
                            keep: Sequence[str] = ()) -> PartitionedReport:
    """Score a connector's time range in ``partitions`` slices on ``executor``, each slice's
    predictions written to the sink by the worker that scored it."""
    from kepler.api import using_executor

    from .batch import resolve_source, resolve_target
    from .server import load_model

    where = resolve_source(query=query, connector=connector, spl=spl, earliest=earliest,
                           latest=latest, connection=connection)
    if where.query is None or where.connector == "file":
        raise KeplerError("Partitioned scoring reads a connector's time range.",
                          hint="Use --spl or --connector/--query with --earliest.")
    to = resolve_target(sink=sink, sink_options=sink_options, to_splunk=to_splunk, index=index,
                        sourcetype=sourcetype, source=source, connection=connection)
    if to.sink is None:
        raise KeplerError("Partitioned scoring writes from the workers: give a sink.",
                          hint="--to-splunk --index NAME, or --sink NAME.")
    loaded = load_model(model)
    batch_id = uuid.uuid4().hex[:12]
    options = {k: v for k, v in where.options.items() if k not in ("earliest", "latest")}
    parts = [_Partition(i, a, b, where.query, where.connector, options, to.sink,
                        dict(to.options), tuple(keep), batch_id)
             for i, (a, b) in enumerate(slices(earliest, latest, partitions))]
    report = PartitionedReport(model=loaded.name, version=loaded.version,
                               destination=to.label, executor=str(executor or "local"),
                               batch_id=batch_id)
    started = time.perf_counter()
    with using_executor(executor) as running:
        results = running.run(score_partition, parts, shared=loaded,
                              labels=[str(p.number) for p in parts])
        retry = [parts[r.index] for r in results if not r.ok]
        again = running.run(score_partition, retry, shared=loaded,
                            labels=[str(p.number) for p in retry]) if retry else []
    done = [r for r in [*results, *again] if r.ok]
    report.partitions = sorted((r.value for r in done), key=lambda p: p["partition"])
    report.failed = [{"partition": p.number, "earliest": p.earliest, "latest": p.latest,
                      "error": r.error, "traceback": r.traceback}
                     for p, r in zip(retry, again, strict=True) if not r.ok]
    report.seconds = time.perf_counter() - started
    return report
