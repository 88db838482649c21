"""Defaults that must not mislead: Splunk's own fields and list columns are no automatic
features, time-indexed data is split by time, and metrics resting on a handful of rows say so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kepler.api import TrainingError
from kepler_tabular import (
    SPLUNK_FIELDS,
    class_warnings,
    holdout,
    is_excluded,
    prepare,
    resolve_split,
)


def _prepare(data, **options):
    options.setdefault("target", "failure")
    options.setdefault("features", None)
    return prepare(data, task="auto", tasks=("classification", "regression"), algorithm="mine",
                   **options)


def _from_splunk(sensors: pd.DataFrame) -> pd.DataFrame:
    """The sensor table as a Splunk search returns it: with Splunk's fields and a multivalue
    ``tags`` column that gives the label away."""
    n = len(sensors)
    return sensors.assign(
        host="plc-01", index="plant", source="/var/log/pumps.log", sourcetype="pump:json",
        _raw=[f"raw event {i}" for i in range(n)], _indextime=np.arange(n),
        linecount=1, punct="{\"\":_\"\"}", splunk_server="idx-1", date_hour=3,
        **{"tag::eventtype": "pump"},
        tags=[["pump", "fault"] if f else ["pump"] for f in sensors["failure"]])


def test_splunk_fields_and_lists_are_no_automatic_features(sensors):
    prepared = _prepare(_from_splunk(sensors))
    assert prepared.features == ["pump", "temperature", "pressure", "vibration", "flow", "rpm",
                                 "mode", "efficiency"]
    for name in ("_time", "_raw", "_indextime", "host", "index", "source", "sourcetype",
                 "linecount", "punct", "splunk_server", "date_hour", "tag::eventtype"):
        assert prepared.left_out[name] == "Splunk field", name
    assert prepared.left_out["tags"] == "lists (multivalue)"
    notes = "\n".join(prepared.notes)
    assert "left out Splunk's own field(s) _time, host, index, source" in notes
    assert "left out tags: list values (multivalue fields)" in notes
    assert "8 feature(s), chosen automatically: pump, temperature" in notes


def test_naming_a_splunk_field_uses_it_and_a_named_list_says_how_to_encode(sensors):
    data = _from_splunk(sensors)
    named = _prepare(data, features=["host", "_time", "rpm"])
    assert named.features == ["host", "_time", "rpm"] and named.left_out == {}
    assert "3 feature(s), as named: host, _time, rpm" in named.notes
    with pytest.raises(TrainingError, match="'tags' hold lists") as info:
        _prepare(data, features=["tags", "rpm"])
    assert "str.join('|')" in info.value.hint
    everything = _prepare(data, excluded=())  # the list replaced: only lists stay out
    assert {"host", "_time", "linecount"} <= set(everything.features)
    assert everything.left_out == {"tags": "lists (multivalue)", "_raw": "text"}


def test_the_excluded_names_are_patterns():
    assert is_excluded("_bkt") and is_excluded("tag::host") and is_excluded("splunk_server")
    assert not is_excluded("hostname") and not is_excluded("timestamp")
    assert not is_excluded("date_of_birth") and is_excluded("date_wday")
    assert "_*" in SPLUNK_FIELDS


def test_auto_split_is_time_when_the_data_has_a_time_column(sensors):
    shuffled = sensors.sample(frac=1, random_state=3)
    prepared = _prepare(shuffled)
    assert prepared.split == "time" and prepared.time_column == "_time"
    assert any("split='auto' chose 'time'" in n and "'_time'" in n for n in prepared.notes)
    train, test = holdout(prepared, test_size=0.2, split=prepared.split, random_state=0)
    times = prepared.frame["_time"].to_numpy()
    assert times[train].max() < times[test].min()
    untimed = _prepare(sensors.drop(columns="_time"))
    assert untimed.split == "random" and untimed.time_column is None
    assert any("chose 'random'" in n for n in untimed.notes)
    assert resolve_split(sensors, "random", None, None) == ("random", None)
    assert resolve_split(sensors, "auto", None, "pump")[0] == "group"
    with pytest.raises(TrainingError, match="Did you mean '_time'"):
        resolve_split(sensors, "auto", "_tme", None)


def test_a_handful_of_held_out_positives_is_a_warning_with_the_counts():
    y_train = pd.Series([0] * 90 + [1] * 12)
    y_test = pd.Series([0] * 40 + [1] * 3)
    [note, *_] = class_warnings(y_train, y_test)
    assert "few held-out rows of class 1 (3 held out, 12 in training), of 43 held out" in note
    assert "f1" in note
    assert class_warnings(pd.Series([0] * 90 + [1] * 40), pd.Series([0] * 30 + [1] * 12)) == []


def test_tiny_and_degenerate_classes_are_flagged():
    notes = class_warnings(pd.Series(["ok"] * 50 + ["fault"] * 4),
                           pd.Series(["ok"] * 20 + ["leak"] * 2))
    text = "\n".join(notes)
    assert "'leak': 2 held out but absent from the training rows" in text
    assert "'fault': 4 have fewer than 10 training rows" in text
    cv = class_warnings(pd.Series([0] * 100 + [1] * 20), folds=5)
    assert "1: 20 have so few rows" in cv[0] and "5 folds" in cv[0]
