"""The timekeeper: runs what falls due (escalations now, follow-ups later) on the JobQueue.

The database is the source of truth. At start-up every pending item gets a one-off
job at its due time; a due time in the past fires at once (python-telegram-bot's
JobQueue hands jobs to APScheduler, which drops a run that is later than its
``misfire_grace_time``; jobs here are created with no grace limit, so a missed moment
still runs). A periodic sweep runs anything that has no job (created elsewhere, or
missed while the bot was down). Each item is claimed atomically before its effect runs,
so two runs never both act; effects are idempotent, so a crash between the effect and
the completion repeats nothing the reporter would see.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram.ext import Application, ContextTypes

from flows.clock import Clock
from storage import Storage
from storage.schedule import DueItem

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
RETRY = timedelta(minutes=1)
SWEEP_BATCH = 200

Handler = Callable[[DueItem], Awaitable[bool]]


class Timekeeper:
    def __init__(
        self,
        application: Application,
        storage: Storage,
        clock: Clock,
        *,
        sweep_interval: timedelta,
        on_effect: Callable[[], None],
    ) -> None:
        self._app = application
        self._storage = storage
        self._clock = clock
        self._sweep_interval = sweep_interval
        self._handlers: dict[str, Handler] = {}
        self._on_effect = on_effect
        self._scheduled: set[str] = set()
        self._looked = None
        self._stopping = False
        self.ran = 0

    def handle(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    async def start(self) -> int:
        """Give every pending item a job; start the sweep. Returns how many were scheduled."""
        self._stopping = False
        self._looked = self._clock.now()
        pending = await self._storage.schedule.pending()
        for item in pending:
            self._schedule(item)
        self._app.job_queue.run_repeating(
            self._sweep, interval=self._sweep_interval, first=self._sweep_interval, name="schedule-sweep"
        )
        return len(pending)

    def stop(self) -> None:
        self._stopping = True
        for job in self._app.job_queue.jobs():
            if job.name and (job.name.startswith("due:") or job.name == "schedule-sweep"):
                job.schedule_removal()
        self._scheduled.clear()

    def _schedule(self, item: DueItem) -> None:
        if item.id in self._scheduled:
            return
        delay = max(0.0, (item.due_at - self._clock.now()).total_seconds())
        self._app.job_queue.run_once(
            self._job,
            when=delay,
            data=item.id,
            name=f"due:{item.id}",
            job_kwargs={"misfire_grace_time": None},
        )
        self._scheduled.add(item.id)

    async def wake(self) -> None:
        """New items may have been stored: give them jobs (only those stored since the last look)."""
        if self._stopping:
            return
        looked, self._looked = self._looked, self._clock.now()
        # A little overlap, so an item stored in the same instant as the last look is not missed.
        since = None if looked is None else looked - timedelta(seconds=1)
        for item in await self._storage.schedule.created_since(since):
            self._schedule(item)

    # -- a clock that jumps (meldbot demo) -----------------------------------------------
    async def clock_moved(self) -> None:
        """The clock was moved forward: every pending item gets a new job at its new distance.

        Jobs wait in real seconds, measured when they were made; after a jump they would fire
        far too late, and the sweep leaves items that have a job alone. Claiming keeps an item
        from running twice.
        """
        if self._stopping:
            return
        for job in self._app.job_queue.jobs():
            if job.name and job.name.startswith("due:"):
                job.schedule_removal()
        self._scheduled.clear()
        self._looked = self._clock.now()
        for item in await self._storage.schedule.pending():
            self._schedule(item)

    async def _job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        item_id = context.job.data
        self._scheduled.discard(item_id)
        await self.run(item_id)

    async def _sweep(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        for item in await self._storage.schedule.due(self._clock.now(), SWEEP_BATCH):
            if self._stopping:
                return
            if item.id not in self._scheduled:
                await self.run(item.id)
        await self.wake()

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
            self._on_effect()
