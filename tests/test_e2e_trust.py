"""End to end: what may be sent is decided when it is sent.

A notification waits in the outbox until Telegram takes it; a coordinator who has not
pressed Start yet keeps it waiting for days. Whatever happened to the case meanwhile
(withdrawn, consent withdrawn, handed over) decides what they receive when they do.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e import COORDINATOR_ID, STAFF_COUNSELLOR_ID, BotUnderTest
from tests.test_e2e_report import file_report, reference_in

pytestmark = pytest.mark.e2e

LATE_COORDINATOR_ID = 2301


async def outbox_settled(bot: BotUnderTest, timeout: float = 10) -> None:
    """Wait until nothing waits in the outbox any more (sent, or given up as undeliverable)."""
    async with asyncio.timeout(timeout):
        while True:
            counts = await bot.storage.outbox.status_counts()
            if not counts.get("pending") and not counts.get("sending"):
                return
            await asyncio.sleep(0.1)


async def staff_started(emu, *ids: int) -> None:
    for user_id in ids:
        member = emu.user(user_id, first_name=f"Staff{user_id}", language_code="nl")
        await member.command("/start")


async def bot_with_late_coordinator(emu, tmp_path) -> BotUnderTest:
    """The counsellor opened the bot; the coordinator has not (yet)."""
    await staff_started(emu, STAFF_COUNSELLOR_ID)
    emu.user(LATE_COORDINATOR_ID, first_name="Laat", language_code="nl")
    bot = BotUnderTest(
        emu, tmp_path, coordinators=[{"telegram_id": LATE_COORDINATOR_ID, "name": "Coördinator die later start"}]
    )
    await bot.start()
    return bot


async def file_with_name_for_coordinator(reporter) -> str:
    """ "Talk and registration", with the name switched on for the coordinator."""
    await reporter.command("/start")
    await reporter.next_screen(lambda m: "112" in m.text)
    await reporter.press("Melding maken")
    await reporter.next_screen(lambda m: "Wat is er gebeurd?" in m.text)
    await reporter.press("Bedreiging")
    await reporter.next_screen(lambda m: "Wanneer gebeurde het?" in m.text)
    await reporter.press("Vandaag")
    await reporter.next_screen(lambda m: "Op welke manier" in m.text)
    await reporter.press("Persoonlijk")
    await reporter.next_screen(lambda m: "eigen woorden" in m.text)
    await reporter.send("Hij schold me uit en zei dat hij wist waar ik woon. GEHEIMEDETAIL")
    await reporter.next_screen(lambda m: "Wie deed het" in m.text)
    await reporter.press("Inwoner of klant, naam onbekend")
    await reporter.next_screen(lambda m: "Wat is je rol" in m.text)
    await reporter.press("Medewerker")
    await reporter.next_screen(lambda m: "In welk werk" in m.text)
    await reporter.press("Overslaan")
    await reporter.next_screen(lambda m: "Wat wil je met je melding" in m.text)
    await reporter.press("Gesprek én registreren")
    await reporter.next_screen(lambda m: "Klopt dit?" in m.text)
    await reporter.press("Naam delen met coördinator: nee")
    await reporter.wait_for_edit(lambda m: any("coördinator: ja" in label for label, _ in m.buttons))
    await reporter.press("Versturen")
    return reference_in(await reporter.next_screen(lambda m: "Je melding is verstuurd" in m.text))


async def open_my_case(reporter, reference: str) -> None:
    await reporter.command("/mycases")
    await reporter.next_screen(lambda m: "Je meldingen" in m.text)
    await reporter.press(reference)
    await reporter.next_screen(lambda m: f"Je melding {reference}" in m.text)


async def test_a_withdrawn_report_never_reaches_a_coordinator_who_starts_the_bot_later(emu, tmp_path):
    bot = await bot_with_late_coordinator(emu, tmp_path)
    try:
        sanne = emu.user(5701, first_name="Sanne", last_name="Verborgen", username="sanneverb", language_code="nl")
        reference = await file_with_name_for_coordinator(sanne)
        await emu.user(STAFF_COUNSELLOR_ID).next_screen(lambda m: reference in m.text)
        await open_my_case(sanne, reference)
        await sanne.press("Melding intrekken")
        await sanne.next_screen(lambda m: "intrekken?" in m.text)
        await sanne.press("Ja, intrekken")
        await sanne.wait_for_edit(lambda m: "is ingetrokken" in m.text)

        late = emu.user(LATE_COORDINATOR_ID)
        await late.command("/start")
        await late.next_screen(lambda m: "112" in m.text or "coördinator" in m.text.lower())
        await outbox_settled(bot)
        seen = "\n".join(m.text for m in late.chat.messages)
        assert "Verborgen" not in seen and "sanneverb" not in seen and "GEHEIMEDETAIL" not in seen
        assert all(m.media_type is None for m in late.chat.messages)
        emu.assert_healthy(allow_failed_requests=True)
    finally:
        await bot.stop()


async def test_after_consent_is_withdrawn_nothing_with_content_reaches_the_coordinator(emu, tmp_path):
    bot = await bot_with_late_coordinator(emu, tmp_path)
    try:
        sanne = emu.user(5702, first_name="Sanne", last_name="Verborgen", username="sanneverb", language_code="nl")
        reference = await file_with_name_for_coordinator(sanne)
        await emu.user(STAFF_COUNSELLOR_ID).next_screen(lambda m: reference in m.text)
        await open_my_case(sanne, reference)
        await sanne.press("Toestemming coördinator intrekken")
        await sanne.wait_for_edit(lambda m: "toestemming is ingetrokken" in m.text)

        late = emu.user(LATE_COORDINATOR_ID)
        await late.command("/start")
        await late.next_screen(lambda m: "112" in m.text or "coördinator" in m.text.lower())
        await outbox_settled(bot)
        seen = "\n".join(m.text for m in late.chat.messages)
        assert "GEHEIMEDETAIL" not in seen and "Verborgen" not in seen and "sanneverb" not in seen
        assert reference not in seen  # it never reached them: nothing to tell them about it either
        emu.assert_healthy(allow_failed_requests=True)
    finally:
        await bot.stop()


async def test_after_a_hand_over_the_reporter_is_told_who_their_counsellor_now_is(emu, tmp_path):
    second_id = 1011
    await staff_started(emu, STAFF_COUNSELLOR_ID, COORDINATOR_ID, second_id)
    bot = BotUnderTest(
        emu,
        tmp_path,
        counsellors=[
            {"telegram_id": STAFF_COUNSELLOR_ID, "name": "Vera de Vries", "serves": ["staff"]},
            {"telegram_id": second_id, "name": "Karim Amrani", "serves": ["staff"]},
        ],
    )
    await bot.start()
    try:
        anna = emu.user(5703, first_name="Anna", language_code="nl")
        reference = reference_in(await file_report(anna))
        vera = emu.user(STAFF_COUNSELLOR_ID)
        await vera.next_screen(lambda m: reference in m.text)
        await vera.command(f"/case {reference}")
        await vera.next_screen(lambda m: m.text.startswith(f"📁 {reference}"))
        await vera.press("Overdragen")
        await vera.next_screen(lambda m: "Karim Amrani" in " ".join(label for label, _ in m.buttons))
        await vera.press("Karim Amrani")
        told = await anna.next_screen(lambda m: reference in m.text and "Karim Amrani" in m.text)
        assert "Vera" not in told.text
        await emu.user(second_id).next_screen(lambda m: reference in m.text)
        emu.assert_healthy()
    finally:
        await bot.stop()


async def test_a_counsellor_who_files_a_report_herself_never_receives_it(emu, tmp_path):
    colleague_id = 1011
    await staff_started(emu, STAFF_COUNSELLOR_ID, COORDINATOR_ID, colleague_id)
    bot = BotUnderTest(
        emu,
        tmp_path,
        counsellors=[
            {"telegram_id": STAFF_COUNSELLOR_ID, "name": "Vera de Vries", "serves": ["staff"]},
            {"telegram_id": colleague_id, "name": "Karim Amrani", "serves": ["staff"]},
        ],
    )
    await bot.start()
    try:
        vera = emu.user(STAFF_COUNSELLOR_ID)
        await vera.next_screen(lambda m: "/inbox" in m.text)
        await vera.command("/report")
        await vera.next_screen(lambda m: "Wat is er gebeurd?" in m.text)
        await vera.press("Intimidatie")
        await vera.next_screen(lambda m: "Wanneer gebeurde het?" in m.text)
        await vera.press("Gisteren")
        await vera.next_screen(lambda m: "stap 3" in m.text)
        await vera.press("E-mail")
        await vera.next_screen(lambda m: "eigen woorden" in m.text)
        await vera.send("Een inwoner mailt me al weken, ook 's avonds, en noemt mijn adres.")
        await vera.next_screen(lambda m: "Wie deed het" in m.text)
        await vera.press("Inwoner of klant, naam onbekend")
        await vera.next_screen(lambda m: "Wat is je rol" in m.text)
        await vera.press("Medewerker")
        await vera.next_screen(lambda m: "In welk werk" in m.text)
        await vera.press("Overslaan")
        await vera.next_screen(lambda m: "Wat wil je met je melding" in m.text)
        await vera.press("Vertrouwelijk gesprek")
        summary = await vera.next_screen(lambda m: "Klopt dit?" in m.text)
        assert "Karim Amrani" in summary.text and "Vera de Vries" not in summary.text
        await vera.press("Versturen")
        reference = reference_in(await vera.next_screen(lambda m: "Je melding is verstuurd" in m.text))
        await emu.user(colleague_id).next_screen(lambda m: reference in m.text)
        await outbox_settled(bot)
        assert not any("Nieuwe melding" in m.text and reference in m.text for m in vera.chat.messages)
        emu.assert_healthy()
    finally:
        await bot.stop()
