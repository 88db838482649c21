"""Logging for the CLI and SDK, with secrets redacted on the way out.

Level, highest priority first: ``--log-level``, ``KEPLER_LOG_LEVEL``, ``core.log_level`` in the
config, then WARNING. Every secret value Kepler resolves is registered here, and a filter on
Kepler's handler replaces it with ``********`` in any message, so even a plugin that formats a
token into a log line by mistake does not leak it.
"""

from __future__ import annotations

import logging
import os
import sys

LOGGER_NAME = "kepler"
ENV_LEVEL = "KEPLER_LOG_LEVEL"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_MASK = "********"
_secrets: set[str] = set()
_explicit_level = False


def register_secret(value: str) -> None:
    """Redact ``value`` from every log record from now on (short values are ignored)."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            record.msg = redact(record.getMessage())
            record.args = None
        return True


def configure(level: str | None = None) -> None:
    """Install Kepler's stderr handler once; ``level`` (or KEPLER_LOG_LEVEL) sets the level."""
    global _explicit_level
    chosen = (level or os.environ.get(ENV_LEVEL) or "").upper()
    if chosen and chosen not in LEVELS:
        from .errors import ConfigError

        raise ConfigError(
            f"Unknown log level {chosen!r}.", hint=f"Use one of {', '.join(LEVELS)}."
        )
    logger = logging.getLogger(LOGGER_NAME)
    if not any(getattr(h, "_kepler", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactSecrets())
        handler._kepler = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    if chosen:
        _explicit_level = True
        logger.setLevel(chosen)
    elif logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


def apply_config_level(level: str | None) -> None:
    """Use ``core.log_level`` unless the user chose a level on the command line or environment."""
    if level and not _explicit_level:
        logging.getLogger(LOGGER_NAME).setLevel(level)
