"""``kp.train.compare`` shows a bar of candidates trained in notebooks, nothing in logs."""

from __future__ import annotations

import sys
import types

import pytest
from kepler_sklearn.compare import _progress


def test_no_bar_when_not_interactive(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    outcomes = iter([1, 2, 3])
    assert _progress(outcomes, 3) is outcomes


def test_a_bar_in_a_notebook_kernel_that_yields_every_outcome(monkeypatch):
    tqdm = pytest.importorskip("tqdm")
    class ZMQInteractiveShell:  # the shell a running Jupyter kernel has
        pass

    fake = types.ModuleType("IPython")
    fake.get_ipython = ZMQInteractiveShell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)
    bar = _progress(iter([1, 2, 3]), 3)
    assert isinstance(bar, tqdm.tqdm) and bar.total == 3
    assert list(bar) == [1, 2, 3]


def test_no_bar_where_ipykernel_is_merely_imported(monkeypatch):
    """A test run or a script that imported ipykernel is not a notebook."""
    monkeypatch.setitem(sys.modules, "ipykernel", sys)
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    outcomes = iter([1, 2])
    assert _progress(outcomes, 2) is outcomes
