"""The coarse facts of every submitted report, as the statistics read them (migration 0014).

A row holds codes, a month and whole hours: nothing sealed, nothing that names anyone, and
no link to its case in plain sight (the case keeps the row's id in its sealed state). Rows
are written and updated only inside the transaction of the lifecycle change that causes
them (storage/cases.py); :meth:`Facts.all` reads the whole table in one scan for /stats.
"""

from __future__ import annotations

from typing import NamedTuple

import aiosqlite

from flows.lifecycle import FactsUpdate, SubmittedFacts
from storage.database import Database


class FactsRow(NamedTuple):
    month: str  # 'YYYY-MM'
    forms: str  # comma-separated form codes
    channel: str
    role: str
    department: str | None
    work_process: str | None
    perpetrator: str | None
    in_register: int
    acknowledged_hours: int | None
    reaction_hours: int | None
    police_report: int
    damages_claimed: int
    survey: str | None
    latest_checkin: str | None


_COLUMNS = ", ".join(FactsRow._fields)


async def insert_in(conn: aiosqlite.Connection, facts: SubmittedFacts) -> None:
    await conn.execute(
        "INSERT INTO report_facts (id, month, forms, channel, role, department, work_process, perpetrator,"
        " in_register) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            facts.id,
            facts.month.strftime("%Y-%m"),
            ",".join(sorted(facts.forms)),
            facts.channel.value,
            facts.role.value,
            facts.department,
            facts.work_process,
            facts.perpetrator,
            int(facts.in_register),
        ),
    )


async def update_in(conn: aiosqlite.Connection, facts_id: str, update: FactsUpdate) -> None:
    """Apply what a change taught the statistics; the first acknowledgement and reaction stay."""

    def flag(value: bool | None) -> int | None:
        return None if value is None else int(value)

    await conn.execute(
        "UPDATE report_facts SET in_register = COALESCE(?, in_register),"
        " acknowledged_hours = COALESCE(acknowledged_hours, ?), reaction_hours = COALESCE(reaction_hours, ?),"
        " police_report = COALESCE(?, police_report), damages_claimed = COALESCE(?, damages_claimed),"
        " survey = COALESCE(?, survey), latest_checkin = COALESCE(?, latest_checkin) WHERE id = ?",
        (
            flag(update.in_register),
            update.acknowledged_hours,
            update.reaction_hours,
            flag(update.police_report),
            flag(update.damages_claimed),
            None if update.survey is None else update.survey.value,
            None if update.latest_checkin is None else update.latest_checkin.value,
            facts_id,
        ),
    )


class Facts:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[FactsRow]:
        """Every row, in one scan of the table: what it costs grows with the reports counted, and
        nothing is decrypted."""
        async with self._db.transaction() as conn:
            async with conn.execute(f"SELECT {_COLUMNS} FROM report_facts") as cursor:
                return list(map(FactsRow._make, await cursor.fetchall()))

    async def version(self) -> int:
        """A number that changes whenever any fact does (one row, kept by the database)."""
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT version FROM report_facts_version WHERE id = 1") as cursor:
                row = await cursor.fetchone()
        return 0 if row is None else int(row[0])
