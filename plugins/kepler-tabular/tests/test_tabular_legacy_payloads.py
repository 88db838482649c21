"""Pipelines saved by kepler-sklearn 0.1 name its transformers ``kepler_sklearn.preprocessing.*``;
the transformers now live in kepler-tabular, and those payloads must still load (and nothing
else gets through under an old name)."""

from __future__ import annotations

import json
import sys
import zipfile

import pytest
from kepler.api import UnsafeModelError
from kepler_tabular import build_preprocessor, dump_skops, load_skops_file, make_sensor_data


def _as_saved_by_the_old_layout(path, old_module="kepler_sklearn.preprocessing"):
    """Rewrite a skops file's schema so its Kepler types carry their pre-move module."""
    with zipfile.ZipFile(path) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    schema = entries["schema.json"].decode()
    entries["schema.json"] = schema.replace('"kepler_tabular"', f'"{old_module}"').encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in entries.items():
            target.writestr(name, data)
    return json.loads(entries["schema.json"])


def test_a_payload_naming_the_old_module_loads_as_the_same_transformer(tmp_path):
    frame = make_sensor_data(rows=200, seed=1).drop(columns=["failure"])
    features = [c for c in frame.columns if c != "_time"]
    from kepler_tabular import infer_schema

    schema = infer_schema(frame, features)
    fitted = build_preprocessor(schema, scale=True).fit(frame[features])
    path = tmp_path / "pre.skops"
    recorded = dump_skops(fitted, path)
    _as_saved_by_the_old_layout(path)
    old = [n.replace("kepler_tabular.", "kepler_sklearn.preprocessing.") for n in recorded]
    assert any(n.startswith("kepler_sklearn.preprocessing.") for n in old)
    loaded = load_skops_file(path, old)
    assert (loaded.transform(frame[features]) == fitted.transform(frame[features])).all()
    assert "kepler_sklearn.preprocessing" not in sys.modules  # the alias lived only while loading


def test_only_the_moved_classes_pass_under_an_old_name(tmp_path):
    with pytest.raises(UnsafeModelError, match="outside the allow-list"):
        load_skops_file(tmp_path / "none.skops", ["kepler_sklearn.preprocessing.os_system"])
