"""Time as reporters live it: follow-ups at the right local hour, nothing at night.

All moments are stored in UTC. A period's whole days are counted on the
municipality's calendar (a check-in "two weeks" after a report at 10:00 comes at
10:00 two weeks later, summer time or not); its hours, minutes and seconds are
counted as elapsed time. Quiet hours (default 21:00-08:00) are local too: a message
that falls due at night waits until the next morning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def add_period(moment: datetime, period: timedelta, zone: ZoneInfo) -> datetime:
    """``moment`` plus ``period``: whole days on the local calendar, the rest as elapsed time."""
    local = moment.astimezone(zone)
    shifted = datetime.combine(local.date() + timedelta(days=period.days), local.timetz().replace(tzinfo=None))
    # Re-attach the zone for the new date (the offset may differ: summer or winter time).
    shifted = _localize(shifted, zone)
    return (shifted + timedelta(seconds=period.seconds, microseconds=period.microseconds)).astimezone(UTC)


def _localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """A local wall-clock time as an aware moment; a time skipped by the spring change moves forward."""
    aware = naive.replace(tzinfo=zone, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:  # in the gap of the spring change: take the moment the clock shows it next
        aware = (naive + timedelta(hours=1)).replace(tzinfo=zone, fold=0)
    return aware


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours in which reporters get no messages from the bot."""

    start: time  # e.g. 21:00
    end: time  # e.g. 08:00
    zone: ZoneInfo

    def is_quiet(self, moment: datetime) -> bool:
        if self.start == self.end:
            return False
        local = moment.astimezone(self.zone).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """``moment`` itself if it is not quiet, else the end of this quiet period (UTC)."""
        if not self.is_quiet(moment):
            return moment.astimezone(UTC)
        local = moment.astimezone(self.zone)
        day = local.date()
        if self.start > self.end and local.time().replace(tzinfo=None) >= self.start:
            day += timedelta(days=1)  # quiet since this evening: it ends tomorrow morning
        return _localize(datetime.combine(day, self.end), self.zone).astimezone(UTC)
