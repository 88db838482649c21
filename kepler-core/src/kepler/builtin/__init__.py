"""Kepler core's own capabilities, registered through the same hooks as any plugin."""
