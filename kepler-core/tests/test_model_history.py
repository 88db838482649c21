"""Training curves in the manifest, and Model.plot_history() handed to kp.models.plot_history
(kepler-tabular draws it; its own tests check the chart); the options every explicit
'kepler train NAME' command shares (training_options + run_training). Core alone: the 'mean'
trainer of plugin_examples stands in for a framework, and no test here needs pandas."""

from __future__ import annotations

from typing import Any

import click
import kepler as kp
import pytest
from kepler.artifact import FormatInfo, ModelManifest, TrainerInfo, TrainingInfo, read_manifest
from kepler.cli.train_cmd import run_training, training_options
from kepler.errors import CapabilityNotInstalledError
from kepler.hookspecs import hookimpl
from kepler.model import Model
from kepler.plugins import reset
from kepler.records import CommandSpec, ConnectorSpec, SdkFunctionSpec
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


def test_plot_history_is_drawn_by_the_tabular_plugin_or_says_what_to_install(monkeypatch,
                                                                             kepler_plugin):
    """Core draws nothing itself: Model.plot_history forwards to kp.models.plot_history."""

    class Plotter:
        @hookimpl
        def kepler_sdk_functions(self):
            yield SdkFunctionSpec(namespace="models", name="plot_history",
                                  target="test_model_history:fake_plot_history")

    monkeypatch.setenv("KEPLER_DISABLE_PLUGINS", "tabular")  # whether installed or not
    reset()
    with pytest.raises(CapabilityNotInstalledError, match="kp.models.plot_history is provided "
                       "by kepler-tabular") as info:
        _model(CURVES).plot_history()
    assert "kepler-tabular" in info.value.hint or "enable tabular" in info.value.hint
    kepler_plugin(Plotter(), name="plotter")
    FAKE_PLOTS.clear()
    assert _model(CURVES).plot_history(["loss"], ax="AX") == "figure"
    [(model, curves, ax)] = FAKE_PLOTS
    assert model.history == CURVES and curves == ["loss"] and ax == "AX"


FAKE_PLOTS: list[tuple[Any, Any, Any]] = []


def fake_plot_history(model, curves=None, *, ax=None):
    FAKE_PLOTS.append((model, curves, ax))
    return "figure"


class RowsConnector:
    """A table without pandas: the training data of the 'kepler train' tests."""

    def __init__(self, config):
        self.config = config

    def query(self, query, **options):
        return [{"y": 1.0, "x": 2.0}, {"y": 3.0, "x": 4.0}]


class Rows:
    @hookimpl
    def kepler_connectors(self):
        yield ConnectorSpec(name="rows", target="test_model_history:RowsConnector")


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
    kepler_plugin(ExplicitMean(), name="explicit")
    kepler_plugin(Rows(), name="rows")
    monkeypatch.chdir(tmp_path)
    listing = kepler_cli("train", "--help")
    assert "Mean, with the shared options plus its own." in listing.out
    helped = kepler_cli("train", "mean", "--help")
    assert "--shift" in helped.out and "--data FILE" in helped.out and "--json" in helped.out
    result = kepler_cli("train", "mean", "--connector", "rows", "--query", "all", "--target", "y", "--shift", "2",
                        "--param", "alpha=0.5", "--no-save")
    assert result.code == 0, result.err
    assert "Not saved (--no-save)" in result.out
    from plugin_examples import MeanTrainer

    seen = []
    real = MeanTrainer.train
    monkeypatch.setattr(MeanTrainer, "train",
                        lambda self, data, **kw: (seen.append(kw), real(self, data, **kw))[1])
    assert kepler_cli("train", "mean", "--connector", "rows", "--query", "all", "--target", "y", "--shift", "2",
                      "--param", "alpha=0.5", "--no-save").code == 0
    [keywords] = seen  # every keyword reached the trainer; the split is left to its default
    assert keywords["shift"] == 2.0 and keywords["alpha"] == 0.5 and "split" not in keywords
    assert (keywords["task"], keywords["test_size"], keywords["random_state"]) == (
        "auto", 0.2, 0)
    clash = kepler_cli("train", "mean", "--connector", "rows", "--query", "all", "--param", "shift=1")
    assert clash.code == 2 and "use --shift instead" in clash.err
