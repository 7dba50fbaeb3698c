"""Logging that cannot leak the bot token, and that keeps chatty libraries quiet.

python-telegram-bot's HTTP client logs request URLs, and every Bot API URL contains
the token; at DEBUG, python-telegram-bot also logs request parameters, which
contain message texts. So: every handler formats through :class:`RedactingFormatter`,
which removes the token (and any other secret) from the final line, tracebacks
included; and the libraries' loggers are held at levels that never log payloads,
whatever level meldbot itself runs at. meldbot's own log lines carry case references
and counts, never report content, names or Telegram ids.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

# Levels below which these loggers would log request URLs or payloads.
_QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,
    "apscheduler": logging.WARNING,
    # At DEBUG it logs every statement with its parameters (sealed blobs, blind indexes).
    "aiosqlite": logging.INFO,
}
REDACTED = "[redacted]"


class RedactingFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str], fmt: str | None = None) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def add_secret(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for secret in self._secrets:
            line = line.replace(secret, REDACTED)
        return line


def configure(level: str, secrets: Iterable[str], stream=None) -> RedactingFormatter:
    """Send all logging to ``stream`` (stderr) through one redacting formatter."""
    formatter = RedactingFormatter(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    quiet_libraries(level)
    return formatter


def quiet_libraries(level: str) -> None:
    numeric = logging.getLevelName(level)
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(numeric, floor))


def protect_handlers(secrets: Iterable[str]) -> None:
    """Wrap the formatters of handlers someone else installed (e.g. pytest's capture)."""
    for handler in logging.getLogger().handlers:
        current = handler.formatter
        if isinstance(current, RedactingFormatter):
            for secret in secrets:
                current.add_secret(secret)
            continue
        formatter = RedactingFormatter(secrets, current._fmt if current else None)
        handler.setFormatter(formatter)
