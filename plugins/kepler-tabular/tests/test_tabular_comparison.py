"""Leaderboards of models of any framework: kp.models.compare, 'kepler models compare', the
Comparison and its chart."""

from __future__ import annotations

import json

import kepler as kp
import pandas as pd
import pytest
from kepler.api import ModelError
from kepler_tabular import Comparison
from tabular_examples import ConstPlugin, const_model


@pytest.fixture
def const(kepler_plugin):
    return kepler_plugin(ConstPlugin(), name="const")


def test_compare_ranks_by_the_main_metric_in_its_direction(const, project):
    for score in (3.0, 1.0, 2.0):
        const_model(score=score).save()
    board = kp.models.compare(["pumps:1", "pumps:2", "pumps:3"])
    assert isinstance(board, Comparison)
    assert board.metric == "rmse" and not board.higher_is_better
    assert [m.version for m in board] == [2, 3, 1]
    assert board.best.version == 2 and board.labels == ["pumps:2", "pumps:3", "pumps:1"]
    rows = board.rows()
    assert [r["rmse"] for r in rows] == [1.0, 2.0, 3.0]
    assert [r["beats_baseline"] for r in rows] == [True, True, True]
    assert [m.version for m in kp.models.compare(["pumps:1", "pumps:2"], metric="mae")] == [2, 1]
    with pytest.raises(ModelError, match="Metric 'accuracy' is not available"):
        kp.models.compare(["pumps:1"], metric="accuracy")
    assert board["pumps:3"].version == 3 and len(board) == 3


def test_the_leaderboard_is_a_dataframe_and_the_chart_a_figure(tmp_path):
    board = Comparison([const_model("a", score=2.0), const_model("b", score=1.0),
                        const_model("c", score=4.0)])
    frame = board.leaderboard
    assert isinstance(frame, pd.DataFrame) and frame.index.name == "rank"
    assert frame["rmse"].tolist() == [1.0, 2.0, 4.0] and frame["baseline_rmse"].iloc[0] == 10.0
    figure = board.plot()
    assert [ax.get_title() for ax in figure.axes] == ["rmse ↓ (main)", "mae ↓"]
    figure.savefig(tmp_path / "board.png")
    assert (tmp_path / "board.png").stat().st_size > 1000
    assert "1. const" in repr(board) and "<table>" in board._repr_html_()


def test_the_notebook_display_shows_the_chart_inline():
    import base64
    import re

    board = Comparison([const_model("a", score=2.0), const_model("b", score=1.0)])
    shown = board._repr_html_()
    found = re.search(r'src="data:image/png;base64,([^"]+)"', shown)
    assert found and base64.b64decode(found.group(1)).startswith(b"\x89PNG")
    assert shown.index("<table>") < shown.index("<img")  # leaderboard first, then the chart


def test_models_of_different_tasks_are_not_ranked_together():
    with pytest.raises(ModelError, match="different tasks together: classification, regression"):
        Comparison([const_model(score=1.0), const_model(task="classification", score=0.9)])
    with pytest.raises(ModelError, match="Nothing to compare"):
        Comparison([])


def test_the_models_compare_command(const, project, kepler_cli, tmp_path):
    const_model(score=2.0).save()
    const_model(score=1.0).save()
    compared = kepler_cli("models", "compare", "pumps:all", "--json", "--plot",
                          str(tmp_path / "board.png"))
    assert compared.code == 0, compared.err
    data = json.loads(compared.out)
    assert data["metric"] == "rmse" and data["task"] == "regression"
    assert [r["model"] for r in data["leaderboard"]] == ["pumps:2", "pumps:1"]
    assert (tmp_path / "board.png").stat().st_size > 1000
    table = kepler_cli("models", "compare", "pumps:1", "pumps:2", "--metric", "mae")
    assert table.code == 0 and "Best by mae (lower is better): pumps:2" in table.out
    missing = kepler_cli("models", "compare", "nothing:all")
    assert missing.code == 1 and "No model named 'nothing'" in missing.err
    assert "compare" in kepler_cli("models", "--help").out
