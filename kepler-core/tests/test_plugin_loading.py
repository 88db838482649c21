"""Discovery, failure isolation, conflicts, API versions and enable/disable persistence."""

from __future__ import annotations

import json
import sys

import kepler as kp
import pytest
from fake_dists import good_plugin, make_dist
from kepler.errors import PluginConflictError, PluginIncompatibleError, PluginLoadError
from kepler.hookspecs import PLUGIN_API_VERSION
from kepler.plugins import get_host, reset


@pytest.fixture
def site(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    reset()
    yield root
    for name in [m for m in sys.modules if m.startswith(("good_", "broken_"))]:
        del sys.modules[name]


def status(name):
    return kp.plugins.info(name).status


def test_an_installed_plugin_is_discovered_and_its_functions_reach_the_sdk(site):
    good_plugin(site, "historian", dist="acme-historian")
    info = kp.plugins.info("historian")
    assert (info.status, info.distribution, info.version) == ("enabled", "acme-historian", "1.0")
    assert info.hooks == ("kepler_sdk_functions",) and info.api == ">=1.0,<2"
    assert kp.data.from_historian() == "historian rows"


def test_a_plugin_whose_import_raises_is_kept_as_failed(site, kepler_cli):
    make_dist(site, "broken-plugin", "broken", "broken_mod", "raise ImportError('no module named foo')")
    good_plugin(site, "historian")
    info = kp.plugins.info("broken")
    assert info.status == "failed"
    assert "ImportError: no module named foo" in info.error
    assert status("historian") == "enabled"  # the others still load
    listing = kepler_cli("plugins", "list")
    assert listing.code == 0
    assert "failed: Plugin 'broken' from broken-plugin 1.0 failed to load" in listing.out
    data = json.loads(kepler_cli("plugins", "list", "--json").out)
    [broken] = [p for p in data["plugins"] if p["name"] == "broken"]
    assert broken["status"] == "failed" and "no module named foo" in broken["error"]


def test_strict_mode_raises_the_load_failure(site, monkeypatch, kepler_cli):
    make_dist(site, "broken-plugin", "broken", "broken_mod", "raise ImportError('nope')")
    monkeypatch.setenv("KEPLER_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match="nope"):
        get_host()
    result = kepler_cli("plugins", "list")
    assert result.code == 4 and "nope" in result.err


def test_a_plugin_for_another_api_is_refused_with_the_matching_versions(site):
    good_plugin(site, "future", api=">=2.0,<3")
    info = kp.plugins.info("future")
    assert info.status == "failed"
    assert "supports Kepler plugin API >=2.0,<3" in info.error
    assert f"provides API {PLUGIN_API_VERSION}" in info.error
    from kepler.plugins.manager import check_api

    module = sys.modules.get(kp.plugins.info("future").module)
    with pytest.raises(PluginIncompatibleError, match=f"includes {PLUGIN_API_VERSION}"):
        check_api("future", module)


def test_a_plugin_without_an_api_declaration_is_refused(site):
    make_dist(site, "kepler-old", "old", "broken_old", "x = 1\n")
    assert "does not declare which Kepler plugin API" in kp.plugins.info("old").error


def test_two_distributions_claiming_one_name_are_both_refused_and_named(site, tmp_path,
                                                                         monkeypatch):
    good_plugin(site, "historian", dist="acme-historian")
    other = tmp_path / "other-site"
    good_plugin(other, "historian", dist="globex-historian")
    monkeypatch.syspath_prepend(str(other))
    reset()
    rows = [p for p in kp.plugins.list() if p.name == "historian"]
    assert {p.distribution for p in rows} == {"acme-historian", "globex-historian"}
    assert all(p.status == "failed" for p in rows)
    assert "acme-historian 1.0" in rows[0].error and "globex-historian 1.0" in rows[0].error
    monkeypatch.setenv("KEPLER_STRICT_PLUGINS", "1")
    reset()
    with pytest.raises(PluginConflictError, match="Conflicting plugins found for name 'historian'"):
        get_host()


def test_a_disabled_plugin_is_never_imported(site, tmp_path, monkeypatch, kepler_cli):
    marker = tmp_path / "imported"
    monkeypatch.setenv("KEPLER_TEST_IMPORT_MARKER", str(marker))
    good_plugin(site, "historian")
    assert kepler_cli("plugins", "disable", "historian").code == 0
    reset()
    assert status("historian") == "disabled"
    assert not marker.exists()
    assert get_host().pm.is_blocked("historian")
    with pytest.raises(kp.KeplerError):
        kp.data.from_historian
    assert kepler_cli("plugins", "enable", "historian").code == 0
    reset()
    assert status("historian") == "enabled" and marker.exists()


def test_enable_and_disable_work_when_the_plugin_is_broken(site, kepler_cli, kepler_home):
    make_dist(site, "broken-plugin", "broken", "broken_mod", "raise SyntaxError('bad')")
    assert kepler_cli("plugins", "disable", "broken").code == 0
    reset()
    assert status("broken") == "disabled"
    assert "broken" in (kepler_home / "config.yml").read_text()
    assert kepler_cli("plugins", "enable", "broken").code == 0
    reset()
    assert status("broken") == "failed"


def test_disabled_state_layers_user_project_and_environment(site, kepler_cli, monkeypatch,
                                                            tmp_path):
    good_plugin(site, "historian")
    good_plugin(site, "alarms")
    project = tmp_path / "work" / "plant"
    assert kepler_cli("init", "plant").code == 0
    monkeypatch.chdir(project)
    kepler_cli("plugins", "disable", "historian")
    reset()
    assert status("historian") == "disabled"
    assert "user config" in kp.plugins.info("historian").disabled_by
    # the project re-enables what the user disabled, and disables another
    assert kepler_cli("plugins", "enable", "historian", "--project").code == 0
    assert kepler_cli("plugins", "disable", "alarms", "--project").code == 0
    reset()
    assert status("historian") == "enabled" and status("alarms") == "disabled"
    text = (project / "kepler.yml").read_text()
    assert "# Kepler project configuration." in text  # the user's comments survive the edit
    assert "enabled:\n  - historian" in text or "enabled:\n  - historian" in text.replace("    ", "  ")
    # the environment variable wins over both
    monkeypatch.setenv("KEPLER_DISABLE_PLUGINS", "historian, other")
    reset()
    assert status("historian") == "disabled"
    assert kp.plugins.info("historian").disabled_by == "environment variable KEPLER_DISABLE_PLUGINS"
    result = kepler_cli("plugins", "enable", "historian")
    assert "still disabled by environment variable KEPLER_DISABLE_PLUGINS" in result.err


def test_unknown_plugin_names_are_refused_with_the_installed_ones(site, kepler_cli):
    good_plugin(site, "historian")
    result = kepler_cli("plugins", "disable", "histrian")
    assert result.code == 4
    assert "No plugin named 'histrian'" in result.err and "historian" in result.err
    assert kepler_cli("plugins", "disable", "kepler").code == 4


def test_plugins_info_shows_what_a_plugin_provides(site, kepler_cli):
    good_plugin(site, "historian", dist="acme-historian")
    result = kepler_cli("plugins", "info", "historian")
    assert result.code == 0
    assert "acme-historian 1.0" in result.out and "data.from_historian" in result.out
    assert json.loads(kepler_cli("plugins", "info", "kepler", "--json").out)["builtin"] is True


def test_the_host_is_built_once_and_not_at_import():
    import importlib

    import kepler.plugins.manager as manager

    reset()
    importlib.reload(sys.modules["kepler"])
    assert manager.get_host.cache_info().currsize == 0
    assert get_host() is get_host()
