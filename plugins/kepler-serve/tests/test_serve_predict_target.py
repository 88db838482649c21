"""``kepler predict MODEL --target T``: the batch runs on a target with the optional
``run_batch`` deployer method; a target without it is refused with a hint."""

from __future__ import annotations

import json
from typing import ClassVar

from kepler.api import DeployerSpec, Deployment, hookimpl


class BatchTarget:
    """A deployer with run_batch, recording what it was asked."""

    calls: ClassVar[list[tuple[str, str, dict]]] = []

    def __init__(self, config):
        self.config = config

    def run_batch(self, name, model, config):
        BatchTarget.calls.append((name, model, dict(config)))
        return {"group": f"{name}-job", "state": "Succeeded", "logs": ["scored 2 rows"]}

    def get(self, name):  # the rest of the protocol is not needed here
        return Deployment(name=name, target="batchy", model="m")


def manifest_only(folder):
    """A model folder with just its manifest: handing a batch over never loads the model."""
    folder.mkdir(parents=True)
    (folder / "kepler-model.json").write_text(json.dumps({
        "name": "pump-failure", "version": 3, "task": "classification",
        "algorithm": "random_forest", "trainer": {"name": "random_forest"},
        "format": {"name": "skops"}, "size_bytes": 10,
        "environment": {"python": "3.11.9", "packages": {}}}))
    return folder


class Plugin:
    @hookimpl
    def kepler_deployers(self):
        yield DeployerSpec(name="batchy", target=f"{__name__}:BatchTarget",
                           description="test target with batch jobs")


def test_predict_target_hands_the_batch_over(kepler_cli, kepler_plugin, tmp_path):
    classifier = manifest_only(tmp_path / "model")
    kepler_plugin(Plugin(), "batchy-test")
    rows = tmp_path / "rows.csv"
    rows.write_text("a\n1\n2\n")
    BatchTarget.calls.clear()
    result = kepler_cli("predict", str(classifier), "--input", str(rows), "--to-splunk",
                        "--target", "batchy", "--name", "nightly")
    assert result.code == 0, result.err
    assert "Batch nightly-job on batchy: Succeeded" in result.out and "scored 2 rows" in result.out
    [(name, model, config)] = BatchTarget.calls
    assert model == str(classifier)
    assert name == "nightly" and config == {"input": str(rows), "args": ["--to-splunk"]}
    answer = kepler_cli("predict", str(classifier), "--input", str(rows), "--target", "batchy",
                        "--json")
    assert json.loads(answer.out)["state"] == "Succeeded"


def test_predict_target_without_batch_support(kepler_cli, tmp_path):
    classifier = manifest_only(tmp_path / "model")
    rows = tmp_path / "rows.csv"
    rows.write_text("a\n1\n")
    result = kepler_cli("predict", str(classifier), "--input", str(rows), "--target", "local")
    assert result.code != 0
    assert "does not run batch jobs" in result.err
