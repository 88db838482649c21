"""``kepler config check``: secrets in git-tracked files."""

from __future__ import annotations

import subprocess

import pytest
from plugin_examples import WidgetPlugin


@pytest.fixture(autouse=True)
def widget(kepler_plugin):
    return kepler_plugin(WidgetPlugin(), name="widget")


@pytest.fixture
def repo(kepler_cli, tmp_path, monkeypatch):
    assert kepler_cli("init", "plant").code == 0
    folder = tmp_path / "work" / "plant"
    monkeypatch.chdir(folder)
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    return folder


def git_add(folder, *names):
    subprocess.run(["git", "add", *names], cwd=folder, check=True)


def test_a_fresh_project_is_clean(repo, kepler_cli):
    git_add(repo, ".")
    result = kepler_cli("config", "check")
    assert result.code == 0 and "No secrets found" in result.out
    assert "git-tracked files" in result.out


def test_a_literal_secret_in_a_tracked_kepler_yml_fails_with_line_and_fix(repo, kepler_cli):
    with (repo / "kepler.yml").open("a") as handle:
        handle.write("widget:\n  host: plant\n  token: s3cr3t-literal\n")
    git_add(repo, "kepler.yml")
    result = kepler_cli("config", "check")
    assert result.code == 6
    line = (repo / "kepler.yml").read_text().splitlines().index("  token: s3cr3t-literal") + 1
    assert f"kepler.yml:{line}: widget.token holds a secret in plain text" in result.err
    assert "kepler secrets set widget-token" in result.err
    assert "s3cr3t-literal" not in result.err + result.out


def test_overrides_in_environments_and_unknown_sections_are_checked(repo, kepler_cli):
    (repo / "kepler.yml").write_text(
        "environments:\n  prod:\n    widget:\n      token: prod-literal\n"
        "legacy:\n  api_key: zzzzzzzz\n")
    git_add(repo, "kepler.yml")
    err = kepler_cli("config", "check").err
    assert "environments.prod.widget.token holds a secret" in err
    assert "legacy.api_key holds a secret" in err


def test_references_are_fine(repo, kepler_cli):
    (repo / "kepler.yml").write_text("widget:\n  token: ${secret:widget-token}\n")
    git_add(repo, ".")
    assert kepler_cli("config", "check").code == 0


def test_untracked_files_are_not_reported(repo, kepler_cli):
    (repo / "notes.txt").write_text("-----BEGIN RSA PRIVATE KEY-----\n")
    git_add(repo, "kepler.yml")
    assert kepler_cli("config", "check").code == 0
    git_add(repo, "notes.txt")
    result = kepler_cli("config", "check")
    assert result.code == 6 and "notes.txt:1: looks like a private key" in result.err


def test_stored_secret_values_are_found_in_any_tracked_file(repo, kepler_cli):
    kepler_cli("secrets", "set", "hec-token", stdin="5f3c1d9e-hec-token-value\n")
    (repo / "notebooks" / "scratch.py").write_text("TOKEN = '5f3c1d9e-hec-token-value'\n")
    git_add(repo, ".")
    result = kepler_cli("config", "check")
    assert "notebooks/scratch.py:1: contains the value of secret 'hec-token'" in result.err


def test_credential_shapes(repo, kepler_cli):
    jwt = "eyJraWQiOiJzcGx1bmsuc2VjcmV0IiwiYWxnIjoiSFM1MTIifQ.eyJpc3MiOiJhZG1pbiJ9.c2lnbmF0dXJlc2ln"
    (repo / "creds.json").write_text('{"type": "service_account"}\n' f'"{jwt}"\nAKIAABCDEFGHIJKLMNOP\n')
    git_add(repo, ".")
    err = kepler_cli("config", "check").err
    assert "creds.json:1: looks like a Google service-account key" in err
    assert "creds.json:2: looks like a JSON web token" in err
    assert "creds.json:3: looks like an AWS access key id" in err


def test_outside_git_every_file_is_checked(kepler_cli, tmp_path, monkeypatch):
    kepler_cli("init", "loose", "--no-git")
    folder = tmp_path / "work" / "loose"
    monkeypatch.chdir(folder)
    (folder / "kepler.yml").write_text("widget:\n  token: abc-literal\n")
    result = kepler_cli("config", "check")
    assert result.code == 6 and "not a git repository" in result.err


def test_outside_a_project_it_says_what_to_do(kepler_cli):
    result = kepler_cli("config", "check")
    assert result.code == 3 and "kepler init" in result.err


def test_a_known_secret_written_as_a_literal_is_one_finding_with_a_consistent_name(
        repo, kepler_cli):
    """The same line is a plain-text secret and a stored secret's value: one finding. Names
    suggested are the key's parts joined by '-' (splunk.hec_token -> splunk-hec-token)."""
    from kepler.config.check import secret_name

    assert kepler_cli("secrets", "set", "widget-token", stdin="s3cr3t-token-value\n").code == 0
    with (repo / "kepler.yml").open("a") as handle:
        handle.write("widget:\n  host: plant\n  token: s3cr3t-token-value\n")
    git_add(repo, "kepler.yml")
    result = kepler_cli("config", "check")
    assert result.code == 6
    assert result.err.count("kepler.yml:") == 1, result.err
    assert "widget.token holds a secret in plain text" in result.err
    assert secret_name(("splunk", "hec_token")) == "splunk-hec-token"
