"""Time as the flows see it: an injectable clock and the municipality's local day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def local_today(clock: Clock, zone: ZoneInfo) -> date:
    """Today as the reporter experiences it (an incident at 00:30 in Amsterdam is 'today')."""
    return clock.now().astimezone(zone).date()


@dataclass(frozen=True, slots=True)
class Periods:
    """How long things may take before someone is reminded (from the configuration)."""

    acknowledge_within: timedelta = timedelta(hours=24)  # the promise to the reporter
    escalate_after: timedelta = timedelta(hours=24)  # after that, until the coordinators hear
