"""The timekeeper: runs what falls due (escalations now, follow-ups later).

The database is the source of truth. The timekeeper keeps one alarm on
python-telegram-bot's JobQueue for the earliest pending item (bot.alarm), moved earlier
whenever a commit stores an item due sooner (storage.database.Database.on_due); when it
goes off, every item due by then runs, and the alarm is set for the next one. Start-up
therefore costs the same with a hundred thousand follow-ups pending as with none. A
periodic sweep is the safety net. Each item is claimed atomically before its effect runs,
so two runs never both act; effects are idempotent, so a crash between the effect and
the completion repeats nothing the reporter would see. Items claimed by a process that
died are taken up again at the next start (only one bot runs per database).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from telegram.ext import Application, ContextTypes

from bot.alarm import Alarm, job_queue_of
from flows.clock import Clock
from flows.lifecycle import TimerKind
from storage import Storage
from storage.schedule import DueItem

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
RETRY = timedelta(minutes=1)
BATCH = 200

Handler = Callable[[DueItem], Awaitable[bool]]


class Timekeeper:
    def __init__(
        self,
        application: Application,
        storage: Storage,
        clock: Clock,
        *,
        sweep_interval: timedelta,
    ) -> None:
        self._app = application
        self._storage = storage
        self._clock = clock
        self._sweep_interval = sweep_interval
        self._handlers: dict[TimerKind, Handler] = {}
        self._jobs = job_queue_of(application)
        self._alarm = Alarm(self._jobs, clock, self.run_due, "schedule-due")
        self._stopping = False
        self._running = False
        self.ran = 0
        storage.db.on_due("scheduled", self._due)

    def handle(self, kind: TimerKind, handler: Handler) -> None:
        self._handlers[kind] = handler

    @property
    def next_alarm(self) -> datetime | None:
        return self._alarm.at

    async def start(self) -> datetime | None:
        """Set the alarm for the earliest pending item and start the sweep; returns when that is."""
        self._stopping = False
        recovered = await self._storage.schedule.recover_after_restart()
        if recovered:
            log.info("%d scheduled item(s) were running when the bot last stopped; they run again", recovered)
        self._jobs.run_repeating(
            self._sweep, interval=self._sweep_interval, first=self._sweep_interval, name="schedule-sweep"
        )
        due = await self._storage.schedule.next_due()
        if due is not None:
            self._alarm.set(due)
        return due

    def stop(self) -> None:
        self._stopping = True
        self._alarm.cancel()
        for job in self._jobs.jobs():
            if job.name == "schedule-sweep":
                job.schedule_removal()

    def _due(self, moment: datetime) -> None:
        """Something was stored (or moved) to fall due at ``moment`` (told after its commit)."""
        if not self._stopping:
            self._alarm.set(moment)

    async def clock_moved(self) -> None:
        """The clock was moved forward (meldbot demo): the alarm waits in real seconds, so it is set anew."""
        if self._stopping:
            return
        self._alarm.cancel()
        await self.run_due()

    async def _sweep(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.run_due()

    async def run_due(self) -> None:
        """Run everything due now, then set the alarm for what comes next."""
        if self._stopping or self._running:
            return
        self._running = True
        try:
            while not self._stopping:
                items = await self._storage.schedule.due(self._clock.now(), BATCH)
                if not items:
                    break
                for item in items:
                    if self._stopping:
                        return
                    await self.run(item.id)
            due = await self._storage.schedule.next_due()
            if due is not None and not self._stopping:
                self._alarm.set(due)
        finally:
            self._running = False

    async def run(self, item_id: str) -> None:
        if self._stopping:
            return
        item = await self._storage.schedule.claim(item_id, self._clock.now(), LEASE)
        if item is None:
            return  # not due yet (moved), done, cancelled, or another run has it
        handler = self._handlers.get(item.kind)
        if handler is None:
            log.error("scheduled item %s has a kind nobody handles: %s", item.id[:8], item.kind)
            await self._storage.schedule.release(item.id, self._clock.now() + RETRY * 60)
            return
        try:
            acted = await handler(item)
        except Exception as error:  # the item is retried; the error is logged without content
            log.error("scheduled item %s (%s) failed: %s; retrying", item.id[:8], item.kind, type(error).__name__)
            await self._storage.schedule.release(item.id, self._clock.now() + RETRY)
            return
        await self._storage.schedule.finish(item.id, self._clock.now())
        self.ran += 1
        if acted:
            log.debug("scheduled item %s (%s) acted", item.id[:8], item.kind)
