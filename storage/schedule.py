"""Things that fall due later: escalations, follow-ups, reminders.

The database is the source of truth. An item is claimed with a lease before its
effect runs and finished after; an effect that may run twice (a crash between the
two) must be idempotent, which the outbox's ``dedupe`` key makes easy.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from storage.database import Database, from_db, to_db

Timer = tuple  # (kind, due) or (kind, due, detail)


@dataclass(frozen=True, slots=True)
class DueItem:
    id: str
    kind: str
    case_id: str | None
    due_at: datetime
    attempts: int
    detail: str | None = None


def _item(row: aiosqlite.Row) -> DueItem:
    return DueItem(row["id"], row["kind"], row["case_id"], from_db(row["due_at"]), row["attempts"], row["detail"])


class Schedule:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, case_id: str | None, items: Sequence[Timer], now: datetime) -> list[str]:
        async with self._db.transaction() as conn:
            return await self.insert(conn, case_id, items, now)

    @staticmethod
    async def insert(
        conn: aiosqlite.Connection, case_id: str | None, items: Sequence[Timer], now: datetime
    ) -> list[str]:
        """Store timers: ``(kind, due)`` or ``(kind, due, detail)``."""
        ids = []
        for kind, due, *rest in items:
            item_id = uuid.uuid4().hex
            await conn.execute(
                "INSERT INTO scheduled (id, kind, case_id, due_at, created_at, detail) VALUES (?, ?, ?, ?, ?, ?)",
                (item_id, kind, case_id, to_db(due), to_db(now), rest[0] if rest else None),
            )
            ids.append(item_id)
        return ids

    async def of_case(self, case_id: str, kinds: Sequence[str]) -> list[DueItem]:
        """A case's pending items of these kinds, earliest first."""
        marks = ", ".join("?" for _ in kinds)
        async with self._db.transaction() as conn:
            async with conn.execute(
                f"SELECT * FROM scheduled WHERE case_id = ? AND kind IN ({marks}) AND status IN ('pending', 'claimed')"
                " ORDER BY due_at",
                (case_id, *kinds),
            ) as cursor:
                return [_item(row) for row in await cursor.fetchall()]

    async def postpone(self, case_id: str, kinds: Sequence[str], by: timedelta) -> int:
        """Move a case's pending items of these kinds later (a reporter's pause)."""
        items = await self.of_case(case_id, kinds)
        async with self._db.transaction() as conn:
            for item in items:
                await conn.execute(
                    "UPDATE scheduled SET due_at = ? WHERE id = ? AND status = 'pending'",
                    (to_db(item.due_at + by), item.id),
                )
        return len(items)

    async def next_due(self) -> datetime | None:
        """When the earliest pending item falls due (an index seek, whatever the backlog)."""
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT MIN(due_at) FROM scheduled WHERE status = 'pending'") as cursor:
                row = await cursor.fetchone()
        return from_db(row[0])

    async def recover_after_restart(self) -> int:
        """Items left 'claimed' by a run that died: pending again (only one bot runs per database)."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE scheduled SET status = 'pending', claimed_until = NULL WHERE status = 'claimed'"
            )
            return cursor.rowcount

    async def upcoming(self, limit: int) -> list[tuple[str, datetime]]:
        """The kinds and due moments of the next pending items."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT kind, due_at FROM scheduled WHERE status = 'pending' ORDER BY due_at LIMIT ?", (limit,)
            ) as cursor:
                return [(row[0], datetime.fromisoformat(row[1])) for row in await cursor.fetchall()]

    async def pending(self) -> list[DueItem]:
        """Everything not yet done, earliest first (claimed items too: their run may have died)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM scheduled WHERE status IN ('pending', 'claimed') ORDER BY due_at"
            ) as cursor:
                return [_item(row) for row in await cursor.fetchall()]

    async def due(self, now: datetime, limit: int) -> list[DueItem]:
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM scheduled WHERE due_at <= ? AND (status = 'pending'"
                " OR (status = 'claimed' AND claimed_until < ?)) ORDER BY due_at LIMIT ?",
                (to_db(now), to_db(now), limit),
            ) as cursor:
                return [_item(row) for row in await cursor.fetchall()]

    async def claim(self, item_id: str, now: datetime, lease: timedelta) -> DueItem | None:
        """Claim one due item for running; None if it is not due, done, or claimed by a live run."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE scheduled SET status = 'claimed', claimed_until = ?, attempts = attempts + 1"
                " WHERE id = ? AND due_at <= ? AND (status = 'pending' OR (status = 'claimed' AND claimed_until < ?))",
                (to_db(now + lease), item_id, to_db(now), to_db(now)),
            )
            if cursor.rowcount != 1:
                return None
            async with conn.execute("SELECT * FROM scheduled WHERE id = ?", (item_id,)) as rows:
                return _item(await rows.fetchone())

    async def finish(self, item_id: str, now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE scheduled SET status = 'done', done_at = ?, claimed_until = NULL WHERE id = ?",
                (to_db(now), item_id),
            )

    async def release(self, item_id: str, retry_at: datetime) -> None:
        """Give a claimed item back, to run again at ``retry_at`` (its effect failed)."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE scheduled SET status = 'pending', due_at = ?, claimed_until = NULL WHERE id = ?",
                (to_db(retry_at), item_id),
            )

    async def cancel(self, case_id: str, kinds: Sequence[str] | None = None) -> int:
        async with self._db.transaction() as conn:
            if kinds is None:
                cursor = await conn.execute(
                    "UPDATE scheduled SET status = 'cancelled' WHERE case_id = ? AND status IN ('pending', 'claimed')",
                    (case_id,),
                )
            else:
                marks = ", ".join("?" for _ in kinds)
                cursor = await conn.execute(
                    f"UPDATE scheduled SET status = 'cancelled' WHERE case_id = ? AND kind IN ({marks})"
                    " AND status IN ('pending', 'claimed')",
                    (case_id, *kinds),
                )
            return cursor.rowcount

    async def get(self, item_id: str) -> DueItem | None:
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT * FROM scheduled WHERE id = ?", (item_id,)) as cursor:
                row = await cursor.fetchone()
        return None if row is None else _item(row)
