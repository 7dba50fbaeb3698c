"""How updates reach meldbot, each handled once, and the HTTP server for the webhook and /healthz.

Two ways in (``[telegram] mode``):

- ``polling``: python-telegram-bot's Updater asks Telegram for updates (long polling).
  ``[health] port`` adds a small server for ``GET /healthz``.
- ``webhook``: Telegram posts each update to ``webhook_url``; a reverse proxy forwards
  it to ``listen:port`` with the same path. meldbot registers the URL with setWebhook at
  start, with the secret and the update kinds it handles, and leaves it registered on
  stop, so Telegram keeps updates while meldbot is down. ``GET /healthz`` is served on
  the same port.

Handled once, in both modes: Telegram delivers an update again when its confirmation
(the next getUpdates) or the webhook's 2xx did not arrive, for instance because meldbot
was stopped or crashed in between. Every handled update_id is kept in the database
(``storage.telegram_state.HandledUpdates``, 48 hours) and a repeat is dropped. A webhook
request is answered 2xx only after its update was handled and recorded (or found to be
a repeat); if meldbot stops first, the request is answered 503 or its connection
closes, and Telegram delivers the update again later.

Why meldbot has its own aiohttp server instead of python-telegram-bot's webhook server
(``Updater.start_webhook``): that tornado server has no public way to serve another
route, so /healthz could not share the port (its application class lives in the
private ``telegram.ext._utils``); it answers 200 before the update is handled, so an
update lost in a crash would never come again; and it logs every request body at DEBUG
level, which here would be report content in the logs. This module follows
python-telegram-bot's documented custom-webhook pattern instead: check the secret,
``Update.de_json`` the body, put the update on ``application.update_queue``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import urllib.parse
import warnings
from collections.abc import Awaitable, Sequence
from typing import Any

from aiohttp import web
from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.error import TelegramError
from telegram.ext import Application, ExtBot

from bot import logs
from bot.config import Settings
from bot.health import HealthCheck
from bot.updates import PerChatUpdateProcessor
from flows.clock import Clock
from storage import Storage
from storage.telegram_state import HandledUpdates, webhook_secret

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Longer than any handler takes; shorter than Telegram waits for an answer.
HANDLING_WAIT = 50.0
# How long a stop waits for the Bot API to confirm the last fetched updates.
CONFIRM_WAIT = 1.5


class TolerantBot(ExtBot[None]):
    """python-telegram-bot's bot, but one update it cannot read no longer stops all the others.

    python-telegram-bot builds every update of a getUpdates answer at once; if one does not
    have the shape it expects (a self-hosted or emulating Bot API server, a field added or
    changed), the whole batch fails, is never confirmed, and is fetched again and again:
    nothing after it is ever handled. Here the same batch is fetched again as plain JSON;
    what can be read is handled, and each update that cannot is replaced by an empty one
    with the same id, so it is confirmed and skipped (its content never reaches a log).
    """

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        try:
            return await super().get_updates(
                offset=offset,
                limit=limit,
                timeout=timeout,
                allowed_updates=allowed_updates,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
                api_kwargs=api_kwargs,
            )
        except TelegramError:
            raise
        except Exception:  # the answer came, but python-telegram-bot could not build an update from it
            again: dict[str, Any] = {"offset": offset, "limit": limit, "timeout": 0}
            if allowed_updates is not None:
                again["allowed_updates"] = list(allowed_updates)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "use Bot.get_updates instead": that is what failed
                raw = await self.do_api_request(
                    "getUpdates", api_kwargs={k: v for k, v in again.items() if v is not None}
                )
            return tuple(update for data in raw if (update := self._readable(data)) is not None)

    def _readable(self, data: JSONDict) -> Update | None:
        update_id = data.get("update_id")
        if not isinstance(update_id, int):
            return None
        try:
            update = Update.de_json(data, self)
        except Exception:
            log.warning(
                "update %d could not be read and is skipped (not in the shape the Bot API documents)", update_id
            )
            return Update(update_id=update_id)
        self.insert_callback_data(update)
        return update


class ListenError(Exception):
    """The webhook or health server cannot listen where it is told to; the message says where and why."""


class OnceOnlyProcessor(PerChatUpdateProcessor):
    """Updates in order per chat (see bot.updates), each update_id handled once across restarts."""

    def __init__(self, handled: HandledUpdates, clock: Clock, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._handled = handled
        self._clock = clock
        self._waiting: dict[int, asyncio.Future[bool]] = {}
        self.repeats = 0

    def hand_over(self, update_id: int) -> tuple[asyncio.Future[bool], bool]:
        """A future that says True once this update is handled (or known), and whether it is new.

        A new update must then be put on the update queue; a known one or one already on its
        way must not be put there again.
        """
        waiting = self._waiting.get(update_id)
        if waiting is not None:
            return waiting, False
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if update_id in self._handled:
            self.repeats += 1
            future.set_result(True)
            return future, False
        self._waiting[update_id] = future
        return future, True

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        if update_id is None:
            await super().do_process_update(update, coroutine)
            return
        if update_id in self._handled:
            self.repeats += 1
            log.info("an update that was handled before came again; dropped")
            coroutine.close()  # type: ignore[attr-defined]  # a coroutine never started
            return
        done = False
        try:
            await super().do_process_update(update, coroutine)
            await self._handled.add(update_id, self._clock.now())
            done = True
        finally:
            waiting = self._waiting.pop(update_id, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(done)


class UpdateServer:
    """The aiohttp server on listen:port: the webhook path (webhook mode) and GET /healthz."""

    def __init__(
        self,
        listen: str,
        port: int,
        health: HealthCheck,
        *,
        webhook_path: str | None = None,
        secret: str | None = None,
        application: Application | None = None,
        processor: OnceOnlyProcessor | None = None,
    ) -> None:
        self.listen = listen
        self.port = port
        self._health = health
        self._secret = (secret or "").encode()
        self._application = application
        self._processor = processor
        self._open = True
        self._runner: web.AppRunner | None = None
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        if webhook_path is not None:
            app.router.add_post(webhook_path, self._webhook)
        self._app = app

    async def start(self) -> None:
        runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.listen, self.port).start()
        except OSError as error:
            await runner.cleanup()
            raise ListenError(f"cannot listen on {self.listen}:{self.port} ({error.strerror or error})") from None
        self._runner = runner

    def close_door(self) -> None:
        """From now on webhook requests get 503: Telegram keeps the update and tries again later."""
        self._open = False

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        report = await self._health.check()
        return web.json_response(report.body, status=report.status, headers={"Cache-Control": "no-store"})

    async def _webhook(self, request: web.Request) -> web.Response:
        assert self._application is not None and self._processor is not None
        if not self._open:
            return web.Response(status=503)
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("refused a webhook request without the right secret token")
            return web.Response(status=403)
        update = self._parse(await request.read())
        if update is None:
            log.warning("refused a webhook request whose body is not a Telegram update")
            return web.Response(status=400)
        handled, new = self._processor.hand_over(update.update_id)
        if new:
            await self._application.update_queue.put(update)
        try:
            done = await asyncio.wait_for(asyncio.shield(handled), HANDLING_WAIT)
        except TimeoutError:
            done = False
        # Not handled (stopping, or taking too long): Telegram will deliver it again.
        return web.Response(status=200 if done else 503)

    def _parse(self, body: bytes) -> Update | None:
        assert self._application is not None
        try:
            data = json.loads(body)
        except ValueError:
            return None
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return None
        try:
            return Update.de_json(data, self._application.bot)
        except Exception:  # whatever python-telegram-bot makes of a malformed update; never logged (content)
            return None


class Receiving:
    """Wires the chosen way in, the once-only processor and /healthz into a Meldbot."""

    def __init__(self, settings: Settings, storage: Storage, clock: Clock, processor: OnceOnlyProcessor) -> None:
        self._settings = settings
        self._storage = storage
        self._clock = clock
        self.processor = processor
        self.server: UpdateServer | None = None
        self._polling: Application | None = None

    @classmethod
    async def prepare(
        cls, settings: Settings, storage: Storage, clock: Clock, *, max_concurrent_updates: int
    ) -> Receiving:
        handled = await HandledUpdates.load(storage.db, clock.now())
        return cls(settings, storage, clock, OnceOnlyProcessor(handled, clock, max_concurrent_updates))

    async def start(self, application: Application, allowed_updates: list[str]) -> None:
        """After application.start(): begin receiving (and serving /healthz where configured)."""
        telegram, health_settings = self._settings.telegram, self._settings.health
        health = HealthCheck(self._storage, application.bot, self._clock, max_outbox_lag=health_settings.max_outbox_lag)
        if telegram.mode == "webhook":
            assert telegram.webhook_url is not None
            secret = (
                telegram.secret_token.get_secret_value()
                if telegram.secret_token is not None
                else await webhook_secret(self._storage.db)
            )
            logs.protect_handlers([secret])  # like the token: redacted from every log line, whatever logs it
            self.server = UpdateServer(
                telegram.listen,
                telegram.port,
                health,
                webhook_path=urllib.parse.urlsplit(telegram.webhook_url).path or "/",
                secret=secret,
                application=application,
                processor=self.processor,
            )
            await self.server.start()
            await application.bot.set_webhook(
                telegram.webhook_url, secret_token=secret, allowed_updates=allowed_updates
            )
            log.info("receiving updates by webhook on %s:%d", telegram.listen, telegram.port)
            return
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0, timeout=telegram.poll_timeout, allowed_updates=allowed_updates
        )
        self._polling = application
        if health_settings.port is not None:
            self.server = UpdateServer(health_settings.listen, health_settings.port, health)
            await self.server.start()

    async def stop_receiving(self) -> None:
        """Before application.stop(): take in nothing new (what is on its way is still handled)."""
        if self.server is not None:
            self.server.close_door()
        if self._polling is not None and self._polling.updater is not None and self._polling.updater.running:
            # The Updater ends with one more getUpdates that confirms what was fetched. A server that
            # holds it (not honouring timeout=0) would hold the stop for its whole long poll; an
            # update left unconfirmed comes again after the restart and is recognised as handled.
            try:
                await asyncio.wait_for(self._polling.updater.stop(), CONFIRM_WAIT)
            except TimeoutError:
                log.info(
                    "the Bot API did not confirm the last updates within %.1f s; any it sends again are"
                    " recognised as handled",
                    CONFIRM_WAIT,
                )
        self._polling = None

    async def close(self) -> None:
        """After application.stop(): close the server (requests still waiting get their answer first)."""
        if self.server is not None:
            await self.server.stop()
            self.server = None
