"""Configuration layering, sources, environments, references, masking and error messages."""

from __future__ import annotations

import json
import logging

import kepler as kp
import pytest
from kepler.errors import ConfigError
from plugin_examples import WidgetPlugin


@pytest.fixture(autouse=True)
def widget(kepler_plugin):
    return kepler_plugin(WidgetPlugin(), name="widget")


@pytest.fixture
def project(kepler_home, tmp_path, monkeypatch):
    (kepler_home / "config.yml").write_text("widget:\n  host: user-host\n  port: 1111\n")
    folder = tmp_path / "work" / "plant"
    folder.mkdir()
    (folder / "kepler.yml").write_text(
        "project:\n  name: plant\n"
        "widget:\n  port: 2222\n  verify: false\n"
        "environments:\n"
        "  dev: {}\n"
        "  prod:\n    widget:\n      host: prod-host\n"
    )
    monkeypatch.chdir(folder)
    return folder


def test_layers_apply_lowest_first_and_remember_their_source(project, kepler_home, monkeypatch):
    cfg = kp.config.load()
    widget = cfg.section("widget")
    assert (widget.host, widget.port, widget.verify) == ("user-host", 2222, False)
    assert cfg.source_of("widget.host") == str(kepler_home / "config.yml")
    assert cfg.source_of("widget.port") == str(project / "kepler.yml")
    assert cfg.source_of("widget.token") == "default"

    prod = kp.config.load(env="prod")
    assert prod.widget.host == "prod-host" and prod.widget.port == 2222
    assert prod.source_of("widget.host") == f"{project / 'kepler.yml'} [environments.prod]"

    monkeypatch.setenv("KEPLER_WIDGET__HOST", "env-host")
    assert kp.config.load(env="prod").widget.host == "env-host"
    assert kp.config.load(env="prod").source_of("widget.host") == (
        "environment variable KEPLER_WIDGET__HOST")


def test_env_is_chosen_by_argument_variable_or_default(project, monkeypatch):
    assert kp.config.load().env == "dev"
    monkeypatch.setenv("KEPLER_ENV", "prod")
    assert kp.config.load().widget.host == "prod-host"
    with pytest.raises(ConfigError, match="'qa' is not defined.*") as info:
        kp.config.load(env="qa")
    assert "dev, prod" in info.value.hint


def test_cli_env_option_selects_the_environment(project, kepler_cli):
    out = kepler_cli("--env", "prod", "config", "show").out
    assert "Environment: prod" in out and "prod-host" in out
    out = kepler_cli("config", "show", "--env", "prod", "--json").out
    values = {v["key"]: v for v in json.loads(out)["values"]}
    assert values["widget.host"]["value"] == "prod-host"
    assert values["widget.host"]["source"].endswith("[environments.prod]")


def test_bad_values_name_file_key_value_and_expected_form(project, kepler_cli):
    (project / "kepler.yml").write_text("widget:\n  port: eighty\n  hots: x\n")
    with pytest.raises(ConfigError) as info:
        kp.config.load().section("widget")
    message = info.value.message
    assert f"{project / 'kepler.yml'}: widget.port = 'eighty'" in message
    assert "valid integer" in message and "(expected int, e.g. 8089)" in message
    assert "unknown key 'widget.hots'. Did you mean 'host'?" in message
    result = kepler_cli("config", "show")
    assert result.code == 3 and "widget.port = 'eighty'" in result.err


def test_bad_env_variable_is_named(project, monkeypatch):
    monkeypatch.setenv("KEPLER_WIDGET__PORT", "x")
    with pytest.raises(ConfigError, match="environment variable KEPLER_WIDGET__PORT: widget.port"):
        kp.config.load().widget


def test_invalid_yaml_and_duplicate_keys_point_at_the_line(project):
    (project / "kepler.yml").write_text("widget:\n  host: a\nwidget:\n  host: b\n")
    with pytest.raises(ConfigError, match=r"kepler.yml:3:1: .*duplicate key 'widget'"):
        kp.config.load()
    (project / "kepler.yml").write_text("widget:\n  host: [unclosed\n")
    with pytest.raises(ConfigError, match=r"kepler.yml:\d+:\d+: invalid YAML"):
        kp.config.load()


def test_a_section_that_is_not_a_mapping_is_refused(project):
    (project / "kepler.yml").write_text("widget: 3\n")
    with pytest.raises(ConfigError, match="top-level key 'widget' must be a section"):
        kp.config.load()


def test_references_resolve_from_env_secrets_and_keyring(project, monkeypatch, kepler_cli):
    monkeypatch.setenv("WIDGET_HOST", "from-env")
    assert kepler_cli("secrets", "set", "widget-token", stdin="tok-123456\n").code == 0
    (project / "kepler.yml").write_text(
        "widget:\n  host: ${env:WIDGET_HOST}\n  token: ${secret:widget-token}\n")
    widget = kp.config.load().widget
    assert widget.host == "from-env"
    assert widget.token.get_secret_value() == "tok-123456"
    assert "tok-123456" not in repr(widget) and "tok-123456" not in str(kp.config.load().to_dict())


def test_keyring_references(project, monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1
        store: dict = {}  # noqa: RUF012 - shared on purpose within the test

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        keyring.set_password("splunk", "svc-ml", "kr-secret-1")
        (project / "kepler.yml").write_text("widget:\n  token: ${keyring:splunk/svc-ml}\n")
        assert kp.config.load().widget.token.get_secret_value() == "kr-secret-1"
        (project / "kepler.yml").write_text("widget:\n  token: ${keyring:splunk/nobody}\n")
        with pytest.raises(ConfigError, match="no entry for service 'splunk', user 'nobody'"):
            kp.config.load().widget
    finally:
        keyring.set_keyring(previous)


def test_unresolvable_references_say_how_to_fix_them(project):
    (project / "kepler.yml").write_text("widget:\n  token: ${secret:missing}\n  host: ${env:NOPE}\n")
    with pytest.raises(ConfigError) as info:
        kp.config.load().widget
    assert "widget." in info.value.message and "cannot resolve" in info.value.message
    (project / "kepler.yml").write_text("widget:\n  token: ${vault:x}\n")
    with pytest.raises(ConfigError, match="unknown reference kind 'vault'"):
        kp.config.load().widget


def test_show_masks_secrets_and_says_where_they_came_from(project, kepler_cli, monkeypatch):
    monkeypatch.setenv("KEPLER_WIDGET__TOKEN", "very-secret-token")
    (project / "kepler.yml").write_text(
        "widget:\n  host: h\nlegacy:\n  password: hunter22\n  user: bob\n")
    result = kepler_cli("config", "show")
    assert result.code == 3  # 'legacy' belongs to no plugin: shown, and reported
    assert "unknown section 'legacy'" in result.err
    assert "very-secret-token" not in result.out and "hunter22" not in result.out
    assert "widget.token" in result.out and "********" in result.out
    assert "environment variable KEPLER_WIDGET__TOKEN" in result.out
    assert "legacy.user" in result.out and "bob" in result.out


def test_resolved_secrets_never_reach_the_logs(project, monkeypatch, caplog):
    monkeypatch.setenv("KEPLER_WIDGET__TOKEN", "very-secret-token")
    kp.config.load().widget
    from kepler import logs

    logs.configure("INFO")
    logger = logging.getLogger("kepler.test")
    record = logging.LogRecord("kepler.test", logging.INFO, __file__, 1,
                               "connecting with %s", ("very-secret-token",), None)
    logs.RedactSecrets().filter(record)
    assert record.getMessage() == "connecting with ********"
    logger.info("done")


def test_literal_secret_in_kepler_yml_is_warned_about(project, caplog):
    (project / "kepler.yml").write_text("widget:\n  token: literal-token-value\n")
    with caplog.at_level(logging.WARNING, logger="kepler"):
        kp.config.load().widget
    assert "widget.token holds a secret written in plain text" in caplog.text
    assert "literal-token-value" not in caplog.text


def test_a_section_no_plugin_owns_is_an_error_with_the_closest_name(project, kepler_cli):
    (project / "kepler.yml").write_text("widgte:\n  host: h\n")
    with pytest.raises(ConfigError, match="unknown section 'widgte'. Did you mean 'widget'"):
        kp.config.load()
    assert kepler_cli("plugins", "list").code == 0  # reading plugins needs no config
    validate = kepler_cli("config", "validate")
    assert validate.code == 6 and "unknown section 'widgte'" in validate.out
    lenient = kp.config.load(strict=False)
    assert lenient.section("widgte") == {"host": "h"} and "widgte" in lenient.unknown
    with pytest.raises(ConfigError, match="Did you mean 'widgte'"):
        lenient.section("widgtee")
    with pytest.raises(AttributeError):
        lenient.nothing


def test_a_first_party_section_without_its_plugin_is_named_and_ignored(project, caplog,
                                                                       monkeypatch):
    from kepler import catalogue

    entries = {kind: dict(names) for kind, names in catalogue._catalogue().items()}
    entries["config_sections"]["historian"] = "kepler-historian"
    monkeypatch.setattr(catalogue, "_catalogue", lambda: entries)
    (project / "kepler.yml").write_text("historian:\n  host: h\n")
    with caplog.at_level(logging.WARNING):
        kp.config.load()
    assert "belongs to kepler-historian, which is not installed" in caplog.text


def test_env_variables_parse_json_lists(project, monkeypatch):
    monkeypatch.setenv("KEPLER_LEGACY__HOSTS", '["a", "b"]')
    assert kp.config.load(strict=False).section("legacy") == {"hosts": ["a", "b"]}


def test_core_log_level_comes_from_config(project, monkeypatch):
    monkeypatch.setenv("KEPLER_CORE__LOG_LEVEL", "debug")
    assert kp.config.load().core.log_level == "DEBUG"


def test_config_path_lists_the_files(project, kepler_cli, kepler_home):
    out = kepler_cli("config", "path").out
    assert str(kepler_home / "config.yml") in out and str(project / "kepler.yml") in out


def test_secrets_inside_free_form_mappings_are_masked_and_checked(project, kepler_cli):
    (project / "kepler.yml").write_text(
        "widget:\n  profiles:\n    lab:\n      host: lab\n      token: lab-literal-token\n")
    out = kepler_cli("config", "show").out
    assert "widget.profiles.lab.host" in out and "lab-literal-token" not in out
    import subprocess

    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "kepler.yml"], cwd=project, check=True)
    assert "widget.profiles.lab.token holds a secret" in kepler_cli("config", "check").err
