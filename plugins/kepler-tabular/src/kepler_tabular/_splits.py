"""Which rows train and which test: random (stratified), newest (time) or whole groups.

Every trainer gets the same rows for the same ``random_state``, so models of different frameworks
are scored on the same held-out rows and rank fairly in one leaderboard.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from kepler.api import TrainingError

from ._data import Prepared


def _time_order(prepared: Prepared) -> np.ndarray:
    assert prepared.time_column is not None
    return np.argsort(prepared.frame[prepared.time_column].to_numpy(), kind="stable")


def _groups(prepared: Prepared, needed: int, what: str) -> np.ndarray:
    """The group of each row, refusing fewer than ``needed`` distinct groups."""
    assert prepared.group_column is not None
    values = prepared.frame[prepared.group_column].astype("object").map(str).to_numpy()
    count = len(set(values))
    if count < needed:
        raise TrainingError(
            f"split='group' needs at least {needed} groups for {what}; "
            f"{prepared.group_column!r} has {count}.",
            hint="Use a column with more distinct values, or split='random'.")
    return values


def holdout(prepared: Prepared, *, test_size: float, split: str, random_state: int | None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Row positions for training and for testing. ``split="time"`` tests on the newest rows,
    ``split="group"`` on whole groups (``test_size`` is then the share of groups)."""
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
        order = _time_order(prepared)
        return np.sort(order[: n - n_test]), np.sort(order[n - n_test:])
    if split == "group":
        from sklearn.model_selection import GroupShuffleSplit

        groups = _groups(prepared, 2, "a held-out set")
        splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=random_state)
        train, test = next(splitter.split(positions, groups=groups))
        return np.sort(train), np.sort(test)
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
    """Cross-validation folds: time-ordered (each fold tests on later rows), by whole groups,
    or shuffled (stratified for classes)."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, TimeSeriesSplit

    if not isinstance(cv, int) or isinstance(cv, bool) or cv < 2:
        raise TrainingError(f"cv must be a whole number of folds of at least 2, not {cv!r}.",
                            hint="cv=5 is common; leave cv=None for one held-out split.")
    n = len(prepared.frame)
    if n < 2 * cv:
        raise TrainingError(f"{n} rows are too few for {cv}-fold cross-validation.",
                            hint="Use fewer folds.")
    if split == "time":
        order = _time_order(prepared)
        return [(order[tr], order[te]) for tr, te in TimeSeriesSplit(n_splits=cv).split(order)]
    if split == "group":
        groups = _groups(prepared, cv, f"{cv}-fold cross-validation")
        splitter: Any = GroupKFold(n_splits=cv, shuffle=True, random_state=random_state)
        return list(splitter.split(np.zeros(n), groups=groups))
    if prepared.task == "classification" and prepared.y is not None \
            and prepared.y.value_counts().min() >= cv:
        splitter = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
        return list(splitter.split(np.zeros(n), prepared.y.to_numpy()))
    splitter = KFold(n_splits=cv, shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros(n)))
