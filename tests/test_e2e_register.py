"""End to end with a plan of seconds: the register makes the organisation act.

A reaction towards the perpetrator falls due, the coordinator is reminded, management hears
when still nothing is recorded (and sees no content); a message to the reporter does not stop
the clock, a recorded reaction does. The footage task reminds on time; police and damages
steps reach the victim, and the damages helper hears the amounts only."""

from __future__ import annotations

import time

import pytest
from telegram import BotCommandScopeChat

from bot.handlers import MANAGEMENT_COMMANDS
from tests.e2e import COORDINATOR_ID, STAFF_COUNSELLOR_ID, BotUnderTest
from tests.test_e2e_report import file_report, reference_in

pytestmark = pytest.mark.e2e

MANAGER_ID = 3001
HELPER_ID = 3101
STORY = "Hij dreigde me op te wachten."  # what file_report types: content nobody outside the case may see
SECONDS = {
    "reaction_within": "PT3S",
    "reaction_escalate_after": "PT3S",
    "secure_footage_within": "PT4S",
    "damages_helper": {"telegram_id": HELPER_ID, "name": "Schadeloket"},
}


async def register_bot(emu, folder):
    people = ((STAFF_COUNSELLOR_ID, "Carla"), (COORDINATOR_ID, "Coby"), (1002, "Henk"), (MANAGER_ID, "Sanne"))
    for user_id, name in (*people, (HELPER_ID, "Sam")):
        await emu.user(user_id, first_name=name, language_code="nl").command("/start")
    bot = BotUnderTest(
        emu,
        folder,
        register=SECONDS,
        management=[{"telegram_id": MANAGER_ID, "name": "Gemeentesecretaris"}],
    )
    await bot.start()
    return bot


async def test_no_reaction_is_reminded_then_escalated_to_management_and_only_a_reaction_stops_the_clock(
    emu, tmp_path, captured_logs
):
    bot = await register_bot(emu, tmp_path)
    try:
        coby, sanne = emu.user(COORDINATOR_ID), emu.user(MANAGER_ID)
        ignored = reference_in(
            await file_report(emu.user(5401, first_name="Piet", language_code="nl"), wish="Alleen anoniem registreren")
        )
        handled = reference_in(
            await file_report(emu.user(5402, first_name="Ria", language_code="nl"), wish="Alleen anoniem registreren")
        )
        # On one case the coordinator only writes to the reporter; on the other she records a reaction.
        await coby.command(f"/case {ignored}")
        await coby.wait_for_message(lambda m: m.text.startswith(f"📁 {ignored}"))
        await coby.press("Bericht aan melder")
        await coby.wait_for_message(lambda m: "Typ je bericht" in m.text or ignored in m.text)
        await coby.send("We kijken ernaar en laten van ons horen.")
        await coby.command(f"/case {handled}")
        await coby.wait_for_message(lambda m: m.text.startswith(f"📁 {handled}"))
        await coby.press("Actie vastleggen")
        await coby.wait_for_message(lambda m: "reactie naar de dader" in m.text and handled in m.text)
        await coby.press("Waarschuwings- of normbrief")
        await coby.wait_for_edit(lambda m: "hoe staat het ervoor" in m.text)
        await coby.press("loopt nog")
        await coby.wait_for_message(lambda m: "toelichting" in m.text)
        await coby.press("Overslaan")

        reminder = await coby.wait_for_message(lambda m: "nog geen reactie naar de dader" in m.text, timeout=10)
        assert ignored in reminder.text and handled not in reminder.text
        assert any("Actie vastleggen" in label for label, _ in reminder.buttons)
        told = await sanne.wait_for_message(lambda m: "nog geen reactie naar de dader" in m.text, timeout=10)
        assert ignored in told.text and told.buttons == []
        assert STORY not in told.text and "Piet" not in told.text
        # The handled case never reaches anyone as overdue.
        await sanne.expect_silence(4)
        overdue = [m.text for m in (*coby.chat.bot_messages, *sanne.chat.bot_messages) if "nog geen reactie" in m.text]
        assert all(handled not in text for text in overdue)
        # Management opens nothing, and /help says what they get.
        await sanne.command(f"/case {ignored}")
        refusal = await sanne.next_message()
        assert STORY not in refusal.text
        bot_api = bot.meldbot.application.bot
        menu = await bot_api.get_my_commands(scope=BotCommandScopeChat(MANAGER_ID))
        assert {c.command for c in menu} == set(MANAGEMENT_COMMANDS) and "case" not in {c.command for c in menu}
        await sanne.command("/help")
        assert "Voor de leiding" in (await sanne.wait_for_message(lambda m: "leiding" in m.text)).text

        # "No reaction, because ..." needs its reason; then the reporter hears it, with the reason.
        await coby.press("Actie vastleggen")  # on the reminder
        await coby.wait_for_message(lambda m: "reactie naar de dader" in m.text and ignored in m.text)
        await coby.press("Geen reactie, omdat")
        await coby.wait_for_edit(lambda m: "Typ de reden" in m.text)
        await coby.send("De dader is niet te achterhalen.")
        await coby.wait_for_message(lambda m: "geen reactie, met de reden erbij" in m.text)
        news = await emu.user(5401).wait_for_message(lambda m: "Nieuws over je melding" in m.text, timeout=10)
        assert "De dader is niet te achterhalen." in news.text
    finally:
        await bot.stop()
    emu.assert_healthy()


async def test_footage_is_reminded_on_time_and_police_and_damages_steps_reach_the_victim(emu, tmp_path, captured_logs):
    bot = await register_bot(emu, tmp_path)
    try:
        coby, sam = emu.user(COORDINATOR_ID), emu.user(HELPER_ID)
        kees = emu.user(5403, first_name="Kees", language_code="nl")
        filed = time.monotonic()
        reference = reference_in(await file_report(kees, wish="Gesprek én registreren"))
        task = await coby.wait_for_message(lambda m: "Camerabeelden bij" in m.text and reference in m.text)
        assert any("Beelden veiliggesteld" in label for label, _ in task.buttons)
        reminder = await coby.wait_for_message(lambda m: "Herinnering: camerabeelden" in m.text, timeout=10)
        assert reference in reminder.text and 3.5 <= time.monotonic() - filed < 9
        await coby.press("Beelden veiliggesteld")
        await coby.wait_for_edit(lambda m: "staan veilig" in m.text)

        await coby.command(f"/case {reference}")
        await coby.wait_for_message(
            lambda m: m.text.startswith(f"📁 {reference}") and "Camerabeelden veiliggesteld" in m.text
        )
        await coby.press("Aangifte")
        await coby.wait_for_message(lambda m: "Nog geen aangifte" in m.text)
        await coby.press("Aangifte vastleggen")
        await coby.wait_for_edit(lambda m: "nummer van de aangifte" in m.text)
        await coby.send("PL0900-2026123456 vandaag")
        await coby.wait_for_message(lambda m: "Vastgelegd bij" in m.text and "Aangifte gedaan" in m.text)
        reported = await kees.wait_for_message(lambda m: "Over de aangifte" in m.text, timeout=10)
        assert "Aangifte gedaan" in reported.text and "PL0900" not in reported.text
        await coby.command(f"/case {reference}")
        await coby.wait_for_message(lambda m: m.text.startswith(f"📁 {reference}") and "Aangifte gedaan op" in m.text)
        await coby.press("Aangifte")
        await coby.wait_for_message(lambda m: "PL0900-2026123456" in m.text)
        await coby.press("Dagvaarding")
        await coby.wait_for_edit(lambda m: "op welke datum" in m.text)
        await coby.send("vandaag")
        summons = await kees.wait_for_message(lambda m: "Over de aangifte" in m.text and "Dagvaarding" in m.text)
        assert reference in summons.text

        await coby.command(f"/case {reference}")
        await coby.wait_for_message(lambda m: m.text.startswith(f"📁 {reference}"))
        await coby.press("Schade")
        await coby.wait_for_message(lambda m: "Nog geen kosten" in m.text)
        await coby.press("+ Spullen")
        await coby.wait_for_message(lambda m: "welk bedrag" in m.text)
        await coby.send("125,50")
        await coby.wait_for_message(lambda m: "Totaal: € 125,50" in m.text)
        damages = await kees.wait_for_message(lambda m: "Over de schade" in m.text, timeout=10)
        assert "€ 125,50" in damages.text
        alert = await sam.wait_for_message(lambda m: reference in m.text and "€ 125,50" in m.text, timeout=10)
        assert STORY not in alert.text and "Kees" not in alert.text and alert.buttons == []
        await coby.press("Verhaald bij de dader")
        claimed = await kees.wait_for_message(lambda m: "verhaald, nog niet betaald" in m.text, timeout=10)
        assert reference in claimed.text
    finally:
        await bot.stop()
    emu.assert_healthy()
