"""The preprocessing that travels inside a model, and saving it with skops behind the
allow-list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kepler.api import UnsafeModelError
from kepler_tabular import (
    MISSING,
    AsFloat,
    Categories,
    DatetimeFeatures,
    build_preprocessor,
    dump_skops,
    infer_schema,
    is_allowed,
    load_skops_file,
    refused,
)


def _frame():
    return pd.DataFrame({
        "count": pd.array([1, None, 3, 4], dtype="Int64"),
        "ok": pd.array([True, False, None, True], dtype="boolean"),
        "pump": pd.array(["a", None, "b", "a"], dtype="string"),
        "_time": pd.to_datetime(["2026-01-01T05:00Z", "2026-01-02T06:00Z",
                                 "2026-03-03T07:00Z", "2026-01-04T08:00Z"], utc=True),
    })


def test_each_kind_of_column_becomes_numbers():
    frame = _frame()
    preprocess = build_preprocessor(infer_schema(frame), scale=False).fit(frame)
    names = list(preprocess.get_feature_names_out())
    out = preprocess.transform(frame)
    assert out.shape == (4, len(names)) and out.dtype == np.float64
    assert not np.isnan(out).any()  # imputed
    column = {name: out[:, i] for i, name in enumerate(names)}
    assert list(column["numeric__count"]) == [1.0, 3.0, 3.0, 4.0]  # the median fills the gap
    assert list(column["numeric__missingindicator_count"]) == [0.0, 1.0, 0.0, 0.0]
    assert list(column[f"category__pump_{MISSING}"]) == [0.0, 1.0, 0.0, 0.0]
    assert list(column["datetime___time_hour"]) == [5.0, 6.0, 7.0, 8.0]
    assert list(column["datetime___time_month"]) == [1.0, 1.0, 3.0, 1.0]
    unseen = preprocess.transform(frame.assign(pump="zzz"))  # unknown categories are ignored
    assert unseen.shape == out.shape


def test_scaling_centres_the_numbers():
    frame = _frame()
    out = build_preprocessor(infer_schema(frame, ["count"]), scale=True).fit_transform(frame)
    assert out[:, 0].mean() == pytest.approx(0.0)


def test_the_transformers_are_saved_under_their_public_names(tmp_path):
    for cls in (AsFloat, Categories, DatetimeFeatures):
        assert cls.__module__ == "kepler_tabular"
        assert is_allowed(f"kepler_tabular.{cls.__name__}")
    frame = _frame()
    preprocess = build_preprocessor(infer_schema(frame), scale=True).fit(frame)
    recorded = dump_skops(preprocess, tmp_path / "preprocess.skops")
    assert "kepler_tabular.AsFloat" in recorded
    loaded = load_skops_file(tmp_path / "preprocess.skops", recorded)
    assert np.array_equal(loaded.transform(frame), preprocess.transform(frame))


def test_the_allow_list_refuses_what_could_run_code(tmp_path):
    assert refused(["builtins.eval", "os.system", "numpy.dtype", "sklearn.tree._tree.Tree"]) \
        == ["builtins.eval", "os.system"]
    assert not is_allowed("numpy.load")  # a function of a trusted package is not enough
    assert is_allowed("mypkg.Model", trusted=["mypkg.Model"])
    path = tmp_path / "p.skops"
    dump_skops(build_preprocessor(infer_schema(_frame()), scale=False).fit(_frame()), path)
    with pytest.raises(UnsafeModelError, match="outside the allow-list: builtins.eval"):
        load_skops_file(path, ["builtins.eval"])
    with pytest.raises(UnsafeModelError, match="does not record: kepler_tabular.AsFloat"):
        load_skops_file(path, [])
