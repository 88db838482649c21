"""kepler-audit: an append-only audit log of Kepler lifecycle events (the plugin template)."""

__version__ = "0.1.0"
