"""What a saved scikit-learn-family model holds, and what loading refuses."""

from __future__ import annotations

import hashlib
import json
import sys

import kepler as kp
import numpy as np
import pytest
import skops.io as sio
from kepler.api import (
    ArtifactTamperedError,
    CapabilityNotInstalledError,
    ModelFormatNotInstalledError,
    UnsafeModelError,
)
from kepler.api import reset_plugins as reset
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn_custom_estimators import ThresholdClassifier

CUSTOM = "sklearn_custom_estimators.ThresholdClassifier"


def _manifest(model):
    return json.loads((model.path / "kepler-model.json").read_text())


def _rewrite(model, change):
    data = _manifest(model)
    change(data)
    (model.path / "kepler-model.json").write_text(json.dumps(data))


def test_the_manifest_describes_the_model_completely(sensors, project):
    sensors.attrs.update({"source": "splunk", "spl": "search index=pumps", "earliest": "2026-01-01T00:00:00Z",
                          "latest": "2026-01-26T00:00:00Z", "sid": "1700000000.42",
                          "rows": 600})
    model = kp.train.random_forest(sensors, target="failure", split="time", n_estimators=20,
                                   name="pump-failure").save()
    data = _manifest(model)
    assert (data["name"], data["version"], data["task"], data["algorithm"]) == (
        "pump-failure", 1, "classification", "random_forest")
    assert data["target"] == {"name": "failure", "dtype": "int64", "classes": [0, 1]}
    assert data["trainer"]["distribution"] == "kepler-sklearn"
    assert data["trainer"]["framework"] == "scikit-learn" and data["trainer"]["framework_version"]
    features = {f["name"]: f for f in data["features"]["features"]}
    assert list(features) == ["pump", "temperature", "pressure", "vibration", "flow",
                              "rpm", "mode", "efficiency"]  # Splunk's _time is no feature
    assert features["pump"]["kind"] == "category"
    assert features["pump"]["categories"] == ["pump-01", "pump-02", "pump-03", "pump-04"]
    temperature = sensors["temperature"]
    assert features["temperature"]["min"] == pytest.approx(temperature.min())
    assert features["temperature"]["std"] == pytest.approx(temperature.std())
    assert features["flow"]["required"] is False and features["rpm"]["required"] is True
    assert data["training"]["left_out"] == {"_time": "Splunk field"}
    assert data["params"]["n_estimators"] == 20 and data["params"]["random_state"] == 0
    assert data["training"]["split"] == "time" and data["training"]["time_column"] == "_time"
    assert data["training"]["rows_train"] == 480 and data["training"]["rows_test"] == 120
    assert data["training"]["seconds"] > 0
    assert data["evaluation"]["test_period"]["to"] == sensors["_time"].max().isoformat()
    assert data["lineage"]["source"] == "splunk"
    assert data["lineage"]["details"]["spl"] == "search index=pumps"
    assert data["lineage"]["details"]["sid"] == "1700000000.42"
    assert data["lineage"]["rows"] == 600
    assert data["environment"]["python"] == ".".join(map(str, sys.version_info[:3]))
    for package in ("scikit-learn", "skops", "numpy", "pandas", "kepler-core", "kepler-sklearn"):
        assert data["environment"]["packages"][package]
    assert data["format"]["name"] == "skops" and data["format"]["install"] == "kepler-sklearn"
    assert "sklearn.tree._tree.Tree" in data["format"]["options"]["trusted_types"]
    for name, entry in data["files"].items():
        assert hashlib.sha256((model.path / name).read_bytes()).hexdigest() == entry["sha256"]
    assert data["size_bytes"] == sum(f["size"] for f in data["files"].values())


def test_the_data_hash_tells_datasets_apart(sensors):
    first = kp.train.ridge(sensors, target="efficiency").manifest.lineage.data_sha256
    again = kp.train.ridge(sensors.copy(), target="efficiency").manifest.lineage.data_sha256
    sensors.loc[5, "temperature"] += 0.01
    changed = kp.train.ridge(sensors, target="efficiency").manifest.lineage.data_sha256
    assert first == again != changed


def test_a_changed_payload_byte_is_refused(sensors, project):
    model = kp.train.random_forest(sensors, target="failure", n_estimators=5).save()
    payload = model.path / "pipeline.skops"
    content = bytearray(payload.read_bytes())
    content[len(content) // 2] ^= 0x01
    payload.write_bytes(bytes(content))
    with pytest.raises(ArtifactTamperedError, match="pipeline.skops"):
        kp.models.load(model.name)


@pytest.mark.parametrize("bad", ["builtins.eval", "os.system", "subprocess.Popen",
                                 "numpy.load", "sklearn.datasets.fetch_openml", CUSTOM])
def test_a_manifest_listing_a_type_outside_the_allow_list_is_refused(bad, sensors, project):
    model = kp.train.logistic_regression(sensors, target="failure").save()
    _rewrite(model, lambda d: d["format"]["options"]["trusted_types"].append(bad))
    with pytest.raises(UnsafeModelError, match=f"outside the allow-list: {bad}"):
        kp.models.load(model.name)


def test_a_payload_swapped_for_a_malicious_one_is_refused_even_with_matching_hashes(sensors,
                                                                                    project):
    """An attacker who rewrites payload, hashes and recorded types still meets the allow-list."""
    model = kp.train.logistic_regression(sensors, target="failure").save()
    evil = make_pipeline(FunctionTransformer(eval))
    payload = model.path / "pipeline.skops"
    sio.dump(evil, payload)
    needed = sio.get_untrusted_types(file=payload)
    assert "builtins.eval" in needed

    def forge(data):
        data["files"]["pipeline.skops"] = {
            "sha256": hashlib.sha256(payload.read_bytes()).hexdigest(),
            "size": payload.stat().st_size}
        data["format"]["options"]["trusted_types"] = needed

    _rewrite(model, forge)
    with pytest.raises(UnsafeModelError, match="builtins.eval"):
        kp.models.load(model.name)


def test_a_payload_needing_types_its_manifest_does_not_record_is_refused(sensors, project):
    model = kp.train.random_forest(sensors, target="failure", n_estimators=5).save()
    _rewrite(model, lambda d: d["format"]["options"]["trusted_types"].remove(
        "sklearn.tree._tree.Tree"))
    with pytest.raises(UnsafeModelError, match="does not record: sklearn.tree._tree.Tree"):
        kp.models.load(model.name)


def test_a_users_own_class_is_saved_only_when_trusted_and_loads_only_when_trusted(
        sensors, project, monkeypatch):
    features = ["vibration", "temperature"]
    with pytest.raises(UnsafeModelError, match=CUSTOM) as info:
        kp.train.sklearn(ThresholdClassifier(), sensors, target="failure", features=features,
                         save=True)
    assert f"trusted=['{CUSTOM}']" in info.value.hint
    model = kp.train.sklearn(ThresholdClassifier(), sensors, target="failure",
                             features=features, trusted=[CUSTOM], save=True)
    assert CUSTOM in _manifest(model)["format"]["options"]["trusted_types"]
    assert "sklearn_custom_estimators" in model.manifest.environment.local_modules
    with pytest.raises(UnsafeModelError, match=CUSTOM):
        kp.models.load(model.name)  # trust is given again by whoever loads it
    loaded = kp.models.load(model.name, trusted=[CUSTOM])
    assert np.array_equal(loaded.predict(sensors), model.predict(sensors))
    monkeypatch.setenv("KEPLER_SKLEARN__TRUSTED_TYPES", json.dumps([CUSTOM]))
    assert np.array_equal(kp.models.load(model.name).predict(sensors), model.predict(sensors))


def test_a_disabled_plugin_is_named_when_its_format_is_needed(sensors, project, monkeypatch):
    model = kp.train.ridge(sensors, target="efficiency").save()
    monkeypatch.setenv("KEPLER_DISABLE_PLUGINS", "sklearn")
    reset()
    with pytest.raises(ModelFormatNotInstalledError, match="plugin 'sklearn' is disabled") as info:
        kp.models.load(model.name)
    assert info.value.hint == "kepler plugins enable sklearn"


def test_an_xgboost_model_where_xgboost_is_missing_says_which_extra(sensors, project,
                                                                     monkeypatch):
    model = kp.train.xgboost(sensors, target="failure", n_estimators=5).save()
    assert sorted(p.name for p in model.path.iterdir()) == ["kepler-model.json", "model.ubj",
                                                            "preprocess.skops"]
    monkeypatch.setitem(sys.modules, "xgboost", None)  # import xgboost now fails
    with pytest.raises(ModelFormatNotInstalledError, match="trained with xgboost") as info:
        kp.models.load(model.name)
    assert info.value.hint.startswith("pip install '") and info.value.hint.endswith("kepler-sklearn[xgboost]'")


def test_kp_train_xgboost_without_the_extra_names_it(monkeypatch):
    from kepler_sklearn.algorithms import Algorithm

    real = Algorithm.available
    monkeypatch.setattr(Algorithm, "available", lambda self: self.library != "xgboost"
                        and real(self))
    reset()
    assert "xgboost" not in dir(kp.train) and "lightgbm" in dir(kp.train)
    with pytest.raises(CapabilityNotInstalledError) as info:
        kp.train.xgboost
    assert info.value.hint.startswith("pip install '") and info.value.hint.endswith("kepler-sklearn[xgboost]'")


def test_lightgbm_is_saved_in_its_native_text_format(sensors, project):
    model = kp.train.lightgbm(sensors, target="efficiency", n_estimators=10).save()
    assert (model.path / "model.txt").read_text().startswith("tree")
    assert model.manifest.format.name == "lightgbm-text"
    assert "lightgbm" in model.manifest.environment.packages
