"""From the user's table to features, target and the rows held out for the metrics.

Every check here fails with a :class:`~kepler.errors.TrainingError` that names what was wrong and
what exists instead (a target that is not a column lists the columns), because these are the
mistakes a data scientist makes first. Other trainers (kepler-torch) reuse these functions so
``split="time"`` and ``task="auto"`` mean the same thing everywhere.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from kepler.errors import TrainingError
from kepler.schema import FeatureSchema

TASKS = ("classification", "regression", "anomaly", "clustering")
SPLITS = ("random", "time")
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


def _unknown_columns(kind: str, names: Sequence[str], frame: pd.DataFrame) -> TrainingError:
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
    if time_column is not None:
        if time_column not in frame.columns:
            raise _unknown_columns("time_column", [time_column], frame)
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


def prepare(data: Any, *, target: str | None, features: Sequence[str] | None, task: str,
            tasks: Sequence[str], algorithm: str, split: str = "random",
            time_column: str | None = None) -> Prepared:
    """Check the table and pick features and target; text columns with too many distinct values
    to be categories (ids, free text) are left out of the automatic feature list, with a note."""
    frame = as_frame(data)
    notes: list[str] = []
    if split not in SPLITS:
        raise TrainingError(f"Unknown split {split!r}.",
                            hint="split='random' or split='time' (newest rows held out).")
    if target is not None and target not in frame.columns:
        raise _unknown_columns("Target", [target], frame)
    if split == "time":
        time_column = find_time_column(frame, time_column)
    y = frame[target] if target is not None else None
    task = resolve_task(task, tasks, y, algorithm)
    if y is not None and task in ("classification", "regression"):
        missing = int(y.isna().sum())
        if missing == len(frame):
            raise TrainingError(f"Target {target!r} has no values.",
                                hint="Check the column, or the query that produced it.")
        if missing:
            frame = frame[y.notna()]
            notes.append(f"dropped {missing} row(s) with no value in the target {target!r}")
    if split == "time" and time_column is not None and frame[time_column].isna().any():
        missing = int(frame[time_column].isna().sum())
        frame = frame[frame[time_column].notna()]
        notes.append(f"dropped {missing} row(s) with no time in {time_column!r} (split='time')")
    if features is not None:
        features = [str(f) for f in ([features] if isinstance(features, str) else features)]
        unknown = [f for f in features if f not in frame.columns]
        if unknown:
            raise _unknown_columns("Feature(s)", unknown, frame)
        if target in features:
            raise TrainingError(f"The target {target!r} is also listed as a feature.",
                                hint="Remove it from features: a model must not see its answer.")
        schema = FeatureSchema.infer(frame, features)
        chosen = list(features)
    else:
        candidates = [str(c) for c in frame.columns if c != target]
        schema = FeatureSchema.infer(frame, candidates)
        chosen = []
        for feature in schema:
            if feature.kind == "text":
                notes.append(f"left out {feature.name!r}: text with too many distinct values to "
                             "be a category (pass features=[...] to choose)")
            elif feature.missing_fraction >= 1.0:
                notes.append(f"left out {feature.name!r}: no values")
            else:
                chosen.append(feature.name)
        schema = FeatureSchema(features=[f for f in schema if f.name in chosen])
    text = [f.name for f in schema if f.kind == "text"]
    if text:
        raise TrainingError(
            f"Feature(s) {', '.join(map(repr, text))} hold text with too many distinct values to "
            "be categories.",
            hint="Leave them out, or turn them into fewer categories (or numbers) first.",
        )
    if not chosen:
        raise TrainingError("No usable feature columns are left.",
                            hint=f"Columns: {', '.join(map(str, frame.columns))}. Pass "
                            "features=[...] with numeric, category or datetime columns.")
    return Prepared(frame=frame, X=frame[chosen], y=frame[target] if target else None,
                    task=task, features=chosen, schema=schema, time_column=time_column,
                    notes=notes)


def holdout(prepared: Prepared, *, test_size: float, split: str, random_state: int | None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Row positions for training and for testing. ``split="time"`` tests on the newest rows."""
    n = len(prepared.frame)
    if not 0 < test_size < 1:
        raise TrainingError(f"test_size must be between 0 and 1, not {test_size!r}.",
                            hint="0.2 holds out a fifth of the rows for the metrics.")
    n_test = math.ceil(n * test_size)
    if n_test < 1 or n - n_test < 2:
        raise TrainingError(f"{n} row(s) are too few to hold out {test_size:.0%} for testing.",
                            hint="Use more data, or cv=... for small tables.")
    positions = np.arange(n)
    if split == "time":
        assert prepared.time_column is not None
        order = np.argsort(prepared.frame[prepared.time_column].to_numpy(), kind="stable")
        return np.sort(order[: n - n_test]), np.sort(order[n - n_test:])
    from sklearn.model_selection import train_test_split

    stratify = None
    if prepared.task == "classification" and prepared.y is not None:
        counts = prepared.y.value_counts()
        if counts.min() >= 2 and n_test >= len(counts):
            stratify = prepared.y.to_numpy()
    train, test = train_test_split(positions, test_size=n_test, random_state=random_state,
                                   shuffle=True, stratify=stratify)
    return np.sort(train), np.sort(test)


def folds(prepared: Prepared, *, cv: int, split: str, random_state: int | None
          ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds: time-ordered (each fold tests on later rows) or shuffled."""
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit

    if not isinstance(cv, int) or isinstance(cv, bool) or cv < 2:
        raise TrainingError(f"cv must be a whole number of folds of at least 2, not {cv!r}.",
                            hint="cv=5 is common; leave cv=None for one held-out split.")
    n = len(prepared.frame)
    if n < 2 * cv:
        raise TrainingError(f"{n} rows are too few for {cv}-fold cross-validation.",
                            hint="Use fewer folds.")
    if split == "time":
        assert prepared.time_column is not None
        order = np.argsort(prepared.frame[prepared.time_column].to_numpy(), kind="stable")
        return [(order[tr], order[te]) for tr, te in TimeSeriesSplit(n_splits=cv).split(order)]
    if prepared.task == "classification" and prepared.y is not None \
            and prepared.y.value_counts().min() >= cv:
        splitter: Any = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
        return list(splitter.split(np.zeros(n), prepared.y.to_numpy()))
    splitter = KFold(n_splits=cv, shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros(n)))
