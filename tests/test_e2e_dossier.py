"""End to end: the coordinator asks for a case file, the reporter is asked, and the PDF arrives protected;
the reporter's own copy comes from /mycases.

The real bot against the Bot API emulator: /dossier from the coordinator, the question in
the reporter's chat, her answer, and the case file as a document with protect_content,
read back with pypdf. A counsellor who does not hold the case, and a forged button,
get nothing; the PDF's bytes reach neither the database files nor the log.
"""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from pypdf import PdfReader

from tests.e2e import COORDINATOR_ID, HOLDERS_COUNSELLOR_ID
from tests.test_e2e_report import file_report, reference_in
from tests.test_e2e_trust import open_my_case, outbox_settled

pytestmark = pytest.mark.e2e

PHOTO = b"\xff\xd8\xff\xe0 the scratched car door, as received 9c4"


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


async def test_the_coordinator_receives_the_case_file_once_the_reporter_agreed(emu, meldbot, captured_logs):
    anna = emu.user(5901, first_name="Anna", last_name="de Vries", language_code="nl")
    reference = reference_in(
        await file_report(
            anna,
            wish="🤝📋 Gesprek én registreren",
            text="Hij kraste mijn auto en zei: dit is pas het begin.",
            attachments=[lambda: anna.send_photo(PHOTO, caption="De kras")],
        )
    )
    coby = emu.user(COORDINATOR_ID)
    await coby.next_screen(lambda m: reference in m.text)

    # Henk counsels office holders: this case is not his, so he gets the answer that tells nothing.
    henk = emu.user(HOLDERS_COUNSELLOR_ID)
    await henk.command(f"/dossier {reference}")
    refused = await henk.wait_for_message(lambda m: "case file" in m.text)
    assert "can't make a case file" in refused.text

    await coby.command(f"/dossier {reference}")
    await coby.wait_for_message(lambda m: "Ik vraag de melder" in m.text)
    question = await anna.wait_for_message(lambda m: "Een dossier voor de politie" in m.text)
    assert reference in question.text

    # A forged answer from someone else's chat does nothing.
    forged = await henk.press_data(refused.message_id, f"c:da:{reference}:nm", timeout=5)
    assert forged is not None and forged.text == "This button is not for you."
    await anna.press("Met mijn naam, zonder berichten")
    await anna.next_screen(lambda m: "Dank je" in m.text)

    document = await coby.wait_for_message(lambda m: m.file_bytes is not None and (m.file_name or "").endswith(".pdf"))
    assert document.protect_content
    assert document.file_name == f"dossier-{reference}.pdf"
    assert reference in document.text  # the caption
    pdf = document.file_bytes
    text = text_of(pdf)
    assert reference in text
    assert all(question in text for question in ("Wie?", "Wat?", "Waar?", "Waarmee?", "Hoe?", "Wanneer?", "Waarom?"))
    assert hashlib.sha256(PHOTO).hexdigest() in text
    assert "Anna de Vries" in text
    assert "dit is pas het begin" in text
    assert "Raadhuisplein 1" in text

    # Henk never received a document, and nothing of the PDF is stored or logged.
    assert not [m for m in henk.chat.bot_messages if m.file_bytes is not None]
    await outbox_settled(meldbot)
    entries = [e for e in await meldbot.storage.audit.entries(reference) if e.action == "dossier_made"]
    assert [e.detail for e in entries] == [f"named/without_messages/sha256:{hashlib.sha256(pdf).hexdigest()}"]
    for path in meldbot.database_files():
        data = path.read_bytes()
        assert b"%PDF-" not in data and pdf[-400:-200] not in data, path.name
    logged = captured_logs.text
    assert "Anna de Vries" not in logged and "%PDF" not in logged and "dit is pas het begin" not in logged
    emu.assert_healthy()


async def test_the_reporter_gets_their_own_copy_from_mycases(emu, meldbot):
    bram = emu.user(5902, first_name="Bram", last_name="Kok", language_code="nl")
    reference = reference_in(await file_report(bram, text="Hij volgde me tot aan huis."))
    await open_my_case(bram, reference)
    answer = await bram.press("📄 Mijn eigen kopie (PDF)")
    assert answer.text == "Je eigen kopie (PDF) komt eraan."
    copy = await bram.wait_for_message(lambda m: (m.file_name or "").endswith(".pdf"))
    assert not copy.protect_content  # their own proof, to hand to the police themselves
    assert "bewijs" in copy.text
    text = text_of(copy.file_bytes)
    assert reference in text and "Bram Kok" in text and "Hij volgde me tot aan huis." in text
    entries = [e for e in await meldbot.storage.audit.entries(reference) if e.action == "dossier_made"]
    assert [e.actor_role for e in entries] == ["reporter"]
    emu.assert_healthy()
