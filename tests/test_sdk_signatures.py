"""Every ``kp.*`` function shows its real parameters and docstring (help(), Shift-Tab,
``inspect.signature``), plugin-contributed trainers included, and reading a trainer's signature
imports no heavy library."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import kepler as kp
import pytest
from kepler.plugins import get_host
from kepler.records import SdkFunctionSpec, TrainerSpec

VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
#: What ``kp.train.<name>`` has whatever the trainer: a trainer's own keywords come on top.
CORE_TRAIN = {"data", "target", "save", "force"}
HEAVY = ("pandas", "numpy", "sklearn", "torch", "scipy", "pyarrow", "xgboost", "lightgbm")


def _names(kind):
    host = get_host()
    if kind is TrainerSpec:
        return sorted(("train", r.name) for r in host.records(TrainerSpec))
    return sorted((r.namespace, r.name) for r in host.records(SdkFunctionSpec))


def test_every_distribution_contributes_to_the_listing():
    assert len(_names(SdkFunctionSpec)) > 20 and len(_names(TrainerSpec)) > 10


@pytest.mark.parametrize(("namespace", "name"), _names(SdkFunctionSpec))
def test_every_sdk_function_has_named_parameters_and_a_docstring(namespace, name):
    function = getattr(getattr(kp, namespace), name)
    params = list(inspect.signature(function).parameters.values())
    named = [p for p in params if p.kind not in VARIADIC]
    assert named or not params, f"kp.{namespace}.{name} shows only {params}"  # () is fine
    assert (inspect.getdoc(function) or "").strip(), f"kp.{namespace}.{name} has no docstring"


@pytest.mark.parametrize(("namespace", "name"), _names(TrainerSpec))
def test_every_trainer_shows_its_own_keywords_and_a_docstring(namespace, name):
    function = getattr(kp.train, name)
    params = inspect.signature(function).parameters
    own = {n for n, p in params.items() if p.kind not in VARIADIC} - CORE_TRAIN
    assert own, f"kp.train.{name} shows only {list(params)}"
    assert list(params)[:2] == ["data", "target"]
    doc = inspect.getdoc(function) or ""
    assert all(f"``{keyword}``" in doc for keyword in ("features", "split")), doc[:200]


PROBE = """
import inspect, json, pydoc, sys
import kepler as kp
for name in sys.argv[1:]:
    inspect.signature(getattr(kp.train, name))
    pydoc.render_doc(getattr(kp.train, name))
print(json.dumps(sorted(sys.modules)))
"""


def test_reading_trainer_signatures_imports_nothing_heavy():
    names = [name for _, name in _names(TrainerSpec)]
    out = subprocess.run([sys.executable, "-c", PROBE, *names], capture_output=True, text=True,
                         check=True).stdout
    modules = json.loads(out.splitlines()[-1])
    heavy = sorted({m for m in modules for h in HEAVY if m == h or m.startswith(h + ".")})
    assert heavy == []


def test_random_forest_signature_names_what_a_notebook_user_looks_for():
    params = inspect.signature(kp.train.random_forest).parameters
    assert {"features", "split", "time_column", "test_size", "cv", "save"} <= set(params)
    assert "random_forest" in dir(kp.train)
