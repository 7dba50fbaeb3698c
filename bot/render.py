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


def text(language: str, reply: Reply) -> str:
    return messages.render(language, reply.key, reply.params)


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
