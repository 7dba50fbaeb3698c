"""What the Telegram side keeps between runs: the webhook secret, recently handled updates, a health probe.

None of it is personal data: a random secret, Telegram's update ids with the time they
were handled, and the time of the last health check.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from storage.database import Database, from_db, to_db

_SECRET = "webhook_secret"
_HEALTH_PROBE = "health_probe"
# Telegram keeps an update it could not deliver for at most 24 hours; twice that is ample.
KEEP_HANDLED = timedelta(hours=48)


async def webhook_secret(db: Database) -> str:
    """The secret Telegram sends with every webhook request: made once, then the same on every start."""
    candidate = secrets.token_urlsafe(32)  # letters, digits, - and _: what Telegram allows
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (_SECRET, candidate.encode()),
        )
        async with conn.execute("SELECT value FROM meta WHERE name = ?", (_SECRET,)) as cursor:
            row = await cursor.fetchone()
    assert row is not None  # inserted just above, or there already
    return bytes(row[0]).decode()


async def probe_write(db: Database, now: datetime) -> None:
    """Write one small row: proves the database accepts writes (raises if it does not)."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (_HEALTH_PROBE, to_db(now).encode()),
        )


class HandledUpdates:
    """Telegram update ids already handled. One bot runs per database, so the ids live in memory too."""

    PRUNE_EVERY = 1000

    def __init__(self, db: Database, handled: dict[int, datetime]) -> None:
        self._db = db
        self._handled = handled
        self._added = 0

    @classmethod
    async def load(cls, db: Database, now: datetime) -> HandledUpdates:
        """Forget ids older than the window, and read the rest."""
        await _prune(db, now)
        async with db.transaction() as conn:
            async with conn.execute("SELECT update_id, handled_at FROM handled_updates") as cursor:
                rows = await cursor.fetchall()
        return cls(db, {row[0]: at for row in rows if (at := from_db(row[1])) is not None})

    def __contains__(self, update_id: int) -> bool:
        return update_id in self._handled

    def __len__(self) -> int:
        return len(self._handled)

    async def add(self, update_id: int, now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO handled_updates (update_id, handled_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (update_id, to_db(now)),
            )
        self._handled[update_id] = now
        self._added += 1
        if self._added % self.PRUNE_EVERY == 0:
            await _prune(self._db, now)
            cutoff = now - KEEP_HANDLED
            self._handled = {known: at for known, at in self._handled.items() if at >= cutoff}


async def _prune(db: Database, now: datetime) -> None:
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM handled_updates WHERE handled_at < ?", (to_db(now - KEEP_HANDLED),))
