"""A database with something of everything, and the check that all of it is still there and opens.

Used by the backup, restore and key-rotation tests: cases with attachments, messages
and notes, an acknowledged case, a draft with a file, people found by Telegram id, and
the audit entries all of that leaves.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.model import AttachmentKind, IncomingAttachment
from storage import Storage
from storage.backup import open_everything
from tests.conftest import STAFF_COUNSELLOR, reporter
from tests.test_casework import World, staff
from tests.test_intake import press

PHOTO = b"\xff\xd8\xff\xe0 photo of the scratched car INVENTORY"
SCREENSHOT = b"\x89PNG screenshot INVENTORY"
NOTE = "Melder klonk geschrokken; morgen bellen."
REPLY = "Dit stuurde hij gisteren nog"


@dataclass(frozen=True)
class Inventory:
    anna_reference: str
    bert_reference: str
    audit_entries: int


async def fill(storage: Storage, clock) -> Inventory:
    world = World(storage, clock)
    anna, bert, dirk = reporter(5001, "Anna de Vries", "annadv"), reporter(5002, "Bert Bakker", None), reporter(5004)
    out = await world.intake.start(anna)
    for label in ("category.threat", "when.today", "channel.in_person"):
        out = await press(world.intake, anna, out, label)
    await world.intake.attachment(anna, IncomingAttachment(AttachmentKind.PHOTO, PHOTO, None, "image/jpeg", None, None))
    out = await world.intake.text(anna, "Hij kraste mijn auto bij het gemeentehuis.")
    for label in ("role.employee", "wish.counsellor", "button.confirm"):
        out = await press(world.intake, anna, out, label)
    anna_case = await storage.cases.by_reference(out.replies[0].params["reference"])
    carla = staff(STAFF_COUNSELLOR)
    await world.casework.acknowledge(carla, anna_case.reference)
    await world.casework.start_note(carla, anna_case.reference)
    await world.relay.text(carla, NOTE)
    await world.casework.start_message(carla, anna_case.reference)
    await world.relay.text(carla, "Dank voor je melding.")
    await world.mycases.start(anna, anna_case.reference, "reply", "counsellor")
    await world.relay.attachment(
        anna, IncomingAttachment(AttachmentKind.PHOTO, SCREENSHOT, None, "image/png", None, REPLY)
    )
    bert_case = await world.report(bert, wish="counsellor_and_register", text="Hij bood me geld voor de vergunning.")
    # A report begun and not sent: a draft, with a file.
    await world.intake.start(dirk)
    await world.intake.attachment(
        dirk, IncomingAttachment(AttachmentKind.DOCUMENT, b"%PDF draft", "brief.pdf", None, None, None)
    )
    return Inventory(anna_case.reference, bert_case.reference, len(await storage.audit.entries()))


async def assert_all_there(storage: Storage, inventory: Inventory) -> None:
    """Every case and person opens, people are found by their Telegram id, and the audit trail verifies."""
    opened = await open_everything(storage)
    # Two reports and a draft; their three reporters; a photo, a screenshot and the draft's document.
    assert (opened.cases, opened.persons, opened.attachments, opened.notes) == (3, 3, 3, 1)
    anna = await storage.people.find(5001)
    assert anna is not None and anna.display_name == "Anna de Vries" and anna.username == "annadv"
    assert (await storage.people.find(5002)).display_name == "Bert Bakker"
    case = await storage.cases.by_reference(inventory.anna_reference)
    assert case.person_id == anna.id and "kraste mijn auto" in case.description
    (attachment_id,) = await storage.cases.attachment_ids(case.id)
    assert (await storage.cases.attachment(case, attachment_id)).content == PHOTO
    assert [n.body for n in await storage.casefile.notes(case)] == [NOTE]
    assert REPLY in [m.body for m in await storage.casefile.messages(case, ("counsellor",))]
    draft = await storage.cases.draft_of((await storage.people.find(5004)).id)
    assert draft is not None and draft.attachment_count == 1
    assert (await storage.cases.by_reference(inventory.bert_reference)).register == "anonymous"
    audit = await storage.audit.verify()
    assert audit.intact and audit.entries >= inventory.audit_entries
