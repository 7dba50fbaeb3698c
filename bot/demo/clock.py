"""The demo's time: real time plus an offset that only grows, so follow-ups come in minutes, not weeks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class DemoClock:
    """A :class:`flows.clock.Clock` that can be moved forward (never back: what happened stays in the past)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def timestamp(self) -> float:
        """Unix seconds, for the emulator's message dates."""
        return self.now().timestamp()

    def advance(self, by: timedelta) -> None:
        if by <= timedelta(0):
            raise ValueError("the demo clock only moves forward")
        self.offset += by
