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

from flows.lifecycle import Timer, TimerKind
from storage.database import Database, from_db, one_row, to_db


@dataclass(frozen=True, slots=True)
class DueItem:
    id: str
    kind: TimerKind
    case_id: str | None
    due_at: datetime
    attempts: int
    detail: str | None = None


def _item(row: aiosqlite.Row) -> DueItem:
    due = from_db(row["due_at"])
    assert due is not None
    return DueItem(row["id"], TimerKind(row["kind"]), row["case_id"], due, row["attempts"], row["detail"])


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
        """Store timers inside a transaction the caller holds."""
        ids = []
        for timer in items:
            item_id = uuid.uuid4().hex
            await conn.execute(
                "INSERT INTO scheduled (id, kind, case_id, due_at, created_at, detail) VALUES (?, ?, ?, ?, ?, ?)",
                (item_id, timer.kind.value, case_id, to_db(timer.due), to_db(now), timer.detail),
            )
            ids.append(item_id)
        return ids

    async def of_case(self, case_id: str, kinds: Sequence[TimerKind]) -> list[DueItem]:
        """A case's pending items of these kinds, earliest first."""
        marks = ", ".join("?" for _ in kinds)
        async with self._db.transaction() as conn:
            async with conn.execute(
                f"SELECT * FROM scheduled WHERE case_id = ? AND kind IN ({marks}) AND status IN ('pending', 'claimed')"
                " ORDER BY due_at",
                (case_id, *(kind.value for kind in kinds)),
            ) as cursor:
                return [_item(row) for row in await cursor.fetchall()]

    @staticmethod
    async def cancel_in(conn: aiosqlite.Connection, case_id: str, kinds: Sequence[TimerKind]) -> None:
        """Cancel a case's pending items of these kinds, inside a transaction the caller holds."""
        if kinds:
            marks = ", ".join("?" for _ in kinds)
            await conn.execute(
                f"UPDATE scheduled SET status = 'cancelled' WHERE case_id = ? AND kind IN ({marks})"
                " AND status IN ('pending', 'claimed')",
                (case_id, *sorted(kind.value for kind in kinds)),
            )

    @staticmethod
    async def postpone_in(conn: aiosqlite.Connection, case_id: str, kind: TimerKind, by: timedelta) -> None:
        """Move a case's pending items of this kind ``by`` later, inside the caller's transaction.
        (The shift is done here in Python: stored moments are ISO texts with their offset.)"""
        async with conn.execute(
            "SELECT id, due_at FROM scheduled WHERE case_id = ? AND kind = ? AND status = 'pending'",
            (case_id, kind.value),
        ) as cursor:
            rows = await cursor.fetchall()
        for row in rows:
            due = from_db(row["due_at"])
            assert due is not None
            await conn.execute("UPDATE scheduled SET due_at = ? WHERE id = ?", (to_db(due + by), row["id"]))

    async def next_due(self) -> datetime | None:
        """When the earliest pending item falls due (an index seek, whatever the backlog)."""
        async with self._db.transaction() as conn:
            row = await one_row(conn, "SELECT MIN(due_at) FROM scheduled WHERE status = 'pending'")
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
        """What is due now, earliest first: pending items read in order on their index, and items
        whose claim ran out (a run that died), which are few."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM scheduled WHERE status = 'pending' AND due_at <= ? ORDER BY due_at LIMIT ?",
                (to_db(now), limit),
            ) as cursor:
                items = [_item(row) for row in await cursor.fetchall()]
            async with conn.execute(
                "SELECT * FROM scheduled WHERE status = 'claimed' AND claimed_until < ? AND due_at <= ?",
                (to_db(now), to_db(now)),
            ) as cursor:
                items += [_item(row) for row in await cursor.fetchall()]
        return sorted(items, key=lambda item: item.due_at)[:limit]

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
            return _item(await one_row(conn, "SELECT * FROM scheduled WHERE id = ?", (item_id,)))

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

    async def get(self, item_id: str) -> DueItem | None:
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT * FROM scheduled WHERE id = ?", (item_id,)) as cursor:
                row = await cursor.fetchone()
        return None if row is None else _item(row)
