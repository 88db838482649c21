"""Re-running the same training adds no identical registry version.

A model's fingerprint covers its data hash (the trainer's lineage), algorithm, parameters,
features, target, split settings and versions; saving a model whose fingerprint a version already
has reuses that version, says so, and ``force=True`` saves anyway. The in-process 'mean' trainer
records a data hash when given ``lineage=True``.
"""

from __future__ import annotations

import json
import logging

import kepler as kp
import pytest
from kepler.artifact import read_manifest
from kepler.artifact.manifest import fingerprint_of
from kepler.registry import Registry
from plugin_examples import WidgetPlugin

ROWS = [{"y": 1.0}, {"y": 3.0}]


@pytest.fixture
def widget(kepler_plugin):
    return kepler_plugin(WidgetPlugin(), name="widget")


@pytest.fixture
def project(kepler_home, kepler_cli, tmp_path, monkeypatch):
    assert kepler_cli("init", "plant", "--dir", str(tmp_path)).code == 0
    monkeypatch.chdir(tmp_path / "plant")
    return tmp_path / "plant"


def test_the_same_training_is_saved_once(widget, project, caplog):
    first = kp.train.mean(ROWS, target="y", lineage=True, save=True)
    assert first.manifest.fingerprint and first.version == 1
    assert read_manifest(first.path).fingerprint == first.manifest.fingerprint
    with caplog.at_level(logging.WARNING, logger="kepler.model"):
        again = kp.train.mean(ROWS, target="y", lineage=True, save=True)
    assert (again.version, again.path, again.identical_to) == (1, first.path, 1)
    assert Registry.default().versions("y-mean") == [1]
    assert "Identical to version 1 of 'y-mean'" in caplog.text and "not saved again" in caplog.text
    assert any("identical to version 1" in n for n in again.manifest.training.notes)
    assert again.info()["identical_to"] == 1
    forced = kp.train.mean(ROWS, target="y", lineage=True).save(force=True)
    assert forced.version == 2 and forced.identical_to is None


def test_other_data_or_parameters_are_a_new_version(widget, project):
    kp.train.mean(ROWS, target="y", lineage=True, save=True)
    assert kp.train.mean([{"y": 5.0}], target="y", lineage=True, save=True).version == 2
    assert kp.train.mean(ROWS, target="y", lineage=True, alpha=1, save=True).version == 3
    assert kp.train.mean(ROWS, target="y", lineage=True, save=True).version == 1  # the first


def test_without_a_data_hash_there_is_no_fingerprint(widget, project):
    model = kp.train.mean(ROWS, target="y")
    assert model.manifest.fingerprint is None and fingerprint_of(model.manifest) is None
    assert [kp.train.mean(ROWS, target="y", save=True).version for _ in range(2)] == [1, 2]


def test_a_manifest_written_before_fingerprints_loads_and_still_matches(widget, project):
    saved = kp.train.mean(ROWS, target="y", lineage=True, save=True)
    path = saved.path / "kepler-model.json"
    data = json.loads(path.read_text())
    del data["fingerprint"]
    path.write_text(json.dumps(data))
    assert read_manifest(saved.path).fingerprint is None  # the field's default
    assert kp.models.load("y-mean").predict([{}]) == [2.0]
    again = kp.train.mean(ROWS, target="y", lineage=True, save=True)
    assert again.version == 1  # computed from the old manifest's own facts


def test_kepler_train_says_it_is_identical(widget, project, kepler_cli, kepler_plugin):
    from test_model_history import Rows

    kepler_plugin(Rows(), name="rows")
    args = ("train", "mean", "--connector", "rows", "--query", "all", "--target", "y",
            "--param", "lineage=true")
    assert kepler_cli(*args).code == 0
    second = kepler_cli(*args)
    assert second.code == 0, second.err
    assert "Note: identical to version 1 of 'y-mean'" in second.out
    assert Registry.default().versions("y-mean") == [1]


def test_kepler_train_says_identical_and_force_saves_a_new_version(widget, project, kepler_cli,
                                                                 kepler_plugin):
    from test_data_io import NumbersPlugin

    kepler_plugin(NumbersPlugin(), name="numbers")
    args = ("train", "mean", "--connector", "numbers", "--query", "q", "--target", "temp",
            "--param", "lineage=true")
    first = kepler_cli(*args)
    assert first.code == 0 and "Saved as temp-mean version 1" in first.out, first.err
    again = kepler_cli(*args)
    assert again.code == 0 and "Identical to temp-mean version 1" in again.out
    forced = kepler_cli(*args, "--force")
    assert forced.code == 0 and "Saved as temp-mean version 2" in forced.out
