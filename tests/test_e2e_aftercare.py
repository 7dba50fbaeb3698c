"""End to end with a plan of seconds: check-ins in order, answers, alerts, feedback, the last question."""

from __future__ import annotations

import pytest

from tests.e2e import COORDINATOR_ID, STAFF_COUNSELLOR_ID, BotUnderTest
from tests.test_e2e_report import file_report, reference_in

pytestmark = pytest.mark.e2e

SECONDS_PLAN = {
    "check_ins": [
        {"after": "PT3S"},
        {"after": "PT6S", "suggest_doctor": True},
        {"after": "PT9S", "closing": True},
    ],
    "tips_after": "PT1S",
    "feedback_delay": "PT2S",
    "support": [{"kind": "psychological", "name": "Bedrijfsmaatschappelijk werk", "contact": "030-1234567"}],
}


async def staffed_bot(emu, folder, **overrides):
    for user_id, name in ((STAFF_COUNSELLOR_ID, "Carla"), (COORDINATOR_ID, "Coby"), (1002, "Henk")):
        await emu.user(user_id, first_name=name, language_code="nl").command("/start")
    bot = BotUnderTest(emu, folder, aftercare=SECONDS_PLAN, **overrides)
    await bot.start()
    return bot


async def test_a_reporter_is_checked_in_on_in_order_and_the_counsellor_hears_when_it_matters(
    emu, tmp_path, captured_logs
):
    bot = await staffed_bot(emu, tmp_path)
    try:
        anna = emu.user(5301, first_name="Anna", language_code="nl")
        reference = reference_in(await file_report(anna))
        tips = await anna.wait_for_message(lambda m: "praktische tips" in m.text)
        assert "Camerabeelden" in tips.text and "Aangifte" in tips.text
        first = await anna.wait_for_message(lambda m: "Hoe gaat het met je?" in m.text, timeout=10)
        assert reference in first.text and "Bedrijfsmaatschappelijk werk" in first.text
        await anna.press("Het gaat goed")
        await anna.wait_for_edit(lambda m: "Fijn om te horen" in m.text)
        second = await anna.wait_for_message(lambda m: "Hoe gaat het met je?" in m.text, timeout=10)
        assert second.message_id > first.message_id
        await anna.press("Het zit me nog dwars")
        doctor = await anna.wait_for_edit(lambda m: "huisarts" in m.text)  # in place of the question
        assert "bedrijfsarts" in doctor.text
        alert = await emu.user(STAFF_COUNSELLOR_ID).wait_for_message(lambda m: "nog dwarszit" in m.text)
        assert reference in alert.text
        closing = await anna.wait_for_message(lambda m: "Nog één keer" in m.text, timeout=10)
        await anna.press("Ik wil graag met iemand praten")
        await emu.user(STAFF_COUNSELLOR_ID).wait_for_message(lambda m: "wil graag met iemand praten" in m.text)
        assert closing.message_id > second.message_id
        check_ins = [m for m in anna.chat.bot_messages if any(str(d).startswith("c:ci:") for _, d in m.buttons)]
        assert [m.message_id for m in check_ins] == sorted(m.message_id for m in check_ins)
    finally:
        await bot.stop()
    emu.assert_healthy()


async def test_what_came_of_it_reaches_the_reporter_with_a_personal_note(emu, tmp_path, captured_logs):
    bot = await staffed_bot(emu, tmp_path)
    try:
        kees = emu.user(5302, first_name="Kees", language_code="nl")
        reference = reference_in(await file_report(kees, wish="Gesprek én registreren"))
        # The feedback is written when it goes out, in the language the reporter has then.
        await kees.command("/language")
        await kees.wait_for_message(lambda m: "Which language" in m.text or "welke taal" in m.text)
        await kees.press("English")
        await kees.wait_for_edit(lambda m: "English" in m.text)
        coby = emu.user(COORDINATOR_ID)
        await coby.wait_for_message(lambda m: reference in m.text)
        await coby.command(f"/case {reference}")
        await coby.wait_for_message(lambda m: m.text.startswith(f"📁 {reference}"))
        await coby.press("Actie vastleggen")
        await coby.wait_for_message(lambda m: "reactie naar de dader" in m.text)
        await coby.press("Aangifte door de werkgever")
        await coby.wait_for_edit(lambda m: "hoe staat het ervoor" in m.text)
        await coby.press("loopt nog")
        await coby.wait_for_message(lambda m: "Wil je er een toelichting bij zetten" in m.text)
        await coby.send("Filed on your behalf, with the town hall's address.")
        news = await kees.wait_for_message(lambda m: "News about your report" in m.text, timeout=10)
        assert "Police report by the employer" in news.text and "ongoing" in news.text
        assert "Filed on your behalf" in news.text
    finally:
        await bot.stop()
    emu.assert_healthy()


async def test_stop_these_messages_means_no_more_check_ins(emu, tmp_path, captured_logs):
    bot = await staffed_bot(emu, tmp_path)
    try:
        anna = emu.user(5303, first_name="Anna", language_code="nl")
        await file_report(anna)
        await anna.wait_for_message(lambda m: "Hoe gaat het met je?" in m.text, timeout=10)
        await anna.press("Stuur me deze vragen niet meer")
        await anna.wait_for_edit(lambda m: "ik vraag je niet meer" in m.text)
        await anna.expect_silence(7)
        asked = [
            m
            for m in anna.chat.bot_messages
            if any(k in m.text for k in ("Hoe gaat het", "Nog één keer", "ik vraag je niet meer"))
        ]
        assert len(asked) == 1  # the one answered with "stop" (now saying so), and nothing after it
    finally:
        await bot.stop()
    emu.assert_healthy()


async def test_feedback_waiting_for_a_note_goes_out_at_its_time_not_at_the_next_sweep(emu, tmp_path, captured_logs):
    """feedback_delay PT5S with a sweep of 30 s: the reporter hears about five seconds after the action."""
    import time

    plan = {**SECONDS_PLAN, "feedback_delay": "PT5S"}
    for user_id, name in ((STAFF_COUNSELLOR_ID, "Carla"), (COORDINATOR_ID, "Coby"), (1002, "Henk")):
        await emu.user(user_id, first_name=name, language_code="nl").command("/start")
    bot = BotUnderTest(emu, tmp_path, aftercare=plan, delivery={"sweep_interval": "PT30S", "max_backoff": "PT2S"})
    await bot.start()
    try:
        kees = emu.user(5304, first_name="Kees", language_code="nl")
        reference = reference_in(await file_report(kees, wish="Gesprek én registreren"))
        coby = emu.user(COORDINATOR_ID)
        await coby.wait_for_message(lambda m: reference in m.text)
        await coby.command(f"/case {reference}")
        await coby.wait_for_message(lambda m: m.text.startswith(f"📁 {reference}"))
        await coby.press("Actie vastleggen")
        await coby.wait_for_message(lambda m: "reactie naar de dader" in m.text)
        await coby.press("Andere reacties")  # a conversation is not among what fits a threat best
        await coby.wait_for_edit(lambda m: any("Gesprek met de dader" in label for label, _ in m.buttons))
        await coby.press("Gesprek met de dader")
        await coby.wait_for_edit(lambda m: "hoe staat het ervoor" in m.text)
        await coby.press("afgerond")
        recorded = time.monotonic()
        await coby.wait_for_message(lambda m: "Wil je er een toelichting bij zetten" in m.text)  # and she types nothing
        await kees.wait_for_message(lambda m: "Nieuws over je melding" in m.text, timeout=15)
        assert 4.5 <= time.monotonic() - recorded < 8
    finally:
        await bot.stop()
    emu.assert_healthy()
