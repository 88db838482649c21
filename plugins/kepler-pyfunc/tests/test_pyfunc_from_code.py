"""kp.models.from_code: a statsmodels model registered, versioned, loaded from its code."""

from __future__ import annotations

import json

import kepler as kp
import numpy as np
import pytest
from kepler.api import ArtifactTamperedError
from pyfunc_examples import FEATURES


def test_a_statsmodels_ols_is_registered_and_loads_from_its_stored_code(registered, ols,
                                                                         sensors):
    _, _, results = ols
    assert (registered.name, registered.version) == ("pump-efficiency", 1)
    manifest = registered.manifest
    assert manifest.format.name == "python-code" and manifest.task == "regression"
    assert set(manifest.files) == {"code/pump_ols.py", "artifacts/params/ols.json"}
    assert all(len(entry.sha256) == 64 for entry in manifest.files.values())
    assert manifest.features.names == FEATURES
    assert manifest.environment.packages["statsmodels"]
    assert manifest.format.options["requirements"] == ["statsmodels>=0.14"]
    loaded = kp.models.load("pump-efficiency")
    expected = results.predict(np.column_stack([np.ones(10), sensors[FEATURES].head(10)]))
    assert np.allclose(loaded.predict(sensors.head(10)), expected)
    assert not list(loaded.path.rglob("__pycache__"))  # the artifact's hashes still hold
    kp.models.load("pump-efficiency")  # ...so it verifies and loads again


def test_versions_aliases_and_identical_code_reuse(registered, ols, sensors):
    code, params, _ = ols
    again = kp.models.from_code(code, name="pump-efficiency", artifacts={"params": params},
                                requirements=["statsmodels>=0.14"],
                                input_example=sensors[FEATURES].head(5))
    assert again.version == 1  # same code, artifacts and example: not a new version
    fitted = json.loads(params.read_text())
    fitted["params"]["const"] += 1.0
    params.write_text(json.dumps(fitted))
    changed = kp.models.from_code(code, name="pump-efficiency", artifacts={"params": params},
                                  input_example=sensors[FEATURES].head(5))
    assert changed.version == 2
    kp.models.promote("pump-efficiency", 1, "prod")
    prod = kp.models.load("pump-efficiency:prod")
    latest = kp.models.load("pump-efficiency")
    rows = sensors.head(3)
    assert np.allclose(latest.predict(rows) - prod.predict(rows), 1.0)


def test_a_tampered_stored_code_is_refused(registered):
    stored = registered.path / "code" / "pump_ols.py"
    stored.write_text(stored.read_text() + "\nimport os  # injected\n")
    with pytest.raises(ArtifactTamperedError):
        kp.models.load("pump-efficiency")


def test_a_package_with_relative_imports_and_probabilities(tmp_path, sensors):
    package = tmp_path / "vibration_rule"
    package.mkdir()
    (package / "__init__.py").write_text("from .rule import VibrationRule\n")
    (package / "limits.py").write_text("LIMIT_KEY = 'limit'\n")
    (package / "rule.py").write_text(
        "import numpy as np\n"
        "from .limits import LIMIT_KEY\n\n\n"
        "class VibrationRule:\n"
        "    classes = [0, 1]\n\n"
        "    def load(self, artifacts):\n"
        "        self.limit = float((artifacts['cfg'] / 'limit.txt').read_text())\n\n"
        "    def predict(self, frame):\n"
        "        return (self.predict_proba(frame)[:, 1] > 0.5).astype(int)\n\n"
        "    def predict_proba(self, frame):\n"
        "        high = 1 / (1 + np.exp(-(frame['vibration'].to_numpy() - self.limit)))\n"
        "        return np.column_stack([1 - high, high])\n")
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "limit.txt").write_text(str(sensors["vibration"].median()))
    model = kp.models.from_code(package, name="vibration-rule", artifacts={"cfg": config},
                                input_example=sensors[["vibration"]].head(3), target="failure")
    assert model.task == "classification" and model.classes == [0, 1]
    assert "artifacts/cfg/cfg/limit.txt" in model.manifest.files
    loaded = kp.models.load("vibration-rule")
    proba = loaded.predict_proba(sensors.head(20))
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(loaded.predict(sensors.head(20))) <= {0, 1}
