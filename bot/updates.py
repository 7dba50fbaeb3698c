"""Processing updates concurrently across chats but in order within one chat.

python-telegram-bot either processes updates one at a time or all at once. One at
a time makes two hundred reporters queue behind each other; all at once lets two
quick taps of one reporter race on the same draft. This processor gives each chat
its own lock: different chats run side by side, one chat's updates run in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable) -> None:
        chat_id = self._chat_of(update)
        if chat_id is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] = self._users.get(chat_id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[chat_id] -= 1
            if self._users[chat_id] == 0:
                del self._users[chat_id]
                del self._locks[chat_id]

    @staticmethod
    def _chat_of(update: object) -> int | None:
        if isinstance(update, Update):
            if update.effective_chat is not None:
                return update.effective_chat.id
            if update.effective_user is not None:
                return update.effective_user.id
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
