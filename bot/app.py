"""The one entry point that wires meldbot together and runs it.

:class:`Meldbot` opens storage (refusing a mismatched key), builds the
python-telegram-bot Application against the configured Bot API server, registers
the handlers, sets the command menus and the bot's descriptions, routes reports
that were waiting for a recipient, starts the outbox courier, and starts receiving
updates (long polling or a webhook, see bot.receiving). Tests and ``meldbot demo``
drive exactly this object against a local Bot API emulator.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from telegram import Bot, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot import handlers
from bot.alarm import job_queue_of
from bot.config import Settings
from bot.delivery import Courier
from bot.ratelimit import TelegramPacer
from bot.receiving import Receiving, TolerantBot
from bot.scheduling import Timekeeper
from bot.services import build as build_services
from flows.aftercare import KINDS as AFTERCARE_KINDS
from flows.clock import Clock, SystemClock
from flows.dossiers import KINDS as DOSSIER_KINDS
from flows.escalation import KINDS as ESCALATIONS
from flows.lifecycle import TimerKind
from flows.model import Language
from flows.privacy import describe
from flows.retention import KINDS as RETENTION_KINDS
from flows.retention import Retention
from flows.routing import Router, StaffMember
from flows.tracks import KINDS as TRACK_KINDS
from storage import Storage

log = logging.getLogger(__name__)

# How long setting one of the bot's descriptions may take. Telegram may tell a bot that changes
# its profile often to retry in an hour, and the rate limiter would wait that out: the start does not.
PROFILE_TIMEOUT = 5.0

ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.CHANNEL_POST,
]


class Meldbot:
    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.storage: Storage | None = None
        self.application: Application | None = None
        self.courier: Courier | None = None
        self.timekeeper: Timekeeper | None = None
        self.receiving: Receiving | None = None

    async def start(self) -> None:
        settings = self.settings
        if not (settings.storage.database.exists() and settings.storage.key_file.exists()):
            # First start: the Bot API must answer (getMe) before a key file and database are created,
            # or a wrong token or an unreachable server leaves a new key (and its banner) behind.
            async with Bot(settings.token, base_url=settings.telegram.api_base_url):
                pass
        self.storage = storage = await Storage.open(settings.storage.database, settings.storage.key_file)
        try:
            self._announce_key()
            self.receiving = receiving = await Receiving.prepare(
                settings, storage, self.clock, max_concurrent_updates=256
            )
            router = Router(
                settings.counsellor_list(),
                settings.coordinator_list(),
                storage.people.index_of,
                management=settings.management_list(),
                damages_helper=settings.damages_helper(),
            )
            application = (
                Application.builder()
                .bot(
                    TolerantBot(
                        settings.token,
                        base_url=settings.telegram.api_base_url,
                        base_file_url=settings.telegram.file_base_url,
                        request=HTTPXRequest(connection_pool_size=256),
                        # On stop, python-telegram-bot confirms the last updates with one more
                        # getUpdates while the cancelled long poll may still hold its connection; a
                        # second connection lets that confirmation through.
                        get_updates_request=HTTPXRequest(
                            connection_pool_size=2, read_timeout=settings.telegram.poll_timeout + 10
                        ),
                        # Telegram's limits, 30 a second overall (evenly spread) and 20 a minute per
                        # group; 429s waited out and retried twice, the outbox courier retrying beyond.
                        rate_limiter=TelegramPacer(),  # type: ignore[arg-type]  # its retry data is an int
                    )
                )
                # Enough slots that a button press never waits behind other chats' handlers queued
                # in the rate limiter: its answer (not rate limited) then comes at once.
                .concurrent_updates(receiving.processor)
                .build()
            )
            self.application = application
            services = build_services(storage, router, self.clock, settings.policy())
            self.courier = Courier(
                application,
                storage,
                router,
                self.clock,
                settings.zone,
                notices=services.notices,
                sweep_interval=settings.delivery.sweep_interval,
                max_backoff=settings.delivery.max_backoff,
                quiet=settings.quiet(),
            )
            self.timekeeper = Timekeeper(
                application, storage, self.clock, sweep_interval=settings.delivery.sweep_interval
            )
            for kind in ESCALATIONS:
                self.timekeeper.handle(kind, services.escalation.run)
            for kind in AFTERCARE_KINDS:
                self.timekeeper.handle(kind, services.aftercare.run)
            for kind in TRACK_KINDS:
                self.timekeeper.handle(kind, services.tracks.run)
            retention = Retention(storage, self.clock, settings.retention.closed_cases, settings.quiet())
            for kind in RETENTION_KINDS:
                self.timekeeper.handle(kind, retention.run)
            self.timekeeper.handle(TimerKind.PULSE_ROUND, services.pulse.run)
            for kind in DOSSIER_KINDS:
                self.timekeeper.handle(kind, services.dossiers.run)
            self.timekeeper.handle(TimerKind.QUARTERLY_SUMMARY, services.steering.run_summary)
            await services.steering.arm_summary()
            services.courier, services.timekeeper = self.courier, self.timekeeper
            application.bot_data["services"] = services
            handlers.register(application)

            async def log_audit_head(_: object = None) -> None:
                """At start and daily: the audit trail's head in the log, an anchor for `audit verify --expect`."""
                head = await storage.audit.head()
                log.log(logging.INFO if head else logging.ERROR, "audit head %s", head or "missing: run audit verify")

            await log_audit_head()
            job_queue_of(application).run_repeating(log_audit_head, interval=timedelta(days=1), name="audit head")
            enrolled = await services.enrolment.sync()
            if enrolled:
                log.info("%d enrolled staff member(s) beside the configured ones", enrolled)

            async def sync_staff(_: object = None) -> None:
                """Enrolments ended from the command line (meldbot staff remove) reach the running bot."""
                await services.enrolment.sync()

            job_queue_of(application).run_repeating(
                sync_staff, interval=settings.delivery.sweep_interval, name="staff roster"
            )
            await retention.arm()
            for warning in settings.warnings():
                log.warning("configuration: %s", warning)
            await application.initialize()
            await storage.remember_bot_username(application.bot.username)
            await self._set_command_menus(router)
            await self._set_descriptions(application.bot)
            rerouted = await services.intake.route_waiting()
            if rerouted:
                log.info("routed %d report(s) that were waiting for a recipient", rerouted)
            await self._check_staff_reachable(router)
            await self.courier.start()
            pulse_due = await services.pulse.arm()
            if pulse_due is not None:
                log.info("the safety pulse goes out at %s", pulse_due.isoformat(timespec="seconds"))
            due = await self.timekeeper.start()
            if due is not None:
                log.info("the next scheduled item falls due at %s", due.isoformat(timespec="seconds"))
            await application.start()
            await receiving.start(application, ALLOWED_UPDATES)
            log.info("meldbot is running as @%s", application.bot.username)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        application = self.application
        if application is not None:
            if self.receiving is not None:
                await self.receiving.stop_receiving()
            if self.timekeeper is not None:
                self.timekeeper.stop()
            if self.courier is not None:
                await self.courier.stop()
            if application.running:
                await application.stop()
            if self.receiving is not None:
                await self.receiving.close()
            await application.shutdown()
            self.application = None
        self.receiving = None
        if self.storage is not None:
            await self.storage.close()
            self.storage = None

    async def __aenter__(self) -> Meldbot:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _announce_key(self) -> None:
        assert self.storage is not None
        key_file = self.storage.key_file
        if key_file.created:
            # One line each, so every log reader (journald, JSON lines, grep) keeps them together and whole.
            log.warning("A NEW KEY FILE WAS CREATED: %s", key_file.path)
            log.warning("Back it up NOW, somewhere other than the database backup.")
            log.warning("Every report is encrypted with it: if this file is lost, every report is lost with it.")

    async def _set_command_menus(self, router: Router) -> None:
        """Each role its own menu: reporters (or, in invite mode, strangers) by default; staff per chat."""
        assert self.application is not None
        bot = self.application.bot
        default = handlers.REPORTER_COMMANDS if self.settings.access.mode == "open" else handlers.STRANGER_COMMANDS
        menus: list[tuple[tuple[str, ...], str, object, str | None]] = [
            (default, "en", BotCommandScopeDefault(), None),
            (default, "nl", BotCommandScopeDefault(), "nl"),
        ]
        # One menu per person, for their most involved role (a mayor in management may also coordinate).
        everyone: list[StaffMember] = [*router.management, *router.coordinators, *router.counsellors]
        staff = {m.telegram_id: m for m in everyone}
        for telegram_id, member in staff.items():
            commands = handlers.staff_commands(router.staff_member(telegram_id), self.settings.access.mode == "invite")
            if commands is not None:
                menus.append((commands, member.language.value, BotCommandScopeChat(telegram_id), None))
        for commands, language, scope, language_code in menus:
            try:
                await bot.set_my_commands(
                    handlers.command_menu(language, commands), scope=scope, language_code=language_code
                )
            except TelegramError as error:
                # A staff member who never opened the bot: their menu follows when they do.
                log.info("could not set a command menu: %s", type(error).__name__)

    async def _set_descriptions(self, bot: Bot) -> None:
        """What people see before they press Start: English by default, Dutch for Telegram language "nl".

        Each text is set only when it changed (Telegram limits how often a bot changes its
        profile). A failure is a warning: the previous text stays, the other texts are still
        set, and the start goes on.
        """
        organisation = self.settings.organisation_details()
        for language, code in ((Language.EN, None), (Language.NL, "nl")):
            wanted = describe(organisation, language)
            try:
                async with asyncio.timeout(PROFILE_TIMEOUT):
                    if (await bot.get_my_description(code)).description != wanted.description:
                        await bot.set_my_description(wanted.description, code)
            except (TelegramError, TimeoutError) as error:
                log.warning("could not set the bot's %s description (%s)", language.value, type(error).__name__)
            try:
                async with asyncio.timeout(PROFILE_TIMEOUT):
                    if (await bot.get_my_short_description(code)).short_description != wanted.short_description:
                        await bot.set_my_short_description(wanted.short_description, code)
            except (TelegramError, TimeoutError) as error:
                log.warning("could not set the bot's %s short description (%s)", language.value, type(error).__name__)

    async def _check_staff_reachable(self, router: Router) -> None:
        """Warn about counsellors and coordinators who have not started the bot: it cannot write to them.

        Only a warning, so nothing here may stop the start: a Bot API server that answers
        oddly (a self-hosted one, say) is named as the cause, not the person.
        """
        assert self.application is not None
        bot = self.application.bot
        members = [("counsellors", m) for m in router.counsellors] + [("coordinators", m) for m in router.coordinators]
        for group, member in members:
            configured = len(self.settings.counsellors if group == "counsellors" else self.settings.coordinators)
            who = (
                f"{group} #{member.position + 1} in the configuration"
                if member.position < configured
                else f"an enrolled {group[:-1]} (meldbot staff list)"
            )
            try:
                await bot.get_chat(member.telegram_id)
            except (BadRequest, Forbidden) as error:
                log.warning(
                    "%s cannot be reached yet (%s): they must open the bot and press Start"
                    " before reports can reach them; what waits for them goes as soon as they do",
                    who,
                    type(error).__name__,
                )
            except Exception as error:  # a warn-only check: never stop the start over it
                log.warning(
                    "could not check whether %s can be reached: the Bot API server's answer was unusable (%s)",
                    who,
                    type(error).__name__,
                )


async def run_until_stopped(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then shut down cleanly (pending work stays in the database)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with Meldbot(settings):
        await stop.wait()
        log.info("stopping")
