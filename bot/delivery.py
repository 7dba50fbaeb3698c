"""The courier: sends what waits in the outbox, and keeps trying until Telegram takes it.

Runs on python-telegram-bot's JobQueue: immediately when something is queued
(:meth:`Courier.wake`), at the moment the earliest retry falls due, and on a periodic
sweep that catches anything else (including items left 'sending' by a crash).
Failures are classified: a 429 waits exactly as long as Telegram asks; network
errors and 5xx back off exponentially; a recipient who has not started the bot (or
blocked it) is retried on the same backoff, because the report must still reach
them once they do; a request Telegram refuses outright is a bug and is given up
loudly rather than retried forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import warnings
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import Bot, InputFile, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, Job

from bot import render
from bot.alarm import Alarm, job_queue_of
from flows.clock import Clock
from flows.dossiers import DossierDocument
from flows.lifecycle import Drop, Party, Readdress
from flows.model import Language
from flows.notices import FileNotice, Gone, Notices
from flows.outcome import FileKind, MadeFile, Reply
from flows.routing import Router
from flows.timing import QuietHours
from storage import Storage
from storage.cases import AttachmentRecord
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BATCH = 32
PARALLEL = 8
_FIRST_RETRY = timedelta(seconds=2)
_UNREACHABLE_FIRST_RETRY = timedelta(minutes=1)


class ChatPacer:
    """At most one message a second to any one chat (Telegram's advice; bursts earn 429s)."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._locks: dict[int, asyncio.Lock] = {}
        self._last: dict[int, float] = {}
        self.waited = 0.0

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            wait = self._last.get(chat_id, float("-inf")) + self.interval - loop.time()
            if wait > 0:
                self.waited += wait
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._last[chat_id] = loop.time()
        if len(self._last) > 4096:  # forget chats that have been quiet for a while
            cutoff = loop.time() - 60
            for chat in [c for c, t in self._last.items() if t < cutoff and not self._locks[c].locked()]:
                del self._last[chat], self._locks[chat]


class Undeliverable(Exception):
    """The item can never be sent (its case or recipient is gone); ``reason`` is a short code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def backoff(attempts: int, first: timedelta, ceiling: timedelta) -> timedelta:
    """Exponential backoff with 20% jitter, so retries after an outage do not arrive in step."""
    seconds = min(first.total_seconds() * 2 ** max(0, attempts - 1), ceiling.total_seconds())
    return timedelta(seconds=seconds * random.uniform(0.8, 1.0))


def _retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        # Seconds now, a timedelta once PTB_TIMEDELTA is on (the meldbot command opts in); both work.
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Courier:
    def __init__(
        self,
        application: Application,
        storage: Storage,
        router: Router,
        clock: Clock,
        zone: ZoneInfo,
        *,
        notices: Notices,
        sweep_interval: timedelta,
        max_backoff: timedelta,
        quiet: QuietHours | None = None,
    ) -> None:
        self._app = application
        self._storage = storage
        self._router = router
        self._clock = clock
        self._zone = zone
        self._sweep_interval = sweep_interval
        self._max_backoff = max_backoff
        self._notices = notices
        self._quiet = quiet
        self.pacer = ChatPacer()
        self._lock = asyncio.Lock()
        self._again = False
        self._jobs = job_queue_of(application)
        self._alarm = Alarm(self._jobs, clock, self.run, "outbox-due")
        self._sweep: Job | None = None
        self._stopping = False
        self.sent = 0
        storage.db.on_due("outbox", self._due)

    def _due(self, moment: datetime) -> None:
        """Something in the outbox falls due at ``moment`` (told by the database after a commit)."""
        if self._stopping:
            return
        if moment <= self._clock.now():
            self.wake()
        else:
            self._alarm.set(moment)

    async def start(self) -> None:
        self._stopping = False
        recovered = await self._storage.outbox.recover_after_restart()
        if recovered:
            # Claimed by the run before a crash: perhaps sent already, the answer lost (see README).
            log.info("%d outbox item(s) were being sent when the bot last stopped; sending them again", recovered)
        self._sweep = self._jobs.run_repeating(self._job, interval=self._sweep_interval, first=0, name="outbox-sweep")

    async def stop(self) -> None:
        """Stop scheduling runs and wait for one under way, so nothing is cut off mid-send."""
        self._stopping = True
        self._alarm.cancel()
        if self._sweep is not None:
            self._sweep.schedule_removal()
            self._sweep = None
        async with self._lock:
            pass

    def wake(self) -> None:
        """Send what is due now (coalesced: a run already under way loops once more)."""
        if self._stopping:
            return
        if self._lock.locked():
            self._again = True
            return
        self._jobs.run_once(self._job, when=0, name="outbox-wake")

    def clock_moved(self) -> None:
        """The clock was moved forward (meldbot demo): the alarm waits in real seconds, so it is set anew."""
        self._alarm.cancel()
        self.wake()

    async def arrived(self, recipient_index: bytes) -> None:
        """Someone opened the bot: what waited because they could not be reached goes now."""
        await self._storage.outbox.hurry_recipient(recipient_index, self._clock.now())

    async def _job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.run()

    async def run(self) -> None:
        if self._stopping:
            return
        if self._lock.locked():
            self._again = True
            return
        async with self._lock:
            while not self._stopping:
                self._again = False
                items = await self._storage.outbox.claim_due(self._clock.now(), lease=LEASE, limit=BATCH)
                if items:
                    await self._deliver_all(items)
                    continue
                if not self._again:
                    break
        await self._schedule_next()

    async def _deliver_all(self, items: list[OutboxItem]) -> None:
        # Different recipients side by side; one recipient's items one after the other, paced
        # at a message a second. The rate limiter keeps the whole at Telegram's 30 a second.
        gate = asyncio.Semaphore(PARALLEL)
        by_recipient: dict[bytes, list[OutboxItem]] = {}
        for item in items:
            by_recipient.setdefault(item.recipient_index, []).append(item)

        async def one_recipient(queue: list[OutboxItem]) -> None:
            async with gate:
                for item in queue:
                    await self._deliver(item)

        await asyncio.gather(*(one_recipient(queue) for queue in by_recipient.values()))

    async def _schedule_next(self) -> None:
        if self._stopping:
            return
        due = await self._storage.outbox.next_due()
        if due is not None:
            self._alarm.set(max(due, self._clock.now()))

    async def _deliver(self, item: OutboxItem) -> None:
        now = self._clock.now()
        outbox = self._storage.outbox
        if item.recipient_role is Party.REPORTER and self._quiet is not None and self._quiet.is_quiet(now):
            # Nothing reaches a reporter at night: it waits for the morning.
            await outbox.defer(item.id, self._quiet.next_allowed(now))
            return
        verdict = await self._notices.authorise(item)
        if isinstance(verdict, Drop):
            log.info("outbox item %s (%s) not sent: %s", item.id[:8], item.kind, verdict.reason)
            await outbox.drop(item.id, verdict.reason)
            return
        if isinstance(verdict, Readdress):
            deliveries = await self._notices.handlers_now(item)
            log.info(
                "outbox item %s (%s) goes to whoever handles the case now (%d)", item.id[:8], item.kind, len(deliveries)
            )
            await outbox.readdress(item.id, item.case_id, deliveries, now)
            self._again = True
            return
        try:
            message = await self._send(item)
        except Undeliverable as gone:
            log.warning("outbox item %s (%s) cannot be delivered: %s", item.id[:8], item.kind, gone.reason)
            await outbox.give_up(item.id, gone.reason)
            return
        except RetryAfter as error:
            wait = timedelta(seconds=_retry_after_seconds(error))
            log.info("Telegram asked to wait %.0f s before outbox item %s", wait.total_seconds(), item.id[:8])
            await outbox.retry_later(item.id, now + wait, "429")
            return
        except Forbidden:
            await self._unreachable(item)
            return
        except BadRequest as error:
            if "chat not found" in error.message.lower():
                await self._unreachable(item)
                return
            # Telegram refuses the request itself: retrying cannot help. This is a bug to fix.
            log.error("Telegram refused outbox item %s (%s); giving it up", item.id[:8], item.kind)
            await outbox.give_up(item.id, "bad_request")
            return
        except NetworkError as error:
            wait = backoff(item.attempts, _FIRST_RETRY, self._max_backoff)
            log.info(
                "network trouble sending outbox item %s (%s); retry in %.0f s",
                item.id[:8],
                type(error).__name__,
                wait.total_seconds(),
            )
            await outbox.retry_later(item.id, now + wait, "network")
            return
        except TelegramError as error:
            wait = backoff(item.attempts, _FIRST_RETRY, self._max_backoff)
            log.warning(
                "Telegram error %s for outbox item %s; retry in %.0f s",
                type(error).__name__,
                item.id[:8],
                wait.total_seconds(),
            )
            await outbox.retry_later(item.id, now + wait, "telegram")
            return
        await outbox.delivered(item.id, message.message_id, self._clock.now())
        self.sent += 1

    async def _unreachable(self, item: OutboxItem) -> None:
        wait = backoff(item.attempts, _UNREACHABLE_FIRST_RETRY, self._max_backoff)
        who = self._describe(item)
        log.warning(
            "%s cannot be reached (has not started the bot, or blocked it); outbox item %s waits %.0f s",
            who,
            item.id[:8],
            wait.total_seconds(),
        )
        await self._storage.outbox.retry_later(item.id, self._clock.now() + wait, "unreachable")

    def _describe(self, item: OutboxItem) -> str:
        if item.recipient_role is Party.REPORTER:
            return "a reporter"
        member = self._router.staff_by_index(item.recipient_index, item.recipient_role)
        if member is None:
            return f"a former {item.recipient_role.value}"
        return f"{item.recipient_role.value}s #{member.position + 1} in the configuration"

    async def _send(self, item: OutboxItem) -> Message:
        if item.recipient_role is Party.REPORTER:
            person = await self._storage.people.find_by_index(item.recipient_index)
            if person is None:
                raise Undeliverable("reporter_gone")
            chat_id, language = person.telegram_id, person.language
        else:
            member = self._router.staff_by_index(item.recipient_index, item.recipient_role)
            if member is None:
                raise Undeliverable("recipient_not_configured")
            chat_id, language = member.telegram_id, member.language.value
        try:
            notice = await self._notices.compose(item, language)
        except Gone as gone:
            raise Undeliverable(gone.reason) from None
        bot: Bot = self._app.bot
        async with self.pacer.turn(chat_id):
            if isinstance(notice, DossierDocument):
                caption = notice.caption
                return await bot.send_document(
                    chat_id,
                    InputFile(notice.content, filename=notice.file_name),
                    render.caption(language, caption),
                    parse_mode=render.PARSE_MODE,
                    protect_content=caption.protect_content,
                )
            if isinstance(notice, FileNotice):
                caption = notice.caption
                return await _send_file(
                    bot, chat_id, notice.attachment, render.caption(language, caption), caption.protect_content
                )
            return await send_reply(bot, chat_id, Language(language), notice)


async def send_reply(bot: Bot, chat_id: int, language: Language | str, reply: Reply) -> Message:
    lang = Language(language).value
    return await bot.send_message(
        chat_id,
        render.text(lang, reply),
        parse_mode=render.PARSE_MODE,
        reply_markup=render.keyboard(lang, reply.keyboard),
        protect_content=reply.protect_content,
    )


async def send_made_file(bot: Bot, chat_id: int, language: Language | str, made: MadeFile) -> Message:
    """A chart or an export the bot made, protected: it cannot be forwarded or saved."""
    lang = Language(language).value
    upload = InputFile(made.content, filename=made.file_name)
    caption = render.caption(lang, Reply(made.caption.key, made.caption.params))
    mode = render.PARSE_MODE
    if made.kind is FileKind.PHOTO:
        return await bot.send_photo(chat_id, upload, caption, parse_mode=mode, protect_content=True)
    return await bot.send_document(chat_id, upload, caption, parse_mode=mode, protect_content=True)


async def _send_file(bot: Bot, chat_id: int, attachment: AttachmentRecord, caption: str, protect: bool) -> Message:
    upload = InputFile(
        attachment.content, filename=attachment.file_name or _default_name(attachment.kind, attachment.mime_type)
    )
    mode = render.PARSE_MODE
    seconds = attachment.duration
    if attachment.kind == "photo":
        return await bot.send_photo(chat_id, upload, caption, parse_mode=mode, protect_content=protect)
    if attachment.kind == "voice":
        return await bot.send_voice(chat_id, upload, seconds, caption, parse_mode=mode, protect_content=protect)
    if attachment.kind == "audio":
        return await bot.send_audio(chat_id, upload, seconds, caption=caption, parse_mode=mode, protect_content=protect)
    if attachment.kind == "video":
        return await bot.send_video(chat_id, upload, seconds, caption=caption, parse_mode=mode, protect_content=protect)
    # Video notes cannot carry a caption; a document keeps the file and its caption together.
    return await bot.send_document(chat_id, upload, caption, parse_mode=mode, protect_content=protect)


def _default_name(kind: str, mime_type: str | None) -> str:
    extension = {
        "photo": "jpg",
        "voice": "ogg",
        "audio": "mp3",
        "video": "mp4",
        "video_note": "mp4",
    }.get(kind, (mime_type or "application/octet-stream").split("/")[-1][:8] or "bin")
    return f"bijlage.{extension}"
