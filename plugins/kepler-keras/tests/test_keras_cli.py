"""'kepler train keras': the explicit command with its own options and the shared ones."""

from __future__ import annotations

import json
import subprocess
import sys

import kepler as kp


def test_train_keras_help(kepler_cli):
    listing = kepler_cli("train", "--help")
    assert listing.code == 0 and "keras" in listing.out
    one = kepler_cli("train", "keras", "--help")
    assert one.code == 0
    for option in ("--epochs", "--batch-size", "--lr", "--optimizer [adam|adamw|sgd|rmsprop]",
                   "--early-stopping PATIENCE", "--model mlp|FILE.keras", "--data FILE",
                   "--param KEY=VALUE", "--save / --no-save", "--json"):
        assert option in one.out, option


def test_train_keras_from_parquet_saves(sensors, project, kepler_cli):
    sensors.to_parquet(project / "pumps.parquet")
    result = kepler_cli("train", "keras", "--data", "pumps.parquet", "--target", "failure",
                        "--epochs", "6", "--batch-size", "32", "--lr", "0.003",
                        "--param", "hidden_layers=[32,16]")
    assert result.code == 0, result.err
    assert "Trained mlp (classification, target 'failure')" in result.out
    assert "Saved as failure-mlp version 1" in result.out
    assert "Epochs: 6 of 6 on torch, training loss" in result.out
    model = kp.models.load("failure-mlp")
    params = model.manifest.params
    assert (params["epochs"], params["batch_size"], params["lr"]) == (6, 32, 0.003)
    assert params["hidden_layers"] == [32, 16]
    as_json = kepler_cli("train", "keras", "--data", "pumps.parquet", "--target", "efficiency",
                         "--epochs", "2", "--no-save", "--json", "--progress")
    assert as_json.code == 0, as_json.err
    assert json.loads(as_json.out)["task"] == "regression"  # no epoch log in the JSON


def test_the_plugin_and_its_command_import_no_keras_torch_or_pandas():
    code = ("import sys, kepler_keras.plugin, kepler_keras.cli; print(sorted(m for m in "
            "('keras', 'torch', 'pandas', 'numpy', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
