"""Which device trains and predicts: ``device="auto"`` is CUDA when present, else the CPU."""

from __future__ import annotations

from typing import Any

import torch
from kepler.api import TrainingError


def resolve_device(device: Any = "auto") -> torch.device:
    """``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or a ``torch.device``."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise TrainingError(f"Unknown device {device!r}: {exc}",
                            hint="device='auto' (CUDA when present, else CPU), 'cpu', 'cuda' "
                            "or 'cuda:N'.") from exc
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise TrainingError(f"device={device!r}, but this PyTorch sees no CUDA GPU.",
                            hint="Use device='auto' to fall back to the CPU, or install a CUDA "
                            "build of PyTorch on a machine with a GPU.")
    if chosen.type == "cuda" and chosen.index is not None \
            and chosen.index >= torch.cuda.device_count():
        raise TrainingError(f"device={device!r}, but there are only "
                            f"{torch.cuda.device_count()} CUDA device(s).",
                            hint="Use 'cuda' for the first one.")
    if chosen.type == "mps" and not torch.backends.mps.is_available():
        raise TrainingError(f"device={device!r}, but MPS is not available here.",
                            hint="Use device='auto'.")
    return chosen
