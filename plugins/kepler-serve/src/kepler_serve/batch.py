"""Batch scoring: data in (your SPL, a table file or a DataFrame), a model, predictions out
(Splunk through HEC, or a file). ``kepler predict``, ``kp.deploy.batch_score`` and the
``pipelines:`` of kepler.yml (``kepler pipeline run NAME``) all run :func:`batch_score`.

To Splunk, each prediction is one event in the shape the monitoring dashboard reads
(:func:`kepler_splunk.predictions.prediction_frame`: ``model``, ``model_version``,
``prediction``, ``probability``, ``features``, ``batch_id``; ``_time`` from the data's ``_time``
when it has one), plus the ``keep`` columns (asset ids...). To a file, the input table with
``prediction`` (and ``probability``, ``probability_<class>`` for classifiers), ``model`` and
``model_version`` columns added.

Example::

    report = kp.deploy.batch_score("pump-failure:prod", spl="search index=pumps",
                                   earliest="-1h", to_splunk=True, index="ml_predictions",
                                   keep=["asset_id"])
    report.rows, report.written
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kepler.errors import KeplerError

log = logging.getLogger(__name__)


@dataclass
class BatchReport:
    """What one batch scoring run did."""

    model: str
    version: int | None
    rows: int
    seconds: float
    destination: str | None
    #: To Splunk: its WriteReport (sent, spooled, failed...); to a file: the path.
    written: Any = None
    #: The scored table (input columns plus predictions), for a look in a notebook.
    frame: Any = None
    batch_id: str = ""

    def summary(self) -> str:
        version = f" version {self.version}" if self.version is not None else ""
        if not self.rows:
            return f"Nothing to score: the data is empty (model {self.model}{version})."
        where = f" -> {self.destination}" if self.destination else " (not written)"
        text = f"Scored {self.rows:,} rows with {self.model}{version} in {self.seconds:.2f} s" \
            + where
        if hasattr(self.written, "summary"):
            text += f": {self.written.summary()}"
        return text

    def to_dict(self) -> dict[str, Any]:
        written: Any = self.written
        if hasattr(written, "summary"):
            written = {"sent": written.sent, "spooled": written.spooled,
                       "failed": len(written.failed), "write_id": written.write_id}
        elif written is not None:
            written = str(written)
        return {"model": self.model, "version": self.version, "rows": self.rows,
                "seconds": round(self.seconds, 3), "destination": self.destination,
                "written": written, "batch_id": self.batch_id}


def _load_data(data: Any, spl: str | None, earliest: str | None, latest: str | None,
               connection: str | None, path: Path | str | None) -> Any:
    given = [x is not None for x in (data, spl, path)]
    if sum(given) != 1:
        raise KeplerError("Give the data to score with exactly one of: a DataFrame, spl=... "
                          "(a Splunk search) or input=... (a table file).",
                          hint="kepler predict MODEL --spl 'search index=pumps' --earliest -1h, "
                          "or --input rows.parquet")
    if data is not None:
        import pandas as pd

        return data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
    if spl is not None:
        import kepler as kp

        options: dict[str, Any] = {"earliest": earliest, "latest": latest, "progress": False}
        if connection:
            options["connection"] = connection
        return kp.data.from_splunk(spl, **options)
    from kepler.cli.train_cmd import read_table

    assert path is not None
    return read_table(Path(path).expanduser())


def write_table(frame: Any, path: Path) -> Path:
    """Write a table as Parquet, CSV or JSON lines (by the file's suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        table = frame.copy()
        for column in table.columns:  # nested values (feature dicts) do not fit Parquet columns
            if table[column].dtype == object and table[column].map(
                    lambda v: isinstance(v, dict | list)).any():
                import json

                table[column] = table[column].map(lambda v: json.dumps(v, default=str)
                                                  if isinstance(v, dict | list) else v)
        table.to_parquet(path, index=False)
    elif suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix in (".jsonl", ".ndjson"):
        frame.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        raise KeplerError(f"Cannot write {path}: unknown file type {path.suffix!r}.",
                          hint="Use .parquet, .csv or .jsonl.")
    return path


def score_frame(model: Any, frame: Any) -> tuple[Any, Any, float]:
    """Predictions and (classifiers) probabilities for every row of ``frame``, and seconds."""
    import numpy as np

    started = time.perf_counter()
    predictions = np.asarray(model.predict(frame))
    probabilities = None
    if model.task == "classification" and callable(getattr(model.predictor, "predict_proba",
                                                           None)):
        try:
            probabilities = np.asarray(model.predict_proba(frame))
        except KeplerError:
            probabilities = None
    return predictions, probabilities, time.perf_counter() - started


def batch_score(
    model: Any,
    data: Any = None,
    *,
    spl: str | None = None,
    earliest: str | None = None,
    latest: str | None = None,
    connection: str | None = None,
    input: Path | str | None = None,  # noqa: A002 - the CLI's --input
    output: Path | str | None = None,
    to_splunk: bool = False,
    index: str | None = None,
    sourcetype: str = "_json",
    source: str = "kepler-batch",
    keep: Sequence[str] = (),
) -> BatchReport:
    """Score data with ``model`` (``NAME[:VERSION|ALIAS]``, a folder or a Model) and write the
    predictions to Splunk (``to_splunk=True``, ``index=...``) or to ``output`` (a .parquet, .csv
    or .jsonl file); with neither, only return them (``report.frame``)."""
    from kepler.plugins import get_host
    from kepler.records import PredictionEvent

    from .server import load_model

    if to_splunk and output is not None:
        raise KeplerError("Write the predictions to Splunk or to a file, not both.",
                          hint="Run twice, or score to a file and send it with "
                          "'kepler results to-splunk'.")
    model = load_model(model)
    frame = _load_data(data, spl, earliest, latest, connection, input)
    if not len(frame):
        log.warning("nothing to score: the data is empty")
        return BatchReport(model=model.name, version=model.version, rows=0, seconds=0.0,
                           destination=None, frame=frame)
    missing_keep = [c for c in keep if c not in frame.columns]
    if missing_keep:
        raise KeplerError(f"keep column(s) {', '.join(map(repr, missing_keep))} are not in the "
                          "data.", hint=f"Columns: {', '.join(map(str, frame.columns))}.")
    batch_id = uuid.uuid4().hex[:12]
    started = time.perf_counter()
    predictions, probabilities, seconds = score_frame(model, frame)
    classes = model.classes or []
    latency = seconds * 1000 / max(len(frame), 1)
    destination: str | None = None
    written: Any = None
    if to_splunk:
        import kepler as kp
        from kepler_splunk.predictions import prediction_frame

        features = [f for f in model.features if f in frame.columns]
        events = prediction_frame(
            frame[features], list(predictions), model=model.name, version=model.version,
            latency_ms=latency,
            probabilities=probabilities.max(axis=1).tolist() if probabilities is not None
            else None,
            time=frame["_time"].reset_index(drop=True) if "_time" in frame.columns
            else time.time(),
            batch_id=batch_id)
        for column in keep:
            if column != "_time":
                events[column] = frame[column].to_numpy()
        destination = f"splunk:{index or 'default'}"
        written = kp.results.to_splunk(events, index=index, sourcetype=sourcetype,
                                       source=source, connection=connection, progress=False)
        scored = events
    else:
        scored = frame.copy()
        scored["prediction"] = predictions
        if probabilities is not None:
            scored["probability"] = probabilities.max(axis=1)
            for position, label in enumerate(classes):
                scored[f"probability_{label}"] = probabilities[:, position]
        scored["model"] = model.name
        scored["model_version"] = None if model.version is None else str(model.version)
        if output is not None:
            path = Path(output).expanduser()
            written = write_table(scored, path)
            destination = str(path)
    report = BatchReport(model=model.name, version=model.version, rows=len(frame),
                         seconds=time.perf_counter() - started, destination=destination,
                         written=written, frame=scored, batch_id=batch_id)
    get_host().fire("kepler_after_predictions", PredictionEvent(
        model=model.name, version=None if model.version is None else str(model.version),
        rows=len(frame), latency_ms=latency, destination=destination, predictions=scored))
    return report


def run_pipeline(name: str) -> BatchReport:
    """Run the pipeline ``name`` of the ``pipelines:`` section (kepler.yml)."""
    from kepler.config import load

    config = load()
    pipelines = config.section("pipelines").root
    if name not in pipelines:
        import difflib

        close = difflib.get_close_matches(name, list(pipelines), n=1)
        raise KeplerError(f"No pipeline named {name!r}." + (f" Did you mean {close[0]!r}?"
                                                            if close else ""),
                          hint=f"Pipelines in kepler.yml: {', '.join(pipelines) or 'none'} "
                          "(under 'pipelines:').")
    pipeline = pipelines[name]
    base = config.project_dir or Path.cwd()
    destination = pipeline.destination

    def local(path: str | None) -> Path | None:
        if path is None:
            return None
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else base / candidate

    log.info("pipeline %s: %s", name, pipeline.description or pipeline.model)
    return batch_score(
        pipeline.model, spl=pipeline.spl, earliest=pipeline.earliest, latest=pipeline.latest,
        connection=pipeline.connection or destination.connection, input=local(pipeline.input),
        output=local(destination.path) if destination.type == "file" else None,
        to_splunk=destination.type == "splunk", index=destination.index,
        sourcetype=destination.sourcetype, source=destination.source, keep=pipeline.keep)
