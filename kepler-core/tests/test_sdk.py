"""``import kepler as kp``: lazy namespaces, tab completion and 'not installed' errors."""

from __future__ import annotations

import subprocess
import sys

import kepler as kp
import pytest
from kepler.errors import CapabilityNotInstalledError
from plugin_examples import WidgetPlugin


def test_namespaces_exist_and_are_lazy():
    code = ("import sys, kepler as kp; kp.data; kp.train; kp.models; kp.deploy; kp.results; "
            "kp.env; print('kepler.plugins.manager' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert {"data", "train", "config", "plugins", "KeplerError"} <= set(dir(kp))


def test_missing_first_party_capability_names_the_distribution():
    with pytest.raises(CapabilityNotInstalledError) as info:
        kp.data.from_splunk
    assert "kp.data.from_splunk is provided by kepler-splunk" in info.value.message
    assert info.value.hint == "pip install 'kepler-splunk'"
    assert not hasattr(kp.train, "pytorch")
    with pytest.raises(CapabilityNotInstalledError, match=r"kepler-sklearn\[xgboost\]"):
        kp.train.xgboost


def test_unknown_names_suggest_close_ones(kepler_plugin):
    kepler_plugin(WidgetPlugin(), name="widget")
    with pytest.raises(AttributeError, match="Did you mean 'double'"):
        kp.data.doubel
    assert "double" in repr(kp.data)


def test_plugin_names_show_in_dir(kepler_plugin):
    kepler_plugin(WidgetPlugin(), name="widget")
    assert "double" in dir(kp.data) and "mean" in dir(kp.train)


def test_a_disabled_first_party_plugin_says_how_to_enable_it(tmp_path, monkeypatch):
    from fake_dists import make_dist
    from kepler.plugins import reset

    site = tmp_path / "site"
    make_dist(site, "kepler-splunk", "splunk", "good_splunk_stub",
              "KEPLER_PLUGIN_API = '>=1.0,<2'\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("KEPLER_DISABLE_PLUGINS", "splunk")
    reset()
    with pytest.raises(CapabilityNotInstalledError) as info:
        kp.data.from_splunk
    assert "whose plugin 'splunk' is disabled" in info.value.message
    assert info.value.hint == "kepler plugins enable splunk"


def test_plugins_namespace(kepler_plugin):
    names = [p.name for p in kp.plugins.list()]
    assert names[0] == "kepler"
