"""``kp.train.compare`` shows a bar of candidates trained in notebooks, nothing in logs."""

from __future__ import annotations

import sys

import pytest
from kepler_sklearn.compare import _progress


def test_no_bar_when_not_interactive(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    outcomes = iter([1, 2, 3])
    assert _progress(outcomes, 3) is outcomes


def test_a_bar_in_a_notebook_kernel_that_yields_every_outcome(monkeypatch):
    tqdm = pytest.importorskip("tqdm")
    monkeypatch.setitem(sys.modules, "ipykernel", sys)  # what a running kernel has imported
    bar = _progress(iter([1, 2, 3]), 3)
    assert isinstance(bar, tqdm.tqdm) and bar.total == 3
    assert list(bar) == [1, 2, 3]
