"""Compilers (``kepler_compilers``, plugin API 1.7): tried before the model format's own scorer,
highest priority first, each checked within its tolerance; one that fails is passed over with a
warning naming why; ``serve.compiler`` picks one by name or only the format's own."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from kepler.api import CompilerSpec, ConfigError, hookimpl
from kepler_serve.engine import Scorer
from serve_helpers import client_for, instance


class Shifted:
    """The format's compiled scorer with every probability moved by ``shift`` (a stand-in for
    a compiler that rounds, as ONNX's float32 does)."""

    description = "shifted probabilities"

    def __init__(self, model, shift: float, flip: bool = False) -> None:
        self.inner = model.compiled()
        self.shift = shift
        self.flip = flip

    def predict(self, rows):
        labels = np.asarray(self.inner.predict(rows))
        return 1 - labels if self.flip else labels

    def predict_proba(self, rows):
        return np.asarray(self.inner.predict_proba(rows)) + self.shift


def within(model):
    return Shifted(model, 1e-7)


def beyond(model):
    return Shifted(model, 1e-3)


def flipped(model):
    return Shifted(model, 0.0, flip=True)


def refusing(model):
    raise ValueError("this model has a step the compiler cannot express")


def _plugin(*specs: CompilerSpec):
    class Plugin:
        @hookimpl
        def kepler_compilers(self):
            yield from specs

    return Plugin()


def _spec(name: str, target: str, priority: int = 10, tolerance: float = 1e-5) -> CompilerSpec:
    return CompilerSpec(name=name, target=f"{__name__}:{target}", priority=priority,
                        tolerance=tolerance)


def test_a_compiler_within_its_tolerance_serves(classifier, kepler_plugin):
    kepler_plugin(_plugin(_spec("close", "within")), "close-compiler")
    scorer = Scorer(classifier)
    assert scorer.path == "close"
    assert "shifted probabilities; within 1e-05 of the model" in scorer.fast_note
    with client_for(classifier) as client:
        reply = client.post("/predict", json={"instances": [instance()]})
        serving = client.get("/metadata").json()["serving"]
        v2 = client.get(f"/v2/models/{classifier.name}").json()
    assert reply.status_code == 200
    assert serving["scoring_path"] == "close"
    assert v2["parameters"]["scoring_path"] == "close"
    expected = np.asarray(classifier.predict_proba([instance()])) + 1e-7
    assert reply.json()["probabilities"] == expected.tolist()


def test_failing_compilers_are_passed_over_with_a_warning(classifier, kepler_plugin, caplog):
    kepler_plugin(_plugin(_spec("refuses", "refusing", priority=30),
                          _spec("too-far", "beyond", priority=20),
                          _spec("wrong-labels", "flipped", priority=15)), "bad-compilers")
    with caplog.at_level(logging.WARNING, logger="kepler_serve.fastpath"):
        scorer = Scorer(classifier)
    assert scorer.path == "fast"  # the format's own, after all three
    note = scorer.fast_note
    assert "refuses not compiled: ValueError: this model has a step" in note
    assert "too-far not used: its probabilities differ" in note
    assert "wrong-labels not used: its predictions differ" in note
    warned = [r.getMessage() for r in caplog.records]
    assert sum("passed over for pump-failure" in m for m in warned) == 3


def test_priority_order_and_the_format_in_between(classifier, kepler_plugin):
    kepler_plugin(_plugin(_spec("low", "within", priority=-5),
                          _spec("high", "within", priority=50)), "two-compilers")
    assert Scorer(classifier).path == "high"
    assert Scorer(classifier, compiler="low").path == "fast"  # the format's own comes first
    assert Scorer(classifier, compiler="format").path == "fast"
    assert Scorer(classifier, fast=False).path == "model"


def test_an_unknown_compiler_is_a_config_error_naming_the_installed(classifier, kepler_plugin):
    kepler_plugin(_plugin(_spec("close", "within")), "close-compiler")
    with pytest.raises(ConfigError) as caught:
        Scorer(classifier, compiler="tensorrt")
    assert "'tensorrt' is not an installed compiler" in str(caught.value)
    assert "auto, format, or one of: close" in (caught.value.hint or "")


def test_compiler_for_other_formats_is_not_tried(classifier, kepler_plugin):
    spec = CompilerSpec(name="torch-only", target=f"{__name__}:refusing", priority=40,
                        formats=("kepler-torch",))
    kepler_plugin(_plugin(spec), "torch-compiler")
    scorer = Scorer(classifier)
    assert scorer.path == "fast" and "torch-only" not in scorer.fast_note
