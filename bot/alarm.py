"""One job on python-telegram-bot's JobQueue for the earliest moment something falls due.

The database is the source of truth for what is due (the outbox, the schedule); it tells
the courier and the timekeeper after each commit when something became due
(``storage.database.Database.on_due``). Each keeps a single :class:`Alarm` for the
earliest such moment, so a backlog of a hundred thousand follow-ups costs one job, not one
job each, and a delay of five seconds fires after five seconds, not at the next sweep.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.jobstores.base import JobLookupError
from telegram.ext import Application, ContextTypes, Job, JobQueue

from flows.clock import Clock


def job_queue_of(application: Application) -> JobQueue:
    """The application's JobQueue (python-telegram-bot[job-queue], a dependency of meldbot)."""
    if application.job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without its job queue: install meldbot's dependencies")
    return application.job_queue


class Alarm:
    def __init__(self, job_queue: JobQueue, clock: Clock, callback: Callable[[], Awaitable[None]], name: str) -> None:
        self._job_queue = job_queue
        self._clock = clock
        self._callback = callback
        self._name = name
        self._job: Job | None = None
        self._at: datetime | None = None

    @property
    def at(self) -> datetime | None:
        """When the alarm goes off next (None: not set)."""
        return self._at

    def set(self, moment: datetime) -> None:
        """Go off at ``moment``, unless already set to go off earlier."""
        if self._at is not None and self._at <= moment:
            return
        self.cancel()
        delay = max(0.0, (moment - self._clock.now()).total_seconds())
        # No misfire limit: a moment missed while the event loop was busy still fires.
        self._job = self._job_queue.run_once(
            self._fire, when=delay, name=self._name, job_kwargs={"misfire_grace_time": None}
        )
        self._at = moment

    def cancel(self) -> None:
        if self._job is not None:
            # A one-off job that already ran is gone from the scheduler; nothing to remove then.
            with contextlib.suppress(JobLookupError):
                self._job.schedule_removal()
        self._job = None
        self._at = None

    async def _fire(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._job = None
        self._at = None
        await self._callback()
