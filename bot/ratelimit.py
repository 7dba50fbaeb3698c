"""Keeping to Telegram's limits: 30 requests a second overall, spread evenly; 20 a minute per group.

python-telegram-bot's AIORateLimiter uses a leaky bucket that allows a burst of 30 and
then 30 a second, so a single second can hold up to 60 requests. A bucket of one,
refilled every 1/30 s, keeps every second within 30 but was measured to fall to about
11 requests a second with a few hundred waiting handlers (its waiters contend).

This pacer lets requests through a gate one at a time, in order of arrival, each at
least 1/29 s after the previous one actually went. The spacing is measured from when
the previous request was really let through, not from when it was due: after the
event loop stalled (a slow disk, a busy machine), the waiting requests resume at the
same spacing instead of all going at once. So any second, sliding or not, holds at
most 30 requests whatever the load or the stalls (29 a second sustained); a stall
costs its own length, never a burst. Waiting at the gate is one FIFO lock and one
sleep per request, so the cost stays constant with hundreds of waiters.

A 429 from Telegram is waited out and the request retried (twice); beyond that the
outbox's own retries take over. Only requests that name a chat are paced, as Telegram
counts them; answers to button presses (which name none) go at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter


class _Gate:
    """Lets callers through one at a time, each at least ``interval`` after the previous one went."""

    __slots__ = ("_interval", "_lock", "_last")

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._lock = asyncio.Lock()  # FIFO: waiters pass in the order they arrived
        self._last = -math.inf

    async def passage(self) -> float:
        """Wait for this caller's turn; returns how long it waited beyond the lock."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            delay = self._last + self._interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            # The moment it really goes, not the moment it was due: a late wake-up moves
            # every later request too, so lateness never turns into a burst.
            self._last = loop.time()
            return max(delay, 0.0)


class TelegramPacer(BaseRateLimiter[int]):
    # 29 rather than 30: with the spacing measured from each real send, any second holds at
    # most 30 requests (at t, t + 1/29, ..., t + 29/29); 30 a second would allow 31.
    def __init__(self, overall_per_second: float = 29, group_per_minute: float = 20, max_retries: int = 2) -> None:
        self._overall = _Gate(1 / overall_per_second)
        self._group_interval = 60 / group_per_minute
        self._groups: dict[int | str, _Gate] = {}
        self._max_retries = max_retries
        self.paced = 0
        self.waited = 0.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

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
        if chat_id is not None:
            with contextlib.suppress(TypeError, ValueError):
                chat_id = int(chat_id)
        group = chat_id if (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str) else None
        retries = self._max_retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            if chat_id is not None:
                # A group's own, slower limit first: waiting for it must not hold the overall gate.
                if group is not None:
                    gate = self._groups.setdefault(group, _Gate(self._group_interval))
                    self.waited += await gate.passage()
                self.waited += await self._overall.passage()
                self.paced += 1
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == retries:
                    raise
                wait = error.retry_after
                await asyncio.sleep((wait.total_seconds() if isinstance(wait, timedelta) else float(wait)) + 0.1)
        raise AssertionError("unreachable")
