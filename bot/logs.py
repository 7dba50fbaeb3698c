"""Logging that cannot leak the bot token or personal data, and that keeps chatty libraries quiet.

Every handler formats through one :class:`RedactingFormatter` (or its JSON-lines
variant, :class:`JsonLinesFormatter`, for ``[logging] format = "json"``), so text and
JSON output pass the same redaction path:

1. **Secrets** (the bot token) are removed from everything, first: python-telegram-bot's
   HTTP client logs request URLs, and every Bot API URL contains the token.
2. **Payloads from libraries are withheld.** A record from a logger outside meldbot's
   own packages (python-telegram-bot, httpx, APScheduler, asyncio, ...) never gets to
   print a dict, list or object: such arguments are replaced by ``<list withheld>``
   before the message is built. This is what stops python-telegram-bot's CRITICAL
   "Received data was [...]" when an update cannot be parsed, which would otherwise
   dump names, usernames, Telegram ids and message texts.
3. **Personal values are redacted by pattern** in what is left of a library's message,
   and in every exception text and stack trace, meldbot's own included (exception
   messages are written by libraries): the value after every personal field name in
   JSON or Python-repr form (``"first_name": "…"``, ``'text': '…'``, ``username='…'``,
   ``"id": 123``; names, usernames, ids, texts, captions, phone numbers, file names,
   locations, callback data, validation inputs) and every run of five or more digits
   (Telegram ids, phone numbers) except a traceback's line numbers.

meldbot's own log lines are written to carry case references, counts and error
classes only, never report content, names or Telegram ids; they are not rewritten,
so a count of 100,000 stays readable. Libraries' loggers are also held at levels
that never log request payloads, whatever level meldbot itself runs at.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

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
OWN_PACKAGES = frozenset({"bot", "flows", "storage", "messages"})

# Field names whose values identify a person or carry what they wrote, as they appear in
# Bot API JSON and in python-telegram-bot's and pydantic's reprs.
PERSONAL_FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "username",
    "title",
    "bio",
    "phone_number",
    "vcard",
    "email",
    "id",
    "user_id",
    "chat_id",
    "sender_chat_id",
    "text",
    "caption",
    "query",
    "data",
    "question",
    "explanation",
    "address",
    "latitude",
    "longitude",
    "file_name",
    "file_id",
    "file_unique_id",
    "input",
    "input_value",
)
_QUOTED = r"""b?'(?:[^'\\\n]|\\.)*'|b?"(?:[^"\\\n]|\\.)*"|\\"(?:(?!\\").)*\\"|-?\d+(?:\.\d+)?"""
_FIELD_VALUE = re.compile(
    r"(?<![\w])(?P<key>(?P<q>\\?[\"']?)(?:" + "|".join(PERSONAL_FIELDS) + r")(?P=q)\s*(?::|=(?!=))\s*)"
    r"(?P<value>" + _QUOTED + ")"
)
_DIGIT_RUN = re.compile(r"(?<![\w])(?<!\d\.)(?<!line )[-+]?\d{5,}(?!\w)(?!\.\d)")


def scrub(text: str) -> str:
    """Redact the values of personal fields and long digit runs (ids, phone numbers)."""
    text = _FIELD_VALUE.sub(lambda m: m.group("key") + REDACTED, text)
    return _DIGIT_RUN.sub(REDACTED, text)


class _Withheld:
    """Stands in for a library's payload argument, so ``%r`` and ``%s`` print only its kind."""

    __slots__ = ("_text",)

    def __init__(self, value: object) -> None:
        self._text = f"<{type(value).__name__} withheld>"

    def __repr__(self) -> str:
        return self._text

    __str__ = __repr__


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, str | int | float | bool) else _Withheld(value)


def is_own(record: logging.LogRecord) -> bool:
    return record.name.split(".", 1)[0] in OWN_PACKAGES


class RedactingFormatter(logging.Formatter):
    """Formats a record as one text line (plus its traceback), with secrets and personal data removed."""

    def __init__(self, secrets: Iterable[str], fmt: str | None = None) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def add_secret(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def _unsecret(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def _message(self, record: logging.LogRecord) -> str:
        if is_own(record):
            try:
                return self._unsecret(record.getMessage())
            except (TypeError, ValueError, KeyError):
                # Never let logging's own error report print the arguments to stderr.
                return self._unsecret(f"{record.msg} [arguments withheld]")
        args: Any = record.args
        if isinstance(args, Mapping):
            args = {key: _plain(value) for key, value in args.items()}
        elif isinstance(args, tuple):
            args = tuple(_plain(value) for value in args)
        msg = record.msg if isinstance(record.msg, str) else repr(_Withheld(record.msg))
        try:
            text = msg % args if args else msg
        except (TypeError, ValueError, KeyError):
            text = f"{msg} [arguments withheld]"
        return scrub(self._unsecret(text))

    def redacted_parts(self, record: logging.LogRecord) -> tuple[str, str | None, str | None]:
        """The message, the exception text and the stack, each redacted (None where absent)."""
        message = self._message(record)
        if record.exc_info:
            exception: str | None = self.formatException(record.exc_info)
        else:
            exception = record.exc_text or None
        stack = self.formatStack(record.stack_info) if record.stack_info else None
        return (
            message,
            None if exception is None else scrub(self._unsecret(exception)),
            None if stack is None else scrub(self._unsecret(stack)),
        )

    def format(self, record: logging.LogRecord) -> str:
        message, exception, stack = self.redacted_parts(record)
        record.message = message
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        for extra in (exception, stack):
            if extra:
                line = f"{line}\n{extra}"
        return line


class JsonLinesFormatter(RedactingFormatter):
    """One JSON object per line (time, level, logger, message, exception): for journald and log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        message, exception, stack = self.redacted_parts(record)
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        if exception:
            entry["exception"] = exception
        if stack:
            entry["stack"] = stack
        # json.dumps escapes every newline: a traceback stays inside its one line.
        return json.dumps(entry, ensure_ascii=False)


LogFormat = Literal["text", "json"]


def configure(
    level: str, secrets: Iterable[str], stream: TextIO | None = None, fmt: LogFormat = "text"
) -> RedactingFormatter:
    """Send all logging to ``stream`` (stderr) through one redacting formatter."""
    formatter = JsonLinesFormatter(secrets) if fmt == "json" else RedactingFormatter(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    quiet_libraries(level)
    return formatter


class _UnconfirmedUpdatesAreHandled(logging.Filter):
    """python-telegram-bot logs an ERROR with a traceback when the getUpdates that confirms the
    last updates fails while stopping. For meldbot that is no error: an update that comes again
    is recognised as handled (bot/receiving.py). Said once, calmly, without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Error while calling `get_updates` one more time"):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = "the Bot API did not confirm the last updates; any it sends again are recognised as handled"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


_UPDATER_FILTER = _UnconfirmedUpdatesAreHandled()


def quiet_libraries(level: str) -> None:
    numeric = logging.getLevelName(level)
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(numeric, floor))
    logging.getLogger("telegram.ext.Updater").addFilter(_UPDATER_FILTER)


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
