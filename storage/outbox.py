"""The outbox: every notification that must reach someone, kept until it has.

An item names what to send (a kind and a case) and to whom (the keyed HMAC of a
Telegram id), never the text itself: the text is rendered from the sealed case at the
moment of sending. Items for one case and one recipient go out in order; an item is
claimed with a lease before sending, so a crash leaves it to be picked up again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from flows.lifecycle import Delivery, Notice, Party
from storage.database import Database, from_db, one_row, to_db


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: str
    case_id: str | None
    recipient_index: bytes
    recipient_role: Party
    kind: Notice
    ref: str | None
    seq: int
    attempts: int
    next_attempt_at: datetime


def _moment(text: str) -> datetime:
    moment = from_db(text)
    assert moment is not None
    return moment


class Outbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def enqueue(self, case_id: str | None, deliveries: Sequence[Delivery], now: datetime) -> None:
        async with self._db.transaction() as conn:
            await self.insert(conn, case_id, deliveries, now)

    @staticmethod
    async def insert(
        conn: aiosqlite.Connection, case_id: str | None, deliveries: Sequence[Delivery], now: datetime
    ) -> None:
        """Add items inside a transaction the caller holds (so they land with the change that caused them)."""
        next_seq: dict[bytes, int] = {}
        for delivery in deliveries:
            if delivery.recipient_index not in next_seq:
                row = await one_row(
                    conn,
                    "SELECT COALESCE(MAX(seq), -1) + 1 FROM outbox WHERE case_id IS ? AND recipient_index = ?",
                    (case_id, delivery.recipient_index),
                )
                next_seq[delivery.recipient_index] = int(row[0])
            seq = next_seq[delivery.recipient_index]
            next_seq[delivery.recipient_index] = seq + 1
            await conn.execute(
                "INSERT INTO outbox (id, case_id, recipient_index, recipient_role, kind, ref, seq,"
                " next_attempt_at, created_at, dedupe) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (dedupe) WHERE dedupe IS NOT NULL DO NOTHING",
                (
                    uuid.uuid4().hex,
                    case_id,
                    delivery.recipient_index,
                    delivery.recipient_role.value,
                    delivery.kind.value,
                    delivery.ref,
                    seq,
                    to_db(delivery.not_before or now),
                    to_db(now),
                    delivery.dedupe,
                ),
            )

    async def claim_due(self, now: datetime, *, lease: timedelta, limit: int) -> list[OutboxItem]:
        """Claim up to ``limit`` due items, at most one per case and recipient, oldest first.

        An item still 'sending' after its lease ran out belongs to a run that died
        between claiming and recording the result; it is claimed again.
        """
        stamp = to_db(now)
        async with self._db.transaction() as conn:
            async with conn.execute(
                """
                SELECT o.* FROM outbox AS o
                WHERE (o.status = 'pending' OR (o.status = 'sending' AND o.claimed_until < :now))
                  AND o.next_attempt_at <= :now
                  AND NOT EXISTS (
                      SELECT 1 FROM outbox AS earlier
                      WHERE earlier.case_id IS o.case_id
                        AND earlier.recipient_index = o.recipient_index
                        AND earlier.seq < o.seq
                        AND earlier.status IN ('pending', 'sending'))
                ORDER BY o.next_attempt_at, o.seq
                LIMIT :limit
                """,
                {"now": stamp, "limit": limit},
            ) as cursor:
                rows = await cursor.fetchall()
            until = to_db(now + lease)
            for row in rows:
                await conn.execute(
                    "UPDATE outbox SET status = 'sending', claimed_until = ?, attempts = attempts + 1 WHERE id = ?",
                    (until, row["id"]),
                )
        return [
            OutboxItem(
                id=row["id"],
                case_id=row["case_id"],
                recipient_index=bytes(row["recipient_index"]),
                recipient_role=Party(row["recipient_role"]),
                kind=Notice(row["kind"]),
                ref=row["ref"],
                seq=row["seq"],
                attempts=row["attempts"] + 1,
                next_attempt_at=_moment(row["next_attempt_at"]),
            )
            for row in rows
        ]

    async def delivered(self, item_id: str, message_id: int | None, now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'sent', sent_message_id = ?, sent_at = ?, claimed_until = NULL,"
                " last_error = NULL WHERE id = ?",
                (message_id, to_db(now), item_id),
            )

    async def retry_later(self, item_id: str, at: datetime, error: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'pending', next_attempt_at = ?, claimed_until = NULL, last_error = ?"
                " WHERE id = ?",
                (to_db(at), error, item_id),
            )

    async def defer(self, item_id: str, at: datetime) -> None:
        """Put a claimed item back for later without counting it as a failed attempt."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'pending', next_attempt_at = ?, claimed_until = NULL,"
                " attempts = MAX(0, attempts - 1) WHERE id = ?",
                (to_db(at), item_id),
            )

    async def drop(self, item_id: str, reason: str) -> None:
        """Not sent, on purpose: the recipient may no longer receive it (not a failure)."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'dropped', claimed_until = NULL, last_error = ? WHERE id = ?",
                (reason, item_id),
            )

    async def readdress(self, item_id: str, case_id: str | None, deliveries: Sequence[Delivery], now: datetime) -> None:
        """Replace an item by the same notification to other recipients, in one transaction."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'dropped', claimed_until = NULL, last_error = 'readdressed' WHERE id = ?",
                (item_id,),
            )
            await self.insert(conn, case_id, deliveries, now)

    async def told_before(self, case_id: str, recipient_index: bytes) -> bool:
        """Whether anything about this case ever reached this recipient."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT 1 FROM outbox WHERE case_id = ? AND recipient_index = ? AND status = 'sent' LIMIT 1",
                (case_id, recipient_index),
            ) as cursor:
                return await cursor.fetchone() is not None

    async def superseded(self, item: OutboxItem) -> bool:
        """Whether a later item of the same kind waits for the same recipient about the same case."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT 1 FROM outbox WHERE case_id IS ? AND recipient_index = ? AND kind = ? AND seq > ?"
                " AND status IN ('pending', 'sending') LIMIT 1",
                (item.case_id, item.recipient_index, item.kind, item.seq),
            ) as cursor:
                return await cursor.fetchone() is not None

    async def recover_after_restart(self) -> int:
        """Items left 'sending' by a run that died: due again at once (only one bot runs per database)."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE outbox SET status = 'pending', claimed_until = NULL WHERE status = 'sending'"
            )
            return cursor.rowcount

    async def hurry_recipient(self, recipient_index: bytes, now: datetime) -> int:
        """Someone just opened the bot: what waits for them because they could not be reached goes now."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE outbox SET next_attempt_at = ? WHERE recipient_index = ? AND status = 'pending'"
                " AND last_error = 'unreachable' AND next_attempt_at > ?",
                (to_db(now), recipient_index, to_db(now)),
            )
            return cursor.rowcount

    async def give_up(self, item_id: str, error: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'failed', claimed_until = NULL, last_error = ? WHERE id = ?",
                (error, item_id),
            )

    async def hurry(self, case_id: str, kind: Notice, now: datetime) -> int:
        """Let a case's waiting items of this kind go out now rather than at their planned moment."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE outbox SET next_attempt_at = ? WHERE case_id = ? AND kind = ? AND status = 'pending'"
                " AND next_attempt_at > ?",
                (to_db(now), case_id, kind.value, to_db(now)),
            )
            return cursor.rowcount

    async def next_due(self) -> datetime | None:
        """When the earliest unsent item falls due (None when there is nothing to send)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT MIN(CASE WHEN status = 'sending' THEN claimed_until ELSE next_attempt_at END)"
                " FROM outbox WHERE status IN ('pending', 'sending')"
            ) as cursor:
                row = await cursor.fetchone()
        return None if row is None else from_db(row[0])

    async def upcoming(self, limit: int) -> list[tuple[str, datetime]]:
        """The kinds and due moments of the next unsent items (no recipients, nothing readable)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT kind, next_attempt_at FROM outbox WHERE status IN ('pending', 'sending')"
                " ORDER BY next_attempt_at LIMIT ?",
                (limit,),
            ) as cursor:
                return [(row[0], _moment(row[1])) for row in await cursor.fetchall()]

    async def sent_message(self, case_id: str, recipient_index: bytes, kind: str) -> int | None:
        """The Telegram message id under which ``kind`` reached this recipient, if it did."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT sent_message_id FROM outbox WHERE case_id = ? AND recipient_index = ? AND kind = ?"
                " AND status = 'sent' ORDER BY seq LIMIT 1",
                (case_id, recipient_index, kind),
            ) as cursor:
                row = await cursor.fetchone()
        return None if row is None else row[0]

    async def addressed_to(self, case_id: str, recipient_index: bytes, kind: str) -> str | None:
        """The role under which this recipient was sent ``kind`` for this case, or None if never."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT recipient_role FROM outbox WHERE case_id = ? AND recipient_index = ? AND kind = ? LIMIT 1",
                (case_id, recipient_index, kind),
            ) as cursor:
                row = await cursor.fetchone()
        return None if row is None else row[0]

    async def status_counts(self) -> dict[str, int]:
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status") as cursor:
                rows = await cursor.fetchall()
        return {row[0]: row[1] for row in rows}
