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
        )

    async def _fetch(self, where: str, args: tuple) -> CaseRecord | None:
        async with self._db.transaction() as conn:
            async with conn.execute(
                f"SELECT c.*, (SELECT COUNT(*) FROM attachments a WHERE a.case_id = c.id) AS n_attachments"
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

    async def save(self, case: CaseRecord, now: datetime) -> None:
        """Write back a draft's answers and sealed working state."""
        key = self._key(case.id, case.wrapped_key)
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE cases SET step = ?, category = ?, incident_date = ?, channel = ?, role = ?, audience = ?,"
                " wish = ?, share_name_counsellor = ?, share_name_coordinator = ?, description = ?,"
                " draft_state = ?, updated_at = ? WHERE id = ?",
                (
                    case.step,
                    case.category,
                    None if case.incident_date is None else case.incident_date.isoformat(),
                    case.channel,
                    case.role,
                    case.audience,
                    case.wish,
                    int(case.share_name_counsellor),
                    int(case.share_name_coordinator),
                    self._seal_description(key, case),
                    key.seal_text(json.dumps(case.state), table=TABLE, column="draft_state", row_id=case.id),
                    to_db(now),
                    case.id,
                ),
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
    ) -> int:
        """Seal and store one attachment; returns how many the case has now."""
        key = self._key(case.id, case.wrapped_key)
        attachment_id = uuid.uuid4().hex
        details = json.dumps({"file_name": file_name, "mime_type": mime_type, "duration": duration})
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1, COUNT(*) FROM attachments WHERE case_id = ?", (case.id,)
            ) as cursor:
                seq, count = await cursor.fetchone()
            await conn.execute(
                "INSERT INTO attachments (id, case_id, seq, kind, size, details, content, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    attachment_id,
                    case.id,
                    seq,
                    kind,
                    len(content),
                    key.seal_text(details, table=ATTACHMENTS, column="details", row_id=attachment_id),
                    key.seal(content, table=ATTACHMENTS, column="content", row_id=attachment_id),
                    to_db(now),
                ),
            )
        case.attachment_count = count + 1
        return case.attachment_count

    async def attachment_ids(self, case_id: str) -> list[str]:
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT id FROM attachments WHERE case_id = ? ORDER BY seq", (case_id,)) as cursor:
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
            await conn.execute("DELETE FROM attachments WHERE case_id = ?", (case.id,))
        case.attachment_count = 0

    async def delete(self, case_id: str) -> None:
        """Delete a case with its attachments and pending notifications; its key goes with the row."""
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM cases WHERE id = ?", (case_id,))
        await self._db.checkpoint()

    async def submit(self, case: CaseRecord, deliveries: Sequence[Delivery], now: datetime) -> None:
        """Turn a draft into a new case and queue its notifications, atomically."""
        key = self._key(case.id, case.wrapped_key)
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE cases SET status = 'new', step = NULL, category = ?, incident_date = ?, channel = ?,"
                " role = ?, audience = ?, wish = ?, share_name_counsellor = ?, share_name_coordinator = ?,"
                " description = ?, draft_state = ?, submitted_at = ?, updated_at = ?"
                " WHERE id = ? AND status = 'draft'",
                (
                    case.category,
                    None if case.incident_date is None else case.incident_date.isoformat(),
                    case.channel,
                    case.role,
                    case.audience,
                    case.wish,
                    int(case.share_name_counsellor),
                    int(case.share_name_coordinator),
                    self._seal_description(key, case),
                    key.seal_text(json.dumps(case.state), table=TABLE, column="draft_state", row_id=case.id),
                    to_db(now),
                    to_db(now),
                    case.id,
                ),
            )
            if cursor.rowcount != 1:
                raise LookupError(f"case {case.reference} is no longer a draft")
            await Outbox.insert(conn, case.id, deliveries, now)
        case.status = "new"
        case.step = None
        case.submitted_at = now

    async def acknowledge(
        self, case: CaseRecord, by_index: bytes, deliveries: Sequence[Delivery], now: datetime
    ) -> bool:
        """Record the first counsellor's acknowledgement; False if someone was first."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE cases SET status = CASE WHEN status = 'new' THEN 'acknowledged' ELSE status END,"
                " acknowledged_at = ?, acknowledged_by = ?, updated_at = ?"
                " WHERE id = ? AND acknowledged_at IS NULL AND status NOT IN ('draft', 'withdrawn')",
                (to_db(now), by_index, to_db(now), case.id),
            )
            if cursor.rowcount != 1:
                return False
            await Outbox.insert(conn, case.id, deliveries, now)
        case.acknowledged_at = now
        case.acknowledged_by = by_index
        return True

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

    async def without_recipient(self, role: str, wishes: Sequence[str]) -> list[str]:
        """Open cases whose wish needs someone in ``role`` but that have never been queued to one.

        That happens when a report came in while nobody held the role in the
        configuration; at start-up such cases are routed again.
        """
        marks = ", ".join("?" for _ in wishes)
        async with self._db.transaction() as conn:
            async with conn.execute(
                f"SELECT id FROM cases WHERE status IN ('new', 'acknowledged', 'in_progress') AND wish IN ({marks})"
                " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = cases.id AND o.recipient_role = ?)"
                " ORDER BY submitted_at",
                (*wishes, role),
            ) as cursor:
                return [row[0] for row in await cursor.fetchall()]
