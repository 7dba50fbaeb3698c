"""End to end: every kind of bad input gets a kind, clear answer, and nothing entered is lost."""

from __future__ import annotations

import pytest

from tests.e2e import BotUnderTest
from tests.test_e2e_report import reference_in

pytestmark = pytest.mark.e2e


async def start_report(user):
    await user.command("/report")
    await user.next_screen(lambda m: "Wat is er gebeurd?" in m.text)


async def draft_of(bot: BotUnderTest, user_id: int):
    person = await bot.storage.people.find(user_id)
    return None if person is None else await bot.storage.cases.draft_of(person.id)


async def test_a_sticker_mid_report_is_explained_and_the_report_goes_on(emu, meldbot):
    anna = emu.user(5101, first_name="Anna", language_code="nl")
    await start_report(anna)
    await anna.press("Bedreiging")
    await anna.next_screen(lambda m: "Wanneer" in m.text)
    await anna.send_sticker()
    await anna.next_screen(lambda m: "kan ik niet bewaren" in m.text)
    again = await anna.next_screen(lambda m: "Wanneer" in m.text)
    assert [label for label, _ in again.buttons][:3] == ["Vandaag", "Gisteren", "📅 Eerder"]
    assert (await draft_of(meldbot, 5101)).forms == {"threat"}
    emu.assert_healthy()


async def test_an_old_button_pressed_again_changes_nothing(emu, meldbot):
    anna = emu.user(5102, first_name="Anna", language_code="nl")
    await start_report(anna)
    question = anna.chat.last_bot_message
    threat = dict(question.buttons)["⚠️ Bedreiging (met geweld of vernieling, ook van je gezin)"]
    await anna.press("Bedreiging")
    await anna.next_screen(lambda m: "Wanneer" in m.text)
    answer = await anna.press_data(question.message_id, threat)
    assert answer.text == "Dat had ik al genoteerd."
    other = dict(question.buttons)["🗣 Schelden, schreeuwen, dreigende houding"]
    answer = await anna.press_data(question.message_id, other)
    assert "al geweest" in answer.text
    assert (await draft_of(meldbot, 5102)).forms == {"threat"}
    emu.assert_healthy()


async def test_forged_callback_data_is_refused(emu, meldbot):
    anna = emu.user(5103, first_name="Anna", language_code="nl")
    await start_report(anna)
    message = anna.chat.last_bot_message
    for forged in ("i:00000000:forms:threat", "a:MB-2222-2222", "x:MB-2222-2222", "garbage", "i:zz:yy:xx"):
        answer = await anna.press_data(message.message_id, forged)
        assert answer is not None and answer.text in (
            "Deze knop hoort bij een eerder bericht en doet niets meer.",
            "Deze knop is niet voor jou.",
        )
    assert (await draft_of(meldbot, 5103)).forms == frozenset()
    emu.assert_healthy()


async def test_a_message_outside_any_report_gets_directions(emu, meldbot):
    anna = emu.user(5104, first_name="Anna", language_code="nl")
    await anna.send("hoi")
    reply = await anna.next_message()
    assert "niet met een melding bezig" in reply.text and reply.buttons
    assert await meldbot.storage.people.find(5104) is None  # nothing stored for a greeting
    emu.assert_healthy()


async def test_an_unreadable_date_is_explained_and_asked_again(emu, meldbot):
    anna = emu.user(5105, first_name="Anna", language_code="nl")
    await start_report(anna)
    await anna.press("Bedreiging")
    await anna.next_screen(lambda m: "Wanneer" in m.text)
    await anna.press("Eerder")
    await anna.next_screen(lambda m: "Typ de datum" in m.text)
    await anna.send("blauw")
    await anna.next_screen(lambda m: "geen datum maken" in m.text)
    await anna.send("3 dagen geleden")
    await anna.next_screen(lambda m: "Op welke manier" in m.text)
    emu.assert_healthy()


async def test_over_long_text_is_refused_but_what_was_there_stays(emu, meldbot):
    anna = emu.user(5106, first_name="Anna", language_code="nl")
    await start_report(anna)
    await anna.send("Eerste stuk. " * 300)  # ~3,900 characters, kept as the description
    await anna.next_screen(lambda m: "Toegevoegd" in m.text)
    await anna.send("x" * 4096)
    await anna.send("y" * 4096)
    refusal = await anna.next_screen(lambda m: "te lang" in m.text)
    assert "niets kwijt" in refusal.text
    assert (await draft_of(meldbot, 5106)).description.startswith("Eerste stuk.")
    emu.assert_healthy()


async def test_a_file_too_big_for_the_bot_api_is_explained_without_downloading(emu, meldbot):
    anna = emu.user(5107, first_name="Anna", language_code="nl")
    await start_report(anna)
    await anna.send_document(b"0" * (20 * 1024 * 1024 + 1), file_name="video.mov", mime_type="video/quicktime")
    reply = await anna.next_screen(lambda m: "MB" in m.text)
    assert "groter dan 20 MB" in reply.text
    assert emu.file_downloads == []
    emu.assert_healthy()


async def test_a_group_gets_one_answer_the_bot_leaves_and_nothing_is_stored(emu, meldbot):
    raad = emu.group(-100123, title="Gemeenteraad")
    anna = emu.user(5108, first_name="Anna", language_code="nl")
    await raad.command(anna, "/start")
    notice = await raad.next_screen(lambda m: "privégesprek" in m.text)
    assert "@meldbot_test_bot" in notice.text
    await emu.wait_for_request("leaveChat")
    kanaal = emu.channel(-100999, title="Nieuws")
    await kanaal.post("Bericht in een kanaal")
    await emu.wait_for_request("leaveChat", lambda r: r.chat_id == -100999)
    async with meldbot.storage.db.transaction() as conn:
        async with conn.execute("SELECT (SELECT COUNT(*) FROM persons) + (SELECT COUNT(*) FROM cases)") as cursor:
            assert (await cursor.fetchone())[0] == 0
    emu.assert_healthy()


async def test_a_restart_in_the_middle_of_a_report_loses_nothing(emu, meldbot):
    anna = emu.user(5109, first_name="Anna", language_code="nl")
    await start_report(anna)
    await anna.press("Intimidatie")
    await anna.next_screen(lambda m: "Wanneer" in m.text)
    await anna.press("Gisteren")
    await anna.next_screen(lambda m: "Op welke manier" in m.text)
    await meldbot.restart()
    await anna.press("E-mail")  # the button from before the restart
    await anna.next_screen(lambda m: "eigen woorden" in m.text)
    await anna.send("Steeds weer mails van dezelfde man.")
    await anna.next_screen(lambda m: "Wie deed het" in m.text)
    await meldbot.restart()
    await anna.command("/start")
    await anna.next_screen(lambda m: "nog bezig met een melding" in m.text)
    await anna.press("Verder waar ik was")
    await anna.next_screen(lambda m: "Wie deed het" in m.text)
    await anna.press("Iemand anders, naam onbekend")
    await anna.next_screen(lambda m: "Wat is je rol" in m.text)
    await anna.press("Medewerker")
    await anna.next_screen(lambda m: "In welk werk" in m.text)
    await anna.press("Overslaan")
    await anna.next_screen(lambda m: "Wat wil je" in m.text)
    await anna.press("Vertrouwelijk gesprek")
    summary = await anna.next_screen(lambda m: "Klopt dit?" in m.text)
    assert "Intimidatie" in summary.text and "Steeds weer mails" in summary.text and "Per e-mail" in summary.text
    emu.assert_healthy()


async def test_cancel_works_at_every_step_and_deletes_the_draft(emu, meldbot):
    anna = emu.user(5110, first_name="Anna", language_code="nl")
    await start_report(anna)
    await anna.press("Bedreiging")
    await anna.next_screen(lambda m: "Wanneer" in m.text)
    await anna.command("/cancel")
    await anna.next_screen(lambda m: "Weet je het zeker" in m.text)
    await anna.press("Nee, ga verder")
    await anna.next_screen(lambda m: "Wanneer" in m.text)
    await anna.press("Stoppen")
    await anna.next_screen(lambda m: "Weet je het zeker" in m.text)
    await anna.press("Ja, verwijder")
    await anna.wait_for_edit(lambda m: "verwijderd" in m.text)
    assert await draft_of(meldbot, 5110) is None
    emu.assert_healthy()


async def test_an_edited_message_is_answered_not_silently_taken(emu, meldbot):
    anna = emu.user(5111, first_name="Anna", language_code="nl")
    await start_report(anna)
    sent = await anna.send("Er werd tegen me geschreeuwd aan de balie.")
    await anna.next_screen(lambda m: "Toegevoegd" in m.text)
    await anna.edit_message(sent.message_id, "Er werd tegen me gescholden aan de balie.")
    await anna.next_screen(lambda m: "aangepast" in m.text)
    assert (await draft_of(meldbot, 5111)).description == "Er werd tegen me geschreeuwd aan de balie."
    emu.assert_healthy()


async def test_a_button_of_a_sent_report_does_nothing(emu, meldbot):
    from tests.test_e2e_report import file_report

    anna = emu.user(5112, first_name="Anna", language_code="nl")
    confirmation = await file_report(anna)
    # The summary became the confirmation: its buttons to change or send are gone.
    assert not any("Versturen" in label or "Wijzigen" in label for label, _ in confirmation.buttons)
    case = await meldbot.storage.cases.by_reference(reference_in(confirmation))
    answer = await anna.press_data(confirmation.message_id, f"i:{case.id[:8]}:summary:confirm")
    assert "eerder bericht" in answer.text
    emu.assert_healthy()
