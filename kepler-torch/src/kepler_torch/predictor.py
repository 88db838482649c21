"""The predictor behind a PyTorch model: preprocessing, windows, the network, decoding.

:class:`kepler.model.Model` calls it with the raw feature table. It is the same object right after
training and after loading (on CPU either way), so save -> load -> predict gives identical numbers.

Tabular models (``"mlp"``, or your module without ``window``) give one prediction per row.
Sequence models (``"lstm"``, ``"cnn1d"``, or your module with ``window``) read the rows as a time
series: the prediction at row *t* is made from rows *t - window + 1 … t* and is for row
*t + horizon* (forecasting) or for row *t* itself (``horizon=0``); the first ``window - 1`` rows,
which have no full window, get NaN (None for class labels). When the time column is a feature,
rows are put in time order first and the predictions returned in the order given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from kepler.api import ModelError, ModelInputError

#: Rows (or windows) per forward pass when predicting.
PREDICT_BATCH = 4096


class TorchModel:
    """Preprocessing (a fitted scikit-learn ``ColumnTransformer``) plus a network.

    ``meta`` holds everything else the network needs, JSON-safe, as saved in ``config.json``:
    ``task``, ``classes``, ``window``, ``horizon``, ``target_mean``/``target_std`` (regression
    targets are learnt standardized), ``time_column``, ``architecture`` and its ``params``
    (built-in architectures) or ``module`` (the class name of a custom one).

    Forecasting models (``relative_to`` names the target column, which is also an input) learn
    the *change* from the window's last value to the value ``horizon`` rows later: a network
    that outputs nothing is then exactly the "last value" baseline, and a drifting signal does
    not leave the range the network was trained on.
    """

    def __init__(self, preprocess: Any, module: torch.nn.Module, meta: Mapping[str, Any], *,
                 export_error: str | None = None) -> None:
        self.preprocess = preprocess
        self.module = module.eval()
        self.meta = dict(meta)
        #: Why a custom module could not be exported to TorchScript (it then cannot be saved).
        self.export_error = export_error
        self.trusted: tuple[str, ...] = ()

    # --- what it is ---------------------------------------------------------------------------

    @property
    def task(self) -> str:
        return str(self.meta["task"])

    @property
    def classes(self) -> list[Any] | None:
        classes = self.meta.get("classes")
        return list(classes) if classes is not None else None

    @property
    def window(self) -> int | None:
        window = self.meta.get("window")
        return int(window) if window else None

    @property
    def builtin(self) -> bool:
        """Whether the network is a built-in architecture (saved as safetensors + config)."""
        return self.meta.get("architecture") is not None

    @property
    def device(self) -> torch.device:
        for tensor in self.module.parameters():
            return tensor.device
        return torch.device("cpu")

    def to(self, device: str | torch.device) -> TorchModel:
        """Move the network, e.g. ``model.predictor.to("cuda")`` to predict on a GPU."""
        self.module.to(torch.device(device))
        return self

    # --- the numbers --------------------------------------------------------------------------

    def transform(self, data: Any) -> np.ndarray:
        """The preprocessed feature matrix (float32), one row per input row."""
        matrix = self.preprocess.transform(data) if self.preprocess is not None else data
        return np.ascontiguousarray(np.asarray(matrix, dtype=np.float32))

    def outputs(self, matrix: np.ndarray, ends: np.ndarray | None = None) -> np.ndarray:
        """The network's raw outputs (float64, one row per sample): per row of ``matrix`` for
        tabular models, per window ending at each of ``ends`` for sequence models."""
        window = self.window
        source = torch.from_numpy(matrix)
        if window:
            assert ends is not None
            offsets = torch.arange(-window + 1, 1)
            count = len(ends)
        else:
            count = len(matrix)
        if count == 0:
            width = len(self.classes) if self.task == "classification" and self.classes else 1
            return np.empty((0, width))
        chunks = []
        device = self.device
        with torch.inference_mode():
            for start in range(0, count, PREDICT_BATCH):
                if window:
                    assert ends is not None
                    batch_ends = torch.from_numpy(np.asarray(ends[start:start + PREDICT_BATCH]))
                    batch = source[batch_ends.unsqueeze(1) + offsets]
                else:
                    batch = source[start:start + PREDICT_BATCH]
                out = self.module(batch.to(device))
                if out.ndim == 1:
                    out = out.unsqueeze(1)
                chunks.append(out.detach().to("cpu", torch.float64).numpy())
        return np.concatenate(chunks)

    def decode(self, raw: np.ndarray, last: np.ndarray | None = None) -> np.ndarray:
        """Raw outputs as predictions: class labels, or values in the target's units
        (forecasting: added to ``last``, the target's value at each window's end)."""
        if self.task == "classification":
            assert self.classes is not None
            return np.asarray(self.classes)[np.argmax(raw, axis=1)]
        values = raw[:, 0] * float(self.meta.get("target_std", 1.0)) + float(
            self.meta.get("target_mean", 0.0))
        if self.meta.get("relative_to"):
            assert last is not None
            values = values + np.asarray(last, dtype="float64")
        return values

    def last_values(self, data: Any, ends: np.ndarray) -> np.ndarray | None:
        """Forecasting: the target's value at each window's end, read from the input rows."""
        column = self.meta.get("relative_to")
        if not column:
            return None
        if not isinstance(data, pd.DataFrame) or column not in data.columns:
            raise ModelInputError(f"Forecasting needs the recent values of {column!r} itself.",
                                  hint=f"Pass the last readings with the column {column!r}.")
        values = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype="float64")
        return values[ends]

    def probabilities(self, raw: np.ndarray) -> np.ndarray:
        shifted = raw - raw.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    # --- the predictor protocol ---------------------------------------------------------------

    def _ordered(self, data: Any) -> tuple[Any, np.ndarray | None]:
        """Sequence models: the rows in time order, and how to put results back."""
        column = self.meta.get("time_column")
        if not self.window or column is None or not isinstance(data, pd.DataFrame) \
                or column not in data.columns:
            return data, None
        times = pd.to_datetime(data[column], utc=True, errors="coerce", format="mixed") \
            if not pd.api.types.is_datetime64_any_dtype(data[column]) else data[column]
        order = np.argsort(times.to_numpy(), kind="stable")
        if np.array_equal(order, np.arange(len(order))):
            return data, None
        return data.iloc[order], order

    def _raw(self, data: Any) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Raw outputs for every row (NaN where a sequence model has no full window), the
        order rows were put in, and (forecasting) the last values to add."""
        data, order = self._ordered(data)
        matrix = self.transform(data)
        rows = len(matrix)
        window = self.window
        if not window:
            return self.outputs(matrix), order, None
        self.check_rows(rows)
        ends = np.arange(window - 1, rows)
        raw = self.outputs(matrix, ends)
        full = np.full((rows, raw.shape[1]), np.nan)
        full[ends] = raw
        last = self.last_values(data, ends)
        if last is not None:
            padded = np.full(rows, np.nan)
            padded[ends] = last
            last = padded
        return full, order, last

    @staticmethod
    def _restore(values: np.ndarray, order: np.ndarray | None) -> np.ndarray:
        if order is None:
            return values
        restored = np.empty_like(values)
        restored[order] = values
        return restored

    def predict(self, data: Any) -> np.ndarray:
        """Class labels, or values in the target's units; one per row."""
        raw, order, last = self._raw(data)
        missing = np.isnan(raw).any(axis=1)
        if not missing.any():
            return self._restore(self.decode(raw, last), order)
        if self.task == "classification":
            labels = np.full(len(raw), None, dtype=object)
            if (~missing).any():
                labels[~missing] = self.decode(raw[~missing])
            return self._restore(labels, order)
        values = np.full(len(raw), np.nan)
        if (~missing).any():
            values[~missing] = self.decode(raw[~missing],
                                           last[~missing] if last is not None else None)
        return self._restore(values, order)

    def predict_proba(self, data: Any) -> np.ndarray:
        """Class probabilities, one column per class in the order of :attr:`classes`."""
        if self.task != "classification":
            raise ModelError(f"A {self.task} model gives no class probabilities.",
                             hint="predict_proba exists for classifiers.")
        raw, order, _ = self._raw(data)
        return self._restore(self.probabilities(raw), order)

    def check_rows(self, rows: int) -> None:
        if self.window and rows < self.window:
            raise ModelInputError(
                f"This model reads windows of {self.window} rows; got {rows}.",
                hint=f"Pass at least the last {self.window} readings, oldest first.")

    # --- between processes (kp.train.compare's workers), never into an artifact ---------------

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if isinstance(self.module, torch.jit.ScriptModule):  # which pickle cannot carry
            import io

            from .formats import jit_quietly

            buffer = io.BytesIO()
            with jit_quietly():
                torch.jit.save(self.module, buffer)
            state["module"] = ("torchscript", buffer.getvalue())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        module = state.get("module")
        if isinstance(module, tuple) and module[0] == "torchscript":
            import io

            from .formats import jit_quietly

            with jit_quietly():
                state["module"] = torch.jit.load(io.BytesIO(module[1]), map_location="cpu")
        self.__dict__.update(state)

    def __repr__(self) -> str:
        kind = self.meta.get("architecture") or self.meta.get("module") or "module"
        window = f", window={self.window}" if self.window else ""
        return f"TorchModel({self.task}, {kind}{window})"


def json_classes(values: Iterable[Any]) -> list[Any]:
    from kepler.api import json_safe

    return list(json_safe(list(values)))
