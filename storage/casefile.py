"""The case file beyond the report: messages, a counsellor's private notes, and actions.

Everything a person wrote here is sealed under the case's own data key, bound to its
table, column and row, exactly like the report; who wrote it is kept as a role and,
for staff, the keyed HMAC of their Telegram id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from storage.cases import CaseRecord
from storage.crypto import Vault
from storage.database import Database, from_db, to_db
from storage.outbox import Delivery, Outbox


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: str
    thread: str
    author: str
    author_index: bytes | None
    body: str
    attachment_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NoteRecord:
    id: str
    author_index: bytes
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ActionRecord:
    id: str
    kind: str
    outcome: str
    note: str
    recorded_by: bytes
    recorded_at: datetime
    updated_at: datetime


class CaseFile:
    def __init__(self, db: Database, vault: Vault) -> None:
        self._db = db
        self._vault = vault

    def _key(self, case: CaseRecord):
        return self._vault.unwrap(case.wrapped_key, table="cases", row_id=case.id)

    # -- messages -------------------------------------------------------------------

    async def add_message(
        self,
        case: CaseRecord,
        *,
        thread: str,
        author: str,
        author_index: bytes | None,
        body: str,
        attachment_id: str | None,
        deliveries: list[Delivery],
        now: datetime,
    ) -> str:
        """Store a message and queue its delivery in one transaction (ref of each delivery = message id)."""
        message_id = uuid.uuid4().hex
        sealed = (
            self._key(case).seal_text(body, table="case_messages", column="body", row_id=message_id) if body else None
        )
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO case_messages (id, case_id, thread, author, author_index, body, attachment_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (message_id, case.id, thread, author, author_index, sealed, attachment_id, to_db(now)),
            )
            await Outbox.insert(
                conn,
                case.id,
                [
                    Delivery(d.recipient_index, d.recipient_role, d.kind, message_id, d.dedupe, d.not_before)
                    for d in deliveries
                ],
                now,
            )
            if author != "reporter":
                await conn.execute("UPDATE cases SET last_news_at = ? WHERE id = ?", (to_db(now), case.id))
        return message_id

    async def messages(self, case: CaseRecord, threads: tuple[str, ...]) -> list[MessageRecord]:
        marks = ", ".join("?" for _ in threads)
        async with self._db.transaction() as conn:
            async with conn.execute(
                f"SELECT * FROM case_messages WHERE case_id = ? AND thread IN ({marks}) ORDER BY created_at, rowid",
                (case.id, *threads),
            ) as cursor:
                rows = await cursor.fetchall()
        key = self._key(case)
        return [
            MessageRecord(
                id=row["id"],
                thread=row["thread"],
                author=row["author"],
                author_index=None if row["author_index"] is None else bytes(row["author_index"]),
                body=""
                if row["body"] is None
                else key.open_text(row["body"], table="case_messages", column="body", row_id=row["id"]),
                attachment_id=row["attachment_id"],
                created_at=from_db(row["created_at"]),
            )
            for row in rows
        ]

    async def message(self, case: CaseRecord, message_id: str) -> MessageRecord | None:
        for record in await self.messages(case, ("case", "counsellor", "coordinator")):
            if record.id == message_id:
                return record
        return None

    # -- notes ----------------------------------------------------------------------

    async def add_note(self, case: CaseRecord, author_index: bytes, body: str, now: datetime) -> str:
        note_id = uuid.uuid4().hex
        sealed = self._key(case).seal_text(body, table="case_notes", column="body", row_id=note_id)
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO case_notes (id, case_id, author_index, body, created_at) VALUES (?, ?, ?, ?, ?)",
                (note_id, case.id, author_index, sealed, to_db(now)),
            )
        return note_id

    async def notes(self, case: CaseRecord) -> list[NoteRecord]:
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM case_notes WHERE case_id = ? ORDER BY created_at, rowid", (case.id,)
            ) as cursor:
                rows = await cursor.fetchall()
        key = self._key(case)
        return [
            NoteRecord(
                row["id"],
                bytes(row["author_index"]),
                key.open_text(row["body"], table="case_notes", column="body", row_id=row["id"]),
                from_db(row["created_at"]),
            )
            for row in rows
        ]

    # -- actions towards the perpetrator --------------------------------------------

    async def record_action(
        self,
        case: CaseRecord,
        *,
        kind: str,
        outcome: str,
        recorded_by: bytes,
        deliveries: list[Delivery],
        now: datetime,
    ) -> str:
        action_id = uuid.uuid4().hex
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO case_actions (id, case_id, kind, outcome, note, recorded_by, recorded_at, updated_at)"
                " VALUES (?, ?, ?, ?, NULL, ?, ?, ?)",
                (action_id, case.id, kind, outcome, recorded_by, to_db(now), to_db(now)),
            )
            await Outbox.insert(conn, case.id, [self._about(d, action_id) for d in deliveries], now)
        return action_id

    async def update_action(
        self,
        case: CaseRecord,
        action_id: str,
        *,
        outcome: str | None,
        note: str | None,
        deliveries: list[Delivery],
        now: datetime,
    ) -> bool:
        sealed = (
            None
            if note is None
            else self._key(case).seal_text(note, table="case_actions", column="note", row_id=action_id)
        )
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE case_actions SET outcome = COALESCE(?, outcome), note = COALESCE(?, note), updated_at = ?"
                " WHERE id = ? AND case_id = ?",
                (outcome, sealed, to_db(now), action_id, case.id),
            )
            if cursor.rowcount != 1:
                return False
            await Outbox.insert(conn, case.id, [self._about(d, action_id) for d in deliveries], now)
        return True

    @staticmethod
    def _about(delivery: Delivery, action_id: str) -> Delivery:
        return Delivery(
            delivery.recipient_index,
            delivery.recipient_role,
            delivery.kind,
            action_id,
            delivery.dedupe,
            delivery.not_before,
        )

    async def actions(self, case: CaseRecord) -> list[ActionRecord]:
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM case_actions WHERE case_id = ? ORDER BY recorded_at, rowid", (case.id,)
            ) as cursor:
                rows = await cursor.fetchall()
        key = self._key(case)
        return [
            ActionRecord(
                id=row["id"],
                kind=row["kind"],
                outcome=row["outcome"],
                note=""
                if row["note"] is None
                else key.open_text(row["note"], table="case_actions", column="note", row_id=row["id"]),
                recorded_by=bytes(row["recorded_by"]),
                recorded_at=from_db(row["recorded_at"]),
                updated_at=from_db(row["updated_at"]),
            )
            for row in rows
        ]

    async def action(self, case: CaseRecord, action_id: str) -> ActionRecord | None:
        return next((a for a in await self.actions(case) if a.id == action_id), None)


@dataclass(frozen=True, slots=True)
class CheckInAnswer:
    step: int
    answer: str
    answered_at: datetime


class Aftercare:
    """Check-in answers (sealed: health information) and the closing question."""

    def __init__(self, db: Database, vault: Vault) -> None:
        self._db = db
        self._vault = vault

    def _key(self, case: CaseRecord):
        return self._vault.unwrap(case.wrapped_key, table="cases", row_id=case.id)

    async def answer(self, case: CaseRecord, step: int, answer: str, deliveries: list[Delivery], now: datetime) -> None:
        answer_id = uuid.uuid4().hex
        sealed = self._key(case).seal_text(answer, table="checkin_answers", column="answer", row_id=answer_id)
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO checkin_answers (id, case_id, step, answer, answered_at) VALUES (?, ?, ?, ?, ?)",
                (answer_id, case.id, step, sealed, to_db(now)),
            )
            await Outbox.insert(conn, case.id, deliveries, now)

    async def answers(self, case: CaseRecord) -> list[CheckInAnswer]:
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM checkin_answers WHERE case_id = ? ORDER BY answered_at, rowid", (case.id,)
            ) as cursor:
                rows = await cursor.fetchall()
        key = self._key(case)
        return [
            CheckInAnswer(
                row["step"],
                key.open_text(row["answer"], table="checkin_answers", column="answer", row_id=row["id"]),
                from_db(row["answered_at"]),
            )
            for row in rows
        ]

    async def ask_survey(self, case: CaseRecord, deliveries: list[Delivery], now: datetime) -> bool:
        """Queue the closing question once per case; False if it was asked before."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO surveys (case_id, asked_at) VALUES (?, ?) ON CONFLICT (case_id) DO NOTHING",
                (case.id, to_db(now)),
            )
            if cursor.rowcount != 1:
                return False
            await Outbox.insert(conn, case.id, deliveries, now)
        return True

    async def answer_survey(self, case: CaseRecord, answer: str, now: datetime) -> bool:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE surveys SET answer = ?, answered_at = ? WHERE case_id = ?", (answer, to_db(now), case.id)
            )
        return cursor.rowcount == 1

    async def comment_survey(self, case: CaseRecord, comment: str, now: datetime) -> None:
        sealed = self._key(case).seal_text(comment, table="surveys", column="comment", row_id=case.id)
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE surveys SET comment = ?, answered_at = COALESCE(answered_at, ?) WHERE case_id = ?",
                (sealed, to_db(now), case.id),
            )

    async def survey(self, case: CaseRecord) -> tuple[str | None, str | None] | None:
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT * FROM surveys WHERE case_id = ?", (case.id,)) as cursor:
                row = await cursor.fetchone()
        if row is None:
            return None
        comment = (
            None
            if row["comment"] is None
            else self._key(case).open_text(row["comment"], table="surveys", column="comment", row_id=case.id)
        )
        return row["answer"], comment

    async def survey_counts(self) -> dict[str, int]:
        """For the statistics: how many said yes, partly, no (and how many did not answer)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT COALESCE(answer, 'unanswered'), COUNT(*) FROM surveys GROUP BY 1"
            ) as cursor:
                return {row[0]: row[1] for row in await cursor.fetchall()}
