"""The user's encrypted secrets file (``kepler secrets ...`` and ``${secret:NAME}`` references)."""

from .store import SecretStore, get_store

__all__ = ["SecretStore", "get_store"]
