"""Keeping to Telegram's limits: 30 requests a second overall, spread evenly; 20 a minute per group.

python-telegram-bot's AIORateLimiter uses a leaky bucket that allows a burst of 30 and
then 30 a second, so a single second can hold up to 60 requests. A bucket of one,
refilled every 1/30 s, keeps every second within 30 but was measured to fall to about
11 requests a second with a few hundred waiting handlers (its waiters contend). This
pacer gives each request the next free slot in order of arrival: exactly 30 a second
under any load, first come first served, at constant cost. A 429 from Telegram is
waited out and the request retried (twice); beyond that the outbox's own retries take
over. Only requests that name a chat are paced, as Telegram counts them; answers to
button presses (which name none) go at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter


class TelegramPacer(BaseRateLimiter[int]):
    # 29 rather than 30: a wake-up a few milliseconds late must not put a 31st request in a second.
    def __init__(self, overall_per_second: float = 29, group_per_minute: float = 20, max_retries: int = 2) -> None:
        self._interval = 1 / overall_per_second
        self._group_interval = 60 / group_per_minute
        self._max_retries = max_retries
        self._next = 0.0
        self._group_next: dict[int | str, float] = {}
        self.paced = 0
        self.waited = 0.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def _take(self, interval: float, after: float) -> tuple[float, float]:
        """Reserve the first slot at or after ``after``; returns (the slot, the following free one)."""
        now = asyncio.get_running_loop().time()
        slot = max(now, after)
        return slot, slot + interval

    async def _wait_until(self, slot: float) -> None:
        delay = slot - asyncio.get_running_loop().time()
        if delay > 0:
            self.waited += delay
            await asyncio.sleep(delay)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)
        group = chat_id if (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str) else None
        retries = self._max_retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            if chat_id is not None:
                # Slots are reserved before any waiting, so requests keep the order they came in.
                if group is not None:
                    group_slot, self._group_next[group] = await self._take(
                        self._group_interval, self._group_next.get(group, 0.0)
                    )
                    await self._wait_until(group_slot)
                slot, self._next = await self._take(self._interval, self._next)
                self.paced += 1
                await self._wait_until(slot)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == retries:
                    raise
                wait = error.retry_after
                await asyncio.sleep((wait.total_seconds() if isinstance(wait, timedelta) else float(wait)) + 0.1)
        raise AssertionError("unreachable")
