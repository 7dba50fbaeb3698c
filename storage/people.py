"""Reporters as stored: found by a blind index, every identifying field sealed.

A person row exists only once someone starts a report or sets a preference. It is
keyed by a random id; the Telegram id is kept sealed (the bot needs it to write to
the person) and found again through its keyed HMAC.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import aiosqlite

from flows.lifecycle import AuditNote, Delivery
from storage.audit import AuditTrail
from storage.crypto import DataKey, Vault
from storage.database import Database, one_row, to_db
from storage.outbox import Outbox

TABLE = "persons"
INDEX_KIND = "tg-user"


@dataclass(frozen=True, slots=True)
class PersonRecord:
    id: str
    telegram_id: int
    display_name: str
    username: str | None
    language: str
    language_chosen: bool
    role: str | None
    department: str | None = None
    admitted: bool = False
    work_process: str | None = None  # the work process they usually report from (asked once)
    work_process_asked: bool = False  # asked already (also when they skipped it)


class People:
    def __init__(self, db: Database, vault: Vault, audit: AuditTrail) -> None:
        self._db = db
        self._vault = vault
        self._audit = audit

    def index_of(self, telegram_id: int) -> bytes:
        return self._vault.blind_index(INDEX_KIND, telegram_id)

    def _open(self, row: aiosqlite.Row) -> PersonRecord:
        person_id = row["id"]
        key = self._vault.unwrap(row["wrapped_key"], table=TABLE, row_id=person_id)

        def text(column: str) -> str | None:
            blob = row[column]
            return None if blob is None else key.open_text(blob, table=TABLE, column=column, row_id=person_id)

        return PersonRecord(
            id=person_id,
            telegram_id=int(text("telegram_id") or "0"),
            display_name=text("display_name") or "",
            username=text("username"),
            language=row["language"],
            language_chosen=bool(row["language_chosen"]),
            role=row["role"],
            department=row["department"],
            admitted=row["admitted_at"] is not None,
            work_process=row["work_process"],
            work_process_asked=bool(row["work_process_asked"]),
        )

    async def get(self, person_id: str | None) -> PersonRecord | None:
        """The person with this id (None for None: a case whose reporter was erased)."""
        if person_id is None:
            return None
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT * FROM persons WHERE id = ?", (person_id,)) as cursor:
                row = await cursor.fetchone()
        return None if row is None else self._open(row)

    async def index_of_person(self, person_id: str | None) -> bytes | None:
        """The blind index to address a person by (None if they no longer exist)."""
        person = await self.get(person_id)
        return None if person is None else self.index_of(person.telegram_id)

    async def find(self, telegram_id: int) -> PersonRecord | None:
        return await self.find_by_index(self.index_of(telegram_id))

    async def find_by_index(self, index: bytes) -> PersonRecord | None:
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT * FROM persons WHERE tg_index = ?", (index,)) as cursor:
                row = await cursor.fetchone()
        return None if row is None else self._open(row)

    async def ensure(
        self, *, telegram_id: int, display_name: str, username: str | None, language: str, now: datetime
    ) -> PersonRecord:
        """The person behind ``telegram_id``, created on first use, names kept current."""
        index = self.index_of(telegram_id)
        existing = await self.find_by_index(index)
        if existing is None:
            person_id = uuid.uuid4().hex
            key, wrapped = self._vault.new_data_key(table=TABLE, row_id=person_id)
            async with self._db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO persons (id, tg_index, wrapped_key, telegram_id, display_name, username,"
                    " language, language_chosen, role, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?)",
                    (
                        person_id,
                        index,
                        wrapped,
                        _seal(key, person_id, "telegram_id", str(telegram_id)),
                        _seal(key, person_id, "display_name", display_name),
                        None if username is None else _seal(key, person_id, "username", username),
                        language,
                        to_db(now),
                        to_db(now),
                    ),
                )
            return PersonRecord(person_id, telegram_id, display_name, username, language, False, None)
        changes: dict[str, object] = {}
        if existing.display_name != display_name or existing.username != username:
            key = await self._key(existing.id)
            changes["display_name"] = _seal(key, existing.id, "display_name", display_name)
            changes["username"] = None if username is None else _seal(key, existing.id, "username", username)
        if not existing.language_chosen and existing.language != language:
            changes["language"] = language
        if changes:
            await self._update(existing.id, changes, now)
            return replace(
                existing,
                telegram_id=telegram_id,
                display_name=display_name,
                username=username,
                language=language if "language" in changes else existing.language,
            )
        return existing

    async def choose_language(self, person_id: str, language: str, now: datetime) -> None:
        await self._update(person_id, {"language": language, "language_chosen": 1}, now)

    async def set_role(self, person_id: str, role: str, now: datetime) -> None:
        await self._update(person_id, {"role": role}, now)

    async def set_department(self, person_id: str, department: str, now: datetime) -> None:
        await self._update(person_id, {"department": department}, now)

    async def set_work_process(self, person_id: str, work_process: str | None, now: datetime) -> None:
        """Remember the work process (None: skipped), so later reports do not ask it again."""
        await self._update(person_id, {"work_process": work_process, "work_process_asked": 1}, now)

    async def erase(
        self, person_id: str, deliveries: Sequence[Delivery], audit: Sequence[tuple[str, AuditNote]], now: datetime
    ) -> None:
        """Erase a person and everything of theirs: crypto-shredding by deleting every row that
        holds one of their keys (their own, and each of their cases'), then folding the WAL into
        the database so no copy of the deleted pages remains beside it.

        ``deliveries`` (about cases that disappear) are queued with no case attached, and the
        ``audit`` entries (case reference, note) written, in the same transaction.
        """
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM cases WHERE person_id = ?", (person_id,))
            await conn.execute(
                "DELETE FROM composing WHERE person_index = (SELECT tg_index FROM persons WHERE id = ?)", (person_id,)
            )
            await conn.execute(
                "DELETE FROM outbox WHERE recipient_index = (SELECT tg_index FROM persons WHERE id = ?)", (person_id,)
            )
            await conn.execute("DELETE FROM persons WHERE id = ?", (person_id,))
            await Outbox.insert(conn, None, deliveries, now)
            for reference, note in audit:
                await self._audit.append_note(conn, note, now, reference)
        await self._db.checkpoint()

    async def _key(self, person_id: str) -> DataKey:
        async with self._db.transaction() as conn:
            row = await one_row(conn, "SELECT wrapped_key FROM persons WHERE id = ?", (person_id,))
        return self._vault.unwrap(row[0], table=TABLE, row_id=person_id)

    async def _update(self, person_id: str, changes: dict[str, object], now: datetime) -> None:
        columns = ", ".join(f"{name} = ?" for name in changes)
        async with self._db.transaction() as conn:
            await conn.execute(
                f"UPDATE persons SET {columns}, updated_at = ? WHERE id = ?",
                (*changes.values(), to_db(now), person_id),
            )


def _seal(key: DataKey, person_id: str, column: str, value: str) -> bytes:
    return key.seal_text(value, table=TABLE, column=column, row_id=person_id)
