"""kepler-tabular as a plugin: its records, a cheap import, and Model.predict going through
the format's prepare."""

from __future__ import annotations

import subprocess
import sys

import kepler_tabular
import pytest
from kepler.api import (
    CommandSpec,
    ConnectorSpec,
    ModelFormatSpec,
    ModelInputError,
    SdkFunctionSpec,
    find_record,
    records,
)
from tabular_examples import ConstPlugin, const_model


def test_it_registers_the_file_connector_and_the_models_functions():
    assert find_record(ConnectorSpec, "file").distribution == "kepler-tabular"
    sdk = {(r.namespace, r.name) for r in records(SdkFunctionSpec)
           if r.distribution == "kepler-tabular"}
    assert sdk == {("models", "compare"), ("models", "plot_history"), ("train", "per_group"),
                   ("models", "group_leaderboard")}
    commands = {(r.parent, r.name) for r in records(CommandSpec)
                if r.distribution == "kepler-tabular"}
    assert commands == {("models", "compare"), ("models", "groups")}
    assert find_record(ModelFormatSpec, "model-group").distribution == "kepler-tabular"


def test_importing_it_imports_neither_pandas_nor_scikit_learn():
    code = ("import sys, kepler_tabular, kepler_tabular.plugin\n"
            "kepler_tabular.MISSING\n"  # a constant from a module that imports pandas
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'sklearn', "
            "'matplotlib', 'skops'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['pandas', 'sklearn']"
    light = subprocess.run([sys.executable, "-c", code.replace("kepler_tabular.MISSING\n", "")],
                           capture_output=True, text=True, check=True).stdout
    assert light.strip() == "[]"


def test_the_public_api_is_what_init_exports():
    assert set(kepler_tabular.__all__) <= set(dir(kepler_tabular))
    for name in kepler_tabular.__all__:
        assert getattr(kepler_tabular, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'holdouts'"):
        kepler_tabular.holdouts


def test_model_predict_prepares_tables_through_the_format(kepler_plugin, sensors, tmp_path):
    kepler_plugin(ConstPlugin(), name="const")
    model = const_model(frame=sensors[["temperature", "pump"]])
    assert model.predict({"temperature": "70.5", "pump": "pump-01"}) == [1.0]
    seen = model.predictor.seen
    assert list(seen.columns) == ["temperature", "pump"] and seen["temperature"].iloc[0] == 70.5
    with pytest.raises(ModelInputError, match="lacks required feature"):
        model.predict([{"pump": "pump-01"}])
    model.save(tmp_path / "export")
    from kepler.api import load_model

    assert load_model(tmp_path / "export").predict(sensors.head(3)) == [1.0] * 3
