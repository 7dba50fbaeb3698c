"""The health check behind ``GET /healthz``: can meldbot do its work right now?

It writes one small row (the database accepts writes), asks Telegram who the bot is
(the Bot API answers; at most once every few seconds, however often it is asked), and
reads when the oldest unsent notification fell due (the outbox keeps up). All fine:
200 and ``{"database": "ok", "bot_api": "ok", "outbox_lag_seconds": 0,
"oldest_pending": null}``. Anything wrong: 503, the failing field saying what, and
``problems`` listing each in a sentence. It never shows personal data or the token:
only states, a number of seconds and a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from telegram import Bot
from telegram.error import TelegramError

from flows.clock import Clock
from storage import Storage
from storage.telegram_state import probe_write

log = logging.getLogger(__name__)

BOT_API_TIMEOUT = 5.0
BOT_API_REMEMBERED = 5.0  # seconds one answer from Telegram stands for


@dataclass(frozen=True, slots=True)
class HealthReport:
    healthy: bool
    body: dict[str, Any]

    @property
    def status(self) -> int:
        return 200 if self.healthy else 503


class HealthCheck:
    def __init__(self, storage: Storage, bot: Bot, clock: Clock, *, max_outbox_lag: timedelta) -> None:
        self._storage = storage
        self._bot = bot
        self._clock = clock
        self._max_lag = max_outbox_lag
        self._bot_api: tuple[float, str] | None = None  # (monotonic time, state)
        self._bot_api_lock = asyncio.Lock()

    async def check(self) -> HealthReport:
        problems: list[str] = []
        now = self._clock.now()
        try:
            await probe_write(self._storage.db, now)
            database = "ok"
        except Exception as error:  # whatever stops a write: read-only, disk full, closed
            database = "not writable"
            problems.append("the database does not accept writes")
            log.warning("health check: the database does not accept writes (%s)", type(error).__name__)
        bot_api = await self._bot_api_state()
        if bot_api != "ok":
            problems.append("the Bot API cannot be reached")
        lag: int | None = None
        oldest = None
        try:
            due = await self._storage.outbox.next_due()
        except Exception as error:
            problems.append("the outbox cannot be read")
            log.warning("health check: the outbox cannot be read (%s)", type(error).__name__)
        else:
            lag = 0 if due is None else max(0, int((now - due).total_seconds()))
            oldest = None if due is None else due.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            if lag > self._max_lag.total_seconds():
                problems.append(
                    f"outbox lag {lag} s is over the limit of {int(self._max_lag.total_seconds())} s"
                    " ([health] max_outbox_lag)"
                )
        body: dict[str, Any] = {
            "database": database,
            "bot_api": bot_api,
            "outbox_lag_seconds": lag,
            "oldest_pending": oldest,
        }
        if problems:
            body["problems"] = problems
        return HealthReport(not problems, body)

    async def _bot_api_state(self) -> str:
        async with self._bot_api_lock:
            if self._bot_api is not None and time.monotonic() - self._bot_api[0] < BOT_API_REMEMBERED:
                return self._bot_api[1]
            try:
                await self._bot.get_me(read_timeout=BOT_API_TIMEOUT, connect_timeout=BOT_API_TIMEOUT)
                state = "ok"
            except TelegramError as error:
                state = "unreachable"
                log.warning("health check: the Bot API cannot be reached (%s)", type(error).__name__)
            self._bot_api = (time.monotonic(), state)
            return state
