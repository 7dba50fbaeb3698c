"""Cases as stored: a draft while the reporter answers, a case once submitted.

Each case has its own data key, wrapped by the master key and kept in the row;
the reporter's words, the attachments and the draft's working state are sealed
under it. Deleting the row (``secure_delete`` is on) destroys the key and with it
everything sealed under it.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import aiosqlite

from storage.crypto import DataKey, Vault
from storage.database import Database, from_db, to_db
from storage.outbox import Delivery, Outbox
from storage.schedule import Schedule

TABLE = "cases"
ATTACHMENTS = "attachments"
# No 0/O, 1/I/L or U: a reference is read aloud on the phone and typed from paper.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    body = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"MB-{body[:4]}-{body[4:]}"


@dataclass(slots=True)
class CaseRecord:
    """A case with its sealed fields opened. Drafts are changed in place and saved."""

    id: str
    reference: str
    person_id: str | None
    wrapped_key: bytes
    status: str
    step: str | None
    category: str | None
    incident_date: date | None
    channel: str | None
    role: str | None
    audience: str | None
    wish: str | None
    share_name_counsellor: bool
    share_name_coordinator: bool
    description: str
    state: dict = field(default_factory=dict)
    attachment_count: int = 0
    created_at: datetime | None = None
    submitted_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: bytes | None = None
    registered_at: datetime | None = None
    register: str = "none"
    consent_asked_at: datetime | None = None
    escalation: int = 0
    closed_at: datetime | None = None
    withdrawn_at: datetime | None = None
    last_news_at: datetime | None = None
    department: str | None = None
    updated_at: datetime | None = None
    aftercare: str = "active"

    @property
    def submitted(self) -> bool:
        return self.status != "draft"


@dataclass(frozen=True, slots=True)
class CaseListing:
    """One line of an inbox or register: coarse codes only."""

    id: str
    reference: str
    status: str
    category: str | None
    role: str | None
    audience: str | None
    submitted_at: datetime | None
    register: str
    unread: bool


@dataclass(frozen=True, slots=True)
class AttachmentRecord:
    id: str
    seq: int
    kind: str
    size: int
    file_name: str | None
    mime_type: str | None
    duration: int | None
    content: bytes


class Cases:
    def __init__(self, db: Database, vault: Vault) -> None:
        self._db = db
        self._vault = vault

    def _key(self, case_id: str, wrapped: bytes) -> DataKey:
        return self._vault.unwrap(wrapped, table=TABLE, row_id=case_id)

    def _open(self, row: aiosqlite.Row, attachment_count: int) -> CaseRecord:
        case_id = row["id"]
        key = self._key(case_id, row["wrapped_key"])
        description = (
            ""
            if row["description"] is None
            else key.open_text(row["description"], table=TABLE, column="description", row_id=case_id)
        )
        state = (
            {}
            if row["draft_state"] is None
            else json.loads(key.open_text(row["draft_state"], table=TABLE, column="draft_state", row_id=case_id))
        )
        return CaseRecord(
            id=case_id,
            reference=row["reference"],
            person_id=row["person_id"],
            wrapped_key=row["wrapped_key"],
            status=row["status"],
            step=row["step"],
            category=row["category"],
            incident_date=None if row["incident_date"] is None else date.fromisoformat(row["incident_date"]),
            channel=row["channel"],
            role=row["role"],
            audience=row["audience"],
            wish=row["wish"],
            share_name_counsellor=bool(row["share_name_counsellor"]),
            share_name_coordinator=bool(row["share_name_coordinator"]),
            description=description,
            state=state,
            attachment_count=attachment_count,
            created_at=from_db(row["created_at"]),
            submitted_at=from_db(row["submitted_at"]),
            acknowledged_at=from_db(row["acknowledged_at"]),
            acknowledged_by=row["acknowledged_by"],
            registered_at=from_db(row["registered_at"]),
            register=row["register"],
            consent_asked_at=from_db(row["consent_asked_at"]),
            escalation=row["escalation"],
            closed_at=from_db(row["closed_at"]),
            withdrawn_at=from_db(row["withdrawn_at"]),
            last_news_at=from_db(row["last_news_at"]),
            department=row["department"],
            updated_at=from_db(row["updated_at"]),
            aftercare=row["aftercare"],
        )

    async def _fetch(self, where: str, args: tuple) -> CaseRecord | None:
        async with self._db.transaction() as conn:
            async with conn.execute(
                f"SELECT c.*, (SELECT COUNT(*) FROM attachments a WHERE a.case_id = c.id AND a.added_later = 0)"
                " AS n_attachments"
                f" FROM cases c WHERE {where}",
                args,
            ) as cursor:
                row = await cursor.fetchone()
        return None if row is None else self._open(row, row["n_attachments"])

    async def get(self, case_id: str) -> CaseRecord | None:
        return await self._fetch("c.id = ?", (case_id,))

    async def by_reference(self, reference: str) -> CaseRecord | None:
        return await self._fetch("c.reference = ?", (reference,))

    async def draft_of(self, person_id: str) -> CaseRecord | None:
        """The person's unfinished report, if any (there is at most one)."""
        return await self._fetch(
            "c.person_id = ? AND c.status = 'draft' ORDER BY c.created_at DESC LIMIT 1", (person_id,)
        )

    async def create_draft(self, *, person_id: str, step: str, role: str | None, now: datetime) -> CaseRecord:
        case_id = uuid.uuid4().hex
        key, wrapped = self._vault.new_data_key(table=TABLE, row_id=case_id)
        async with self._db.transaction() as conn:
            while True:
                reference = new_reference()
                async with conn.execute("SELECT 1 FROM cases WHERE reference = ?", (reference,)) as cursor:
                    if await cursor.fetchone() is None:
                        break
            await conn.execute(
                "INSERT INTO cases (id, reference, person_id, wrapped_key, status, step, role, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'draft', ?, ?, ?, ?)",
                (case_id, reference, person_id, wrapped, step, role, to_db(now), to_db(now)),
            )
        return CaseRecord(
            id=case_id,
            reference=reference,
            person_id=person_id,
            wrapped_key=wrapped,
            status="draft",
            step=step,
            category=None,
            incident_date=None,
            channel=None,
            role=role,
            audience=None,
            wish=None,
            share_name_counsellor=True,
            share_name_coordinator=False,
            description="",
            created_at=now,
        )

    def _answers(self, case: CaseRecord) -> dict[str, object]:
        """A draft's answers as columns, the reporter's words sealed."""
        key = self._key(case.id, case.wrapped_key)
        return {
            "category": case.category,
            "incident_date": None if case.incident_date is None else case.incident_date.isoformat(),
            "channel": case.channel,
            "role": case.role,
            "audience": case.audience,
            "wish": case.wish,
            "share_name_counsellor": int(case.share_name_counsellor),
            "share_name_coordinator": int(case.share_name_coordinator),
            "description": self._seal_description(key, case),
            "draft_state": key.seal_text(json.dumps(case.state), table=TABLE, column="draft_state", row_id=case.id),
        }

    async def save(self, case: CaseRecord, now: datetime) -> None:
        """Write back a draft's answers and sealed working state."""
        columns = {"step": case.step, **self._answers(case), "updated_at": to_db(now)}
        async with self._db.transaction() as conn:
            await conn.execute(
                f"UPDATE cases SET {', '.join(f'{name} = ?' for name in columns)} WHERE id = ?",
                (*columns.values(), case.id),
            )

    @staticmethod
    def _seal_description(key: DataKey, case: CaseRecord) -> bytes | None:
        if not case.description:
            return None
        return key.seal_text(case.description, table=TABLE, column="description", row_id=case.id)

    async def remember_messages(self, case_id: str, message_ids: Sequence[int], now: datetime) -> None:
        """Add chat message ids to the case's sealed list, so the conversation can be removed later."""
        case = await self.get(case_id)
        if case is None:
            return
        known = case.state.setdefault("message_ids", [])
        known.extend(m for m in message_ids if m not in known)
        await self.save_state(case, now)

    async def save_state(self, case: CaseRecord, now: datetime) -> None:
        key = self._key(case.id, case.wrapped_key)
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE cases SET draft_state = ?, updated_at = ? WHERE id = ?",
                (
                    key.seal_text(json.dumps(case.state), table=TABLE, column="draft_state", row_id=case.id),
                    to_db(now),
                    case.id,
                ),
            )

    async def add_attachment(
        self,
        case: CaseRecord,
        *,
        kind: str,
        content: bytes,
        file_name: str | None,
        mime_type: str | None,
        duration: int | None,
        now: datetime,
        added_later: bool = False,
    ) -> str:
        """Seal and store one attachment; returns its id (``case.attachment_count`` is updated).

        ``added_later`` marks a file that came with a message after submission: it belongs
        to that message, not to the report as first filed.
        """
        key = self._key(case.id, case.wrapped_key)
        attachment_id = uuid.uuid4().hex
        details = json.dumps({"file_name": file_name, "mime_type": mime_type, "duration": duration})
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1, COUNT(*) FILTER (WHERE added_later = 0) FROM attachments"
                " WHERE case_id = ?",
                (case.id,),
            ) as cursor:
                seq, count = await cursor.fetchone()
            await conn.execute(
                "INSERT INTO attachments (id, case_id, seq, kind, size, details, content, created_at, added_later)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    attachment_id,
                    case.id,
                    seq,
                    kind,
                    len(content),
                    key.seal_text(details, table=ATTACHMENTS, column="details", row_id=attachment_id),
                    key.seal(content, table=ATTACHMENTS, column="content", row_id=attachment_id),
                    to_db(now),
                    int(added_later),
                ),
            )
        if not added_later:
            case.attachment_count = count + 1
        return attachment_id

    async def attachment_ids(self, case_id: str) -> list[str]:
        """The files of the report as filed (not those added with later messages), in order."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT id FROM attachments WHERE case_id = ? AND added_later = 0 ORDER BY seq", (case_id,)
            ) as cursor:
                return [row[0] for row in await cursor.fetchall()]

    async def attachment(self, case: CaseRecord, attachment_id: str) -> AttachmentRecord | None:
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM attachments WHERE id = ? AND case_id = ?", (attachment_id, case.id)
            ) as cursor:
                row = await cursor.fetchone()
        if row is None:
            return None
        key = self._key(case.id, case.wrapped_key)
        details = json.loads(key.open_text(row["details"], table=ATTACHMENTS, column="details", row_id=row["id"]))
        return AttachmentRecord(
            id=row["id"],
            seq=row["seq"],
            kind=row["kind"],
            size=row["size"],
            file_name=details["file_name"],
            mime_type=details["mime_type"],
            duration=details["duration"],
            content=key.open(row["content"], table=ATTACHMENTS, column="content", row_id=row["id"]),
        )

    async def remove_attachments(self, case: CaseRecord) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM attachments WHERE case_id = ? AND added_later = 0", (case.id,))
        case.attachment_count = 0

    async def delete(self, case_id: str) -> None:
        """Delete a case with its attachments and pending notifications; its key goes with the row."""
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM cases WHERE id = ?", (case_id,))
        await self._db.checkpoint()

    async def submit(
        self,
        case: CaseRecord,
        deliveries: Sequence[Delivery],
        now: datetime,
        *,
        counsellors: Sequence[bytes] = (),
        scheduled: Sequence[tuple[str, datetime]] = (),
        excluded: Sequence[bytes] = (),
    ) -> None:
        """Turn a draft into a new case, assign its counsellor(s) and queue its notifications and
        timers, in one transaction: either all of it happened or none."""
        columns = {
            **self._answers(case),
            "status": "new",
            "step": None,
            "submitted_at": to_db(now),
            "updated_at": to_db(now),
            "last_news_at": to_db(now),
            "register": case.register,
            "department": case.department,
        }
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                f"UPDATE cases SET {', '.join(f'{name} = ?' for name in columns)} WHERE id = ? AND status = 'draft'",
                (*columns.values(), case.id),
            )
            if cursor.rowcount != 1:
                raise LookupError(f"case {case.reference} is no longer a draft")
            for index in counsellors:
                await self._set_counsellor(conn, case.id, index, "assigned", now)
            await conn.executemany(
                "INSERT OR IGNORE INTO case_exclusions (case_id, staff_index) VALUES (?, ?)",
                [(case.id, index) for index in excluded],
            )
            await Outbox.insert(conn, case.id, deliveries, now)
            await Schedule.insert(conn, case.id, scheduled, now)
        case.status = "new"
        case.step = None
        case.submitted_at = now

    async def acknowledge(
        self, case: CaseRecord, by_index: bytes, deliveries: Sequence[Delivery], now: datetime
    ) -> bool:
        """Record the counsellor's acknowledgement and make them the one assigned.

        False when the case was acknowledged already or is no longer open. A counsellor
        who was alerted (because nobody picked the case up) takes it over by this: the
        others lose access, so their old buttons no longer act on it.
        """
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE cases SET status = CASE WHEN status = 'new' THEN 'acknowledged' ELSE status END,"
                " acknowledged_at = ?, acknowledged_by = ?, updated_at = ?, last_news_at = ?"
                " WHERE id = ? AND acknowledged_at IS NULL AND status IN ('new', 'acknowledged', 'in_progress')",
                (to_db(now), by_index, to_db(now), to_db(now), case.id),
            )
            if cursor.rowcount != 1:
                return False
            await self._take(conn, case.id, by_index, now)
            await Outbox.insert(conn, case.id, deliveries, now)
        case.acknowledged_at = now
        case.acknowledged_by = by_index
        if case.status == "new":
            case.status = "acknowledged"
        return True

    async def _take(self, conn: aiosqlite.Connection, case_id: str, index: bytes, now: datetime) -> None:
        await conn.execute(
            "UPDATE case_counsellors SET state = 'former', since = ? WHERE case_id = ? AND staff_index != ?"
            " AND state IN ('assigned', 'alerted')",
            (to_db(now), case_id, index),
        )
        await self._set_counsellor(conn, case_id, index, "assigned", now)

    @staticmethod
    async def _set_counsellor(
        conn: aiosqlite.Connection, case_id: str, index: bytes, state: str, now: datetime
    ) -> None:
        await conn.execute(
            "INSERT INTO case_counsellors (case_id, staff_index, state, since) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (case_id, staff_index) DO UPDATE SET state = excluded.state, since = excluded.since",
            (case_id, index, state, to_db(now)),
        )

    async def take(self, case: CaseRecord, index: bytes, deliveries: Sequence[Delivery], now: datetime) -> None:
        """An alerted counsellor takes over a case that was already acknowledged by someone else."""
        async with self._db.transaction() as conn:
            await self._take(conn, case.id, index, now)
            await Outbox.insert(conn, case.id, deliveries, now)

    async def hand_over(
        self,
        case: CaseRecord,
        from_index: bytes,
        to_index: bytes,
        deliveries: Sequence[Delivery],
        now: datetime,
        *,
        leaving_state: str = "former",
    ) -> None:
        """Move a case from one counsellor to another ('former' after a hand-over, 'recused' after recusal)."""
        async with self._db.transaction() as conn:
            await self._set_counsellor(conn, case.id, from_index, leaving_state, now)
            await self._set_counsellor(conn, case.id, to_index, "assigned", now)
            await conn.execute(
                "UPDATE cases SET acknowledged_at = NULL, acknowledged_by = NULL, updated_at = ?,"
                " status = CASE WHEN status = 'acknowledged' THEN 'new' ELSE status END WHERE id = ?",
                (to_db(now), case.id),
            )
            await Outbox.insert(conn, case.id, deliveries, now)

    async def step_back(self, case: CaseRecord, index: bytes, deliveries: Sequence[Delivery], now: datetime) -> None:
        """A counsellor recuses and nobody else can take over: the case waits for one."""
        async with self._db.transaction() as conn:
            await self._set_counsellor(conn, case.id, index, "recused", now)
            await conn.execute(
                "UPDATE cases SET acknowledged_at = NULL, acknowledged_by = NULL, updated_at = ?,"
                " status = CASE WHEN status = 'acknowledged' THEN 'new' ELSE status END WHERE id = ?",
                (to_db(now), case.id),
            )
            await Outbox.insert(conn, case.id, deliveries, now)

    async def alert_counsellors(
        self, case_id: str, indexes: Sequence[bytes], deliveries: Sequence[Delivery], level: int, now: datetime
    ) -> None:
        async with self._db.transaction() as conn:
            for index in indexes:
                await conn.execute(
                    "INSERT INTO case_counsellors (case_id, staff_index, state, since) VALUES (?, ?, 'alerted', ?)"
                    " ON CONFLICT (case_id, staff_index) DO NOTHING",
                    (case_id, index, to_db(now)),
                )
            await conn.execute("UPDATE cases SET escalation = MAX(escalation, ?) WHERE id = ?", (level, case_id))
            await Outbox.insert(conn, case_id, deliveries, now)

    async def barred_from(self, case_id: str) -> frozenset[bytes]:
        """Who may never handle this case: the staff the reporter excluded (conflict of interest),
        and the reporter themself (a counsellor or coordinator who reports)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT staff_index FROM case_exclusions WHERE case_id = ?"
                " UNION SELECT p.tg_index FROM cases c JOIN persons p ON p.id = c.person_id WHERE c.id = ?",
                (case_id, case_id),
            ) as cursor:
                return frozenset(bytes(row[0]) for row in await cursor.fetchall())

    async def counsellors_of(self, case_id: str) -> dict[bytes, str]:
        """Every counsellor who ever had this case, with their state."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT staff_index, state FROM case_counsellors WHERE case_id = ?", (case_id,)
            ) as cursor:
                return {bytes(row[0]): row[1] for row in await cursor.fetchall()}

    async def open_load(self, indexes: Sequence[bytes]) -> dict[bytes, int]:
        """How many open cases each of these counsellors is assigned to (for spreading new cases)."""
        load = {index: 0 for index in indexes}
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT cc.staff_index, COUNT(*) FROM case_counsellors cc JOIN cases c ON c.id = cc.case_id"
                " WHERE cc.state = 'assigned' AND c.status IN ('new', 'acknowledged', 'in_progress')"
                " GROUP BY cc.staff_index"
            ) as cursor:
                for row in await cursor.fetchall():
                    if bytes(row[0]) in load:
                        load[bytes(row[0])] = row[1]
        return load

    async def set_status(self, case: CaseRecord, status: str, deliveries: Sequence[Delivery], now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE cases SET status = ?, updated_at = ?,"
                " closed_at = CASE WHEN ? = 'closed' THEN ? ELSE NULL END WHERE id = ?",
                (status, to_db(now), status, to_db(now), case.id),
            )
            await Outbox.insert(conn, case.id, deliveries, now)
        case.status = status
        case.closed_at = now if status == "closed" else None

    async def set_register(
        self, case: CaseRecord, register: str, deliveries: Sequence[Delivery], now: datetime
    ) -> None:
        """What coordinators may see: only ever changed on the reporter's own word."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE cases SET register = ?, consent_asked_at = NULL, updated_at = ? WHERE id = ?",
                (register, to_db(now), case.id),
            )
            await Outbox.insert(conn, case.id, deliveries, now)
        case.register = register
        case.consent_asked_at = None

    async def ask_consent(self, case: CaseRecord, deliveries: Sequence[Delivery], now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("UPDATE cases SET consent_asked_at = ? WHERE id = ?", (to_db(now), case.id))
            await Outbox.insert(conn, case.id, deliveries, now)
        case.consent_asked_at = now

    async def share_name_with_counsellor(self, case: CaseRecord, share: bool, now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE cases SET share_name_counsellor = ?, updated_at = ? WHERE id = ?",
                (int(share), to_db(now), case.id),
            )
        case.share_name_counsellor = share

    async def withdraw(self, case: CaseRecord, deliveries: Sequence[Delivery], now: datetime) -> bool:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE cases SET status = 'withdrawn', withdrawn_at = ?, updated_at = ?"
                " WHERE id = ? AND status IN ('new', 'acknowledged', 'in_progress', 'closed')",
                (to_db(now), to_db(now), case.id),
            )
            if cursor.rowcount != 1:
                return False
            await conn.execute(
                "UPDATE scheduled SET status = 'cancelled' WHERE case_id = ? AND status = 'pending'", (case.id,)
            )
            await Outbox.insert(conn, case.id, deliveries, now)
        case.status = "withdrawn"
        case.withdrawn_at = now
        return True

    async def set_aftercare(self, case: CaseRecord, state: str, now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE cases SET aftercare = ?, updated_at = ? WHERE id = ?", (state, to_db(now), case.id)
            )
        case.aftercare = state

    async def news(self, case_id: str, now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("UPDATE cases SET last_news_at = ? WHERE id = ?", (to_db(now), case_id))

    async def seen_by_counsellor(self, case_id: str, index: bytes, now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE case_counsellors SET seen_at = ? WHERE case_id = ? AND staff_index = ?",
                (to_db(now), case_id, index),
            )

    async def seen_by_coordinator(self, case_id: str, index: bytes, now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO coordinator_views (case_id, staff_index, seen_at) VALUES (?, ?, ?)"
                " ON CONFLICT (case_id, staff_index) DO UPDATE SET seen_at = excluded.seen_at",
                (case_id, index, to_db(now)),
            )

    async def listing(
        self,
        where: str,
        args: Sequence[object],
        *,
        seen: str,
        seen_args: Sequence[object],
        offset: int,
        limit: int,
    ) -> tuple[list[CaseListing], int]:
        """A page of submitted cases (coarse fields only, nothing decrypted) and the total count.

        ``seen`` is an SQL expression for when the viewer last looked, to mark cases with
        something new since then.
        """
        async with self._db.transaction() as conn:
            async with conn.execute(f"SELECT COUNT(*) FROM cases c WHERE {where}", tuple(args)) as cursor:
                total = (await cursor.fetchone())[0]
            async with conn.execute(
                f"SELECT c.id, c.reference, c.status, c.category, c.role, c.audience, c.submitted_at, c.register,"
                f" ({seen}) AS seen_at,"
                " (SELECT MAX(created_at) FROM case_messages m"
                " WHERE m.case_id = c.id AND m.author = 'reporter') AS latest"
                f" FROM cases c WHERE {where} ORDER BY c.submitted_at DESC LIMIT ? OFFSET ?",
                (*seen_args, *args, limit, offset),
            ) as cursor:
                rows = await cursor.fetchall()
        listings = []
        for row in rows:
            seen_at, latest, submitted = row["seen_at"], row["latest"], row["submitted_at"]
            newest = max(filter(None, (latest, submitted)))
            listings.append(
                CaseListing(
                    id=row["id"],
                    reference=row["reference"],
                    status=row["status"],
                    category=row["category"],
                    role=row["role"],
                    audience=row["audience"],
                    submitted_at=from_db(submitted),
                    register=row["register"],
                    unread=seen_at is None or newest > seen_at,
                )
            )
        return listings, total

    async def has_reported(self, person_id: str) -> bool:
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT 1 FROM cases WHERE person_id = ? AND status != 'draft' LIMIT 1", (person_id,)
            ) as cursor:
                return await cursor.fetchone() is not None

    async def of_person(self, person_id: str) -> list[CaseRecord]:
        """A reporter's submitted cases, newest first."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT id FROM cases WHERE person_id = ? AND status != 'draft' ORDER BY submitted_at DESC",
                (person_id,),
            ) as cursor:
                ids = [row[0] for row in await cursor.fetchall()]
        return [case for case in [await self.get(i) for i in ids] if case is not None]

    async def register(self, case: CaseRecord, deliveries: Sequence[Delivery], now: datetime) -> bool:
        """Record that a coordinator registered the case; False if that happened already."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE cases SET registered_at = ?, updated_at = ?,"
                " status = CASE WHEN status = 'new' AND wish = 'anonymous_register' THEN 'acknowledged' ELSE status END"
                " WHERE id = ? AND registered_at IS NULL AND status NOT IN ('draft', 'withdrawn')",
                (to_db(now), to_db(now), case.id),
            )
            if cursor.rowcount != 1:
                return False
            await Outbox.insert(conn, case.id, deliveries, now)
        case.registered_at = now
        return True

    async def without_counsellor(self) -> list[str]:
        """Open cases that need a counsellor but were never assigned one (none was configured)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT id FROM cases WHERE status IN ('new', 'acknowledged', 'in_progress')"
                " AND wish IN ('counsellor', 'counsellor_and_register')"
                " AND NOT EXISTS (SELECT 1 FROM case_counsellors cc WHERE cc.case_id = cases.id)"
                " ORDER BY submitted_at"
            ) as cursor:
                return [row[0] for row in await cursor.fetchall()]

    async def without_coordinator_delivery(self) -> list[str]:
        """Cases in the register that never went to a coordinator (none was configured)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT id FROM cases WHERE status IN ('new', 'acknowledged', 'in_progress')"
                " AND register IN ('anonymous', 'named')"
                " AND NOT EXISTS (SELECT 1 FROM outbox o"
                " WHERE o.case_id = cases.id AND o.recipient_role = 'coordinator')"
                " ORDER BY submitted_at"
            ) as cursor:
                return [row[0] for row in await cursor.fetchall()]

    async def assign(self, case: CaseRecord, index: bytes, deliveries: Sequence[Delivery], now: datetime) -> None:
        async with self._db.transaction() as conn:
            await self._set_counsellor(conn, case.id, index, "assigned", now)
            await Outbox.insert(conn, case.id, deliveries, now)
