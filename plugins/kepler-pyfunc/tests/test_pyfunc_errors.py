"""Each way a model from code can be wrong gives a clear error with its fix, before anything
is written to the registry."""

from __future__ import annotations

import kepler as kp
import pytest
from kepler.api import ModelError
from pyfunc_examples import FEATURES


def _code(tmp_path, body: str):
    path = tmp_path / "broken.py"
    path.write_text(body)
    return path


def _register(path, sensors, **kwargs):
    return kp.models.from_code(path, name="broken", input_example=sensors[FEATURES].head(3),
                               **kwargs)


def test_a_class_without_predict_says_what_to_add(tmp_path, sensors):
    path = _code(tmp_path, "class Half:\n    def load(self, artifacts):\n        pass\n")
    with pytest.raises(ModelError, match="one class with predict"):
        _register(path, sensors)
    with pytest.raises(ModelError, match="has no predict") as caught:
        _register(path, sensors, class_name="Half")
    assert "def predict(self, frame" in caught.value.hint


def test_a_class_without_load_is_refused(tmp_path, sensors):
    path = _code(tmp_path, "class M:\n    def predict(self, frame):\n        return frame\n")
    with pytest.raises(ModelError, match="has no load") as caught:
        _register(path, sensors)
    assert "def load(self, artifacts" in caught.value.hint


def test_a_predict_that_raises_on_the_example_is_refused(tmp_path, sensors):
    path = _code(tmp_path, "class M:\n    def load(self, artifacts):\n        pass\n"
                 "    def predict(self, frame):\n        return frame['missing_column']\n")
    with pytest.raises(ModelError, match="fails on its input example") as caught:
        _register(path, sensors)
    assert "KeyError" in str(caught.value) and "broken.py" in str(caught.value)
    assert "Fix predict()" in caught.value.hint
    assert len(kp.models.list()) == 0  # nothing was registered


def test_a_predict_giving_the_wrong_number_of_rows_is_refused(tmp_path, sensors):
    path = _code(tmp_path, "class M:\n    def load(self, artifacts):\n        pass\n"
                 "    def predict(self, frame):\n        return [1.0]\n")
    with pytest.raises(ModelError, match="one prediction per input row|returned shape"):
        _register(path, sensors)


@pytest.mark.parametrize(("requirement", "shown"), [
    ("kepler-no-such-package-xyz>=1", "not installed"),
    ("numpy<1", "installed: "),
])
def test_requirements_not_met_say_what_to_install(ols, sensors, requirement, shown):
    code, _, _ = ols
    with pytest.raises(ModelError, match="requirements of broken are not met") as caught:
        _register(code, sensors, requirements=[requirement])
    assert shown in str(caught.value)
    assert caught.value.hint.startswith(f"Install them first: pip install '{requirement}'")


def test_a_malformed_requirement_and_bad_artifacts(ols, sensors, tmp_path):
    code, params, _ = ols
    with pytest.raises(ModelError, match="is not valid"):
        _register(code, sensors, requirements=["statsmodels >>> 1"])
    with pytest.raises(ModelError, match="does not exist"):
        _register(code, sensors, artifacts={"params": tmp_path / "nope.json"})
    with pytest.raises(ModelError, match="key '../x' is not valid"):
        _register(code, sensors, artifacts={"../x": params})


def test_code_that_fails_to_import_and_a_load_that_raises(tmp_path, sensors):
    path = _code(tmp_path, "import kepler_no_such_module\n")
    with pytest.raises(ModelError, match="Importing broken.py failed: ModuleNotFoundError"):
        _register(path, sensors)
    path = _code(tmp_path, "class M:\n    def load(self, artifacts):\n"
                 "        artifacts['weights']\n    def predict(self, frame):\n        return 1\n")
    with pytest.raises(ModelError, match=r"M.load\(artifacts\) raised KeyError") as caught:
        _register(path, sensors)
    assert "load receives []" in caught.value.hint


def test_not_python_and_no_input_example(tmp_path, sensors, ols):
    text = tmp_path / "model.txt"
    text.write_text("")
    with pytest.raises(ModelError, match="not a Python file"):
        _register(text, sensors)
    with pytest.raises(ModelError, match="folder without __init__.py"):
        _register(tmp_path, sensors)
    with pytest.raises(ModelError, match="input example is needed"):
        kp.models.from_code(ols[0], name="x", input_example=None)
