"""The case file of a real case: who may ask, the reporter's word on their name, and the PDF read back.

Each scenario drives the flows as the bot wires them (tests/support.World), composes the
outbox item the courier would send, and reads the PDF's text back with pypdf.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader

from flows.dossier import Organisation as Letterhead
from flows.dossier import render_dossier
from flows.dossiers import ALL_THREADS, DossierDocument, Inclusion, gather
from flows.lifecycle import (
    DOSSIER_ANSWER_WAIT,
    ActionKind,
    ActionOutcome,
    DossierConsent,
    Drop,
    Notice,
    Party,
    Thread,
    TimerKind,
)
from flows.model import AttachmentKind, IncomingAttachment, Language
from flows.outcome import AnswerDossier, OwnCopy
from flows.privacy import Organisation
from storage.outbox import OutboxItem
from tests.support import (
    COORDINATOR,
    SECOND_STAFF,
    STAFF_COUNSELLOR,
    World,
    after_description,
    index,
    keys,
    last,
    outbox,
    reference_of,
    reporter,
    staff,
    to,
)

ORGANISATION = Organisation("Gemeente Súdwest-Fryslân", "Postbus 10000\n8600 HA Sneek", "privacy@example.nl")
ANNA = reporter(5001, "Anna de Vries", "annadv")
ACCOUNT = "Een man bedreigde me aan de balie met de woorden: ik weet waar je woont."
PHOTO = b"\x89PNG\r\n\x1a\n" + b"not really a picture, but kept exactly as received" * 3
SEVEN = ("Wie?", "Wat?", "Waar?", "Waarmee?", "Hoe?", "Wanneer?", "Waarom?")
SEVEN_EN = ("Who?", "What?", "Where?", "With what?", "How?", "When?", "Why?")


def text_of(pdf: bytes) -> str:
    """The PDF's text on one line, as a reader would search it."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.fixture
def world(storage, clock) -> World:
    return World(storage, clock, organisation=ORGANISATION)


async def registered_report(world: World, *, with_photo: bool = True) -> str:
    """Anna reports a threat, with a photo, to her counsellor and the register (with her name)."""
    out = await world.intake.start(ANNA)
    for label in ("forms.threat", "when.today", "channel.in_person"):
        out = await world.press(ANNA, out, label)
    if with_photo:
        photo = IncomingAttachment(AttachmentKind.PHOTO, PHOTO, "balie.png", "image/png", None, None)
        await world.intake.attachment(ANNA, photo)
    out = await after_description(world, ANNA, await world.intake.text(ANNA, ACCOUNT))
    for label in ("wish.counsellor_and_register", "toggle.coordinator_off", "button.confirm"):
        out = await world.press(ANNA, out, label)
    return reference_of(out)


async def item_for(world: World, who: Party, recipient: bytes, kind: Notice) -> OutboxItem:
    """The one queued outbox item of this kind for this recipient, as the courier would claim it."""
    async with world.storage.db.transaction() as conn:
        async with conn.execute(
            "SELECT id, case_id, ref FROM outbox WHERE kind = ? AND recipient_index = ?", (kind.value, recipient)
        ) as cursor:
            rows = list(await cursor.fetchall())
    assert len(rows) == 1, rows
    item_id, case_id, ref = rows[0]
    return OutboxItem(item_id, case_id, recipient, who, kind, ref, 0, 1, world.clock.now())


async def composed(world: World, item: OutboxItem, language: str = "nl") -> DossierDocument:
    notice = await world.notices.compose(item, language)
    assert isinstance(notice, DossierDocument)
    return notice


async def test_the_coordinator_asks_the_reporter_agrees_and_the_case_file_names_her(world: World):
    reference = await registered_report(world)
    coordinator = staff(COORDINATOR)

    asked = await world.dossiers.request(coordinator, reference)
    assert keys(asked) == ["dossier.asked"]
    assert to(world.storage, ANNA, await outbox(world.storage, Notice.DOSSIER_QUESTION)) == ["dossier_question"]
    question_item = await item_for(world, Party.REPORTER, index(world.storage, ANNA), Notice.DOSSIER_QUESTION)
    question = await world.notices.compose(question_item, "nl")
    assert not isinstance(question, DossierDocument)
    assert question.key == "dossier.question"
    assert [row[0].action for row in question.keyboard] == [AnswerDossier(reference, a) for a in DossierConsent]

    # Staff write with Anna, so that there is a message she may let into the case file.
    await world.casework.start_message(coordinator, reference)
    await world.relay.text(coordinator, "Wil je aangifte doen? Wij helpen je erbij.")
    world.clock.advance(minutes=5)

    answered = await world.dossiers.answer(ANNA, reference, DossierConsent.NAME_AND_MESSAGES)
    assert answered.edit_pressed is not None and answered.edit_pressed.key == "dossier.answered_nm"
    coordinator_index = index(world.storage, COORDINATOR)
    item = await item_for(world, Party.COORDINATOR, coordinator_index, Notice.DOSSIER)
    assert item.ref == DossierConsent.NAME_AND_MESSAGES.value

    document = await composed(world, item)
    assert document.caption.protect_content
    assert document.file_name == f"dossier-{reference}.pdf"
    text = text_of(document.content)
    assert reference in text
    assert all(question in text for question in SEVEN)
    assert hashlib.sha256(PHOTO).hexdigest() in text
    assert "Anna de Vries" in text
    assert "Wil je aangifte doen?" in text  # the message she let in
    assert "ik weet waar je woont" in text
    assert "Postbus 10000" in text

    made = [e for e in await world.storage.audit.entries(reference) if e.action == "dossier_made"]
    assert len(made) == 1
    assert made[0].actor == COORDINATOR.name
    assert made[0].detail == f"named/with_messages/sha256:{document.sha256}"


async def test_without_her_word_the_case_file_has_neither_her_name_nor_the_messages(world: World):
    reference = await registered_report(world)
    coordinator = staff(COORDINATOR)
    await world.dossiers.request(coordinator, reference)
    await world.casework.start_message(coordinator, reference)
    await world.relay.text(coordinator, "Wil je aangifte doen? Wij helpen je erbij.")

    await world.dossiers.answer(ANNA, reference, DossierConsent.NEITHER)
    item = await item_for(world, Party.COORDINATOR, index(world.storage, COORDINATOR), Notice.DOSSIER)
    text = text_of((await composed(world, item)).content)
    assert reference in text and hashlib.sha256(PHOTO).hexdigest() in text
    assert "Anna" not in text and "annadv" not in text
    assert "Wil je aangifte doen?" not in text
    assert "geen toestemming van de melder" in text


async def test_no_answer_in_time_makes_the_case_file_without_her_name(world: World):
    reference = await registered_report(world)
    await world.dossiers.request(staff(COORDINATOR), reference)
    world.clock.advance(seconds=DOSSIER_ANSWER_WAIT.total_seconds() - 60)
    assert await world.run_due((TimerKind.DOSSIER_WAIT,)) == 0
    assert await outbox(world.storage, Notice.DOSSIER) == []

    world.clock.advance(minutes=2)
    assert await world.run_due((TimerKind.DOSSIER_WAIT,)) == 1
    item = await item_for(world, Party.COORDINATOR, index(world.storage, COORDINATOR), Notice.DOSSIER)
    assert item.ref == DossierConsent.NEITHER.value
    assert "Anna" not in text_of((await composed(world, item)).content)

    late = await world.dossiers.answer(ANNA, reference, DossierConsent.NAME)
    assert late.toast is not None and late.toast.key == "dossier.answer_late"
    assert len(await outbox(world.storage, Notice.DOSSIER)) == 1  # no second case file


async def test_the_counsellor_on_the_case_may_ask_and_a_second_request_waits_for_the_first(world: World):
    reference = await registered_report(world, with_photo=False)
    counsellor = staff(STAFF_COUNSELLOR)
    assert keys(await world.dossiers.request(counsellor, reference)) == ["dossier.asked"]
    assert keys(await world.dossiers.request(staff(COORDINATOR), reference)) == ["dossier.waiting"]
    question_item = await item_for(world, Party.REPORTER, index(world.storage, ANNA), Notice.DOSSIER_QUESTION)
    assert question_item.ref == Party.COUNSELLOR.value

    await world.dossiers.answer(ANNA, reference, DossierConsent.NAME)
    item = await item_for(world, Party.COUNSELLOR, index(world.storage, STAFF_COUNSELLOR), Notice.DOSSIER)
    document = await composed(world, item, "en")
    text = text_of(document.content)
    assert all(question in text for question in SEVEN_EN)
    assert "Anna de Vries" in text
    assert "No attachments." in text


async def test_staff_who_do_not_hold_the_case_get_nothing_and_learn_nothing(world: World):
    reference = await registered_report(world)
    other = staff(SECOND_STAFF)  # a counsellor of the same group, not on this case
    refused = await world.dossiers.request(other, reference)
    assert keys(refused) == ["dossier.not_found"]
    assert keys(await world.dossiers.request(other, "MB-2345-6789")) == ["dossier.not_found"]
    assert keys(await world.dossiers.request(ANNA, reference)) == ["dossier.not_found"]
    assert await outbox(world.storage, Notice.DOSSIER_QUESTION, Notice.DOSSIER) == []

    # A case the reporter kept from the register: the coordinator may not have a case file of it.
    private = await world.report(reporter(5002, "Bert Bakker", None))
    assert keys(await world.dossiers.request(staff(COORDINATOR), private.reference)) == ["dossier.not_found"]


async def test_only_the_reporter_answers_the_question(world: World):
    reference = await registered_report(world)
    await world.dossiers.request(staff(COORDINATOR), reference)
    for stranger in (staff(COORDINATOR), staff(STAFF_COUNSELLOR), reporter(5009, "Iemand", None)):
        out = await world.dossiers.answer(stranger, reference, DossierConsent.NAME_AND_MESSAGES)
        assert out.toast is not None and out.toast.key == "toast.not_yours"
    assert await outbox(world.storage, Notice.DOSSIER) == []


async def test_a_withdrawn_case_gets_no_case_file_and_a_waiting_one_is_not_sent(world: World):
    reference = await registered_report(world)
    coordinator = staff(COORDINATOR)
    await world.dossiers.request(coordinator, reference)
    await world.dossiers.answer(ANNA, reference, DossierConsent.NAME)
    item = await item_for(world, Party.COORDINATOR, index(world.storage, COORDINATOR), Notice.DOSSIER)

    await world.mycases.withdraw(ANNA, reference, True)
    assert keys(await world.dossiers.request(coordinator, reference)) == ["dossier.withdrawn"]
    assert keys(await world.dossiers.request(staff(SECOND_STAFF), reference)) == ["dossier.not_found"]
    assert isinstance(await world.notices.authorise(item), Drop)


async def test_a_case_file_without_an_organisation_is_refused_with_a_reason(storage, clock):
    world = World(storage, clock)
    reference = await registered_report(world, with_photo=False)
    assert keys(await world.dossiers.request(staff(COORDINATOR), reference)) == ["dossier.no_organisation"]
    assert await outbox(storage, Notice.DOSSIER_QUESTION) == []


async def test_the_reporter_gets_her_own_copy_with_her_name_and_no_staff_notes(world: World):
    reference = await registered_report(world)
    counsellor = staff(STAFF_COUNSELLOR)
    await world.casework.acknowledge(counsellor, reference)
    await world.casework.start_note(counsellor, reference)
    await world.relay.text(counsellor, "Privé-notitie: lijkt op de zaak van vorige maand.")
    await world.casework.record_action(
        counsellor, reference, ActionKind.POLICE_REPORT_EMPLOYER.value, ActionOutcome.IN_PROGRESS.value
    )
    await world.relay.text(counsellor, "Aangifte gedaan bij bureau Sneek.")

    view = await world.mycases.open(ANNA, reference)
    assert OwnCopy(reference) in [choice.action for row in last(view).keyboard for choice in row]
    asked = await world.press(ANNA, view, "mine.own_copy")
    assert asked.toast is not None and asked.toast.key == "dossier.copy_coming"

    item = await item_for(world, Party.REPORTER, index(world.storage, ANNA), Notice.DOSSIER_COPY)
    document = await composed(world, item)
    assert not document.caption.protect_content  # her own proof, hers to hand to the police
    text = text_of(document.content)
    assert "Anna de Vries" in text and reference in text
    assert "Privé-notitie" not in text
    assert "Aangifte door de werkgever" in text and "Aangifte gedaan bij bureau Sneek." in text
    assert "Ontvangst bevestigd" in text
    assert [e.actor_role for e in await world.storage.audit.entries(reference) if e.action == "dossier_made"] == [
        "reporter"
    ]


async def test_the_pdf_never_reaches_the_database(world: World, tmp_path):
    reference = await registered_report(world)
    await world.dossiers.request(staff(COORDINATOR), reference)
    await world.dossiers.answer(ANNA, reference, DossierConsent.NAME_AND_MESSAGES)
    item = await item_for(world, Party.COORDINATOR, index(world.storage, COORDINATOR), Notice.DOSSIER)
    document = await composed(world, item)
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith("meldbot.db"))
    assert b"%PDF-" not in stored
    assert document.content[200:264] not in stored
    assert document.sha256.encode() in stored  # only its fingerprint, in the audit trail


async def test_a_set_of_reports_is_gathered_into_one_case_file(world: World):
    first = await registered_report(world)
    second = await world.report(reporter(5002, "Bert Bakker", None), wish="counsellor_and_register", text="Weer hij.")
    cases = [await world.case(first), second]
    dossier = await gather(
        world.storage,
        [(case, Inclusion(name=False, threads=ALL_THREADS)) for case in cases],
        organisation=Letterhead(ORGANISATION.name, ORGANISATION.address),
        language=Language.NL,
        now=world.clock.now() + timedelta(hours=1),
        zone=world.policy.zone,
    )
    assert dossier.references == (first, second.reference)
    text = text_of(render_dossier(dossier))
    assert "2 meldingen over dezelfde persoon" in text
    assert "Weer hij." in text and "ik weet waar je woont" in text
    assert "Bert" not in text and "Anna" not in text
    assert Thread.CASE in ALL_THREADS
