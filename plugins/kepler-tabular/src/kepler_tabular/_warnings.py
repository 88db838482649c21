"""Warnings about metrics that rest on too few rows of a class.

"f1 1.0" measured on a held-out set with three failures says little: one more failure missed and
it drops to 0.75. Every tabular trainer calls :func:`class_warnings` after choosing its held-out
rows (or folds), keeps what it returns in the manifest's notes and logs each as a warning, so
``kepler train`` and ``model.info()`` show the counts next to the metrics.

Example::

    from kepler_tabular import class_warnings
    for note in class_warnings(y_train, y_test):
        log.warning(note)
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from kepler.api import json_safe

#: A class with fewer held-out rows than this makes its precision, recall and f1 unreliable;
#: with fewer rows in all, it is flagged as too small to learn.
MIN_CLASS_ROWS = 10


def _counts(y: Any) -> dict[Any, int]:
    return {k: int(v) for k, v in pd.Series(y).value_counts().items()}


def _shown(counts: dict[Any, int]) -> str:
    return ", ".join(f"{json_safe(label)!r}: {n}" for label, n in
                     sorted(counts.items(), key=lambda item: (item[1], str(item[0]))))


def class_warnings(y_train: Any, y_test: Any | None = None, *, folds: int | None = None
                   ) -> list[str]:
    """Notes about tiny or degenerate classes, with their counts.

    ``y_test``: the held-out labels; each class with fewer than :data:`MIN_CLASS_ROWS` of them
    is named with its counts. ``folds``: cross-validation, where ``y_train`` holds every label;
    a class with fewer than :data:`MIN_CLASS_ROWS` rows per fold is named. In both cases a class
    with fewer than :data:`MIN_CLASS_ROWS` training rows is flagged as too small to learn, and
    one absent from the training rows as impossible to predict."""
    train = _counts(y_train)
    notes = []
    if y_test is not None:
        test = _counts(y_test)
        labels = set(train) | set(test)
        absent = {label: test[label] for label in labels if label not in train}
        if absent:
            notes.append(f"class(es) {_shown(absent)} held out but absent from the training rows "
                         "(counts are held-out rows): the model cannot learn to predict them; "
                         "use split='random' or more data")
        few = sorted((label for label in labels if 0 < test.get(label, 0) < MIN_CLASS_ROWS),
                     key=lambda label: (test[label], str(label)))
        if few:
            counts = ", ".join(f"{json_safe(label)!r} ({test[label]} held out, "
                               f"{train.get(label, 0)} in training)" for label in few)
            notes.append(
                f"few held-out rows of class {counts}, of {sum(test.values())} held out: its "
                "precision, recall and f1 rest on so few rows that one more right or wrong "
                "changes them a lot; use more data, a larger test_size or cv=5")
    elif folds:
        small = {label: n for label, n in train.items() if n / folds < MIN_CLASS_ROWS}
        if small:
            notes.append(f"class(es) {_shown(small)} have so few rows (in all) that each of the "
                         f"{folds} folds tests on fewer than {MIN_CLASS_ROWS} of them: the "
                         "per-class metrics are unreliable; use more data or fewer folds")
    tiny = {label: n for label, n in train.items() if n < MIN_CLASS_ROWS}
    if tiny:
        notes.append(f"class(es) {_shown(tiny)} have fewer than {MIN_CLASS_ROWS} training rows: "
                     "too few to learn them reliably")
    return notes
