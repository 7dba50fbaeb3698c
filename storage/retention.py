"""Erasing cases kept past the retention period, and the count of what was erased.

Crypto-shredding as /forgetme does it per case: deleting a case row deletes its wrapped
data key, and with it (by cascade) every row sealed under that key (attachments,
messages, notes, actions, answers) and anything still queued or scheduled for it; the
WAL is then folded into the database so no copy of the deleted pages stays beside it.
Each erased case leaves an audit entry (its reference, no content) and counts in
``retention_erasures``, one row per month, which the statistics read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flows.lifecycle import AuditNote
from storage.audit import AuditTrail
from storage.database import Database, from_db, to_db

BATCH = 200  # cases per transaction: the bot's other writers wait at most this long


@dataclass(frozen=True, slots=True)
class Expired:
    id: str
    reference: str


class RetentionStore:
    def __init__(self, db: Database, audit: AuditTrail) -> None:
        self._db = db
        self._audit = audit

    async def expired(self, cutoff: datetime, limit: int = BATCH) -> list[Expired]:
        """Cases closed, or withdrawn, at or before ``cutoff`` (still in that state), oldest first."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT id, reference FROM cases WHERE (status = 'closed' AND closed_at <= ?)"
                " OR (status = 'withdrawn' AND withdrawn_at <= ?) ORDER BY submitted_at, id LIMIT ?",
                (to_db(cutoff), to_db(cutoff), limit),
            ) as cursor:
                return [Expired(row[0], row[1]) for row in await cursor.fetchall()]

    async def erase(self, cases: Sequence[Expired], note: AuditNote, now: datetime) -> int:
        """Erase these cases in one transaction, each with its audit entry, and count them; returns how many."""
        if not cases:
            return 0
        async with self._db.transaction() as conn:
            erased = 0
            for case in cases:
                cursor = await conn.execute("DELETE FROM cases WHERE id = ?", (case.id,))
                if cursor.rowcount == 1:
                    await self._audit.append_note(conn, note, now, case.reference)
                    erased += 1
            await conn.execute(
                "INSERT INTO retention_erasures (period, erased) VALUES (?, ?)"
                " ON CONFLICT (period) DO UPDATE SET erased = erased + excluded.erased",
                (now.strftime("%Y-%m"), erased),
            )
        return erased

    async def checkpoint(self) -> None:
        await self._db.checkpoint()

    async def counts(self) -> dict[str, int]:
        """Cases erased for their age, per month of erasure ('YYYY-MM'), oldest month first."""
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT period, erased FROM retention_erasures ORDER BY period") as cursor:
                return {row[0]: int(row[1]) for row in await cursor.fetchall()}

    async def pending_run(self) -> datetime | None:
        """When the daily retention item that waits to run falls due; None if none waits."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT MIN(due_at) FROM scheduled WHERE kind = 'retention' AND status = 'pending'"
            ) as cursor:
                row = await cursor.fetchone()
        return None if row is None else from_db(row[0])
