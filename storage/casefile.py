"""The case file beyond the report: messages, a counsellor's private notes, actions, check-ins, files.

Everything a person wrote here is sealed under the case's own data key, bound to its
table, column and row, exactly like the report; who wrote it is kept as a role and, for
staff, the keyed HMAC of their Telegram id. Rows are added by :meth:`storage.cases.Cases.change`,
with the change that causes them; this module reads them back, and keeps the reporter's
answer to the closing question.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from flows.lifecycle import (
    ActionKind,
    ActionOutcome,
    CheckInAnswer,
    CostKind,
    FactsUpdate,
    Party,
    PoliceStep,
    SurveyAnswer,
    Thread,
)
from storage import facts as report_facts
from storage.crypto import DataKey, Vault
from storage.database import Database, from_db, to_db


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: str
    thread: Thread
    author: Party
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
    kind: ActionKind
    outcome: ActionOutcome
    note: str
    recorded_by: bytes
    recorded_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PoliceStepRecord:
    id: str
    step: PoliceStep
    on: date
    number: str  # "" when not known (or not a police report)
    recorded_by: Party
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class CostItemRecord:
    id: str
    kind: CostKind
    amount_cents: int
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class CheckInRecord:
    step: int
    answer: CheckInAnswer
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """A file of the case as the server received it, decrypted, with the moment it arrived."""

    id: str
    seq: int
    kind: str
    size: int
    file_name: str | None
    mime_type: str | None
    content: bytes
    received_at: datetime
    added_later: bool  # came with a message after the report was sent


@dataclass(frozen=True, slots=True)
class News:
    """The latest staff message and the latest action on a case: for a list line, nothing decrypted."""

    message: tuple[Party, datetime] | None = None
    action: tuple[ActionKind, datetime] | None = None


def _moment(text: str) -> datetime:
    moment = from_db(text)
    assert moment is not None
    return moment


class CaseFile:
    def __init__(self, db: Database, vault: Vault) -> None:
        self._db = db
        self._vault = vault

    async def _rows(
        self, case_id: str, sql: str, args: tuple[object, ...]
    ) -> tuple[DataKey | None, list[aiosqlite.Row]]:
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT wrapped_key FROM cases WHERE id = ?", (case_id,)) as cursor:
                found = await cursor.fetchone()
            if found is None:
                return None, []
            async with conn.execute(sql, args) as cursor:
                rows = list(await cursor.fetchall())
        return self._vault.unwrap(found[0], table="cases", row_id=case_id), rows

    # -- messages -------------------------------------------------------------------

    async def messages(self, case_id: str, threads: tuple[Thread, ...]) -> list[MessageRecord]:
        marks = ", ".join("?" for _ in threads)
        key, rows = await self._rows(
            case_id,
            f"SELECT * FROM case_messages WHERE case_id = ? AND thread IN ({marks}) ORDER BY created_at, rowid",
            (case_id, *(t.value for t in threads)),
        )
        return [self._message(key, row) for row in rows if key is not None]

    async def message(self, case_id: str, message_id: str) -> MessageRecord | None:
        key, rows = await self._rows(
            case_id, "SELECT * FROM case_messages WHERE case_id = ? AND id = ?", (case_id, message_id)
        )
        return None if key is None or not rows else self._message(key, rows[0])

    @staticmethod
    def _message(key: DataKey, row: aiosqlite.Row) -> MessageRecord:
        return MessageRecord(
            id=row["id"],
            thread=Thread(row["thread"]),
            author=Party(row["author"]),
            author_index=None if row["author_index"] is None else bytes(row["author_index"]),
            body=""
            if row["body"] is None
            else key.open_text(row["body"], table="case_messages", column="body", row_id=row["id"]),
            attachment_id=row["attachment_id"],
            created_at=_moment(row["created_at"]),
        )

    async def news(self, case_ids: Sequence[str]) -> dict[str, News]:
        """For a page of cases at once: who of the staff last wrote, and the last action taken."""
        found: dict[str, News] = {case_id: News() for case_id in case_ids}
        if not case_ids:
            return found
        marks = ", ".join("?" for _ in case_ids)
        async with self._db.transaction() as conn:
            # SQLite takes the other columns from the row that has the MAX.
            async with conn.execute(
                f"SELECT case_id, author, MAX(created_at) FROM case_messages WHERE case_id IN ({marks})"
                " AND author != 'reporter' AND thread != 'case' GROUP BY case_id",
                tuple(case_ids),
            ) as cursor:
                messages = {row[0]: (Party(row[1]), _moment(row[2])) for row in await cursor.fetchall()}
            async with conn.execute(
                f"SELECT case_id, kind, MAX(updated_at) FROM case_actions WHERE case_id IN ({marks}) GROUP BY case_id",
                tuple(case_ids),
            ) as cursor:
                actions = {row[0]: (ActionKind(row[1]), _moment(row[2])) for row in await cursor.fetchall()}
        return {case_id: News(messages.get(case_id), actions.get(case_id)) for case_id in case_ids}

    # -- files ----------------------------------------------------------------------

    async def files(self, case_id: str) -> list[ReceivedFile]:
        """Every file of the case in the order it arrived, decrypted (for the case file)."""
        key, rows = await self._rows(case_id, "SELECT * FROM attachments WHERE case_id = ? ORDER BY seq", (case_id,))
        if key is None:
            return []
        found = []
        for row in rows:
            details = json.loads(key.open_text(row["details"], table="attachments", column="details", row_id=row["id"]))
            found.append(
                ReceivedFile(
                    id=row["id"],
                    seq=row["seq"],
                    kind=row["kind"],
                    size=row["size"],
                    file_name=details["file_name"],
                    mime_type=details["mime_type"],
                    content=key.open(row["content"], table="attachments", column="content", row_id=row["id"]),
                    received_at=_moment(row["created_at"]),
                    added_later=bool(row["added_later"]),
                )
            )
        return found

    # -- notes ----------------------------------------------------------------------

    async def notes(self, case_id: str) -> list[NoteRecord]:
        key, rows = await self._rows(
            case_id, "SELECT * FROM case_notes WHERE case_id = ? ORDER BY created_at, rowid", (case_id,)
        )
        if key is None:
            return []
        return [
            NoteRecord(
                row["id"],
                bytes(row["author_index"]),
                key.open_text(row["body"], table="case_notes", column="body", row_id=row["id"]),
                _moment(row["created_at"]),
            )
            for row in rows
        ]

    # -- actions towards the perpetrator --------------------------------------------

    async def actions(self, case_id: str) -> list[ActionRecord]:
        key, rows = await self._rows(
            case_id, "SELECT * FROM case_actions WHERE case_id = ? ORDER BY recorded_at, rowid", (case_id,)
        )
        if key is None:
            return []
        return [
            ActionRecord(
                id=row["id"],
                kind=ActionKind(row["kind"]),
                outcome=ActionOutcome(row["outcome"]),
                note=""
                if row["note"] is None
                else key.open_text(row["note"], table="case_actions", column="note", row_id=row["id"]),
                recorded_by=bytes(row["recorded_by"]),
                recorded_at=_moment(row["recorded_at"]),
                updated_at=_moment(row["updated_at"]),
            )
            for row in rows
        ]

    async def action(self, case_id: str, action_id: str) -> ActionRecord | None:
        return next((a for a in await self.actions(case_id) if a.id == action_id), None)

    # -- the police and damages tracks ------------------------------------------------

    async def police_steps(self, case_id: str) -> list[PoliceStepRecord]:
        key, rows = await self._rows(
            case_id, "SELECT * FROM case_police_steps WHERE case_id = ? ORDER BY recorded_at, rowid", (case_id,)
        )
        if key is None:
            return []
        return [
            PoliceStepRecord(
                id=row["id"],
                step=PoliceStep(row["step"]),
                on=date.fromisoformat(row["step_date"]),
                number=""
                if row["number"] is None
                else key.open_text(row["number"], table="case_police_steps", column="number", row_id=row["id"]),
                recorded_by=Party(row["recorded_by"]),
                recorded_at=_moment(row["recorded_at"]),
            )
            for row in rows
        ]

    async def police_step(self, case_id: str, step_id: str) -> PoliceStepRecord | None:
        return next((s for s in await self.police_steps(case_id) if s.id == step_id), None)

    async def cost_items(self, case_id: str) -> list[CostItemRecord]:
        """The damages' items, amounts in euro cents (figures, not sealed: see migration 0011)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM case_cost_items WHERE case_id = ? ORDER BY recorded_at, rowid", (case_id,)
            ) as cursor:
                rows = list(await cursor.fetchall())
        return [
            CostItemRecord(row["id"], CostKind(row["kind"]), row["amount_cents"], _moment(row["recorded_at"]))
            for row in rows
        ]

    # -- how the reporter is, and what they thought of it all --------------------------

    async def check_ins(self, case_id: str) -> list[CheckInRecord]:
        """The reporter's check-in answers: health information, for the counsellor on the case only."""
        key, rows = await self._rows(
            case_id, "SELECT * FROM checkin_answers WHERE case_id = ? ORDER BY answered_at, rowid", (case_id,)
        )
        if key is None:
            return []
        return [
            CheckInRecord(
                row["step"],
                CheckInAnswer(key.open_text(row["answer"], table="checkin_answers", column="answer", row_id=row["id"])),
                _moment(row["answered_at"]),
            )
            for row in rows
        ]

    async def answer_survey(
        self, case_id: str, answer: SurveyAnswer, now: datetime, *, facts_id: str | None = None
    ) -> bool:
        """The reporter's answer to "was it enough?"; False if the question was never asked.
        ``facts_id``: the case's row of coarse facts, which counts the answer in the same transaction."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE surveys SET answer = ?, answered_at = ? WHERE case_id = ?", (answer.value, to_db(now), case_id)
            )
            if cursor.rowcount == 1 and facts_id is not None:
                await report_facts.update_in(conn, facts_id, FactsUpdate(survey=answer), now)
        return cursor.rowcount == 1

    async def comment_survey(self, case_id: str, comment: str, now: datetime) -> None:
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT wrapped_key FROM cases WHERE id = ?", (case_id,)) as cursor:
                found = await cursor.fetchone()
            if found is None:
                return
            key = self._vault.unwrap(found[0], table="cases", row_id=case_id)
            sealed = key.seal_text(comment, table="surveys", column="comment", row_id=case_id)
            await conn.execute(
                "UPDATE surveys SET comment = ?, answered_at = COALESCE(answered_at, ?) WHERE case_id = ?",
                (sealed, to_db(now), case_id),
            )

    async def survey(self, case_id: str) -> tuple[str | None, str | None] | None:
        key, rows = await self._rows(case_id, "SELECT * FROM surveys WHERE case_id = ?", (case_id,))
        if key is None or not rows:
            return None
        row = rows[0]
        comment = (
            None
            if row["comment"] is None
            else key.open_text(row["comment"], table="surveys", column="comment", row_id=case_id)
        )
        return row["answer"], comment

    async def survey_counts(self) -> dict[str, int]:
        """For the statistics: how many said yes, partly, no (and how many did not answer)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT COALESCE(answer, 'unanswered'), COUNT(*) FROM surveys GROUP BY 1"
            ) as cursor:
                return {row[0]: row[1] for row in await cursor.fetchall()}
