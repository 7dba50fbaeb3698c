"""Retention: cases closed (or withdrawn) longer ago than ``[retention] closed_cases`` are erased.

Off unless configured. Once a day, outside quiet hours, one scheduled item (kind
``retention``, no case) erases every case past the period by crypto-shredding
(storage/retention.py) and arms the next day's item. Why closed and not submitted: a case
is kept for its purpose, helping the reporter and recording what happened, which lasts as
long as the case is open; the period runs from when that purpose ended.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flows.clock import Clock
from flows.lifecycle import SYSTEM, Timer, TimerKind
from flows.timing import QuietHours
from storage import Storage
from storage.schedule import DueItem

log = logging.getLogger(__name__)

DAILY = timedelta(days=1)
KINDS = (TimerKind.RETENTION,)


class Retention:
    def __init__(self, storage: Storage, clock: Clock, period: timedelta | None, quiet: QuietHours | None) -> None:
        self._storage = storage
        self._clock = clock
        self.period = period
        self._quiet = quiet

    def _outside_quiet_hours(self, moment: datetime) -> datetime:
        return moment if self._quiet is None else self._quiet.next_allowed(moment)

    async def arm(self) -> datetime | None:
        """At start: the one pending daily item, added if there is none (and retention is on)."""
        if self.period is None:
            return None
        pending = await self._storage.retention.pending_run()
        if pending is not None:
            return pending
        due = self._outside_quiet_hours(self._clock.now())
        await self._storage.schedule.add(None, [Timer(TimerKind.RETENTION, due)], self._clock.now())
        return due

    async def run(self, item: DueItem) -> bool:
        """The daily item: erase what is past the period, then arm tomorrow's (unless another is pending)."""
        if self.period is None:
            return False  # retention was switched off since this item was armed: it ends here
        erased = await self.erase_expired()
        if await self._storage.retention.pending_run() is None:
            due = self._outside_quiet_hours(self._clock.now() + DAILY)
            await self._storage.schedule.add(None, [Timer(TimerKind.RETENTION, due)], self._clock.now())
        if erased:
            log.info("retention: erased %d case(s) closed or withdrawn more than %s ago", erased, self.period)
        return erased > 0

    async def erase_expired(self) -> int:
        """Erase every case closed or withdrawn longer than the period ago; returns how many."""
        if self.period is None:
            return 0
        now = self._clock.now()
        cutoff = now - self.period
        note = SYSTEM.note("erased", "retention")
        erased = 0
        while batch := await self._storage.retention.expired(cutoff):
            erased += await self._storage.retention.erase(batch, note, now)
        if erased:
            await self._storage.retention.checkpoint()
        return erased
