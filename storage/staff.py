"""Staff enrolled by invitation: their single-use links, and who they are once enrolled.

The link's code is never stored: the database keeps its keyed HMAC, and the name the
link was made for is sealed with a second key derived from the code, so a copy of the
database holds neither a working link nor the name. Once enrolled, a member is their
person row (Telegram id and name sealed with the person's key) plus the role they hold,
the groups they serve and the name they go by, sealed with that same key.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from flows.model import Audience, Language, StaffRole
from storage.crypto import DataKey, Vault
from storage.database import Database, from_db, one_row, to_db

CODE_BYTES = 18  # 24 URL-safe characters, as storage/invites.py: Telegram allows up to 64
INVITES = "staff_invites"
ENROLLED = "enrolled_staff"


@dataclass(frozen=True, slots=True)
class StaffInvitation:
    """What a staff link enrols its holder as."""

    role: StaffRole
    name: str | None
    serves: frozenset[Audience]
    language: Language
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class EnrolledMember:
    id: str
    person_id: str
    telegram_id: int
    staff_index: bytes
    role: StaffRole
    name: str
    serves: frozenset[Audience]
    language: Language
    enrolled_at: datetime


def serves_text(serves: frozenset[Audience]) -> str:
    return ",".join(a.value for a in Audience if a in serves)


def _serves(text: str) -> frozenset[Audience]:
    return frozenset(Audience(part) for part in text.split(",") if part)


class StaffStore:
    def __init__(self, db: Database, vault: Vault) -> None:
        self._db = db
        self._vault = vault

    def _index(self, code: str) -> bytes:
        return self._vault.blind_index("staff-invite", code)

    def _code_key(self, code: str) -> DataKey:
        # Keyed by the database's index key as well: neither the code nor the database alone opens the name.
        return DataKey(self._vault.blind_index("staff-invite-name", code))

    async def create_invite(
        self,
        *,
        role: StaffRole,
        name: str | None,
        serves: frozenset[Audience],
        language: Language,
        created_by: bytes | None,
        expires_at: datetime,
        now: datetime,
    ) -> str:
        """A new code; the caller builds the link from it."""
        code = secrets.token_urlsafe(CODE_BYTES)
        invite_id = uuid.uuid4().hex
        sealed = (
            None
            if name is None
            else self._code_key(code).seal_text(name, table=INVITES, column="name", row_id=invite_id)
        )
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO staff_invites (id, code_index, role, name, serves, language, created_by, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    invite_id,
                    self._index(code),
                    role.value,
                    sealed,
                    serves_text(serves),
                    language.value,
                    created_by,
                    to_db(now),
                    to_db(expires_at),
                ),
            )
        return code

    async def invitation(self, code: str) -> tuple[StaffInvitation, bool] | None:
        """The invitation behind ``code`` and whether it was used; None if there is none."""
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT * FROM staff_invites WHERE code_index = ?", (self._index(code),)) as cur:
                row = await cur.fetchone()
        if row is None:
            return None
        return self._invitation(code, row), row["used_at"] is not None

    def _invitation(self, code: str, row: aiosqlite.Row) -> StaffInvitation:
        name = (
            None
            if row["name"] is None
            else self._code_key(code).open_text(row["name"], table=INVITES, column="name", row_id=row["id"])
        )
        expires = from_db(row["expires_at"])
        assert expires is not None  # the column is NOT NULL
        return StaffInvitation(StaffRole(row["role"]), name, _serves(row["serves"]), Language(row["language"]), expires)

    async def enrol(
        self, code: str, person_id: str, staff_index: bytes, display_name: str, now: datetime
    ) -> EnrolledMember | None:
        """Use the invitation once and enrol ``person_id`` as it says; None if it is used, expired or unknown.

        They go by the name the link was made for, or else by their Telegram name. The link's
        name is cleared in the same transaction: from now on only the person's key opens it.
        """
        index = self._index(code)
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE staff_invites SET used_at = ? WHERE code_index = ? AND used_at IS NULL AND expires_at > ?",
                (to_db(now), index, to_db(now)),
            )
            if cursor.rowcount != 1:
                return None
            row = await one_row(conn, "SELECT * FROM staff_invites WHERE code_index = ?", (index,))
            invitation = self._invitation(code, row)
            await conn.execute("UPDATE staff_invites SET name = NULL WHERE id = ?", (row["id"],))
            person = await one_row(conn, "SELECT wrapped_key FROM persons WHERE id = ?", (person_id,))
            key = self._vault.unwrap(person["wrapped_key"], table="persons", row_id=person_id)
            member_id = uuid.uuid4().hex
            await conn.execute(
                "INSERT INTO enrolled_staff (id, person_id, staff_index, role, name, serves, language, enrolled_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    member_id,
                    person_id,
                    staff_index,
                    invitation.role.value,
                    key.seal_text(invitation.name or display_name, table=ENROLLED, column="name", row_id=member_id),
                    serves_text(invitation.serves),
                    invitation.language.value,
                    to_db(now),
                ),
            )
        return await self.member(member_id)

    async def member(self, member_id: str) -> EnrolledMember | None:
        found = await self._select("WHERE s.id = ?", (member_id,))
        return found[0] if found else None

    async def members(self) -> list[EnrolledMember]:
        """Everyone enrolled, in the order they enrolled."""
        return await self._select("ORDER BY s.enrolled_at, s.id", ())

    async def _select(self, where: str, args: tuple[object, ...]) -> list[EnrolledMember]:
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT s.*, p.wrapped_key, p.telegram_id FROM enrolled_staff s JOIN persons p ON p.id = s.person_id "
                + where,
                args,
            ) as cursor:
                rows = await cursor.fetchall()
        return [self._member(row) for row in rows]

    def _member(self, row: aiosqlite.Row) -> EnrolledMember:
        person_id = row["person_id"]
        key = self._vault.unwrap(row["wrapped_key"], table="persons", row_id=person_id)
        enrolled = from_db(row["enrolled_at"])
        assert enrolled is not None  # the column is NOT NULL
        return EnrolledMember(
            id=row["id"],
            person_id=person_id,
            telegram_id=int(key.open_text(row["telegram_id"], table="persons", column="telegram_id", row_id=person_id)),
            staff_index=bytes(row["staff_index"]),
            role=StaffRole(row["role"]),
            name=key.open_text(row["name"], table=ENROLLED, column="name", row_id=row["id"]),
            serves=_serves(row["serves"]),
            language=Language(row["language"]),
            enrolled_at=enrolled,
        )

    async def remove(self, member_id: str) -> bool:
        async with self._db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM enrolled_staff WHERE id = ?", (member_id,))
            return cursor.rowcount == 1

    async def cases_held(self, staff_index: bytes) -> list[str]:
        """Open cases this member handles or was asked to pick up (to hand on when they leave)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT case_id FROM case_counsellors WHERE staff_index = ? AND state IN ('assigned', 'alerted')"
                " AND case_open = 1 ORDER BY case_submitted_at, case_id",
                (staff_index,),
            ) as cursor:
                return [row[0] for row in await cursor.fetchall()]

    async def open_invites(self, now: datetime) -> int:
        async with self._db.transaction() as conn:
            row = await one_row(
                conn, "SELECT COUNT(*) FROM staff_invites WHERE used_at IS NULL AND expires_at > ?", (to_db(now),)
            )
            return int(row[0])
