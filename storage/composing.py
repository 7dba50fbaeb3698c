"""What someone is typing for: "the next text I send is a note on MB-…", kept across restarts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.database import Database, from_db, to_db


@dataclass(frozen=True, slots=True)
class Composing:
    case_id: str
    purpose: str
    detail: str | None
    started_at: datetime


class ComposingStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def start(self, person_index: bytes, case_id: str, purpose: str, detail: str | None, now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO composing (person_index, case_id, purpose, detail, started_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (person_index) DO UPDATE SET case_id = excluded.case_id, purpose = excluded.purpose,"
                " detail = excluded.detail, started_at = excluded.started_at",
                (person_index, case_id, purpose, detail, to_db(now)),
            )

    async def current(self, person_index: bytes) -> Composing | None:
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT * FROM composing WHERE person_index = ?", (person_index,)) as cursor:
                row = await cursor.fetchone()
        if row is None:
            return None
        started = from_db(row["started_at"])
        assert started is not None  # the column is NOT NULL
        return Composing(row["case_id"], row["purpose"], row["detail"], started)

    async def stop(self, person_index: bytes) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM composing WHERE person_index = ?", (person_index,))
