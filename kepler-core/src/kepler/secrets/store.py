"""An encrypted file of named secrets, outside every project.

The file (``<user config dir>/secrets.enc``) is one Fernet token (AES-128-CBC + HMAC-SHA256, from
the ``cryptography`` package) holding a JSON object of name -> value. The key lives in the OS
keyring where a usable one exists; otherwise in ``secrets.key`` beside the file, readable by the
user only (0600). ``KEPLER_SECRETS_BACKEND=file`` forces the key file (CI, containers).
Writes are atomic (temporary file + rename), so a crash never leaves a half-written store.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ..errors import SecretError
from ..paths import user_config_dir

log = logging.getLogger(__name__)

KEYRING_SERVICE = "kepler"
KEYRING_USER = "secrets-key"
ENV_BACKEND = "KEPLER_SECRETS_BACKEND"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def _usable_keyring() -> Any | None:
    """The OS keyring backend, or None when there is none worth trusting (headless Linux)."""
    if os.environ.get(ENV_BACKEND, "").lower() == "file":
        return None
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    chained = getattr(backend, "backends", None)
    if chained is not None and not chained:
        return None
    return backend


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class SecretStore:
    """Named secrets, encrypted at rest.

    Example::

        store = get_store()
        store.set("splunk-token", "eyJraWQ...")
        store.get("splunk-token")
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or user_config_dir()
        self.path = self.folder / "secrets.enc"
        self.key_file = self.folder / "secrets.key"

    # --- key ----------------------------------------------------------------------------------

    @property
    def backend(self) -> str:
        """Where the key lives: 'keyring (<backend>)' or the key file's path."""
        keyring_backend = _usable_keyring()
        if keyring_backend is not None and not self.key_file.exists():
            return f"keyring ({type(keyring_backend).__name__})"
        return str(self.key_file)

    def _key(self, create: bool) -> bytes | None:
        from cryptography.fernet import Fernet

        if self.key_file.exists():
            mode = self.key_file.stat().st_mode & 0o077
            if mode:
                raise SecretError(
                    f"{self.key_file} is readable by other users (mode {oct(mode)}).",
                    hint=f"Restrict it: chmod 600 {self.key_file}",
                )
            return self.key_file.read_bytes().strip()
        backend = _usable_keyring()
        if backend is not None:
            stored = backend.get_password(KEYRING_SERVICE, KEYRING_USER)
            if isinstance(stored, str) and stored:
                return stored.encode()
        if not create:
            return None
        key = Fernet.generate_key()
        if backend is not None:
            backend.set_password(KEYRING_SERVICE, KEYRING_USER, key.decode())
        else:
            _write_private(self.key_file, key + b"\n")
            log.warning(
                "No OS keyring is available: the key of %s is kept in %s (mode 600, next to "
                "the encrypted file). Anyone who can read both can read your secrets; install a "
                "keyring backend to keep the key apart.", self.path, self.key_file)
        return key

    # --- data ---------------------------------------------------------------------------------

    def _read(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        key = self._key(create=False)
        if key is None:
            raise SecretError(
                f"{self.path} exists but its key is missing (neither {self.key_file} nor the OS "
                "keyring holds it).",
                hint="Restore the key, or move the secrets file away and store the secrets again.",
            )
        from cryptography.fernet import Fernet, InvalidToken

        try:
            plain = Fernet(key).decrypt(self.path.read_bytes())
        except (InvalidToken, ValueError):
            raise SecretError(
                f"Cannot decrypt {self.path}: the key does not match or the file was altered.",
                hint="Restore the matching key, or move the file away and store the secrets again.",
            ) from None
        data = json.loads(plain)
        return {str(k): str(v) for k, v in data.items()}

    def _write(self, data: dict[str, str]) -> None:
        from cryptography.fernet import Fernet

        key = self._key(create=True)
        assert key is not None
        _write_private(self.path, Fernet(key).encrypt(json.dumps(data).encode()))

    @staticmethod
    def _check_name(name: str) -> None:
        if not NAME_PATTERN.match(name):
            raise SecretError(
                f"Invalid secret name {name!r}.",
                hint="Use letters, digits, '-', '_' or '.', starting with a letter or digit "
                "(e.g. splunk-token).",
            )

    def set(self, name: str, value: str) -> None:
        self._check_name(name)
        if not value:
            raise SecretError(f"Refusing to store an empty value for {name!r}.",
                              hint="Pass the secret's value, or delete the secret instead.")
        data = self._read()
        data[name] = value
        self._write(data)
        from ..logs import register_secret

        register_secret(value)

    def lookup(self, name: str) -> str | None:
        value = self._read().get(name)
        if value is not None:
            from ..logs import register_secret

            register_secret(value)
        return value

    def get(self, name: str) -> str:
        value = self.lookup(name)
        if value is None:
            raise SecretError(
                f"No secret named {name!r} in {self.path}.",
                hint=f"Store it with: kepler secrets set {name}",
            )
        return value

    def names(self) -> list[str]:
        return sorted(self._read())

    def delete(self, name: str) -> None:
        data = self._read()
        if name not in data:
            raise SecretError(
                f"No secret named {name!r}.", hint="See them with: kepler secrets list"
            )
        del data[name]
        self._write(data)


def get_store() -> SecretStore:
    return SecretStore()
