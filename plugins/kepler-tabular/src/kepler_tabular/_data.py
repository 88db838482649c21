"""From the user's table to features and target: the checks every tabular trainer makes.

Every check here fails with a :class:`~kepler.api.TrainingError` that names what was wrong and
what exists instead (a target that is not a column lists the columns), because these are the
mistakes a data scientist makes first. Every tabular trainer (kepler-sklearn, kepler-torch) calls
these functions, so ``split="time"``, ``groups=`` and ``task="auto"`` mean the same everywhere.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from kepler.api import FeatureSchema, TrainingError

from ._features import SPLUNK_FIELDS, automatic, check_named, used_note
from ._schema import infer_schema

TASKS = ("classification", "regression", "anomaly", "clustering")
#: How the held-out rows are chosen: at random, the newest ones, or whole groups (``groups=``);
#: ``"auto"`` (the default) is "group" with ``groups=``, "time" when the data has a time column
#: (``_time``, or what :func:`find_time_column` finds), else "random".
SPLITS = ("auto", "random", "time", "group")
#: A numeric target with at most this many distinct whole values is taken as classes.
MAX_CLASSES_FOR_AUTO = 10
#: Column names tried, in order, as the time column for split="time".
TIME_NAMES = ("_time", "timestamp", "time", "datetime", "date")


@dataclass
class Prepared:
    """The table split into what the model sees and what it predicts."""

    frame: pd.DataFrame
    X: pd.DataFrame
    y: pd.Series | None
    task: str
    features: list[str]
    schema: FeatureSchema
    time_column: str | None = None
    notes: list[str] = field(default_factory=list)
    #: split="group": the column whose values are kept wholly in training or in testing.
    group_column: str | None = None
    #: The split in force: "random", "time" or "group" ("auto" resolved).
    split: str = "random"
    #: Columns that are no automatic feature, and why ("Splunk field", "lists (multivalue)",
    #: "text", "no values", "group column").
    left_out: dict[str, str] = field(default_factory=dict)


def as_frame(data: Any) -> pd.DataFrame:
    """``data`` as a DataFrame: a DataFrame, a list of records, or a dict of columns."""
    if isinstance(data, pd.DataFrame):
        frame = data
    else:
        try:
            frame = pd.DataFrame(data)
        except (TypeError, ValueError) as exc:
            raise TrainingError(
                f"Cannot use {type(data).__name__} as training data: {exc}",
                hint="Pass a pandas DataFrame (kp.data.from_splunk returns one), a list of "
                "records or a dict of columns.",
            ) from exc
    if frame.empty:
        raise TrainingError("The training data is empty.",
                            hint="Check the query or file; widen the time range.")
    if not all(isinstance(c, str) for c in frame.columns):
        frame = frame.rename(columns=str)
    return frame


def unknown_columns(kind: str, names: Sequence[str], frame: pd.DataFrame) -> TrainingError:
    """The error for ``names`` that are not columns of ``frame``: the closest match, and the
    columns there are."""
    columns = [str(c) for c in frame.columns]
    close = difflib.get_close_matches(names[0], columns, n=1)
    return TrainingError(
        f"{kind} {', '.join(map(repr, names))} {'is' if len(names) == 1 else 'are'} not "
        f"{'a column' if len(names) == 1 else 'columns'} of the data."
        + (f" Did you mean {close[0]!r}?" if close else ""),
        hint=f"The columns are: {', '.join(columns)}.",
    )


def infer_task(y: pd.Series) -> str:
    """classification for labels (strings, booleans, or few whole numbers), else regression."""
    values = y.dropna()
    if (pd.api.types.is_bool_dtype(y) or not pd.api.types.is_numeric_dtype(y)
            or isinstance(y.dtype, pd.CategoricalDtype)):
        return "classification"
    whole = bool(np.all(np.mod(values.to_numpy(dtype="float64"), 1) == 0))
    if whole and values.nunique() <= MAX_CLASSES_FOR_AUTO:
        return "classification"
    return "regression"


def resolve_task(task: str, supported: Sequence[str], y: pd.Series | None, algorithm: str) -> str:
    """The task to train for: ``task`` checked against what the algorithm ``supported``, or,
    for ``"auto"``, the algorithm's unsupervised task or the one the target suggests."""
    if task not in ("auto", *TASKS):
        raise TrainingError(f"Unknown task {task!r}.",
                            hint=f"Use one of: auto, {', '.join(TASKS)}.")
    if task == "auto":
        unsupervised = [t for t in supported if t in ("anomaly", "clustering")]
        if unsupervised:
            task = unsupervised[0]
        elif y is None:
            raise TrainingError(f"{algorithm} needs a target: the column to predict.",
                                hint=f"kp.train.{algorithm}(df, target='COLUMN') or --target "
                                "COLUMN.")
        else:
            task = infer_task(y)
    if task not in supported:
        raise TrainingError(
            f"{algorithm} does not do {task}; it does {', '.join(supported)}.",
            hint="Pick another algorithm ('kepler train --help' lists them) or pass task=... "
            "when the target was taken for the wrong kind.",
        )
    if task in ("classification", "regression") and y is None:
        raise TrainingError(f"{task} needs a target: the column to predict.",
                            hint="Pass target='COLUMN' (--target COLUMN).")
    if task == "regression" and y is not None and not pd.api.types.is_numeric_dtype(y):
        raise TrainingError(
            f"Target {y.name!r} holds {y.dtype} values; regression needs numbers.",
            hint="Use task='classification' for labels, or convert the column to numbers.",
        )
    return task


def find_time_column(frame: pd.DataFrame, time_column: str | None) -> str:
    """The column ``split="time"`` orders by: ``time_column``, or the one datetime column (one of
    :data:`TIME_NAMES` first)."""
    if time_column is not None:
        if time_column not in frame.columns:
            raise unknown_columns("time_column", [time_column], frame)
        return time_column
    datetimes = [str(c) for c in frame.columns
                 if pd.api.types.is_datetime64_any_dtype(frame[c])]
    for name in TIME_NAMES:
        if name in datetimes:
            return name
    if len(datetimes) == 1:
        return datetimes[0]
    raise TrainingError(
        "split='time' needs to know which column holds the time"
        + (f"; there are several: {', '.join(datetimes)}." if datetimes
           else ", and the data has no datetime column."),
        hint="Pass time_column='COLUMN' (--time-column); parse it first with "
        "pd.to_datetime if it is text.",
    )


def resolve_split(frame: pd.DataFrame, split: str, time_column: str | None,
                  groups: str | None) -> tuple[str, str | None]:
    """The split ``split="auto"`` means for ``frame``, and a note saying why: "group" with
    ``groups``, "time" when there is a time column (held-out rows are then the newest, as when
    the model is used), else "random". Any other split is returned as given, without a note."""
    if split != "auto":
        return split, None
    if groups is not None:
        return "group", None
    try:
        column = find_time_column(frame, time_column)
    except TrainingError:
        if time_column is not None:
            raise
        return "random", ("split='auto' chose 'random': the data has no time column to hold out "
                          "the newest rows by")
    return "time", (f"split='auto' chose 'time': the data has a time column ({column!r}), so "
                    "the newest rows are held out, as the model will meet them (split='random' "
                    "to shuffle)")


def _check_split(frame: pd.DataFrame, split: str, time_column: str | None,
                 groups: str | None) -> tuple[str | None, str | None]:
    """The time column (split="time") and the group column (split="group") the split needs."""
    if split not in SPLITS:
        raise TrainingError(f"Unknown split {split!r}.",
                            hint="split='auto' (time when the data has a time column), "
                            "split='random', split='time' (newest rows held out) or "
                            "split='group' with groups='COLUMN' (whole groups held out).")
    if split == "group" and groups is None:
        raise TrainingError("split='group' needs groups='COLUMN': the column whose values must "
                            "stay together (a machine, a site, a customer).",
                            hint="Pass groups='COLUMN' (--groups COLUMN).")
    if groups is not None:
        if split != "group":
            raise TrainingError(f"groups={groups!r} goes with split='group', not "
                                f"split={split!r}.", hint="Pass split='group' too, or leave "
                                "groups out.")
        if groups not in frame.columns:
            raise unknown_columns("groups", [groups], frame)
    return (find_time_column(frame, time_column) if split == "time" else time_column), groups


def _drop_missing(frame: pd.DataFrame, column: str, note: str, notes: list[str]
                  ) -> pd.DataFrame:
    """``frame`` without the rows missing ``column``; ``note`` (with ``{n}``) says how many."""
    missing = int(frame[column].isna().sum())
    if missing:
        notes.append(note.format(n=missing))
        frame = frame[frame[column].notna()]
    return frame


def _chosen_features(frame: pd.DataFrame, features: Sequence[str] | str | None,
                     target: str | None, group_column: str | None, excluded: Sequence[str],
                     prepared_notes: tuple[list[str], dict[str, str]]
                     ) -> tuple[list[str], FeatureSchema]:
    """The feature columns and their schema: those named, or every usable other column (not
    Splunk's own fields, lists, ids or empty columns: see :mod:`kepler_tabular._features`)."""
    notes, left_out = prepared_notes
    if features is not None:
        chosen = [str(f) for f in ([features] if isinstance(features, str) else features)]
        unknown = [f for f in chosen if f not in frame.columns]
        if unknown:
            raise unknown_columns("Feature(s)", unknown, frame)
        if target in chosen:
            raise TrainingError(f"The target {target!r} is also listed as a feature.",
                                hint="Remove it from features: a model must not see its answer.")
        check_named(frame, chosen)
        notes.append(used_note(chosen, named=True))
        return chosen, infer_schema(frame, chosen)
    if group_column is not None:
        left_out[group_column] = "group column"
        notes.append(f"left out {group_column!r}: it names the groups of split='group' (pass "
                     "features=[...] to use it as an input too)")
    candidates = [str(c) for c in frame.columns if c not in (target, group_column)]
    chosen, schema = automatic(frame, candidates, excluded, notes, left_out)
    if chosen:
        notes.append(used_note(chosen, named=False))
    return chosen, schema


def _check_features(frame: pd.DataFrame, chosen: list[str], schema: FeatureSchema,
                    left_out: dict[str, str]) -> None:
    text = [f.name for f in schema if f.kind == "text"]
    if text:
        raise TrainingError(
            f"Feature(s) {', '.join(map(repr, text))} hold text with too many distinct values to "
            "be categories.",
            hint="Leave them out, or turn them into fewer categories (or numbers) first.",
        )
    if not chosen:
        why = "; ".join(f"{name} ({reason})" for name, reason in left_out.items())
        raise TrainingError("No usable feature columns are left."
                            + (f" Left out: {why}." if why else ""),
                            hint=f"Columns: {', '.join(map(str, frame.columns))}. Pass "
                            "features=[...] with numeric, category or datetime columns.")


def prepare(data: Any, *, target: str | None, features: Sequence[str] | None, task: str,
            tasks: Sequence[str], algorithm: str, split: str = "auto",
            time_column: str | None = None, groups: str | None = None,
            excluded: Sequence[str] | None = None) -> Prepared:
    """Check the table and pick features and target.

    Without ``features``, every other usable column is one, except Splunk's own fields
    (:data:`SPLUNK_FIELDS`, or the ``excluded`` patterns), columns holding lists (multivalue
    fields), text with too many distinct values to be categories (ids, free text) and empty
    columns; each is named in a note and in :attr:`Prepared.left_out`.

    ``split="auto"`` becomes "time" when the data has a time column, else "random" (a note says
    which; :attr:`Prepared.split` holds it). ``split="group"`` with ``groups="COLUMN"``: the
    held-out rows are whole groups (every row of a pump, a site or a customer in training or in
    testing, never both), so the metrics tell how the model does on groups it has not seen; the
    group column is no automatic feature."""
    frame = as_frame(data)
    notes: list[str] = []
    split, why = resolve_split(frame, split, time_column, groups)
    if why:
        notes.append(why)
    time_column, group_column = _check_split(frame, split, time_column, groups)
    if target is not None and target not in frame.columns:
        raise unknown_columns("Target", [target], frame)
    y = frame[target] if target is not None else None
    task = resolve_task(task, tasks, y, algorithm)
    if y is not None and task in ("classification", "regression"):
        if int(y.isna().sum()) == len(frame):
            raise TrainingError(f"Target {target!r} has no values.",
                                hint="Check the column, or the query that produced it.")
        assert target is not None
        frame = _drop_missing(frame, target, "dropped {n} row(s) with no value in the target "
                              f"{target!r}", notes)
    if split == "time" and time_column is not None:
        frame = _drop_missing(frame, time_column, "dropped {n} row(s) with no time in "
                              f"{time_column!r} (split='time')", notes)
    if group_column is not None:
        frame = _drop_missing(frame, group_column, "dropped {n} row(s) with no group in "
                              f"{group_column!r} (split='group')", notes)
    left_out: dict[str, str] = {}
    chosen, schema = _chosen_features(
        frame, features, target, group_column,
        SPLUNK_FIELDS if excluded is None else tuple(excluded), (notes, left_out))
    _check_features(frame, chosen, schema, left_out)
    return Prepared(frame=frame, X=frame[chosen], y=frame[target] if target else None,
                    task=task, features=chosen, schema=schema, time_column=time_column,
                    notes=notes, group_column=group_column, split=split, left_out=left_out)
