"""The ``Trainer`` behind each ``kp.train.<algorithm>`` of this plugin.

Light to import (the engine, with pandas and scikit-learn, loads when a model trains): the
trainer records point their ``signature`` at :meth:`SklearnTrainer.train`, so core imports this
module to show the real keywords in ``help(kp.train.random_forest)`` and Jupyter's Shift-Tab.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kepler.api import CapabilityNotInstalledError, Model, import_string

from .algorithms import Algorithm

if TYPE_CHECKING:
    from .training import Candidate


def candidate_for(algorithm: Algorithm) -> Candidate:
    """The :class:`Candidate` of a named algorithm: its estimator class per task."""
    from .training import Candidate

    if not algorithm.available():
        raise CapabilityNotInstalledError(
            f"kp.train.{algorithm.name} needs {algorithm.library}, which is not installed.",
            hint=f"pip install '{algorithm.extra}'",
        )

    def make(task: str) -> Any:
        return import_string(algorithm.estimators[task])()

    return Candidate(algorithm=algorithm.name, tasks=algorithm.tasks, make=make,
                     scale=algorithm.scale, format=algorithm.format,
                     encode_labels=algorithm.encode_labels, trainer=algorithm.name,
                     defaults=algorithm.defaults)


class SklearnTrainer:
    """Implements :class:`kepler.protocols.Trainer` for one algorithm of the table."""

    def __init__(self, algorithm: Algorithm, config: Any) -> None:
        self.algorithm = algorithm
        self.config = config

    def train(self, data: Any, *, target: str | None = None,
              features: Sequence[str] | None = None, task: str = "auto",
              test_size: float = 0.2, split: str = "auto", cv: int | None = None,
              random_state: int | None = 0, name: str | None = None,
              time_column: str | None = None, groups: str | None = None,
              **params: Any) -> Model:
        """Train on ``data`` (a DataFrame) and return a Model with held-out metrics next to a
        naive baseline.

        - ``target``: the column to predict (optional for anomaly detection and clustering);
        - ``features``: the input columns (default: every other usable column except Splunk's
          own fields such as ``host``, ``source``, ``_time``);
        - ``task``: "auto" (labels -> classification, numbers -> regression), or name it;
        - ``test_size``: fraction of rows held out for the metrics;
        - ``split``: "auto" ("time" when the data has a time column, else "random"),
          "random", "time" (hold out the newest rows; ``time_column`` names the timestamp) or
          "group" (hold out whole groups; ``groups`` names the column);
        - ``cv``: k-fold cross-validated metrics instead (then fitted on every row);
        - ``random_state``: for the split and the estimator; ``name``: the registry name;
        - ``save``: save to the registry as the next version; ``force``: even when an
          identical version exists;
        - ``params``: the estimator's own parameters (``n_estimators=300``); an unknown one is
          an error listing the valid ones.

        Example::

            model = kp.train.random_forest(df, target="failure", split="time", n_estimators=300)
        """
        from .training import fit

        return fit(candidate_for(self.algorithm), data, target=target, features=features,
                   task=task, test_size=test_size, split=split, cv=cv,
                   random_state=random_state, name=name, time_column=time_column,
                   groups=groups, **params)
