"""Defaults that must not mislead, end to end: Splunk's own fields and multivalue columns are no
features unless named, time-indexed data is split by time, metrics from a handful of positives
carry a warning, and the same training saved twice is one registry version."""

from __future__ import annotations

import json
import logging

import kepler as kp
import numpy as np
import pytest


def _from_splunk(sensors):
    """The sensor table as a Splunk search returns it: Splunk's fields, and a multivalue
    ``tags`` column whose "fault" tag is the label itself."""
    return sensors.assign(
        host="plc-01", index="plant", source="/var/log/pumps.log", sourcetype="pump:json",
        splunk_server="idx-1", linecount=1, _raw=[f"event {i}" for i in range(len(sensors))],
        tags=[["pump", "fault"] if f else ["pump"] for f in sensors["failure"]])


def test_splunk_fields_and_multivalue_tags_are_left_out_and_said_so(sensors):
    model = kp.train.random_forest(_from_splunk(sensors), target="failure", n_estimators=10)
    assert model.features == ["pump", "temperature", "pressure", "vibration", "flow", "rpm",
                              "mode", "efficiency"]
    left_out = model.manifest.training.left_out
    assert left_out["tags"] == "lists (multivalue)" and left_out["host"] == "Splunk field"
    assert set(left_out) == {"_time", "host", "index", "source", "sourcetype", "splunk_server",
                             "linecount", "_raw", "tags"}
    notes = "\n".join(model.manifest.training.notes)
    assert "left out Splunk's own field(s) _time, host, index, source" in notes
    assert "left out tags: list values" in notes and "8 feature(s), chosen automatically" in notes
    record = sensors.drop(columns=["_time", "failure"]).iloc[:3]  # no Splunk fields needed
    assert len(model.predict(record)) == 3
    named = kp.train.random_forest(_from_splunk(sensors), target="failure", n_estimators=10,
                                   features=["host", "temperature"])
    assert named.features == ["host", "temperature"]  # named: opted back in


def test_time_indexed_data_is_split_by_time_by_default(sensors):
    model = kp.train.logistic_regression(sensors.sample(frac=1, random_state=2),
                                         target="failure")
    training = model.manifest.training
    assert (training.split, training.time_column) == ("time", "_time")
    assert model.manifest.evaluation["test_period"]["from"] > \
        model.manifest.evaluation["train_period"]["to"]
    assert any("split='auto' chose 'time'" in n for n in training.notes)
    untimed = kp.train.logistic_regression(sensors.drop(columns="_time"), target="failure")
    assert untimed.manifest.training.split == "random"


def _few_failures(sensors):
    failure = np.zeros(len(sensors), dtype="int64")
    failure[np.arange(5, len(sensors), 40)] = 1  # 15 failures in 600 rows
    return sensors.assign(failure=failure)


def test_a_handful_of_held_out_positives_is_flagged(sensors, caplog):
    with caplog.at_level(logging.WARNING, logger="kepler_sklearn"):
        model = kp.train.random_forest(_few_failures(sensors), target="failure",
                                       split="random", n_estimators=10)
    support = model.manifest.evaluation["support"]
    held = support.get("1", support.get(1))
    assert 0 < held < 10
    expected = f"few held-out rows of class 1 ({held} held out, {15 - held} in training)"
    assert any(expected in n for n in model.manifest.training.notes)
    assert expected in caplog.text


def test_kepler_train_shows_the_split_the_columns_and_the_warnings(sensors, project,
                                                                    kepler_cli):
    _few_failures(_from_splunk(sensors)).drop(columns="tags").to_parquet("pumps.parquet")
    result = kepler_cli("train", "random_forest", "--data", "pumps.parquet", "--target",
                        "failure", "--param", "n_estimators=10", "--json")
    assert result.code == 0, result.err
    info = json.loads(result.out)
    assert info["training"]["split"] == "time" and "host" in info["training"]["left_out"]
    text = kepler_cli("train", "random_forest", "--data", "pumps.parquet", "--target",
                      "failure", "--param", "n_estimators=10", "--split", "random")
    assert "(split: random)" in text.out
    assert "Note: left out Splunk's own field(s) _time, host" in text.out
    assert "Note: 8 feature(s), chosen automatically: pump, temperature" in text.out
    assert "Note: few held-out rows of class 1 (" in text.out


def test_the_same_training_is_one_registry_version(sensors, project):
    first = kp.train.random_forest(sensors, target="failure", n_estimators=10, save=True)
    again = kp.train.random_forest(sensors, target="failure", n_estimators=10, save=True)
    assert (first.version, again.version, again.identical_to) == (1, 1, 1)
    assert again.manifest.fingerprint == first.manifest.fingerprint
    other = kp.train.random_forest(sensors, target="failure", n_estimators=11, save=True)
    assert other.version == 2
    shuffled = kp.train.random_forest(sensors, target="failure", n_estimators=10,
                                      split="random", save=True)
    assert shuffled.version == 3  # another split: another model
    forced = kp.train.random_forest(sensors, target="failure", n_estimators=10).save(force=True)
    assert forced.version == 4
    assert [e.version for e in kp.models.list("failure-random_forest")] == [1, 2, 3, 4]


@pytest.mark.parametrize("column", ["_time", "host"])
def test_a_named_splunk_field_is_a_required_input_again(sensors, column):
    data = _from_splunk(sensors)
    model = kp.train.ridge(data, target="efficiency", features=[column, "temperature"])
    assert model.schema[column].required and model.manifest.training.left_out == {}
