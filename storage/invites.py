"""Single-use, expiring invitations for municipalities that admit reporters by invitation.

The code travels only in the link (``https://t.me/<bot>?start=<code>``); the database
keeps its keyed HMAC, so a copy of the database holds no working invitation.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from storage.crypto import Vault
from storage.database import Database, from_db, one_row, to_db

CODE_BYTES = 18  # 24 URL-safe characters; Telegram allows up to 64 in a start parameter


@dataclass(frozen=True, slots=True)
class Invite:
    id: str
    role: str
    department: str | None
    expires_at: datetime
    used_at: datetime | None


class Invites:
    def __init__(self, db: Database, vault: Vault) -> None:
        self._db = db
        self._vault = vault

    def _index(self, code: str) -> bytes:
        return self._vault.blind_index("invite", code)

    async def create(
        self, *, role: str, department: str | None, created_by: bytes | None, expires_at: datetime, now: datetime
    ) -> str:
        """A new code; the caller builds the link from it. It is never stored."""
        code = secrets.token_urlsafe(CODE_BYTES)
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO invites (id, code_index, role, department, created_by, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (uuid.uuid4().hex, self._index(code), role, department, created_by, to_db(now), to_db(expires_at)),
            )
        return code

    async def redeem(self, code: str, person_id: str, now: datetime) -> Invite | None:
        """Use an invitation once; None if it does not exist, expired, or was used already."""
        index = self._index(code)
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE invites SET used_at = ?, used_by = ?"
                " WHERE code_index = ? AND used_at IS NULL AND expires_at > ?",
                (to_db(now), person_id, index, to_db(now)),
            )
            if cursor.rowcount != 1:
                return None
            row = await one_row(conn, "SELECT * FROM invites WHERE code_index = ?", (index,))
            await conn.execute(
                "UPDATE persons SET role = ?, department = ?, admitted_at = ?, updated_at = ? WHERE id = ?",
                (row["role"], row["department"], to_db(now), to_db(now), person_id),
            )
        expires = from_db(row["expires_at"])
        assert expires is not None  # the column is NOT NULL
        return Invite(row["id"], row["role"], row["department"], expires, from_db(row["used_at"]))

    async def usable(self, code: str, now: datetime) -> bool:
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT 1 FROM invites WHERE code_index = ? AND used_at IS NULL AND expires_at > ?",
                (self._index(code), to_db(now)),
            ) as cursor:
                return await cursor.fetchone() is not None

    async def open_count(self, now: datetime) -> int:
        async with self._db.transaction() as conn:
            row = await one_row(
                conn, "SELECT COUNT(*) FROM invites WHERE used_at IS NULL AND expires_at > ?", (to_db(now),)
            )
            return int(row[0])
