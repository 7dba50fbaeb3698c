"""Turning a flow's :class:`~flows.outcome.Reply` into a Telegram message and back out.

Texts come from ``messages`` (which escapes every user-supplied value); buttons get
their labels from the same catalogue and their data from ``bot.callbacks``.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

import messages
from bot import callbacks
from flows.outcome import Keyboard, Reply

PARSE_MODE = "HTML"


def text(language: str, reply: Reply, *, limit: int = messages.MAX_TEXT) -> str:
    """The message's text as Telegram HTML; refused if it would be longer than Telegram accepts."""
    return messages.render_message(language, reply.key, reply.params, limit=limit, before=reply.before)


def caption(language: str, reply: Reply) -> str:
    return text(language, reply, limit=messages.MAX_CAPTION)


def keyboard(language: str, rows: Keyboard) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    messages.plain(language, choice.label, choice.params), callback_data=callbacks.encode(choice.action)
                )
                for choice in row
            ]
            for row in rows
        ]
    )
