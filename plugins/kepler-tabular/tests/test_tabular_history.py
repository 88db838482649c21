"""Training curves drawn: kepler_tabular.plot_history, and Model.plot_history forwarding to it
through kp.models.plot_history."""

from __future__ import annotations

import kepler as kp
import pytest
from kepler.api import ModelError
from kepler_tabular import plot_history
from matplotlib.figure import Figure
from tabular_examples import const_model

CURVES = {"loss": [0.9, 0.5, 0.4, 0.35], "val_loss": [1.0, 0.6, None, 0.7]}


def test_plot_history_draws_each_curve_and_marks_the_best_epoch(tmp_path):
    figure = const_model(history=CURVES).plot_history()  # core's Model, through the SDK
    [ax] = figure.axes
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["loss", "val_loss", "best epoch (2: 0.6)"]
    assert list(lines[0].get_xdata()) == [1, 2, 3, 4]
    assert list(lines[1].get_xdata()) == [1, 2, 4]  # a missing value is left out
    assert lines[1].get_linestyle() == "--" and list(lines[2].get_xdata()) == [2, 2]
    assert ax.get_xlabel() == "epoch"
    figure.savefig(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 0
    panel = Figure().subplots()
    assert plot_history(const_model(history=CURVES), ["loss"], ax=panel) is panel.figure
    assert [line.get_label() for line in panel.get_lines()] == ["loss"]
    assert "plot_history" in dir(kp.models)


def test_plot_history_says_when_there_is_nothing_to_draw():
    with pytest.raises(ModelError, match="has no training curve") as info:
        const_model().plot_history()
    assert "iterative trainers" in info.value.hint
    with pytest.raises(ModelError, match="no training curve named 'accuracy'") as info:
        plot_history(const_model(history=CURVES), ["accuracy"])
    assert info.value.hint == "Curves: loss, val_loss."
