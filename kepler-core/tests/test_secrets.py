"""The encrypted secrets store through the CLI and the SDK."""

from __future__ import annotations

import stat

import pytest
from kepler.errors import SecretError
from kepler.secrets import SecretStore, get_store


def test_set_get_list_delete_through_the_cli(kepler_cli, kepler_home):
    assert kepler_cli("secrets", "list").out.startswith("No secrets stored")
    result = kepler_cli("secrets", "set", "splunk-token", stdin="abc-123-xyz\n")
    assert result.code == 0 and "${secret:splunk-token}" in result.out
    assert kepler_cli("secrets", "list").out == "splunk-token\n"
    masked = kepler_cli("secrets", "get", "splunk-token")
    assert masked.out == "********\n" and "abc-123-xyz" not in masked.out
    assert kepler_cli("secrets", "get", "splunk-token", "--reveal").out == "abc-123-xyz\n"
    assert kepler_cli("secrets", "delete", "splunk-token", "--yes").code == 0
    missing = kepler_cli("secrets", "get", "splunk-token")
    assert missing.code == 5 and "kepler secrets set splunk-token" in missing.err


def test_the_file_is_encrypted_and_private(kepler_home):
    get_store().set("hec-token", "plain-value-42")
    data = (kepler_home / "secrets.enc").read_bytes()
    assert b"plain-value-42" not in data and b"hec-token" not in data
    for name in ("secrets.enc", "secrets.key"):
        assert stat.S_IMODE((kepler_home / name).stat().st_mode) == 0o600


def test_a_tampered_file_is_refused(kepler_home):
    store = get_store()
    store.set("a", "value-1")
    path = kepler_home / "secrets.enc"
    blob = bytearray(path.read_bytes())
    blob[20] = ord("A") if blob[20] != ord("A") else ord("B")
    path.write_bytes(bytes(blob))
    with pytest.raises(SecretError, match="Cannot decrypt"):
        store.get("a")


def test_a_key_readable_by_others_is_refused(kepler_home):
    get_store().set("a", "value-1")
    (kepler_home / "secrets.key").chmod(0o644)
    with pytest.raises(SecretError, match="readable by other users") as info:
        get_store().get("a")
    assert "chmod 600" in info.value.hint


def test_invalid_names_and_empty_values_are_refused(kepler_cli):
    assert kepler_cli("secrets", "set", "bad name", stdin="x\n").code == 5
    result = kepler_cli("secrets", "set", "ok", stdin="\n")
    assert result.code == 5 and "empty value" in result.err


def test_the_key_goes_to_the_os_keyring_when_one_is_usable(kepler_home, monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 5

        def __init__(self):
            self.data = {}

        def get_password(self, service, username):
            return self.data.get((service, username))

        def set_password(self, service, username, password):
            self.data[(service, username)] = password

        def delete_password(self, service, username):
            self.data.pop((service, username), None)

    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    monkeypatch.delenv("KEPLER_SECRETS_BACKEND")
    try:
        store = SecretStore()
        store.set("tok", "value-xyz")
        assert not (kepler_home / "secrets.key").exists()
        assert ("kepler", "secrets-key") in backend.data
        assert SecretStore().get("tok") == "value-xyz"
        assert store.backend.startswith("keyring (MemoryKeyring)")
    finally:
        keyring.set_keyring(previous)


def test_a_lost_key_is_reported(kepler_home):
    get_store().set("a", "value-1")
    (kepler_home / "secrets.key").unlink()
    with pytest.raises(SecretError, match="its key is missing"):
        get_store().names()


def test_a_mistyped_reference_suggests_the_stored_name_first(kepler_cli, kepler_home, tmp_path,
                                                           monkeypatch):
    from kepler.api import ConfigError
    from kepler.config.references import resolve

    assert kepler_cli("secrets", "set", "splunk-token", stdin="abc-123-token\n").code == 0
    with pytest.raises(ConfigError) as info:
        resolve("${secret:splunk-tokn}", "kepler.yml: splunk.token")
    assert info.value.hint.startswith("Did you mean ${secret:splunk-token}?")
    assert resolve("${secret:splunk-token}", "x") == "abc-123-token"


def test_the_key_location_is_shown_and_a_key_file_is_warned_about(kepler_cli, kepler_home,
                                                                caplog):
    import logging

    with caplog.at_level(logging.WARNING):
        assert kepler_cli("secrets", "set", "one", stdin="value-1\n").code == 0
    assert "No OS keyring is available" in caplog.text  # the tests' store uses a key file
    listed = kepler_cli("secrets", "list")
    assert "one" in listed.out and "key in " in listed.err and "secrets.key" in listed.err
