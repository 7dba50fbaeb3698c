"""Time as the flows see it: an injectable clock and the municipality's local day."""

from __future__ import annotations

from datetime import UTC, date, datetime
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
