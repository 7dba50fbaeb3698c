"""Cases as stored: a draft while the reporter answers, a case once submitted.

Each case has its own data key, wrapped by the master key and kept in the row; the
reporter's words, the attachments, the draft's working state and everything written in
the case file are sealed under it. Deleting the row (``secure_delete`` is on) destroys the
key and with it everything sealed under it.

A change to a case is decided in flows/lifecycle.py; :meth:`Cases.change` loads the case,
lets the transition decide, and applies what it returned (the case's new values, the
counsellors' states, the case-file rows, the notifications, the timers and the audit
entry) in one transaction. Nothing here decides what a case may do.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime

import aiosqlite

from flows.lifecycle import (
    ASKABLE_REGISTER,
    LINKABLE_REGISTER,
    LINKABLE_STATUSES,
    LIVE,
    OPEN,
    ActionKind,
    ActionOutcome,
    ActionUpdate,
    AftercareState,
    AwaitsCounsellor,
    Case,
    CaseStatus,
    Change,
    ClaimStatus,
    CounsellorState,
    Decision,
    DossierConsent,
    Draft,
    DraftState,
    FootageState,
    NewAction,
    NewAttachment,
    NewCheckInAnswer,
    NewCostItem,
    NewMessage,
    NewNote,
    NewPerpetratorDetail,
    NewPoliceStep,
    Party,
    ReactionState,
    Record,
    Refused,
    RegisterState,
    Submission,
    SurveyAsked,
)
from flows.model import (
    Audience,
    Channel,
    Perpetrator,
    Role,
    Step,
    Wish,
    consequences_code,
    consequences_of,
    forms_code,
    forms_of,
)
from flows.perpetrator import IdentifierKind, identifier_index, normalise
from flows.queries import (
    CaseQuery,
    CoordinatorRegister,
    CounsellorInbox,
    LinkViewer,
    ListedCase,
    Page,
    ReporterCases,
)
from storage import facts as report_facts
from storage.audit import AuditTrail
from storage.crypto import DataKey, Vault
from storage.database import Database, from_db, one_row, to_db
from storage.outbox import Outbox
from storage.schedule import Schedule

TABLE = "cases"
ATTACHMENTS = "attachments"
DETAILS = "perpetrator_details"
# No 0/O, 1/I/L or U: a reference is read aloud on the phone and typed from paper.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

# The columns a change may set, and how each is written.
_CHANGEABLE = (
    "status",
    "acknowledged_at",
    "acknowledged_by",
    "registered_at",
    "register",
    "consent_asked_at",
    "escalation",
    "closed_at",
    "withdrawn_at",
    "last_news_at",
    "aftercare",
    "share_name_counsellor",
    "reaction",
    "reaction_since",
    "reaction_due_at",
    "reaction_at",
    "footage",
    "footage_due_at",
    "footage_at",
    "police_reported_on",
    "damages_claim",
    "damages_insurance_checked",
    "damages_recovered_cents",
    "dossier_asked_at",
    "dossier_requester",
    "dossier_requester_role",
    "dossier_consent",
    "consequences",
    "influenced_decision",
    "link_consent",
    "not_alone_asked_at",
)

_CASE_SELECT = """
SELECT c.*,
  (SELECT group_concat(seq || ':' || id, ',') FROM attachments a WHERE a.case_id = c.id AND a.added_later = 0)
      AS attachment_list,
  (SELECT group_concat(hex(staff_index) || ':' || state, ',') FROM case_counsellors cc WHERE cc.case_id = c.id)
      AS counsellor_list,
  (SELECT group_concat(hex(staff_index), ',') FROM case_exclusions x WHERE x.case_id = c.id) AS excluded_list,
  (SELECT tg_index FROM persons p WHERE p.id = c.person_id) AS reporter_index,
  EXISTS (SELECT 1 FROM surveys s WHERE s.case_id = c.id) AS survey_asked
FROM cases c
"""


@dataclass(frozen=True, slots=True)
class RegisteredAction:
    """What was done towards the perpetrator, as the register export lists it (no notes)."""

    kind: ActionKind
    outcome: ActionOutcome
    recorded_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RegisteredCase:
    case: Case
    actions: tuple[RegisteredAction, ...]


def new_reference() -> str:
    body = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"MB-{body[:4]}-{body[4:]}"


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


@dataclass(frozen=True, slots=True)
class StoredDetail:
    """A perpetrator detail as kept: the value opened, its keyed index (None: it identifies nobody)."""

    id: str
    kind: IdentifierKind
    value: str
    index: bytes | None
    added_by: Party
    added_at: datetime


def detail_index(vault: Vault, kind: IdentifierKind, value: str) -> bytes | None:
    """The keyed index of a detail's canonical form, under the vault's identifier key."""
    canonical = None if not kind.matchable else normalise(kind, value)
    return None if canonical is None else identifier_index(vault.identifier_key, kind, canonical)


def _value(value: object) -> object:
    """A Python value as SQLite keeps it."""
    if isinstance(value, datetime):
        return to_db(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, frozenset):  # the one set a change sets: the consequences told
        return consequences_code(value)
    return value


def _seal_state(key: DataKey, case_id: str, state: DraftState) -> bytes:
    return key.seal_text(json.dumps(asdict(state)), table=TABLE, column="draft_state", row_id=case_id)


def _open_state(key: DataKey, case_id: str, blob: bytes | None) -> DraftState:
    if blob is None:
        return DraftState()
    raw = json.loads(key.open_text(blob, table=TABLE, column="draft_state", row_id=case_id))
    known = {name: raw[name] for name in DraftState.__dataclass_fields__ if name in raw}
    if known.get("before_cancel") is not None:
        known["before_cancel"] = Step(known["before_cancel"])
    return DraftState(**known)


class Cases:
    def __init__(self, db: Database, vault: Vault, audit: AuditTrail) -> None:
        self._db = db
        self._vault = vault
        self._audit = audit

    def _key(self, case_id: str, wrapped: bytes) -> DataKey:
        return self._vault.unwrap(wrapped, table=TABLE, row_id=case_id)

    # -- drafts --------------------------------------------------------------------------

    def _draft(self, row: aiosqlite.Row) -> Draft:
        key = self._key(row["id"], row["wrapped_key"])
        return Draft(
            id=row["id"],
            reference=row["reference"],
            person_id=row["person_id"],
            step=Step(row["step"]),
            forms=forms_of(row["forms"] or ""),
            incident_date=None if row["incident_date"] is None else date.fromisoformat(row["incident_date"]),
            channel=None if row["channel"] is None else Channel(row["channel"]),
            role=None if row["role"] is None else Role(row["role"]),
            wish=None if row["wish"] is None else Wish(row["wish"]),
            share_name_counsellor=bool(row["share_name_counsellor"]),
            share_name_coordinator=bool(row["share_name_coordinator"]),
            description=self._description(key, row),
            state=_open_state(key, row["id"], row["draft_state"]),
            attachment_count=row["n_attachments"],
            created_at=_moment(row["created_at"]),
            perpetrator=None if row["perpetrator"] is None else Perpetrator(row["perpetrator"]),
            perpetrator_named=None if row["perpetrator_named"] is None else bool(row["perpetrator_named"]),
            department=row["department"],
            work_process=row["work_process"],
            link_consent=bool(row["link_consent"]),
        )

    @staticmethod
    def _description(key: DataKey, row: aiosqlite.Row) -> str:
        if row["description"] is None:
            return ""
        return key.open_text(row["description"], table=TABLE, column="description", row_id=row["id"])

    async def draft_of(self, person_id: str) -> Draft | None:
        """The person's unfinished report, if any (there is at most one)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT c.*, (SELECT COUNT(*) FROM attachments a WHERE a.case_id = c.id) AS n_attachments"
                " FROM cases c WHERE c.person_id = ? AND c.status = 'draft' ORDER BY c.created_at DESC LIMIT 1",
                (person_id,),
            ) as cursor:
                row = await cursor.fetchone()
        return None if row is None else self._draft(row)

    async def create_draft(
        self,
        *,
        person_id: str,
        role: Role | None,
        asks_role: bool,
        now: datetime,
        department: str | None = None,
        work_process: str | None = None,
        state: DraftState | None = None,
    ) -> Draft:
        """A new draft; ``role``, ``department`` and ``work_process`` are what the person's profile
        already says, ``state`` which profile questions this report asks (default: the role's)."""
        case_id = uuid.uuid4().hex
        key, wrapped = self._vault.new_data_key(table=TABLE, row_id=case_id)
        state = state if state is not None else DraftState(asks_role=asks_role)
        async with self._db.transaction() as conn:
            while True:
                reference = new_reference()
                async with conn.execute("SELECT 1 FROM cases WHERE reference = ?", (reference,)) as cursor:
                    if await cursor.fetchone() is None:
                        break
            await conn.execute(
                "INSERT INTO cases (id, reference, person_id, wrapped_key, status, step, role, department,"
                " work_process, draft_state, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?)",
                (
                    case_id,
                    reference,
                    person_id,
                    wrapped,
                    Step.FORMS.value,
                    None if role is None else role.value,
                    department,
                    work_process,
                    _seal_state(key, case_id, state),
                    to_db(now),
                    to_db(now),
                ),
            )
        return Draft(
            id=case_id,
            reference=reference,
            person_id=person_id,
            step=Step.FORMS,
            forms=frozenset(),
            incident_date=None,
            channel=None,
            role=role,
            wish=None,
            share_name_counsellor=True,
            share_name_coordinator=False,
            description="",
            state=state,
            attachment_count=0,
            created_at=now,
            department=department,
            work_process=work_process,
        )

    async def save_draft(self, draft: Draft, now: datetime) -> None:
        """Write back a draft's answers and sealed working state."""
        async with self._db.transaction() as conn:
            key = await self._row_key(conn, draft.id)
            await conn.execute(
                "UPDATE cases SET step = ?, forms = ?, incident_date = ?, channel = ?, role = ?, wish = ?,"
                " share_name_counsellor = ?, share_name_coordinator = ?, description = ?, draft_state = ?,"
                " perpetrator = ?, perpetrator_named = ?, department = ?, work_process = ?, link_consent = ?,"
                " updated_at = ? WHERE id = ? AND status = 'draft'",
                (
                    draft.step.value,
                    forms_code(draft.forms) or None,
                    None if draft.incident_date is None else draft.incident_date.isoformat(),
                    None if draft.channel is None else draft.channel.value,
                    None if draft.role is None else draft.role.value,
                    None if draft.wish is None else draft.wish.value,
                    int(draft.share_name_counsellor),
                    int(draft.share_name_coordinator),
                    self._seal_description(key, draft.id, draft.description),
                    _seal_state(key, draft.id, draft.state),
                    None if draft.perpetrator is None else draft.perpetrator.value,
                    None if draft.perpetrator_named is None else int(draft.perpetrator_named),
                    draft.department,
                    draft.work_process,
                    int(draft.link_consent),
                    to_db(now),
                    draft.id,
                ),
            )

    @staticmethod
    def _seal_description(key: DataKey, case_id: str, description: str) -> bytes | None:
        if not description:
            return None
        return key.seal_text(description, table=TABLE, column="description", row_id=case_id)

    async def _row_key(self, conn: aiosqlite.Connection, case_id: str) -> DataKey:
        async with conn.execute("SELECT wrapped_key FROM cases WHERE id = ?", (case_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise LookupError("no such case")
        return self._key(case_id, row[0])

    async def remember_messages(self, case_id: str, message_ids: Sequence[int], now: datetime) -> None:
        """Add chat message ids to the case's sealed list, so the conversation can be removed later."""
        if not message_ids:
            return
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT wrapped_key, draft_state FROM cases WHERE id = ?", (case_id,)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return
            key = self._key(case_id, row[0])
            state = _open_state(key, case_id, row[1])
            state.message_ids.extend(m for m in message_ids if m not in state.message_ids)
            await conn.execute(
                "UPDATE cases SET draft_state = ? WHERE id = ?", (_seal_state(key, case_id, state), case_id)
            )

    async def forget_messages(self, case_id: str) -> tuple[int, ...]:
        """The chat message ids of the case's conversation, emptied (they are being removed)."""
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT wrapped_key, draft_state FROM cases WHERE id = ?", (case_id,)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return ()
            key = self._key(case_id, row[0])
            state = _open_state(key, case_id, row[1])
            ids = tuple(state.message_ids)
            state.message_ids = []
            await conn.execute(
                "UPDATE cases SET draft_state = ? WHERE id = ?", (_seal_state(key, case_id, state), case_id)
            )
        return ids

    async def check_opens(self, case_id: str) -> None:
        """Decrypt everything sealed in the case's row (a draft's too); raises if anything does not open."""
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)) as cursor:
                row = await cursor.fetchone()
        if row is None:
            raise LookupError("no such case")
        key = self._key(case_id, row["wrapped_key"])
        self._description(key, row)
        _open_state(key, case_id, row["draft_state"])

    async def delete_draft(self, draft_id: str) -> None:
        """Delete a draft with its attachments; its key goes with the row."""
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM cases WHERE id = ? AND status = 'draft'", (draft_id,))
        await self._db.checkpoint()

    # -- attachments ---------------------------------------------------------------------

    async def add_attachment(self, case_id: str, new: NewAttachment, now: datetime) -> int:
        """Seal and store one of the report's own files; returns how many the report now has."""
        async with self._db.transaction() as conn:
            key = await self._row_key(conn, case_id)
            await self._insert_attachment(conn, key, case_id, new, now)
            row = await one_row(
                conn, "SELECT COUNT(*) FROM attachments WHERE case_id = ? AND added_later = 0", (case_id,)
            )
            return int(row[0])

    @staticmethod
    async def _insert_attachment(
        conn: aiosqlite.Connection, key: DataKey, case_id: str, new: NewAttachment, now: datetime
    ) -> None:
        details = json.dumps({"file_name": new.file_name, "mime_type": new.mime_type, "duration": new.duration})
        row = await one_row(conn, "SELECT COALESCE(MAX(seq), 0) + 1 FROM attachments WHERE case_id = ?", (case_id,))
        seq = int(row[0])
        await conn.execute(
            "INSERT INTO attachments (id, case_id, seq, kind, size, details, content, created_at, added_later)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new.id,
                case_id,
                seq,
                new.kind.value,
                len(new.content),
                key.seal_text(details, table=ATTACHMENTS, column="details", row_id=new.id),
                key.seal(new.content, table=ATTACHMENTS, column="content", row_id=new.id),
                to_db(now),
                int(new.added_later),
            ),
        )

    async def attachment_ids(self, case_id: str) -> list[str]:
        """The files of the report as filed (not those added with later messages), in order."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT id FROM attachments WHERE case_id = ? AND added_later = 0 ORDER BY seq", (case_id,)
            ) as cursor:
                return [row[0] for row in await cursor.fetchall()]

    async def attachment(self, case_id: str, attachment_id: str) -> AttachmentRecord | None:
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT a.*, c.wrapped_key FROM attachments a JOIN cases c ON c.id = a.case_id"
                " WHERE a.id = ? AND a.case_id = ?",
                (attachment_id, case_id),
            ) as cursor:
                row = await cursor.fetchone()
        if row is None:
            return None
        key = self._key(case_id, row["wrapped_key"])
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

    async def remove_attachments(self, draft: Draft) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM attachments WHERE case_id = ? AND added_later = 0", (draft.id,))
        draft.attachment_count = 0

    # -- submitted cases -------------------------------------------------------------------

    def _case(self, row: aiosqlite.Row) -> Case:
        key = self._key(row["id"], row["wrapped_key"])
        state = _open_state(key, row["id"], row["draft_state"])
        attachments = sorted(
            (int(seq), attachment_id)
            for seq, _, attachment_id in (
                part.partition(":") for part in (row["attachment_list"] or "").split(",") if part
            )
        )
        counsellors = {
            bytes.fromhex(index): CounsellorState(state_text)
            for index, _, state_text in (
                part.partition(":") for part in (row["counsellor_list"] or "").split(",") if part
            )
        }
        return Case(
            id=row["id"],
            reference=row["reference"],
            person_id=row["person_id"],
            status=CaseStatus(row["status"]),
            forms=forms_of(row["forms"]),
            incident_date=date.fromisoformat(row["incident_date"]),
            channel=Channel(row["channel"]),
            role=Role(row["role"]),
            audience=Audience(row["audience"]),
            wish=Wish(row["wish"]),
            share_name_counsellor=bool(row["share_name_counsellor"]),
            share_name_coordinator=bool(row["share_name_coordinator"]),
            description=self._description(key, row),
            attachment_count=len(attachments),
            submitted_at=_moment(row["submitted_at"]),
            register=RegisterState(row["register"]),
            aftercare=AftercareState(row["aftercare"]),
            escalation=row["escalation"],
            department=row["department"],
            acknowledged_at=from_db(row["acknowledged_at"]),
            acknowledged_by=row["acknowledged_by"],
            registered_at=from_db(row["registered_at"]),
            consent_asked_at=from_db(row["consent_asked_at"]),
            closed_at=from_db(row["closed_at"]),
            withdrawn_at=from_db(row["withdrawn_at"]),
            last_news_at=from_db(row["last_news_at"]),
            message_ids=tuple(state.message_ids),
            counsellors=counsellors,
            excluded=frozenset(bytes.fromhex(i) for i in (row["excluded_list"] or "").split(",") if i),
            reporter=None if row["reporter_index"] is None else bytes(row["reporter_index"]),
            attachment_ids=tuple(attachment_id for _, attachment_id in attachments),
            survey_asked=bool(row["survey_asked"]),
            reaction=ReactionState(row["reaction"]),
            reaction_since=from_db(row["reaction_since"]),
            reaction_due_at=from_db(row["reaction_due_at"]),
            reaction_at=from_db(row["reaction_at"]),
            footage=FootageState(row["footage"]),
            footage_due_at=from_db(row["footage_due_at"]),
            footage_at=from_db(row["footage_at"]),
            police_reported_on=None
            if row["police_reported_on"] is None
            else date.fromisoformat(row["police_reported_on"]),
            damages_claim=ClaimStatus(row["damages_claim"]),
            damages_insurance_checked=bool(row["damages_insurance_checked"]),
            damages_recovered_cents=row["damages_recovered_cents"],
            dossier_asked_at=from_db(row["dossier_asked_at"]),
            dossier_requester=None if row["dossier_requester"] is None else bytes(row["dossier_requester"]),
            dossier_requester_role=None
            if row["dossier_requester_role"] is None
            else Party(row["dossier_requester_role"]),
            dossier_consent=None if row["dossier_consent"] is None else DossierConsent(row["dossier_consent"]),
            perpetrator=Perpetrator(row["perpetrator"] or Perpetrator.UNKNOWN),
            perpetrator_named=bool(row["perpetrator_named"]),
            work_process=row["work_process"],
            link_consent=bool(row["link_consent"]),
            consequences=None if row["consequences"] is None else consequences_of(row["consequences"]),
            influenced_decision=None if row["influenced_decision"] is None else bool(row["influenced_decision"]),
            facts_id=state.facts_id,
            not_alone_asked_at=from_db(row["not_alone_asked_at"]),
        )

    async def _load(self, conn: aiosqlite.Connection, where: str, args: tuple[object, ...]) -> Case | None:
        async with conn.execute(f"{_CASE_SELECT} WHERE c.status != 'draft' AND {where}", args) as cursor:
            row = await cursor.fetchone()
        return None if row is None else self._case(row)

    async def get(self, case_id: str) -> Case | None:
        async with self._db.transaction() as conn:
            return await self._load(conn, "c.id = ?", (case_id,))

    async def by_reference(self, reference: str) -> Case | None:
        async with self._db.transaction() as conn:
            return await self._load(conn, "c.reference = ?", (reference,))

    async def submit(self, submission: Submission, now: datetime) -> Case:
        """Turn a draft into a new case with its counsellor(s), notifications, timers and audit entry,
        in one transaction: either all of it happened or none."""
        draft = submission.draft
        assert draft.forms and draft.incident_date and draft.channel and draft.role and draft.wish
        async with self._db.transaction() as conn:
            key = await self._row_key(conn, draft.id)
            cursor = await conn.execute(
                "UPDATE cases SET status = 'new', step = NULL, forms = ?, incident_date = ?, channel = ?, role = ?,"
                " audience = ?, wish = ?, share_name_counsellor = ?, share_name_coordinator = ?, description = ?,"
                " draft_state = ?, register = ?, department = ?, submitted_at = ?, last_news_at = ?, updated_at = ?,"
                " perpetrator = ?, perpetrator_named = ?, work_process = ?, link_consent = ?"
                " WHERE id = ? AND status = 'draft'",
                (
                    forms_code(draft.forms),
                    draft.incident_date.isoformat(),
                    draft.channel.value,
                    draft.role.value,
                    submission.audience.value,
                    draft.wish.value,
                    int(draft.share_name_counsellor),
                    int(draft.share_name_coordinator),
                    self._seal_description(key, draft.id, draft.description),
                    _seal_state(
                        key, draft.id, DraftState(message_ids=draft.state.message_ids, facts_id=submission.facts.id)
                    ),
                    submission.register.value,
                    submission.department,
                    to_db(now),
                    to_db(now),
                    to_db(now),
                    (draft.perpetrator or Perpetrator.UNKNOWN).value,
                    int(bool(draft.perpetrator_named)),
                    draft.work_process,
                    int(draft.link_consent),
                    draft.id,
                ),
            )
            if cursor.rowcount != 1:
                raise LookupError(f"case {draft.reference} is no longer a draft")
            for index in submission.counsellors:
                await self._set_counsellor(conn, draft.id, index, CounsellorState.ASSIGNED, now)
            await conn.executemany(
                "INSERT OR IGNORE INTO case_exclusions (case_id, staff_index) VALUES (?, ?)",
                [(draft.id, index) for index in submission.excluded],
            )
            starts = {name: _value(value) for name, value in submission.starts.items() if name in _CHANGEABLE}
            if starts:
                await conn.execute(
                    f"UPDATE cases SET {', '.join(f'{name} = ?' for name in starts)} WHERE id = ?",
                    (*starts.values(), draft.id),
                )
            for kind, value in draft.state.details:
                detail = NewPerpetratorDetail(uuid.uuid4().hex, IdentifierKind(kind), value, Party.REPORTER)
                await self._insert_detail(conn, key, draft.id, detail, now)
            await report_facts.insert_in(conn, submission.facts)
            await Outbox.insert(conn, draft.id, submission.deliveries, now)
            await Schedule.insert(conn, draft.id, submission.timers, now)
            await self._audit.append_note(conn, submission.audit, now, draft.reference)
            case = await self._load(conn, "c.id = ?", (draft.id,))
        assert case is not None
        return case

    async def change(
        self, case_id: str, decide: Callable[[Case], Decision], now: datetime
    ) -> tuple[Case | None, Decision]:
        """Load the case, let ``decide`` (a transition of flows/lifecycle.py) say what follows, and
        apply it, in one transaction. Returns the case as it was, and the decision (applied when it
        is a Change). ``(None, Refused('gone'))`` when the case does not exist (any more)."""
        async with self._db.transaction() as conn:
            case = await self._load(conn, "c.id = ?", (case_id,))
            if case is None:
                return None, Refused("gone")
            outcome = decide(case)
            if isinstance(outcome, Change):
                await self._apply(conn, outcome, now)
        return case, outcome

    async def _apply(self, conn: aiosqlite.Connection, change: Change, now: datetime) -> None:
        before, after = change.before, change.after
        columns = {
            name: _value(getattr(after, name)) for name in _CHANGEABLE if getattr(after, name) != getattr(before, name)
        }
        await conn.execute(
            f"UPDATE cases SET {''.join(f'{name} = ?, ' for name in columns)}updated_at = ? WHERE id = ?",
            (*columns.values(), to_db(now), before.id),
        )
        for index, state in change.counsellors.items():
            await self._set_counsellor(conn, before.id, index, state, now)
        if change.records:
            key = await self._row_key(conn, before.id)
            for record in change.records:
                await self._insert_record(conn, key, before.id, record, now)
        await Schedule.cancel_in(conn, before.id, tuple(change.cancel))
        for kind, by in change.postpone:
            await Schedule.postpone_in(conn, before.id, kind, by)
        if change.facts is not None and before.facts_id is not None:
            await report_facts.update_in(conn, before.facts_id, change.facts, now)
        await Outbox.insert(conn, before.id, change.deliveries, now)
        await Schedule.insert(conn, before.id, change.timers, now)
        await self._audit.append_note(conn, change.audit, now, before.reference)

    async def _insert_record(
        self, conn: aiosqlite.Connection, key: DataKey, case_id: str, record: Record, now: datetime
    ) -> None:
        match record:
            case AwaitsCounsellor():
                # Intake.route_waiting reads this mark (migration 0009's unrouted bit 1).
                await conn.execute("UPDATE cases SET unrouted = unrouted | 1 WHERE id = ?", (case_id,))
            case NewAttachment():
                await self._insert_attachment(conn, key, case_id, record, now)
            case NewMessage():
                body = (
                    key.seal_text(record.body, table="case_messages", column="body", row_id=record.id)
                    if record.body
                    else None
                )
                await conn.execute(
                    "INSERT INTO case_messages (id, case_id, thread, author, author_index, body, attachment_id,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.id,
                        case_id,
                        record.thread.value,
                        record.author.value,
                        record.author_index,
                        body,
                        record.attachment_id,
                        to_db(now),
                    ),
                )
                if record.author is Party.REPORTER:
                    await conn.execute("UPDATE cases SET last_reporter_at = ? WHERE id = ?", (to_db(now), case_id))
            case NewNote():
                await conn.execute(
                    "INSERT INTO case_notes (id, case_id, author_index, body, created_at) VALUES (?, ?, ?, ?, ?)",
                    (
                        record.id,
                        case_id,
                        record.author_index,
                        key.seal_text(record.body, table="case_notes", column="body", row_id=record.id),
                        to_db(now),
                    ),
                )
            case NewAction():
                reason = (
                    None
                    if record.note is None
                    else key.seal_text(record.note, table="case_actions", column="note", row_id=record.id)
                )
                await conn.execute(
                    "INSERT INTO case_actions (id, case_id, kind, outcome, note, recorded_by, recorded_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.id,
                        case_id,
                        record.kind.value,
                        record.outcome.value,
                        reason,
                        record.recorded_by,
                        to_db(now),
                        to_db(now),
                    ),
                )
            case ActionUpdate():
                sealed = (
                    None
                    if record.note is None
                    else key.seal_text(record.note, table="case_actions", column="note", row_id=record.id)
                )
                await conn.execute(
                    "UPDATE case_actions SET outcome = COALESCE(?, outcome), note = COALESCE(?, note), updated_at = ?"
                    " WHERE id = ? AND case_id = ?",
                    (None if record.outcome is None else record.outcome.value, sealed, to_db(now), record.id, case_id),
                )
            case NewCheckInAnswer():
                sealed = key.seal_text(record.answer.value, table="checkin_answers", column="answer", row_id=record.id)
                await conn.execute(
                    "INSERT INTO checkin_answers (id, case_id, step, answer, answered_at) VALUES (?, ?, ?, ?, ?)",
                    (record.id, case_id, record.step, sealed, to_db(now)),
                )
            case SurveyAsked():
                await conn.execute(
                    "INSERT INTO surveys (case_id, asked_at) VALUES (?, ?) ON CONFLICT (case_id) DO NOTHING",
                    (case_id, to_db(now)),
                )
            case NewPoliceStep():
                number = (
                    None
                    if not record.number
                    else key.seal_text(record.number, table="case_police_steps", column="number", row_id=record.id)
                )
                await conn.execute(
                    "INSERT INTO case_police_steps (id, case_id, step, step_date, number, recorded_by, recorded_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.id,
                        case_id,
                        record.step.value,
                        record.on.isoformat(),
                        number,
                        record.recorded_by.value,
                        to_db(now),
                    ),
                )
            case NewCostItem():
                await conn.execute(
                    "INSERT INTO case_cost_items (id, case_id, kind, amount_cents, recorded_at) VALUES (?, ?, ?, ?, ?)",
                    (record.id, case_id, record.kind.value, record.amount_cents, to_db(now)),
                )
            case NewPerpetratorDetail():
                await self._insert_detail(conn, key, case_id, record, now)

    async def _insert_detail(
        self, conn: aiosqlite.Connection, key: DataKey, case_id: str, detail: NewPerpetratorDetail, now: datetime
    ) -> None:
        """A detail sealed under the case's key (so erasing the case shreds it), bound to its row."""
        await conn.execute(
            "INSERT INTO perpetrator_details (id, case_id, kind, value, blind_index, added_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                detail.id,
                case_id,
                detail.kind.value,
                key.seal_text(detail.value, table=DETAILS, column="value", row_id=detail.id),
                detail_index(self._vault, detail.kind, detail.value),
                detail.added_by.value,
                to_db(now),
            ),
        )

    async def perpetrator_details(self, case_id: str) -> list[StoredDetail]:
        """What is known of the perpetrator of a case, in the order it was added."""
        async with self._db.transaction() as conn:
            key = await self._row_key(conn, case_id)
            async with conn.execute(
                "SELECT id, kind, value, blind_index, added_by, created_at FROM perpetrator_details"
                " WHERE case_id = ? ORDER BY created_at, rowid",
                (case_id,),
            ) as cursor:
                rows = list(await cursor.fetchall())
        return [
            StoredDetail(
                row["id"],
                IdentifierKind(row["kind"]),
                key.open_text(row["value"], table=DETAILS, column="value", row_id=row["id"]),
                None if row["blind_index"] is None else bytes(row["blind_index"]),
                Party(row["added_by"]),
                _moment(row["created_at"]),
            )
            for row in rows
        ]

    @staticmethod
    async def _set_counsellor(
        conn: aiosqlite.Connection, case_id: str, index: bytes, state: CounsellorState, now: datetime
    ) -> None:
        await conn.execute(
            "INSERT INTO case_counsellors (case_id, staff_index, state, since, case_submitted_at)"
            " VALUES (?, ?, ?, ?, (SELECT submitted_at FROM cases WHERE id = ?))"
            " ON CONFLICT (case_id, staff_index) DO UPDATE SET state = excluded.state, since = excluded.since",
            (case_id, index, state.value, to_db(now), case_id),
        )

    # -- who is on a case ------------------------------------------------------------------

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

    async def counsellors_of(self, case_id: str) -> dict[bytes, CounsellorState]:
        """Every counsellor who ever had this case, with their state."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT staff_index, state FROM case_counsellors WHERE case_id = ?", (case_id,)
            ) as cursor:
                return {bytes(row[0]): CounsellorState(row[1]) for row in await cursor.fetchall()}

    async def open_load(self, indexes: Sequence[bytes]) -> dict[bytes, int]:
        """How many open cases each of these counsellors handles (to spread new cases): read from the
        counts the database keeps (migration 0009), a few rows whatever the size of the register."""
        load = {index: 0 for index in indexes}
        if not indexes:
            return load
        marks = ", ".join("?" * len(indexes))
        async with self._db.transaction() as conn:
            async with conn.execute(
                f"SELECT staff_index, open_cases FROM counsellor_load WHERE staff_index IN ({marks})", tuple(indexes)
            ) as cursor:
                for row in await cursor.fetchall():
                    load[bytes(row[0])] = row[1]
        return load

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

    # -- lists ---------------------------------------------------------------------------

    async def listing(self, query: CaseQuery) -> Page:
        """One page of a list, newest first, found by key on an index: what it costs depends on the
        page, not on the size of the register. Coarse codes only, nothing decrypted."""
        where: list[str] = ["c.status != 'draft'"]
        args: list[object] = []
        seen = "NULL"
        seen_args: list[object] = []
        match query.viewer:
            case CounsellorInbox(counsellor):
                source = "case_counsellors k JOIN cases c ON c.id = k.case_id"
                where += ["k.staff_index = ?", "k.state IN ('assigned', 'alerted')"]
                args.append(counsellor)
                order = ("k.case_submitted_at", "k.case_id")
                seen = "k.seen_at"
            case CoordinatorRegister(coordinator):
                source = "cases c"
                where += [
                    "c.register IN ('anonymous', 'named')",
                    "NOT EXISTS (SELECT 1 FROM case_exclusions x WHERE x.case_id = c.id AND x.staff_index = ?)",
                    "NOT EXISTS (SELECT 1 FROM persons p WHERE p.id = c.person_id AND p.tg_index = ?)",
                ]
                args += [coordinator, coordinator]
                order = ("c.submitted_at", "c.id")
                seen = "(SELECT v.seen_at FROM coordinator_views v WHERE v.case_id = c.id AND v.staff_index = ?)"
                seen_args = [coordinator]
            case ReporterCases(person_id):
                source = "cases c"
                where.append("c.person_id = ?")
                args.append(person_id)
                order = ("c.submitted_at", "c.id")
        if query.statuses is not None:
            # One status is sought on its index; several (the open ones, which are the newest cases)
            # are filtered while reading newest first: "+" keeps SQLite from sorting them all instead.
            plus = "+" if len(query.statuses) > 1 else ""
            where.append(f"{plus}c.status IN ({', '.join('?' * len(query.statuses))})")
            args += sorted(status.value for status in query.statuses)
        if query.form is not None:
            # The forms are one sorted, comma-separated code: a form is one whole item of it.
            where.append("(',' || c.forms || ',') LIKE ?")
            args.append(f"%,{query.form.value},%")
        if query.audience is not None:
            where.append("c.audience = ?")
            args.append(query.audience.value)
        if query.since is not None:
            where.append("c.submitted_at >= ?")
            args.append(to_db(query.since))
        newer = query.newer_than is not None
        anchor = query.newer_than or query.older_than
        keyed = list(where)
        keyed_args = list(args)
        if anchor is not None:
            keyed.append(
                f"({order[0]}, {order[1]}) {'>' if newer else '<'}"
                " (SELECT submitted_at, id FROM cases WHERE reference = ?)"
            )
            keyed_args.append(anchor)
        direction = "ASC" if newer else "DESC"
        async with self._db.transaction() as conn:
            async with conn.execute(
                f"SELECT c.id, c.reference, c.status, c.forms, c.role, c.audience, c.submitted_at, c.register,"
                f" c.last_reporter_at, {seen} AS seen_at FROM {source} WHERE {' AND '.join(keyed)}"
                f" ORDER BY {order[0]} {direction}, {order[1]} {direction} LIMIT ?",
                (*seen_args, *keyed_args, query.limit + 1),
            ) as cursor:
                rows = list(await cursor.fetchall())
            more = len(rows) > query.limit
            rows = rows[: query.limit]
            if newer:
                rows.reverse()
            # Whether there is a page on the other side of the anchor: one row looked up, by key.
            other_side = False
            if anchor is not None:
                async with conn.execute(
                    f"SELECT 1 FROM {source} WHERE {' AND '.join(where)} AND ({order[0]}, {order[1]})"
                    f" {'<=' if newer else '>='} (SELECT submitted_at, id FROM cases WHERE reference = ?) LIMIT 1",
                    (*args, anchor),
                ) as cursor:
                    other_side = await cursor.fetchone() is not None
        listed = tuple(_listed(row) for row in rows)
        return Page(listed, has_older=other_side if newer else more, has_newer=more if newer else other_side)

    # -- reports about the same person ------------------------------------------------------

    async def linked_counts(self, case_ids: Sequence[str], viewer: LinkViewer) -> dict[str, int]:
        """For a page of cases, how many other cases each is linked to (flows/lifecycle.py linkable,
        both sides, sharing a detail's kind and keyed index) that ``viewer`` may open. One query,
        walking each case's details and the index of equal details: the cost follows the page and
        its matches, never the size of the register. Cases without links are absent."""
        if not case_ids:
            return {}
        visible, visible_args = _visible_to(viewer, "o")
        marks = ", ".join("?" * len(case_ids))
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT d.case_id, COUNT(DISTINCT m.case_id) FROM perpetrator_details d"
                " JOIN cases s ON s.id = d.case_id"
                " JOIN perpetrator_details m ON m.kind = d.kind AND m.blind_index = d.blind_index"
                " JOIN cases o ON o.id = m.case_id"
                f" WHERE d.case_id IN ({marks}) AND d.blind_index IS NOT NULL AND m.blind_index IS NOT NULL"
                f" AND m.case_id != d.case_id AND {_linkable('s')} AND {_linkable('o')} AND {visible}"
                " GROUP BY d.case_id",
                (*case_ids, *visible_args),
            ) as cursor:
                return {row[0]: row[1] for row in await cursor.fetchall()}

    async def linked(self, case_id: str, viewer: LinkViewer | None, *, not_of: str | None = None) -> list[str]:
        """The linkable cases other than this one that name the same person (a detail of equal kind
        and keyed index), oldest first; with a viewer, only those they may open; ``not_of``: leave
        out this person's own. Whether this case itself takes part in links is for the caller to
        decide (flows/lifecycle.py)."""
        visible, visible_args = ("1", []) if viewer is None else _visible_to(viewer, "o")
        if not_of is not None:
            visible += " AND o.person_id IS NOT ?"
            visible_args = [*visible_args, not_of]
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT DISTINCT o.id, o.submitted_at FROM perpetrator_details d"
                " JOIN perpetrator_details m ON m.kind = d.kind AND m.blind_index = d.blind_index"
                " JOIN cases o ON o.id = m.case_id"
                " WHERE d.case_id = ? AND d.blind_index IS NOT NULL AND m.blind_index IS NOT NULL"
                f" AND m.case_id != d.case_id AND {_linkable('o')} AND {visible}"
                " ORDER BY o.submitted_at, o.id",
                (case_id, *visible_args),
            ) as cursor:
                return [row[0] for row in await cursor.fetchall()]

    async def askable_matches(self, case_id: str) -> list[str]:
        """Reports outside the register, whose reporters let them be combined and were never asked,
        that name the same person as this case: whom a new link may concern (flows/linking.py)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT DISTINCT o.id FROM perpetrator_details d"
                " JOIN perpetrator_details m ON m.kind = d.kind AND m.blind_index = d.blind_index"
                " JOIN cases o ON o.id = m.case_id"
                " WHERE d.case_id = ? AND d.blind_index IS NOT NULL AND m.blind_index IS NOT NULL"
                f" AND m.case_id != d.case_id AND o.link_consent = 1 AND o.register IN ({_codes(ASKABLE_REGISTER)})"
                f" AND o.status IN ({_codes(LINKABLE_STATUSES)}) AND o.not_alone_asked_at IS NULL",
                (case_id,),
            ) as cursor:
                return [row[0] for row in await cursor.fetchall()]

    async def has_reported(self, person_id: str) -> bool:
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT 1 FROM cases WHERE person_id = ? AND status != 'draft' LIMIT 1", (person_id,)
            ) as cursor:
                return await cursor.fetchone() is not None

    async def of_person(self, person_id: str) -> list[Case]:
        """Every submitted case of a reporter, newest first (for erasure: all of them, decrypted)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                f"{_CASE_SELECT} WHERE c.person_id = ? AND c.status != 'draft' ORDER BY c.submitted_at DESC",
                (person_id,),
            ) as cursor:
                return [self._case(row) for row in await cursor.fetchall()]

    async def cases(self, ids: Sequence[str]) -> list[Case]:
        """These cases, decrypted, in the order asked (a page of a list)."""
        if not ids:
            return []
        async with self._db.transaction() as conn:
            async with conn.execute(
                f"{_CASE_SELECT} WHERE c.id IN ({', '.join('?' * len(ids))})", tuple(ids)
            ) as cursor:
                found = {row["id"]: self._case(row) for row in await cursor.fetchall()}
        return [found[i] for i in ids if i in found]

    async def registered(
        self, start: datetime | None, end: datetime | None, *, viewer: bytes | None
    ) -> list[RegisteredCase]:
        """Every case in the register (not withdrawn) sent in [start, end), oldest first, decrypted,
        with what was done towards the perpetrator: for the register export. ``viewer``: a
        coordinator, who never gets the cases they are barred from (as in their register)."""
        where = [
            "c.register IN ('anonymous', 'named')",
            f"c.status IN ({', '.join('?' * len(LIVE))})",
        ]
        args: list[object] = [status.value for status in sorted(LIVE)]
        if start is not None:
            where.append("c.submitted_at >= ?")
            args.append(to_db(start))
        if end is not None:
            where.append("c.submitted_at < ?")
            args.append(to_db(end))
        if viewer is not None:
            where += [
                "NOT EXISTS (SELECT 1 FROM case_exclusions x WHERE x.case_id = c.id AND x.staff_index = ?)",
                "NOT EXISTS (SELECT 1 FROM persons p WHERE p.id = c.person_id AND p.tg_index = ?)",
            ]
            args += [viewer, viewer]
        condition = " AND ".join(where)
        async with self._db.transaction() as conn:
            async with conn.execute(
                f"{_CASE_SELECT} WHERE {condition} ORDER BY c.submitted_at, c.id", tuple(args)
            ) as cursor:
                cases = [self._case(row) for row in await cursor.fetchall()]
            actions: dict[str, list[RegisteredAction]] = {}
            async with conn.execute(
                "SELECT a.case_id, a.kind, a.outcome, a.recorded_at, a.updated_at FROM case_actions a"
                f" WHERE a.case_id IN (SELECT c.id FROM cases c WHERE {condition}) ORDER BY a.recorded_at, a.rowid",
                tuple(args),
            ) as cursor:
                for row in await cursor.fetchall():
                    actions.setdefault(row[0], []).append(
                        RegisteredAction(ActionKind(row[1]), ActionOutcome(row[2]), _moment(row[3]), _moment(row[4]))
                    )
        return [RegisteredCase(case, tuple(actions.get(case.id, ()))) for case in cases]

    async def without_counsellor(self) -> list[str]:
        """Open cases that need a counsellor but never had one (none was configured, or none may):
        read from the cases the database marks as unrouted (migration 0009), not from every case."""
        return await self._unrouted(1)

    async def without_coordinator_delivery(self) -> list[str]:
        """Open cases in the register that never went to a coordinator (none was configured)."""
        return await self._unrouted(2)

    async def _unrouted(self, bit: int) -> list[str]:
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT id FROM cases INDEXED BY cases_unrouted WHERE unrouted != 0 AND unrouted & ? AND status IN"
                f" ({', '.join('?' * len(OPEN))}) ORDER BY submitted_at, id",
                (bit, *sorted(status.value for status in OPEN)),
            ) as cursor:
                return [row[0] for row in await cursor.fetchall()]


def _codes(values: frozenset[CaseStatus] | frozenset[RegisterState]) -> str:
    """A set of the lifecycle's codes as SQL literals (codes are fixed words, never input)."""
    return ", ".join(f"'{value.value}'" for value in sorted(values))


def _linkable(alias: str) -> str:
    """flows/lifecycle.py linkable, for the case row ``alias``."""
    return (
        f"{alias}.link_consent = 1 AND {alias}.register IN ({_codes(LINKABLE_REGISTER)})"
        f" AND {alias}.status IN ({_codes(LINKABLE_STATUSES)})"
    )


def _visible_to(viewer: LinkViewer, alias: str) -> tuple[str, list[object]]:
    """Whether the staff member may open the case row ``alias`` (as flows/access.py relations decide
    for a linkable case): never one they are barred from; a coordinator any registered case, a
    counsellor one they handle, or one they were asked to pick up while it is open."""
    match viewer:
        case CoordinatorRegister(index):
            relation, args = "1", []
        case CounsellorInbox(index):
            relation = (
                f"EXISTS (SELECT 1 FROM case_counsellors k WHERE k.case_id = {alias}.id AND k.staff_index = ?"
                f" AND (k.state = 'assigned' OR (k.state = 'alerted' AND {alias}.status IN ({_codes(OPEN)}))))"
            )
            args = [index]
    barred = (
        f"NOT EXISTS (SELECT 1 FROM case_exclusions x WHERE x.case_id = {alias}.id AND x.staff_index = ?)"
        f" AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.id = {alias}.person_id AND p.tg_index = ?)"
    )
    return f"{relation} AND {barred}", [*args, index, index]


def _moment(text: str) -> datetime:
    moment = from_db(text)
    assert moment is not None
    return moment


def _listed(row: aiosqlite.Row) -> ListedCase:
    submitted = _moment(row["submitted_at"])
    newest = max(filter(None, (row["last_reporter_at"], row["submitted_at"])))
    return ListedCase(
        id=row["id"],
        reference=row["reference"],
        status=CaseStatus(row["status"]),
        forms=forms_of(row["forms"]),
        role=Role(row["role"]),
        audience=Audience(row["audience"]),
        submitted_at=submitted,
        register=RegisterState(row["register"]),
        unread=row["seen_at"] is None or newest > row["seen_at"],
    )
