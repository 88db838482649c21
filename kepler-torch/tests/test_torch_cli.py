"""'kepler train pytorch': the explicit command with its own options, and the generic ones."""

from __future__ import annotations

import importlib.util
import json

import kepler as kp
import pytest
from torch_test_modules import Subscriber


@pytest.fixture
def data_files(sensors, signal, project):
    sensors.to_parquet(project / "pumps.parquet")
    signal.to_csv(project / "signal.csv", index=False)
    return project


def test_train_help_lists_pytorch_with_its_own_command(kepler_cli):
    listing = kepler_cli("train", "--help")
    assert listing.code == 0
    assert "pytorch" in listing.out and "--epochs, --model" in listing.out
    if importlib.util.find_spec("kepler_sklearn"):
        assert "random_forest" in listing.out  # the generic commands are still there
    one = kepler_cli("train", "pytorch", "--help")
    assert one.code == 0
    for option in ("--epochs", "--batch-size", "--lr", "--optimizer [adamw|adam|sgd|rmsprop]",
                   "--early-stopping PATIENCE", "--device", "--window", "--horizon",
                   "--model mlp|lstm|cnn1d|MODULE:CLASS", "--data FILE", "--split [auto|random|time|group]",
                   "--param KEY=VALUE", "--save / --no-save", "--json"):
        assert option in one.out, option


def test_train_pytorch_from_parquet_saves_and_fires_after_train(data_files, kepler_cli,
                                                                kepler_plugin):
    subscriber = kepler_plugin(Subscriber(), name="subscriber")
    result = kepler_cli("train", "pytorch", "--data", "pumps.parquet", "--target", "failure",
                        "--epochs", "12", "--batch-size", "32", "--lr", "0.003",
                        "--param", "hidden_layers=[32,16]", "--no-progress")
    assert result.code == 0, result.err
    assert "Trained mlp (classification, target 'failure') on 480 rows" in result.out
    assert "The model beats the naive baseline on f1." in result.out
    assert "Saved as failure-mlp version 1" in result.out
    assert "Epochs: 12 of 12 on cpu, training loss" in result.out
    model = kp.models.load("failure-mlp")
    params = model.manifest.params
    assert (params["epochs"], params["batch_size"], params["lr"]) == (12, 32, 0.003)
    assert params["hidden_layers"] == [32, 16]
    assert model.manifest.lineage.details["path"].endswith("pumps.parquet")
    [event] = subscriber.events
    assert event.trainer == "pytorch" and event.version == 1


def test_train_an_lstm_forecast_from_csv_as_json(data_files, kepler_cli):
    result = kepler_cli("train", "pytorch", "--data", "signal.csv", "--target", "temperature",
                        "--model", "lstm", "--window", "12", "--horizon", "2", "--epochs", "3",
                        "--early-stopping", "2", "--param", "hidden_size=8", "--no-save",
                        "--json", "--no-progress")
    assert result.code == 0, result.err
    info = json.loads(result.out)
    assert info["task"] == "forecasting" and info["algorithm"] == "lstm"
    assert info["training"]["split"] == "time" and info["training"]["time_column"] == "_time"
    assert info["params"]["window"] == 12 and info["params"]["horizon"] == 2
    history = info["training"]["history"]
    assert len(history["val_loss"]) == len(history["loss"]) >= 1
    assert info["baseline_is"] == "last value" and info["path"] is None
    assert kp.models.list() == []


def test_a_users_module_by_import_path_and_a_progress_bar(data_files, kepler_cli):
    result = kepler_cli("train", "pytorch", "--data", "pumps.parquet", "--target", "failure",
                        "--model", "torch_test_modules:TinyNet", "--epochs", "2",
                        "--param", "width=4")
    assert result.code == 0, result.err
    assert "Trained TinyNet (classification" in result.out
    assert "2/2" in result.err and "epoch" in result.err  # tqdm writes to stderr
    assert kp.models.load("failure-tinynet").manifest.format.name == "torchscript"


def test_cli_errors_exit_with_their_codes(data_files, kepler_cli):
    unknown = kepler_cli("train", "pytorch", "--data", "pumps.parquet", "--target", "failure",
                         "--param", "hidden_layer=[8]")
    assert unknown.code == 1 and "Did you mean 'hidden_layers'" in unknown.err
    wrong = kepler_cli("train", "pytorch", "--data", "pumps.parquet", "--target", "failure",
                       "--model", "transformer")
    assert wrong.code == 1 and "Unknown model 'transformer'" in wrong.err
    clash = kepler_cli("train", "pytorch", "--data", "pumps.parquet", "--target", "failure",
                       "--param", "epochs=3")
    assert clash.code == 2 and "use --epochs instead" in clash.err
    no_data = kepler_cli("train", "pytorch", "--target", "failure")
    assert no_data.code == 2 and "exactly one of --data FILE or --query TEXT" in no_data.err
    bad = kepler_cli("train", "pytorch", "--data", "pumps.parquet", "--target", "failure",
                     "--epochs", "0")
    assert bad.code == 2 and "--epochs" in bad.err


def test_listing_and_help_import_no_torch():
    """The plugin module and the command's help stay light, like the rest of the CLI."""
    import subprocess
    import sys

    code = ("import contextlib, io, sys\n"
            "import kepler_torch.plugin\n"
            "from kepler.cli.main import run\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert run(['train', 'pytorch', '--help']) == 0\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'numpy', 'pandas', "
            "'sklearn', 'safetensors', 'tqdm'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
