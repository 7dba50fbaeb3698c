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


@dataclass(frozen=True, slots=True)
class DueItem:
    id: str
    kind: str
    case_id: str | None
    due_at: datetime
    attempts: int


def _item(row: aiosqlite.Row) -> DueItem:
    return DueItem(row["id"], row["kind"], row["case_id"], from_db(row["due_at"]), row["attempts"])


class Schedule:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, case_id: str | None, items: Sequence[tuple[str, datetime]], now: datetime) -> list[str]:
        async with self._db.transaction() as conn:
            return await self.insert(conn, case_id, items, now)

    @staticmethod
    async def insert(
        conn: aiosqlite.Connection, case_id: str | None, items: Sequence[tuple[str, datetime]], now: datetime
    ) -> list[str]:
        ids = []
        for kind, due in items:
            item_id = uuid.uuid4().hex
            await conn.execute(
                "INSERT INTO scheduled (id, kind, case_id, due_at, created_at) VALUES (?, ?, ?, ?, ?)",
                (item_id, kind, case_id, to_db(due), to_db(now)),
            )
            ids.append(item_id)
        return ids

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
