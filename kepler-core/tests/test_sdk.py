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


@pytest.fixture
def catalogue(monkeypatch):
    """A first-party capability whose distribution is surely not installed."""
    from kepler import catalogue

    entries = {kind: dict(names) for kind, names in catalogue._catalogue().items()}
    entries["sdk"]["data.from_historian"] = "acme-historian"
    entries["trainers"]["quantum"] = "acme-ml[quantum]"
    monkeypatch.setattr(catalogue, "_catalogue", lambda: entries)


def test_missing_first_party_capability_names_the_distribution(catalogue):
    with pytest.raises(CapabilityNotInstalledError) as info:
        kp.data.from_historian
    assert "kp.data.from_historian is provided by acme-historian" in info.value.message
    assert info.value.hint == "pip install 'acme-historian'"
    assert not hasattr(kp.train, "quantum")
    with pytest.raises(CapabilityNotInstalledError, match=r"acme-ml\[quantum\]"):
        kp.train.quantum


def test_the_catalogue_names_first_party_distributions_for_hints():
    from kepler.catalogue import install_hint, provider, query_options

    assert provider("sdk", "data.from_splunk") == "kepler-splunk"
    assert provider("trainers", "pytorch") == "kepler-torch"
    assert provider("deployers", "cloud-run") == "kepler-gcp"
    assert provider("trainers", "no-such-thing") is None
    assert query_options()["spl"] == "splunk"
    assert install_hint("deployers").startswith("pip install ")


def test_unknown_names_suggest_close_ones(kepler_plugin):
    kepler_plugin(WidgetPlugin(), name="widget")
    with pytest.raises(AttributeError, match="Did you mean 'double'"):
        kp.data.doubel
    assert "double" in repr(kp.data)


def test_plugin_names_show_in_dir(kepler_plugin):
    kepler_plugin(WidgetPlugin(), name="widget")
    assert "double" in dir(kp.data) and "mean" in dir(kp.train)


def test_a_disabled_first_party_plugin_says_how_to_enable_it(catalogue, tmp_path, monkeypatch):
    from fake_dists import make_dist
    from kepler.plugins import reset

    site = tmp_path / "site"
    make_dist(site, "acme-historian", "historian", "good_historian_stub",
              "KEPLER_PLUGIN_API = '>=1.0,<2'\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("KEPLER_DISABLE_PLUGINS", "historian")
    reset()
    with pytest.raises(CapabilityNotInstalledError) as info:
        kp.data.from_historian
    assert "whose plugin 'historian' is disabled" in info.value.message
    assert info.value.hint == "kepler plugins enable historian"


def test_plugins_namespace(kepler_plugin):
    names = [p.name for p in kp.plugins.list()]
    assert names[0] == "kepler"


def test_install_hints_from_a_clone_name_the_local_folder():
    """First-party distributions may not be published where the user is: running from a clone
    (kepler-core installed from its folder), the hint installs the sibling folder."""
    from importlib import metadata

    from kepler.installs import install_origin, requirement

    origin = install_origin(metadata.distribution("kepler-core"))
    assert requirement("acme-not-first-party") == "acme-not-first-party"
    if origin.kind in ("editable", "directory") and origin.path is not None:
        clone = origin.path.parent
        assert requirement("kepler-splunk") == str(clone / "kepler-splunk")
        assert requirement("kepler-sklearn[xgboost]") == f"{clone / 'kepler-sklearn'}[xgboost]"
        assert requirement("kepler-serve") == str(clone / "plugins" / "kepler-serve")
    else:  # installed from an index or a wheel: names, as published
        assert requirement("kepler-splunk") == "kepler-splunk"
