"""The confidentiality claim as a fact: markers typed, sent and named by reporters appear nowhere
in the database, its WAL and SHM files, or the log output, while the counsellor still receives them
(the case file with the reporter's name included: it is drawn up when it is sent, never stored)."""

from __future__ import annotations

import io
import struct

import pytest
from pypdf import PdfReader

from tests.e2e import STAFF_COUNSELLOR_ID, TOKEN, BotUnderTest
from tests.test_e2e_report import file_report, reference_in

pytestmark = pytest.mark.e2e

TELEGRAM_ID = 913_457_286


def encodings(marker: str | int) -> list[bytes]:
    if isinstance(marker, int):
        return [str(marker).encode(), struct.pack(">q", marker), struct.pack("<q", marker), struct.pack(">I", marker)]
    return [marker.encode("utf-8"), marker.encode("utf-16-le"), marker.encode("utf-16-be")]


async def test_no_marker_reaches_the_database_files_or_the_logs(emu, meldbot, captured_logs):
    markers = {
        "text": "MARKERTEXT7731 ik word bedreigd",
        "caption": "MARKERCAPTION5519",
        "first name": "Markfirst4417",
        "last name": "Marklast2280",
        "username": "markuser_9055",
        "file name": "markfile_3307.pdf",
        "perpetrator name": "Markperpetrator Vos4471",
        "perpetrator phone": "06-55123987",
        "perpetrator plate": "MK-663-X",
    }
    photo = b"\x89PNG MARKERPHOTOBYTES_6624 \x00\x01"
    document = b"%PDF-1.4 MARKERDOCBYTES_8812"
    user = emu.user(
        TELEGRAM_ID,
        first_name=markers["first name"],
        last_name=markers["last name"],
        username=markers["username"],
        language_code="nl",
    )
    confirmation = await file_report(
        user,
        wish="Gesprek én registreren",
        text=markers["text"],
        perpetrator="Inwoner of klant, naam bekend",
        details=[
            ("Naam", markers["perpetrator name"]),
            ("Telefoonnummer", markers["perpetrator phone"]),
            ("Kenteken", markers["perpetrator plate"]),
        ],
        attachments=[
            lambda: user.send_photo(photo, caption=markers["caption"]),
            lambda: user.send_document(document, file_name=markers["file name"], mime_type="application/pdf"),
        ],
    )
    reference = reference_in(confirmation)
    carla = emu.user(STAFF_COUNSELLOR_ID)
    report = await carla.wait_for_message(lambda m: reference in m.text)
    # The counsellor does receive everything: the markers are real, not lost.
    assert markers["text"] in report.text and markers["first name"] in report.text
    files = [await carla.wait_for_message(lambda m: m.media_type is not None) for _ in range(2)]
    assert {f.file_bytes for f in files} == {photo, document}
    await carla.press("Ontvangst bevestigen")
    await user.wait_for_message(lambda m: "gelezen" in m.text)
    # A case file with her name and messages: drawn up when it is sent, never stored.
    await carla.command(f"/dossier {reference}")
    await user.wait_for_message(lambda m: "Een dossier voor de politie" in m.text)
    await user.press("Met mijn naam en de berichten")
    case_file = await carla.wait_for_message(lambda m: (m.file_name or "").endswith(".pdf"))
    pdf = case_file.file_bytes
    assert markers["first name"] in " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)

    # Read the files while the bot runs (WAL and SHM alive), and again after it stopped.
    contents = {path.name: path.read_bytes() for path in meldbot.database_files()}
    assert {"meldbot.db", "meldbot.db-wal"} <= set(contents)
    await meldbot.stop()
    contents.update({f"{path.name} after stop": path.read_bytes() for path in meldbot.database_files()})
    log_text = captured_logs.text
    assert "meldbot is running" in log_text  # the capture works
    hits = []
    for name, marker in [
        *markers.items(),
        ("telegram id", TELEGRAM_ID),
        # The canonical forms the keyed indexes are computed from are never stored either.
        ("perpetrator phone, canonical", "+31655123987"),
        ("perpetrator plate, canonical", "MK663X"),
        ("perpetrator name, canonical", "markperpetrator vos4471"),
        ("photo", photo[5:30]),
        ("document", document[9:]),
        ("case file", pdf[len(pdf) // 2 : len(pdf) // 2 + 64]),
    ]:
        needles = encodings(marker) if not isinstance(marker, bytes) else [marker]
        for needle in needles:
            for file_name, data in contents.items():
                if needle in data:
                    hits.append(f"{name} in {file_name}")
            if needle.decode("utf-8", "ignore") and needle.decode("utf-8", "ignore") in log_text:
                hits.append(f"{name} in the logs")
    assert TOKEN not in log_text
    assert hits == []


async def test_an_update_the_bot_cannot_parse_leaves_no_personal_data_in_the_logs(emu, tmp_path, captured_logs):
    """python-telegram-bot logs an unparseable update in full at CRITICAL ("Received data was ...")."""
    markers = {
        "text": "MARKERBROKENTEXT4471",
        "caption": "MARKERBROKENCAPTION3390",
        "first name": "Brokenfirst8802",
        "last name": "Brokenlast1147",
        "username": "brokenuser_6630",
        "phone number": "+31612345678",
        "file name": "brokenfile_5521.pdf",
    }
    person = {
        "id": TELEGRAM_ID,
        "is_bot": False,
        "first_name": markers["first name"],
        "last_name": markers["last name"],
        "username": markers["username"],
    }
    bot = BotUnderTest(emu, tmp_path)
    await bot.start()
    try:
        broken = emu.enqueue_raw_update(
            {
                "message": {
                    "message_id": 7,
                    "date": "yesterday",  # not a Unix time: python-telegram-bot cannot build the Update
                    "chat": {**person, "type": "private"},
                    "from": person,
                    "text": markers["text"],
                    "caption": markers["caption"],
                    "contact": {"phone_number": markers["phone number"], "first_name": markers["first name"]},
                    "document": {"file_id": "x", "file_unique_id": "y", "file_name": markers["file name"]},
                }
            }
        )
        # The bot skips what it cannot read (confirming it) and works on for the next person.
        visitor = emu.user(5_550_001, first_name="Bezoeker", language_code="nl")
        await visitor.command("/start")
        await visitor.next_message()
        assert emu.pending_updates == 0
        assert f"update {broken} could not be read and is skipped" in captured_logs.text
    finally:
        await bot.stop()
    log_text = captured_logs.text
    assert "Received data was" in log_text and "CRITICAL" in log_text  # the dump was attempted, and captured
    hits = [
        name
        for name, marker in [*markers.items(), ("telegram id", TELEGRAM_ID)]
        for needle in encodings(marker)
        if needle.decode("utf-8", "ignore") in log_text
    ]
    assert hits == []
