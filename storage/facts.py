"""The coarse facts of every submitted report, as the statistics read them (migration 0014).

A row holds codes, a month and whole hours: nothing sealed, nothing that names anyone, and
no link to its case in plain sight (the case keeps the row's id in its sealed state). Rows
are written and updated only inside the transaction of the lifecycle change that causes
them (storage/cases.py); :meth:`Facts.all` reads the whole table in one scan for /stats.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import aiosqlite

from flows.lifecycle import Delivery, FactsUpdate, SubmittedFacts, Timer, TimerKind
from storage.database import Database
from storage.outbox import Outbox
from storage.schedule import Schedule


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


# Months are kept in the municipality's time zone and ``now`` is UTC: a month counts as possibly
# ended from this long before its end in UTC, whatever the zone (UTC+14 is the earliest).
_ZONE_MARGIN = timedelta(hours=14)


async def update_in(conn: aiosqlite.Connection, facts_id: str, update: FactsUpdate, now: datetime) -> None:
    """Apply what a change taught the statistics; the first acknowledgement and reaction stay.
    A change to a month that may have ended changes the version (:meth:`Facts.version`)."""

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
    current = (now.astimezone(UTC) + _ZONE_MARGIN).strftime("%Y-%m")
    await conn.execute(
        "UPDATE report_facts_version SET version = version + 1"
        " WHERE EXISTS (SELECT 1 FROM report_facts WHERE id = ? AND month < ?)",
        (facts_id, current),
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
        """A number that changes whenever a fact of a month that may have ended does (one row).
        New reports leave it alone: they belong to the current month, which is not shown."""
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT version FROM report_facts_version WHERE id = 1") as cursor:
                row = await cursor.fetchone()
        return 0 if row is None else int(row[0])

    async def summary_armed(self) -> bool:
        """Whether the next quarterly summary is waiting in the schedule."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT 1 FROM scheduled WHERE kind = ? AND case_id IS NULL AND status IN ('pending', 'claimed')"
                " LIMIT 1",
                (TimerKind.QUARTERLY_SUMMARY.value,),
            ) as cursor:
                return await cursor.fetchone() is not None

    async def queue_summary(self, deliveries: list[Delivery], following: Timer, now: datetime) -> None:
        """The quarterly summary's notifications and the next quarter's timer, in one transaction:
        a run repeated after a crash adds neither twice (the deliveries carry the item's id)."""
        async with self._db.transaction() as conn:
            await Outbox.insert(conn, None, deliveries, now)
            async with conn.execute(
                "SELECT 1 FROM scheduled WHERE kind = ? AND case_id IS NULL AND status = 'pending' AND detail = ?",
                (following.kind.value, following.detail),
            ) as cursor:
                armed = await cursor.fetchone() is not None
            if not armed:
                await Schedule.insert(conn, None, [following], now)
