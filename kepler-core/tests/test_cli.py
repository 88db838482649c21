"""The CLI's error reporting, exit codes and project creation."""

from __future__ import annotations

import json

import click
import kepler as kp
import pytest
from kepler.errors import ServiceError
from kepler.hookspecs import hookimpl
from kepler.records import CommandSpec


@click.command()
def fail_service():
    raise ServiceError("Splunk said: Unknown search command 'serch'.", hint="Fix the SPL.")


@click.command()
def crash():
    raise ZeroDivisionError("boom")


class Failing:
    @hookimpl
    def kepler_commands(self):
        yield CommandSpec(name="fail-service", target="test_cli:fail_service", help="x")
        yield CommandSpec(name="crash", target="test_cli:crash", help="x")


@pytest.fixture
def failing(kepler_plugin):
    return kepler_plugin(Failing(), name="failing")


def test_kepler_errors_print_message_and_hint_without_traceback(failing, kepler_cli):
    result = kepler_cli("fail-service")
    assert result.code == 7
    assert result.err == ("Error: Splunk said: Unknown search command 'serch'.\n"
                          "Hint: Fix the SPL.\n")


def test_debug_shows_the_traceback(failing, kepler_cli):
    result = kepler_cli("--debug", "fail-service")
    assert "Traceback" in result.err and result.code == 7


def test_unexpected_errors_say_so_and_exit_1(failing, kepler_cli):
    result = kepler_cli("crash")
    assert result.code == 1
    assert "Unexpected error: ZeroDivisionError: boom" in result.err
    assert "Traceback" not in result.err


def test_usage_errors_exit_2(kepler_cli):
    result = kepler_cli("nosuchcommand")
    assert result.code == 2 and "No such command" in result.err
    assert kepler_cli("plugins", "info").code == 2


def test_version_and_help(kepler_cli):
    assert kepler_cli("--version").out.strip() == f"kepler, version {kp.__version__}"
    help_text = kepler_cli("--help").out
    for command in ("config", "init", "plugins", "secrets"):
        assert command in help_text


def test_log_level_is_checked(kepler_cli):
    result = kepler_cli("--log-level", "loud", "plugins", "list")
    assert result.code == 3 and "Unknown log level 'LOUD'" in result.err


def test_init_creates_a_project_that_loads(kepler_cli, tmp_path, monkeypatch):
    result = kepler_cli("init", "pump-failures")
    assert result.code == 0, result.err
    folder = tmp_path / "work" / "pump-failures"
    expected = {"kepler.yml", ".gitignore", "requirements.txt", "requirements-dev.txt",
                "README.md", "notebooks/01-explore.ipynb"}
    assert expected <= {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    gitignore = (folder / ".gitignore").read_text()
    for pattern in (".kepler/", ".venv/", ".env", "secrets.*"):
        assert pattern in gitignore
    notebook = json.loads((folder / "notebooks" / "01-explore.ipynb").read_text())
    assert notebook["nbformat"] == 4
    monkeypatch.chdir(folder)
    cfg = kp.config.load(env="prod")
    assert cfg.project_dir == folder and cfg.core.log_level == "WARNING"
    assert {"dev", "staging", "prod"} <= set(
        __import__("yaml").safe_load((folder / "kepler.yml").read_text())["environments"])


def test_init_never_overwrites(kepler_cli, tmp_path):
    folder = tmp_path / "work" / "plant"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep me")
    result = kepler_cli("init", "plant")
    assert result.code == 3 and "not empty" in result.err
    assert (folder / "mine.txt").read_text() == "keep me"


def test_init_refuses_bad_names_and_unknown_templates(kepler_cli):
    assert "Invalid project name" in kepler_cli("init", "../x").err
    result = kepler_cli("init", "x", "--template", "nope")
    assert "Unknown project template 'nope'" in result.err and "default" in result.err


def test_project_option_points_at_a_project(kepler_cli, tmp_path):
    kepler_cli("init", "plant", "--dir", str(tmp_path))
    out = kepler_cli("--project", str(tmp_path / "plant"), "config", "show").out
    assert f"Project:     {tmp_path / 'plant'}" in out


def test_init_makes_a_git_repository_unless_told_not_to(kepler_cli, tmp_path):
    import shutil

    made = kepler_cli("init", "with-git", "--dir", str(tmp_path))
    assert made.code == 0, made.err
    if shutil.which("git"):
        assert (tmp_path / "with-git" / ".git").is_dir()
        assert "Initialised a git repository" in made.out
    else:
        assert "git is not installed" in made.out
    plain = kepler_cli("init", "no-git", "--dir", str(tmp_path), "--no-git")
    assert plain.code == 0 and not (tmp_path / "no-git" / ".git").exists()
    text = (tmp_path / "no-git" / "kepler.yml").read_text()
    assert "log_level: INFO" not in text  # INFO would print every step of every command


def test_a_mistyped_algorithm_is_a_usage_error_in_cli_words(kepler_cli, kepler_plugin):
    from plugin_examples import WidgetPlugin

    kepler_plugin(WidgetPlugin(), name="widget")
    typo = kepler_cli("train", "maen", "--target", "y")
    assert typo.code == 2 and "No algorithm named 'maen'. Did you mean 'mean'?" in typo.err
    assert "kp.train" not in typo.err


def test_plugins_info_of_a_first_party_plugin_not_installed_says_what_to_install(
        kepler_cli, monkeypatch):
    from kepler import catalogue

    entries = {kind: dict(names) for kind, names in catalogue._catalogue().items()}
    entries["plugins"]["mars"] = "kepler-mars"
    monkeypatch.setattr(catalogue, "_catalogue", lambda: entries)
    result = kepler_cli("plugins", "info", "mars")
    assert result.code == 4 and "comes with kepler-mars" in result.err
    assert "pip install 'kepler-mars'" in result.err


def test_a_command_of_a_disabled_first_party_plugin_says_how_to_enable_it(kepler_cli,
                                                                          monkeypatch):
    from importlib.metadata import entry_points

    installed = {ep.name for ep in entry_points(group="kepler")}
    if "splunk" not in installed:
        import pytest

        pytest.skip("kepler-splunk is not installed here")
    monkeypatch.setenv("KEPLER_DISABLE_PLUGINS", "splunk")
    result = kepler_cli("data", "splunk", "index=pumps")
    assert result.code == 4, result.err
    assert "kepler data splunk is provided by kepler-splunk" in result.err
    assert "disabled" in result.err and "kepler plugins enable splunk" in result.err
    typo = kepler_cli("dta")
    assert typo.code == 2 and "No such command" in typo.err


def test_a_command_of_a_plugin_not_installed_names_it(kepler_cli, monkeypatch):
    from kepler import catalogue

    entries = {kind: dict(names) for kind, names in catalogue._catalogue().items()}
    entries["commands"]["historian pull"] = "kepler-historian"
    monkeypatch.setattr(catalogue, "_catalogue", lambda: entries)
    result = kepler_cli("historian", "pull", "x")
    assert result.code == 4 and "kepler historian pull is provided by kepler-historian" in result.err
    assert "pip install 'kepler-historian'" in result.err
