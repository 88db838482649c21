"""Training curves in the manifest and Model.plot_history(); the options every explicit
'kepler train NAME' command shares (training_options + run_training). Core alone: the 'mean'
trainer of plugin_examples stands in for a framework."""

from __future__ import annotations

from typing import Any

import click
import kepler as kp
import pytest
from kepler.artifact import FormatInfo, ModelManifest, TrainerInfo, TrainingInfo, read_manifest
from kepler.cli.train_cmd import run_training, training_options
from kepler.errors import ModelError
from kepler.hookspecs import hookimpl
from kepler.model import Model
from kepler.records import CommandSpec
from plugin_examples import MeanPredictor, WidgetPlugin

CURVES = {"loss": [0.9, 0.5, 0.4, 0.35], "val_loss": [1.0, 0.6, None, 0.7]}


def _model(history=None):
    manifest = ModelManifest(
        name="pumps", task="regression", algorithm="mean",
        trainer=TrainerInfo(name="mean", plugin="widget"), format=FormatInfo(name="mean-json"),
        training=TrainingInfo(history=history or {}))
    return Model(manifest, MeanPredictor(2.0))


@pytest.fixture
def widget(kepler_plugin):
    return kepler_plugin(WidgetPlugin(), name="widget")


def test_the_history_travels_in_the_manifest(widget, tmp_path):
    model = _model(CURVES)
    assert model.history == CURVES
    model.save(tmp_path / "export")
    assert read_manifest(tmp_path / "export").training.history == CURVES
    assert kp.models.load(tmp_path / "export").history == CURVES
    assert model.info()["training"]["history"] == CURVES
    assert _model().history == {}  # models fitted in one go have none


def test_plot_history_draws_each_curve_and_marks_the_best_epoch(tmp_path):
    pytest.importorskip("matplotlib")
    figure = _model(CURVES).plot_history()
    [ax] = figure.axes
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["loss", "val_loss",
                                                    "best epoch (2: 0.6)"]
    assert list(lines[0].get_xdata()) == [1, 2, 3, 4]
    assert list(lines[1].get_xdata()) == [1, 2, 4]  # a missing value is left out
    assert lines[1].get_linestyle() == "--" and list(lines[2].get_xdata()) == [2, 2]
    assert ax.get_xlabel() == "epoch"
    figure.savefig(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 0
    from matplotlib.figure import Figure

    panel = Figure().subplots()
    assert _model(CURVES).plot_history(["loss"], ax=panel) is panel.figure
    assert [line.get_label() for line in panel.get_lines()] == ["loss"]


def test_plot_history_says_when_there_is_nothing_to_draw():
    with pytest.raises(ModelError, match="has no training curve") as info:
        _model().plot_history()
    assert "iterative trainers" in info.value.hint
    with pytest.raises(ModelError, match="no training curve named 'accuracy'") as info:
        _model(CURVES).plot_history(["accuracy"])
    assert info.value.hint == "Curves: loss, val_loss."


@click.command(name="mean", help="Mean, with the shared options plus its own.")
@click.option("--shift", type=float, default=0.0)
@training_options(split_default=None)
def explicit_mean(shift: float, **options: Any) -> None:
    run_training("mean", options, shift=shift)


class ExplicitMean:
    @hookimpl
    def kepler_commands(self):
        yield CommandSpec(name="mean", parent="train", target="test_model_history:explicit_mean",
                          help="Mean, with the shared options plus its own.")


def test_an_explicit_train_command_shares_the_generic_options(widget, kepler_plugin,
                                                              kepler_cli, tmp_path,
                                                              monkeypatch):
    pytest.importorskip("pandas")
    kepler_plugin(ExplicitMean(), name="explicit")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rows.csv").write_text("y,x\n1.0,2\n3.0,4\n")
    listing = kepler_cli("train", "--help")
    assert "Mean, with the shared options plus its own." in listing.out
    helped = kepler_cli("train", "mean", "--help")
    assert "--shift" in helped.out and "--data FILE" in helped.out and "--json" in helped.out
    result = kepler_cli("train", "mean", "--data", "rows.csv", "--target", "y", "--shift", "2",
                        "--param", "alpha=0.5", "--no-save")
    assert result.code == 0, result.err
    assert "Not saved (--no-save)" in result.out
    from plugin_examples import MeanTrainer

    seen = []
    real = MeanTrainer.train
    monkeypatch.setattr(MeanTrainer, "train",
                        lambda self, data, **kw: (seen.append(kw), real(self, data, **kw))[1])
    assert kepler_cli("train", "mean", "--data", "rows.csv", "--target", "y", "--shift", "2",
                      "--param", "alpha=0.5", "--no-save").code == 0
    [keywords] = seen  # every keyword reached the trainer; the split is left to its default
    assert keywords["shift"] == 2.0 and keywords["alpha"] == 0.5 and "split" not in keywords
    assert (keywords["task"], keywords["test_size"], keywords["random_state"]) == (
        "auto", 0.2, 0)
    clash = kepler_cli("train", "mean", "--data", "rows.csv", "--param", "shift=1")
    assert clash.code == 2 and "use --shift instead" in clash.err
