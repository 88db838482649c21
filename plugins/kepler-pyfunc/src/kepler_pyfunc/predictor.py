"""The predictor around a user's model object: what :class:`kepler.api.Model` calls.

It keeps where the code and artifact files are (to copy them into an artifact when saved) and
turns whatever the user's ``predict`` returns (a Series, a list, an array) into a 1-D array of
one prediction per row, so the server, batch scoring and metrics see the same shape as for any
other framework.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from kepler.api import ModelError, ModelInputError

from .code import describe_call_error, find_class, import_code


@dataclass
class CodeModel:
    """A loaded model from code: the user's instance plus where its files are."""

    #: The ``.py`` file or package folder the code is read from.
    source: Path
    class_name: str
    #: Artifact key -> file or folder, as ``load`` receives them.
    artifacts: dict[str, Path]
    requirements: list[str]
    instance: Any = None
    _copy: Any = field(default=None, repr=False)

    @classmethod
    def load_from(cls, source: Path, class_name: str | None, artifacts: Mapping[str, Path],
                  requirements: Sequence[str] = ()) -> CodeModel:
        """Import the code, build the class and call its ``load(artifacts)``."""
        module, copy = import_code(source)
        model_class = find_class(module, class_name, source)
        try:
            instance = model_class()
        except Exception as exc:
            raise ModelError(describe_call_error("__init__()", model_class, exc),
                             hint="The class is built without arguments; read files in "
                             "load(self, artifacts) instead.") from exc
        paths = {key: Path(value) for key, value in artifacts.items()}
        try:
            instance.load(dict(paths))
        except Exception as exc:
            raise ModelError(describe_call_error("load(artifacts)", model_class, exc),
                             hint=f"load receives {sorted(paths)} (key -> Path); fix the code "
                             "or the artifacts passed.") from exc
        return cls(source, model_class.__name__, paths, list(requirements), instance, copy)

    @property
    def has_proba(self) -> bool:
        return callable(getattr(self.instance, "predict_proba", None))

    @property
    def classes(self) -> list[Any] | None:
        """The instance's ``classes`` (or ``classes_``), the column order of predict_proba."""
        for name in ("classes", "classes_"):
            value = getattr(self.instance, name, None)
            if value is not None and not callable(value):
                return [v.item() if hasattr(v, "item") else v for v in value]
        return None

    def predict(self, frame: Any) -> np.ndarray:
        """One prediction per row of ``frame``, as a 1-D array."""
        values = self._call("predict", frame)
        array = np.asarray(values)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1 or len(array) != len(frame):
            raise ModelError(f"{self.class_name}.predict returned shape {array.shape} for "
                             f"{len(frame)} rows.",
                             hint="Return one prediction per input row (a list, Series or 1-D "
                             "array).")
        return array

    def predict_proba(self, frame: Any) -> np.ndarray:
        """Class probabilities (rows x classes), when the user's class has ``predict_proba``."""
        if not self.has_proba:
            raise ModelError(f"{self.class_name} has no predict_proba.",
                             hint="Add predict_proba(self, frame) returning one column per class.")
        return np.asarray(self._call("predict_proba", frame), dtype="float64")

    def _call(self, method: str, frame: Any) -> Any:
        try:
            return getattr(self.instance, method)(frame)
        except (ModelError, ModelInputError):
            raise
        except Exception as exc:
            raise ModelInputError(describe_call_error(f"{method}(frame)", type(self.instance),
                                                      exc),
                                  hint="Check the input has the columns and types the model "
                                  "was registered with (its input example).") from exc

    def __getstate__(self) -> dict[str, Any]:
        """Other processes rebuild the instance from the files: nothing of it is pickled."""
        return {"source": self.source, "class_name": self.class_name,
                "artifacts": self.artifacts, "requirements": self.requirements}

    def __setstate__(self, state: dict[str, Any]) -> None:
        fresh = CodeModel.load_from(state["source"], state["class_name"], state["artifacts"],
                                    state["requirements"])
        self.__dict__.update(fresh.__dict__)


