"""End to end: every kind of file a reporter can send is kept encrypted and reaches the counsellor.

Telegram's clients send photos, documents, voice notes, audio, videos and round video
notes; python-telegram-bot hands their durations over as timedelta when PTB_TIMEDELTA is
on (as the meldbot command and these tests run it, see conftest.py). Each file is its own Telegram message and its own
outbox item, so a method that fails for a while costs a retry of that one file only.
"""

from __future__ import annotations

import pytest

from tests.e2e import STAFF_COUNSELLOR_ID, BotUnderTest
from tests.test_e2e_report import file_report, reference_in
from tests.test_e2e_trust import open_my_case, outbox_settled

pytestmark = pytest.mark.e2e

FILES = {
    "photo": b"\xff\xd8\xff\xe0PHOTO-BYTES-7a1",
    "document": b"%PDF-1.4 DOCUMENT-BYTES-7a2",
    "voice": b"OggS VOICE-BYTES-7a3",
    "audio": b"ID3 AUDIO-BYTES-7a4",
    "video": b"\x00\x00\x00\x18ftypmp42 VIDEO-BYTES-7a5",
    "video_note": b"\x00\x00\x00\x18ftypisom NOTE-BYTES-7a6",
}


def senders(user):
    return [
        lambda: user.send_photo(FILES["photo"], caption="De kras"),
        lambda: user.send_document(FILES["document"], file_name="brief.pdf", mime_type="application/pdf"),
        lambda: user.send_voice(FILES["voice"], duration=4),
        lambda: user.send_audio(FILES["audio"], duration=31),
        lambda: user.send_video(FILES["video"], duration=6),
        lambda: user.send_video_note(FILES["video_note"], duration=9),
    ]


async def test_every_kind_of_file_is_kept_encrypted_and_reaches_the_counsellor(emu, meldbot):
    anna = emu.user(5801, first_name="Anna", language_code="nl")
    reference = reference_in(await file_report(anna, attachments=senders(anna)))
    carla = emu.user(STAFF_COUNSELLOR_ID)
    await carla.next_screen(lambda m: reference in m.text)
    received = []
    for _ in FILES:
        message = await carla.next_screen(lambda m: m.file_bytes is not None and m not in received)
        received.append(message)
    assert sorted(m.file_bytes for m in received) == sorted(FILES.values())
    assert all(m.protect_content and reference in m.text for m in received)
    case = await meldbot.storage.cases.by_reference(reference)
    assert case.attachment_count == len(FILES)
    ids = await meldbot.storage.cases.attachment_ids(case.id)
    stored = {(await meldbot.storage.cases.attachment(case.id, a)).kind for a in ids}
    assert stored == set(FILES)
    await outbox_settled(meldbot)
    for path in meldbot.database_files():
        data = path.read_bytes()
        assert all(marker.split()[-1] not in data for marker in FILES.values()), path.name
    emu.assert_healthy()


async def test_a_file_over_the_configured_size_gets_a_kind_answer_and_nothing_is_lost(emu, tmp_path):
    bot = BotUnderTest(emu, tmp_path, attachments={"max_megabytes": 1})
    await bot.start()
    try:
        anna = emu.user(5802, first_name="Anna", language_code="nl")
        await anna.command("/start")
        await anna.next_screen(lambda m: "112" in m.text)
        await anna.press("Melding maken")
        await anna.next_screen(lambda m: "Wat is er gebeurd?" in m.text)
        await anna.press("Bedreiging")
        await anna.next_screen(lambda m: "Wanneer gebeurde het?" in m.text)
        await anna.press("Vandaag")
        await anna.next_screen(lambda m: "Op welke manier" in m.text or "Hoe bereikte" in m.text)
        await anna.press("Persoonlijk")
        await anna.next_screen(lambda m: "eigen woorden" in m.text)
        await anna.send_document(b"x" * (1024 * 1024 + 1), file_name="film.mov", mime_type="video/quicktime")
        answer = await anna.next_screen(lambda m: "1 MB" in m.text)
        assert "niets" in answer.text  # nothing else was lost
        await anna.send_photo(FILES["photo"])
        await anna.next_screen(lambda m: "Bewaard (1 van" in m.text)
        emu.assert_healthy(allow_failed_requests=True)  # staff who never opened the bot
    finally:
        await bot.stop()


async def test_each_part_arrives_once_and_in_order_while_every_media_method_fails_for_a_while(emu, tmp_path):
    carla = emu.user(STAFF_COUNSELLOR_ID, first_name="Carla", language_code="nl")
    await carla.command("/start")
    bot = BotUnderTest(emu, tmp_path, delivery={"sweep_interval": "PT1S", "max_backoff": "PT1S"})
    await bot.start()
    try:
        await carla.next_message()  # her welcome; from here on her chat fails for a while
        for method in ("sendMessage", "sendPhoto", "sendDocument", "sendVoice", "sendAudio", "sendVideo"):
            emu.inject_fault(method, 502, times=2, chat_id=STAFF_COUNSELLOR_ID)
        anna = emu.user(5803, first_name="Anna", language_code="nl")
        story = " ".join(f"zin{n}" for n in range(900))  # long enough to follow the report in parts
        reference = reference_in(await file_report(anna, text=story, attachments=senders(anna)))
        await outbox_settled(bot, timeout=60)
        from_bot = [m for m in carla.chat.messages if m.from_bot and reference in m.text]
        report, *rest = from_bot
        assert "Nieuwe melding" in report.text
        parts = [m for m in rest if m.file_bytes is None]
        files = [m for m in rest if m.file_bytes is not None]
        assert [m.text.split(":", 1)[0] for m in parts] == [
            f"{reference}, beschrijving deel {n} van {len(parts)}" for n in range(1, len(parts) + 1)
        ]
        assert [m.file_bytes for m in files] == list(FILES.values())  # each once, in the order sent
        assert rest == parts + files

        # A reply with a photo while sendPhoto fails: the text once, then the photo once.
        await carla.command(f"/case {reference}")
        await carla.next_screen(lambda m: m.text.startswith(f"📁 {reference}"))
        await carla.press("Ontvangst bevestigen")
        await anna.next_screen(lambda m: "gelezen" in m.text)
        emu.inject_fault("sendPhoto", 502, times=3, chat_id=STAFF_COUNSELLOR_ID)
        await open_my_case(anna, reference)
        await anna.press("Bericht aan vertrouwenspersoon")
        await anna.next_screen(lambda m: "Typ je" in m.text)
        await anna.send_photo(b"\xff\xd8 REPLY-PHOTO", caption="Dit stuurde hij vannacht. ANTWOORDMERK")
        await anna.next_screen(lambda m: "verstuurd" in m.text)
        await outbox_settled(bot, timeout=30)
        replies = [m for m in carla.chat.messages if m.from_bot and "ANTWOORDMERK" in m.text]
        photos = [m for m in carla.chat.messages if m.file_bytes == b"\xff\xd8 REPLY-PHOTO"]
        assert len(replies) == 1 and len(photos) == 1
        assert carla.chat.messages.index(replies[0]) < carla.chat.messages.index(photos[0])
        emu.assert_healthy(allow_failed_requests=True)
    finally:
        await bot.stop()
