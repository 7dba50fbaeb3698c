"""A database with something in every sealed column, and the check that all of it is still there and opens.

Used by the backup, restore and key-rotation tests: cases with attachments, messages
and notes, an acknowledged case, a case with an action, a check-in answer and the
reporter's comment on how it went, a draft with a file, people found by Telegram id,
and the audit entries all of that leaves. :data:`SEALED` names every column that holds
something sealed; :func:`sealed_columns` reads the schema, so a test notices a sealed
column that this inventory does not yet fill.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.lifecycle import ActionKind, ActionOutcome, CheckInAnswer, PoliceStep, RegisterState, SurveyAnswer, Thread
from flows.model import AttachmentKind, Audience, IncomingAttachment
from flows.outcome import Serves
from flows.perpetrator import IdentifierKind
from storage import Storage
from storage.backup import open_everything
from storage.cases import detail_index
from tests.support import COORDINATOR, SECOND_STAFF, STAFF_COUNSELLOR, ManualClock, World, reference_of, reporter, staff

PHOTO = b"\xff\xd8\xff\xe0 photo of the scratched car INVENTORY"
SCREENSHOT = b"\x89PNG screenshot INVENTORY"
DRAFT_FILE = b"%PDF draft INVENTORY"
ANNA_TEXT = "Hij kraste mijn auto bij het gemeentehuis."
BERT_TEXT = "Hij bood me geld voor de vergunning."
NOTE = "Melder klonk geschrokken; morgen bellen."
REPLY = "Dit stuurde hij gisteren nog"
ACTION_NOTE = "Brief verstuurd door de afdeling Vergunningen."
COMMENT = "Fijn dat er iets mee gedaan is, maar het duurde lang."
POLICE_NUMBER = "PL0900-2026INVENTORY"
ENROLLED_NAME = "Eva Ingeschreven"  # a counsellor enrolled by a link
INVITED_NAME = "Ivo Uitgenodigd"  # a link made for a colleague, not opened yet
PERPETRATOR_PHONE = "06-87654321"
PERPETRATOR_NAME = "Karel Inventaris"

# What people typed or sent, as bytes: none of it may be readable in a database file or a backup.
PLAINTEXTS = tuple(
    text if isinstance(text, bytes) else text.encode()
    for text in (
        "Anna de Vries",
        "annadv",
        "Bert Bakker",
        ANNA_TEXT,
        BERT_TEXT,
        NOTE,
        REPLY,
        ACTION_NOTE,
        COMMENT,
        POLICE_NUMBER,
        ENROLLED_NAME,
        INVITED_NAME,
        PERPETRATOR_PHONE,
        PERPETRATOR_NAME,
        PHOTO,
        SCREENSHOT,
        DRAFT_FILE,
    )
)

# Every column that holds a value sealed under a data key (storage/crypto.py), by table.
SEALED = frozenset(
    {
        ("persons", "telegram_id"),
        ("persons", "display_name"),
        ("persons", "username"),
        ("cases", "description"),
        ("cases", "draft_state"),
        ("attachments", "details"),
        ("attachments", "content"),
        ("case_messages", "body"),
        ("case_notes", "body"),
        ("case_actions", "note"),
        ("checkin_answers", "answer"),
        ("surveys", "comment"),
        ("case_police_steps", "number"),
        ("enrolled_staff", "name"),
        ("staff_invites", "name"),
        ("perpetrator_details", "value"),
    }
)
# The other binary columns: data keys wrapped by the master key, keyed HMACs of Telegram ids
# (blind indexes, never reversible), the audit chain's hashes, and meta's sealed sub-keys.
NOT_SEALED = frozenset(
    {
        ("meta", "value"),
        ("persons", "tg_index"),
        ("persons", "wrapped_key"),
        ("cases", "wrapped_key"),
        ("cases", "acknowledged_by"),
        ("cases", "dossier_requester"),
        ("case_counsellors", "staff_index"),
        ("counsellor_load", "staff_index"),
        ("coordinator_views", "staff_index"),
        ("case_messages", "author_index"),
        ("case_notes", "author_index"),
        ("case_actions", "recorded_by"),
        ("case_exclusions", "staff_index"),
        ("composing", "person_index"),
        ("invites", "code_index"),
        ("invites", "created_by"),
        ("staff_invites", "code_index"),
        ("staff_invites", "created_by"),
        ("enrolled_staff", "staff_index"),
        ("outbox", "recipient_index"),
        ("audit", "prev_hash"),
        ("audit", "hash"),
        ("pulse_closed", "marker"),  # a keyed hash per period (flows/pulse.py), not sealed content
        ("perpetrator_details", "blind_index"),  # keyed HMAC of a canonical identifier
    }
)


@dataclass(frozen=True)
class Inventory:
    anna_reference: str
    bert_reference: str
    audit_entries: int


async def fill(storage: Storage, clock: ManualClock) -> Inventory:
    world = World(storage, clock)
    anna, bert, dirk = reporter(5001, "Anna de Vries", "annadv"), reporter(5002, "Bert Bakker", None), reporter(5004)
    out = await world.intake.start(anna)
    for label in ("forms.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    await world.intake.attachment(anna, IncomingAttachment(AttachmentKind.PHOTO, PHOTO, None, "image/jpeg", None, None))
    out = await world.intake.text(anna, ANNA_TEXT)
    # Anna knows who did it: his name and phone number, kept sealed with their keyed indexes.
    out = await world.press(anna, out, "perpetrator.citizen_named")
    for kind, value in (("name", PERPETRATOR_NAME), ("phone", PERPETRATOR_PHONE)):
        out = await world.press(anna, out, f"perpetrator.kind.{kind}")
        out = await world.intake.text(anna, value)
    for label in (
        "details.done",
        "role.employee",
        "work_process.skip",
        "wish.counsellor",
        "button.confirm",
    ):
        out = await world.press(anna, out, label)
    anna_case = await world.case(reference_of(out))
    carla = staff(STAFF_COUNSELLOR)
    assert anna_case.handlers == {storage.people.index_of(STAFF_COUNSELLOR.telegram_id)}
    await world.casework.acknowledge(carla, anna_case.reference)
    await world.casework.start_note(carla, anna_case.reference)
    await world.relay.text(carla, NOTE)
    await world.casework.start_message(carla, anna_case.reference)
    await world.relay.text(carla, "Dank voor je melding.")
    await world.mycases.start(anna, anna_case.reference, "reply", Thread.COUNSELLOR.value)
    await world.relay.attachment(
        anna, IncomingAttachment(AttachmentKind.PHOTO, SCREENSHOT, None, "image/png", None, REPLY)
    )

    # Bert's case goes to the other counsellor for staff (the least loaded): an action towards
    # the perpetrator with a note, how Bert is doing, and, once closed, what he thought of it.
    bert_case = await world.report(bert, wish="counsellor_and_register", text=BERT_TEXT)
    second = staff(SECOND_STAFF)
    assert bert_case.handlers == {storage.people.index_of(SECOND_STAFF.telegram_id)}
    await world.casework.acknowledge(second, bert_case.reference)
    await world.casework.record_action(
        second, bert_case.reference, ActionKind.WARNING_LETTER.value, ActionOutcome.COMPLETED.value
    )
    await world.relay.text(second, ACTION_NOTE)
    await world.tracks.police(second, bert_case.reference, PoliceStep.REPORTED)
    await world.relay.text(second, f"{POLICE_NUMBER} vandaag")
    await world.aftercare.answer(bert, bert_case.reference, 0, CheckInAnswer.BOTHERS.value)
    await world.casework.status(second, bert_case.reference, "closed")
    await world.aftercare.survey(bert, bert_case.reference, SurveyAnswer.PARTLY.value)
    await world.relay.text(bert, COMMENT)

    # A report begun and not sent: a draft, with a file.
    await world.intake.start(dirk)
    await world.intake.attachment(
        dirk, IncomingAttachment(AttachmentKind.DOCUMENT, DRAFT_FILE, "brief.pdf", None, None, None)
    )
    # Staff by invitation: one link opened (Eva is enrolled), one not yet (it keeps Ivo's name).
    coby = staff(COORDINATOR)
    for name, serves in ((ENROLLED_NAME, Serves.STAFF), (INVITED_NAME, Serves.BOTH)):
        created = await world.press(
            coby, await world.admission.menu(coby, name), f"staff.invite_counsellor_{serves.value}"
        )
        if name == ENROLLED_NAME:
            code = created.edit_pressed.params["link"].split("start=")[1]
            await world.services.enrolment.redeem(reporter(5005, "Eva"), code)
    return Inventory(anna_case.reference, bert_case.reference, len(await storage.audit.entries()))


async def sealed_columns(storage: Storage) -> tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
    """(the binary columns of the schema as it is, those of them holding at least one value)."""
    binary: set[tuple[str, str]] = set()
    filled: set[tuple[str, str]] = set()
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cursor:
            tables = [row[0] for row in await cursor.fetchall()]
        for table in tables:
            async with conn.execute(f"PRAGMA table_info({table})") as cursor:
                columns = [row[1] for row in await cursor.fetchall() if row[2].upper() == "BLOB"]
            for column in columns:
                binary.add((table, column))
                async with conn.execute(f"SELECT 1 FROM {table} WHERE {column} IS NOT NULL LIMIT 1") as cursor:
                    if await cursor.fetchone() is not None:
                        filled.add((table, column))
    return frozenset(binary), frozenset(filled)


async def assert_all_there(storage: Storage, inventory: Inventory) -> None:
    """Every case and person opens, each sealed column reads back, people are found by their
    Telegram id, and the audit trail verifies."""
    opened = await open_everything(storage)
    # Two reports and a draft; their three reporters and Eva, enrolled as staff; a photo, a screenshot
    # and the draft's document; Carla's message and Anna's reply; Carla's note.
    assert (opened.cases, opened.persons, opened.attachments, opened.messages, opened.notes) == (3, 4, 3, 2, 1)
    (eva,) = await storage.staff.members()
    assert (eva.telegram_id, eva.name, eva.serves) == (5005, ENROLLED_NAME, frozenset({Audience.STAFF}))
    anna = await storage.people.find(5001)
    assert anna is not None and anna.display_name == "Anna de Vries" and anna.username == "annadv"
    bert = await storage.people.find(5002)
    assert bert is not None and bert.display_name == "Bert Bakker"

    case = await storage.cases.by_reference(inventory.anna_reference)
    assert case is not None and case.person_id == anna.id and case.description == ANNA_TEXT
    (attachment_id,) = case.attachment_ids
    photo = await storage.cases.attachment(case.id, attachment_id)
    assert photo is not None and photo.content == PHOTO and photo.mime_type == "image/jpeg"
    assert [n.body for n in await storage.casefile.notes(case.id)] == [NOTE]
    replies = await storage.casefile.messages(case.id, (Thread.COUNSELLOR,))
    assert [m.body for m in replies] == ["Dank voor je melding.", REPLY]
    screenshot = await storage.cases.attachment(case.id, replies[1].attachment_id or "")
    assert screenshot is not None and screenshot.content == SCREENSHOT
    details = await storage.cases.perpetrator_details(case.id)
    assert [(d.kind, d.value) for d in details] == [("name", PERPETRATOR_NAME), ("phone", PERPETRATOR_PHONE)]
    # Each index is the one the current key gives the canonical form (rotation indexes them again).
    assert [d.index for d in details] == [
        detail_index(storage.vault, IdentifierKind.NAME, "inventaris karel"),
        detail_index(storage.vault, IdentifierKind.PHONE, "+31687654321"),
    ]

    registered = await storage.cases.by_reference(inventory.bert_reference)
    assert registered is not None and registered.description == BERT_TEXT
    assert registered.register is RegisterState.ANONYMOUS
    (action,) = await storage.casefile.actions(registered.id)
    assert (action.kind, action.outcome, action.note) == (
        ActionKind.WARNING_LETTER,
        ActionOutcome.COMPLETED,
        ACTION_NOTE,
    )
    assert [(c.step, c.answer) for c in await storage.casefile.check_ins(registered.id)] == [(0, CheckInAnswer.BOTHERS)]
    assert [s.number for s in await storage.casefile.police_steps(registered.id)] == [POLICE_NUMBER]
    assert await storage.casefile.survey(registered.id) == (SurveyAnswer.PARTLY.value, COMMENT)

    dirk = await storage.people.find(5004)
    assert dirk is not None
    draft = await storage.cases.draft_of(dirk.id)
    assert draft is not None and draft.attachment_count == 1
    audit = await storage.audit.verify()
    assert audit.intact and audit.entries >= inventory.audit_entries
