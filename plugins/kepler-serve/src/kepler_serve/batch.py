"""Batch scoring: data in through a connector (or a DataFrame), a model, predictions out through a
sink or into a file. ``kepler predict``, ``kp.deploy.batch_score`` and the ``pipelines:`` of
kepler.yml (``kepler pipeline run NAME``) all run :func:`batch_score`.

Data is read with ``kepler.api.read_data(query, connector=NAME, earliest=, latest=)``; the
shorthands map onto it: ``spl=`` is the query of the connector behind ``--spl``
(``kepler.api.query_options()``: splunk), ``input=`` a table file read by the ``file``
connector. To a sink (``sink=NAME, sink_options={...}``; ``to_splunk=True, index=`` is the
``splunk-hec`` shorthand) each prediction is one event, in the shape of
:func:`kepler_serve.events.prediction_frame` (``model``, ``model_version``, ``prediction``,
``probability``, ``features``, ``batch_id``; ``_time`` from the data's ``_time`` when it has
one), plus the ``keep`` columns (asset ids...). To a file (``output=``, written here: a result
file is not a sink), the input table with ``prediction`` (and ``probability``,
``probability_<class>`` for classifiers), ``model`` and ``model_version`` columns added.

Example::

    report = kp.deploy.batch_score("pump-failure:prod", query="search index=pumps",
                                   connector="splunk", earliest="-1h", sink="splunk-hec",
                                   sink_options={"index": "ml_predictions"}, keep=["asset_id"])
    report.rows, report.written
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kepler.api import KeplerError

log = logging.getLogger(__name__)


@dataclass
class BatchReport:
    """What one batch scoring run did."""

    model: str
    version: int | None
    rows: int
    seconds: float
    destination: str | None
    #: To a sink: its report (splunk-hec: sent, spooled, failed...); to a file: the path.
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
        return {"model": self.model, "version": self.version, "rows": self.rows,
                "seconds": round(self.seconds, 3), "destination": self.destination,
                "written": written_as_dict(self.written), "batch_id": self.batch_id}


def written_as_dict(written: Any) -> Any:
    """Any sink's report as JSON. The Sink protocol promises only "a report of what was
    delivered", so nothing is assumed of its fields: a dataclass, a mapping or an object's
    attributes become a dict (lists, such as failed rows, as their length: a JSON report counts
    them), anything else its text."""
    import dataclasses

    from kepler.api import json_safe

    if written is None or isinstance(written, str | int | float | bool):
        return written
    if dataclasses.is_dataclass(written) and not isinstance(written, type):
        fields = {f.name: getattr(written, f.name) for f in dataclasses.fields(written)}
    elif isinstance(written, Mapping):
        fields = dict(written)
    elif hasattr(written, "__dict__") and not isinstance(written, Path):
        fields = {k: v for k, v in vars(written).items() if not k.startswith("_")}
    else:
        return str(written)
    counted = {k: len(v) if isinstance(v, list | tuple | set | frozenset) else v
               for k, v in fields.items()}
    return json_safe(counted)


@dataclass(frozen=True)
class Source:
    """Where the rows to score come from: a DataFrame, or a connector's query."""

    data: Any = None
    query: str | None = None
    connector: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """Where the predictions go: a sink (given prediction events), a file, or nowhere."""

    sink: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    label: str | None = None


def resolve_source(data: Any = None, *, query: str | None = None, connector: str | None = None,
           spl: str | None = None, input: Path | str | None = None,  # noqa: A002
           earliest: str | None = None, latest: str | None = None,
           connection: str | None = None) -> Source:
    """The data to score, shorthands resolved: ``spl`` is the query of the connector behind
    ``--spl``, ``input`` a file read by the ``file`` connector."""
    given = [x is not None for x in (data, query, spl, input)]
    if sum(given) != 1:
        raise KeplerError("Give the data to score with exactly one of: a DataFrame, query=... "
                          "(with connector=...), spl=... (a Splunk search) or input=... "
                          "(a table file).",
                          hint="kepler predict MODEL --connector NAME --query TEXT, --spl "
                          "'search index=pumps' --earliest -1h, or --input rows.parquet")
    if connector is not None and query is None:
        raise KeplerError("connector=... goes with query=...",
                          hint="kepler predict MODEL --connector NAME --query TEXT")
    if data is not None:
        return Source(data=data)
    options: dict[str, Any] = {"earliest": earliest, "latest": latest}
    if connection:
        options["connection"] = connection
    if spl is not None:
        from kepler.api import query_options

        connector = query_options().get("spl")
        if connector is None:
            raise KeplerError("No installed connector offers the spl= shorthand.",
                              hint="Name one: connector=NAME, query=...")
        return Source(query=spl, connector=connector, options={**options, "progress": False})
    if input is not None:
        return Source(query=str(Path(input).expanduser()), connector="file")
    return Source(query=query, connector=connector, options=options)


def resolve_target(*, sink: str | None = None, sink_options: Mapping[str, Any] | None = None,
           output: Path | str | None = None, to_splunk: bool = False,
           index: str | None = None, sourcetype: str = "_json", source: str = "kepler-batch",
           connection: str | None = None) -> Target:
    """Where predictions go, shorthands resolved: ``to_splunk`` is the ``splunk-hec`` sink with
    ``index``, ``sourcetype``, ``source`` and ``connection``."""
    if sum([sink is not None, output is not None, to_splunk]) > 1:
        raise KeplerError("Write the predictions to one place: a sink, Splunk or a file.",
                          hint="Run twice, or score to a file and send it with "
                          "'kepler results to-splunk'.")
    if to_splunk:
        options = {"index": index, "sourcetype": sourcetype, "source": source,
                   "connection": connection, "progress": False}
        return Target(sink="splunk-hec", options={k: v for k, v in options.items()
                                                  if v is not None},
                      label=f"splunk:{index or 'default'}")
    if sink is not None:
        return Target(sink=sink, options=dict(sink_options or {}), label=f"sink:{sink}")
    if output is not None:
        path = Path(output).expanduser()
        return Target(path=path, label=str(path))
    return Target()


def read(where: Source) -> Any:
    """The rows to score, as a DataFrame."""
    import pandas as pd

    if where.data is not None:
        data = where.data
    else:
        from kepler.api import read_data

        assert where.query is not None
        data = read_data(where.query, connector=where.connector, **where.options)
    return data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))


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


def events(model: Any, frame: Any, predictions: Any, probabilities: Any, *, latency_ms: float,
           batch_id: str, keep: Sequence[str]) -> Any:
    """One prediction event per row (what a sink is given), with the ``keep`` columns."""
    from .events import prediction_frame

    features = [f for f in model.features if f in frame.columns]
    out = prediction_frame(
        frame[features], list(predictions), model=model.name, version=model.version,
        latency_ms=latency_ms,
        probabilities=probabilities.max(axis=1).tolist() if probabilities is not None else None,
        time=frame["_time"].reset_index(drop=True) if "_time" in frame.columns else time.time(),
        batch_id=batch_id)
    for column in keep:
        if column != "_time":
            out[column] = frame[column].to_numpy()
    return out


def scored_table(model: Any, frame: Any, predictions: Any, probabilities: Any) -> Any:
    """The input table with ``prediction``, probabilities, ``model`` and ``model_version``."""
    scored = frame.copy()
    scored["prediction"] = predictions
    if probabilities is not None:
        scored["probability"] = probabilities.max(axis=1)
        for position, label in enumerate(model.classes or []):
            scored[f"probability_{label}"] = probabilities[:, position]
    scored["model"] = model.name
    scored["model_version"] = None if model.version is None else str(model.version)
    return scored


def _check_keep(frame: Any, keep: Sequence[str]) -> None:
    missing = [c for c in keep if c not in frame.columns]
    if missing:
        raise KeplerError(f"keep column(s) {', '.join(map(repr, missing))} are not in the "
                          "data.", hint=f"Columns: {', '.join(map(str, frame.columns))}.")


def run(model: Any, where: Source, to: Target, keep: Sequence[str] = ()) -> BatchReport:
    """Read, score, write: the body of :func:`batch_score` once its arguments are resolved."""
    from kepler.api import PredictionEvent, fire, write_results

    from .server import load_model

    model = load_model(model)
    frame = read(where)
    if not len(frame):
        log.warning("nothing to score: the data is empty")
        return BatchReport(model=model.name, version=model.version, rows=0, seconds=0.0,
                           destination=None, frame=frame)
    _check_keep(frame, keep)
    batch_id = uuid.uuid4().hex[:12]
    started = time.perf_counter()
    predictions, probabilities, seconds = score_frame(model, frame)
    latency = seconds * 1000 / max(len(frame), 1)
    written: Any = None
    if to.sink is not None:
        scored = events(model, frame, predictions, probabilities, latency_ms=latency,
                        batch_id=batch_id, keep=keep)
        written = write_results(scored, sink=to.sink, **to.options)
    else:
        scored = scored_table(model, frame, predictions, probabilities)
        if to.path is not None:
            written = write_table(scored, to.path)
    report = BatchReport(model=model.name, version=model.version, rows=len(frame),
                         seconds=time.perf_counter() - started, destination=to.label,
                         written=written, frame=scored, batch_id=batch_id)
    fire(PredictionEvent(
        model=model.name, version=None if model.version is None else str(model.version),
        rows=len(frame), latency_ms=latency, destination=to.label, predictions=scored))
    return report


def batch_score(
    model: Any,
    data: Any = None,
    *,
    query: str | None = None,
    connector: str | None = None,
    sink: str | None = None,
    sink_options: Mapping[str, Any] | None = None,
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
    """Score data with ``model`` (``NAME[:VERSION|ALIAS]``, a folder or a Model).

    Data: a DataFrame, or ``query`` read by ``connector`` (``earliest``/``latest`` for
    time-ranged sources); ``spl=`` and ``input=`` (a table file) are shorthands. Predictions:
    through ``sink`` (with ``sink_options``) as one event per row, ``to_splunk=True`` with
    ``index=`` being the splunk-hec shorthand; or into ``output`` (.parquet, .csv or .jsonl);
    with none of them, only returned (``report.frame``)."""
    where = resolve_source(data, query=query, connector=connector, spl=spl, input=input,
                           earliest=earliest, latest=latest, connection=connection)
    to = resolve_target(sink=sink, sink_options=sink_options, output=output,
                        to_splunk=to_splunk, index=index, sourcetype=sourcetype, source=source,
                        connection=connection)
    return run(model, where, to, keep)


def run_pipeline(name: str) -> BatchReport:
    """Run the pipeline ``name`` of the ``pipelines:`` section (kepler.yml)."""
    from kepler.api import load_config as load

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

    def local(path: str | None) -> Path | None:
        if path is None:
            return None
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else base / candidate

    destination = pipeline.destination
    kind, where, options = destination.resolved()
    if destination.sink is None and destination.type != "file" and \
            pipeline.connection and "connection" not in options:
        options["connection"] = pipeline.connection
    to = Target(path=local(where), label=str(local(where))) if kind == "file" else \
        Target(sink=where, options=options, label=destination.label())
    log.info("pipeline %s: %s", name, pipeline.description or pipeline.model)
    data = resolve_source(query=pipeline.query, connector=pipeline.connector,
                          spl=pipeline.spl, input=local(pipeline.input),
                          earliest=pipeline.earliest, latest=pipeline.latest,
                          connection=pipeline.connection)
    return run(pipeline.model, data, to, pipeline.keep)
