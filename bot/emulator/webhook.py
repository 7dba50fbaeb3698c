"""Webhook delivery: pushing updates to the bot's URL the way Telegram does.

This module owns what happens while a webhook is set (``setWebhook``): every queued
update is POSTed as JSON to the URL, with the header ``X-Telegram-Bot-Api-Secret-Token``
when a secret was given, and stays queued until the bot answers with a 2xx status.
A failure (no connection, a timeout, any other status) is remembered for
``getWebhookInfo`` (``last_error_date``, ``last_error_message``) and the same update is
tried again after a backoff that doubles up to a ceiling.

Order follows telegram-bot-api's webhook actor: updates of one chat go one at a time,
in order, each waiting for the previous one's 2xx; different chats are delivered side
by side, at most ``max_connections`` at once.

Faults for tests, through ``BotApiEmulator.inject_fault("@webhook", kind=...)``:
``"drop"`` before (the bot is never reached) or ``after=True`` (the bot handled the
update but its answer never arrived: the case in which Telegram delivers an update
twice), and ``"delay"`` (wait before posting).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from .server import BotApiEmulator

__all__ = ["WebhookDelivery", "WebhookSettings", "queue_of"]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
FAULT_METHOD = "@webhook"


@dataclass(frozen=True)
class WebhookSettings:
    """What ``setWebhook`` registered."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None


def queue_of(update: dict[str, Any]) -> tuple[str, int]:
    """Updates with the same key are delivered strictly one after the other (one chat, one queue)."""
    for kind, payload in update.items():
        if kind == "update_id" or not isinstance(payload, dict):
            continue
        chat = payload.get("chat")
        if chat is None and isinstance(payload.get("message"), dict):
            chat = payload["message"].get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return ("chat", chat["id"])
        sender = payload.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return ("chat", sender["id"])
    return ("update", int(update["update_id"]))


def _loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookDelivery:
    """The delivery loop of one emulator. See the module docstring."""

    def __init__(
        self,
        emu: BotApiEmulator,
        *,
        first_retry: float,
        max_retry: float,
        timeout: float,
        clock: Callable[[], float],
    ) -> None:
        self._emu = emu
        self._first_retry = first_retry
        self._max_retry = max_retry
        self._timeout = timeout
        self._clock = clock
        self.settings: WebhookSettings | None = None
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        # Every POST made: (update_id, HTTP status or 0 when no answer arrived). For tests.
        self.attempts: list[tuple[int, int]] = []
        self._busy: dict[tuple[str, int], int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._wakeup = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    # -- lifecycle (the emulator's) --------------------------------------------------
    def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        self._loop_task = asyncio.get_running_loop().create_task(self._dispatch(), name="emulator-webhook")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop_task = None
        self._tasks.clear()
        self._busy.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- what the methods change -------------------------------------------------------
    def configure(self, settings: WebhookSettings | None) -> None:
        self.settings = settings
        self.kick()

    def kick(self) -> None:
        """Something changed (an update queued, a delivery done, the webhook set): look again."""
        self._wakeup.set()

    # -- delivering ------------------------------------------------------------------------
    async def _dispatch(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            settings = self.settings
            if settings is None:
                continue
            for update in self._emu.queued_updates():
                if len(self._busy) >= settings.max_connections:
                    break
                queue = queue_of(update)
                if queue in self._busy:
                    continue  # this chat's earlier update is still on its way
                self._busy[queue] = update["update_id"]
                task = asyncio.get_running_loop().create_task(self._deliver(queue, update))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _deliver(self, queue: tuple[str, int], update: dict[str, Any]) -> None:
        try:
            failures = 0
            while self.settings is not None and self._emu.is_queued(update["update_id"]):
                if await self._post(self.settings, update):
                    self._emu.remove_update(update["update_id"])
                    return
                failures += 1
                await asyncio.sleep(min(self._max_retry, self._first_retry * 2 ** (failures - 1)))
        finally:
            self._busy.pop(queue, None)
            self.kick()

    async def _post(self, settings: WebhookSettings, update: dict[str, Any]) -> bool:
        assert self._session is not None
        if not _loopback(settings.url):
            # The emulator never reaches beyond this machine: any other host is as good as unknown.
            self.attempts.append((update["update_id"], 0))
            return self._failed("Failed to resolve host: Name or service not known")
        fault = self._emu.take_fault(FAULT_METHOD)
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.kind == "drop" and not fault.after:
            self.attempts.append((update["update_id"], 0))
            return self._failed("Connection refused")
        headers = {"Content-Type": "application/json"}
        if settings.secret_token:
            headers[SECRET_HEADER] = settings.secret_token
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        try:
            async with self._session.post(settings.url, data=body, headers=headers) as response:
                await response.read()
                status, reason = response.status, response.reason or ""
        except TimeoutError:
            self.attempts.append((update["update_id"], 0))
            return self._failed("Read timeout expired")
        except aiohttp.ClientConnectionError:
            self.attempts.append((update["update_id"], 0))
            return self._failed("Connection refused")
        self.attempts.append((update["update_id"], status))
        if fault is not None and fault.kind == "drop":
            return self._failed("Read timeout expired")  # the bot answered; the answer was lost
        if 200 <= status < 300:
            return True
        return self._failed(f"Wrong response from the webhook: {status} {reason}".rstrip())

    def _failed(self, message: str) -> bool:
        self.last_error_date = int(self._clock())
        self.last_error_message = message
        return False
