"""End to end: the bot keeps its word when Telegram, or a Bot API server, does not quite.

A press must always lead to the next question, even when answering the press or editing
the pressed message fails; a person who opens the bot gets what waited for them at once;
a warn-only check at start-up never stops the start; odd presses do nothing, quietly.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e import COORDINATOR_ID, STAFF_COUNSELLOR_ID, BotUnderTest
from tests.test_e2e_trust import LATE_COORDINATOR_ID, file_with_name_for_coordinator

pytestmark = pytest.mark.e2e


async def test_staff_who_press_start_get_what_waited_for_them_at_once(emu, tmp_path):
    await emu.user(STAFF_COUNSELLOR_ID, first_name="Carla", language_code="nl").command("/start")
    emu.user(LATE_COORDINATOR_ID, first_name="Laat", language_code="nl")
    # An hour between attempts to reach someone who never opened the bot: pressing Start must not wait for it.
    bot = BotUnderTest(
        emu,
        tmp_path,
        coordinators=[{"telegram_id": LATE_COORDINATOR_ID, "name": "Coördinator"}],
        delivery={"sweep_interval": "PT30S", "max_backoff": "PT1H"},
    )
    await bot.start()
    try:
        sanne = emu.user(5901, first_name="Sanne", language_code="nl")
        reference = await file_with_name_for_coordinator(sanne)
        await emu.wait_for_request("sendMessage", predicate=lambda r: r.chat_id == LATE_COORDINATOR_ID, timeout=10)
        late = emu.user(LATE_COORDINATOR_ID)
        pressed = time.monotonic()
        await late.command("/start")
        await late.next_screen(lambda m: reference in m.text, timeout=5)
        assert time.monotonic() - pressed < 5
        emu.assert_healthy(allow_failed_requests=True)
    finally:
        await bot.stop()


async def test_a_failed_answer_or_edit_never_stops_the_next_question(emu, meldbot):
    anna = emu.user(5902, first_name="Anna", language_code="nl")
    await anna.command("/start")
    await anna.next_screen(lambda m: "112" in m.text)
    await anna.press("Melding maken")
    await anna.next_screen(lambda m: "Wat is er gebeurd?" in m.text)
    # The answer to the press is lost on the way, and editing the pressed message times out.
    emu.inject_fault("answerCallbackQuery", kind="drop", times=1)
    emu.inject_fault("editMessageText", 502, times=1, chat_id=anna.id)
    await anna.press_data(anna.chat.bot_messages[-1].message_id, _data_of(anna, "Bedreiging"), timeout=5)
    await anna.next_screen(lambda m: "Wanneer gebeurde het?" in m.text)
    emu.assert_healthy(allow_failed_requests=True)


def _data_of(user, label: str) -> str:
    for message in reversed(user.chat.bot_messages):
        for text, data in message.buttons:
            if label in text:
                return data
    raise AssertionError(label)


async def test_a_bot_api_server_with_an_unusable_get_chat_answer_does_not_stop_the_start(emu, tmp_path, captured_logs):
    async def incomplete_chat(call):  # a self-hosted server that leaves out a required field
        return {"id": call.int("chat_id")}

    emu._methods["getChat"] = incomplete_chat
    bot = BotUnderTest(emu, tmp_path)
    await bot.start()
    try:
        anna = emu.user(5903, first_name="Anna", language_code="nl")
        await anna.command("/start")
        await anna.next_screen(lambda m: "112" in m.text)
    finally:
        await bot.stop()
    log = captured_logs.text
    assert "could not check whether counsellors #1 in the configuration can be reached" in log
    assert "must open the bot" not in log  # the cause was the server, not the person


async def test_a_press_on_an_inline_message_is_answered_quietly_and_does_nothing(emu, meldbot):
    anna = emu.user(5904, first_name="Anna", language_code="nl")
    await anna.command("/start")
    await anna.next_screen(lambda m: "112" in m.text)
    mark = len(emu.requests)
    emu.enqueue_update(
        "callback_query",
        {"id": "77001", "from": anna.api(), "chat_instance": "1", "inline_message_id": "AAAAAB", "data": "r"},
    )
    await emu.wait_for_request("answerCallbackQuery", since=mark, timeout=5)
    await anna.expect_silence(1)
    assert [r.method for r in emu.requests[mark:] if r.method != "getUpdates"] == ["answerCallbackQuery"]


async def test_a_replayed_stop_press_leaves_the_message_alone(emu, meldbot):
    anna = emu.user(5905, first_name="Anna", language_code="nl")
    await anna.command("/start")
    welcome = await anna.next_screen(lambda m: "112" in m.text)
    answer = await anna.press_data(welcome.message_id, "s", timeout=5)
    assert answer is not None and "eerder bericht" in (answer.text or "")
    await asyncio.sleep(0.3)
    assert anna.chat.get(welcome.message_id).text == welcome.text  # not turned into "nothing was sent"
    emu.assert_healthy(allow_failed_requests=True)


async def test_staff_receive_their_role_welcome_when_they_press_start(emu, meldbot):
    carla = emu.user(STAFF_COUNSELLOR_ID)
    await carla.command("/start")
    welcome = await carla.next_screen(lambda m: "/inbox" in m.text)
    assert "vertrouwenspersoon" in welcome.text.lower() and "Melding maken" not in welcome.text
    coby = emu.user(COORDINATOR_ID)
    await coby.command("/start")
    welcome = await coby.next_screen(lambda m: "/register" in m.text)
    assert "coördinator" in welcome.text.lower()


async def test_the_longest_notes_and_reports_reach_telegram_within_its_limits(tmp_path):
    """Through an emulator that counts length in UTF-16 code units (stricter than Telegram)."""
    from tests.e2e import emulator
    from tests.test_e2e_report import file_report, reference_in

    heavy = "😡 Hij riep <dat> & meer. " * 200  # astral emoji count twice; < > & become entities in HTML
    async with emulator(text_length_unit="utf16") as emu:
        carla = emu.user(STAFF_COUNSELLOR_ID, first_name="Carla", language_code="nl")
        await carla.command("/start")
        bot = BotUnderTest(emu, tmp_path)
        await bot.start()
        try:
            await carla.next_message()
            anna = emu.user(5906, first_name="Anna" * 16, last_name="de Vries" * 8, language_code="nl")
            reference = reference_in(await file_report(anna, text=heavy[:3000]))
            await carla.next_screen(lambda m: reference in m.text)
            await carla.command(f"/case {reference}")
            await carla.next_screen(lambda m: m.text.startswith(f"📁 {reference}"))
            for n in range(3):
                await carla.press("Notitie")
                await carla.next_screen(lambda m: "Typ je notitie" in m.text)
                await carla.send(f"{n} " + heavy[:1700])
                await carla.next_screen(lambda m: "Notitie bewaard" in m.text)
            await carla.press("Notities")
            first = await carla.next_screen(lambda m: "Notities bij" in m.text)
            assert "(2 van 3" in first.text or "(1 van 3" in first.text  # paged: they do not fit in one
            await carla.press("Eerdere notities")
            await carla.wait_for_edit(lambda m: "Notities bij" in m.text and m.text != first.text)
            # Nothing refused; the only failures are staff in the configuration who never opened the bot.
            assert {r.method for r in emu.failed_requests()} <= {"getChat", "setMyCommands"}
            emu.assert_healthy(allow_failed_requests=True)
        finally:
            await bot.stop()


async def test_a_slow_press_is_answered_at_once_and_its_answer_follows_as_a_message(emu, meldbot, monkeypatch):
    """Under load a flow can take a while: the spinner stops within ANSWER_WITHIN, and what the
    press says (here: "already acknowledged") still reaches the counsellor, as a message."""
    from bot import dispatch, handlers
    from flows.outcome import Acknowledge
    from tests.test_e2e_report import file_report, reference_in

    anna = emu.user(5903, first_name="Anna", language_code="nl")
    reference = reference_in(await file_report(anna))
    carla = emu.user(STAFF_COUNSELLOR_ID)
    report = await carla.wait_for_message(lambda m: reference in m.text)
    data = dict(report.buttons)["✅ Ontvangst bevestigen"]
    await carla.press_data(report.message_id, data)
    await carla.wait_for_message(lambda m: "Je hebt de ontvangst" in m.text)

    acknowledge = dispatch.HANDLERS[Acknowledge]

    async def slowly(svc, sender, action):
        await asyncio.sleep(handlers.ANSWER_WITHIN + 0.6)
        return await acknowledge(svc, sender, action)

    monkeypatch.setitem(dispatch.HANDLERS, Acknowledge, slowly)
    pressed = time.monotonic()
    answer = await carla.press_data(report.message_id, data)  # the old button, pressed again
    assert time.monotonic() - pressed < handlers.ANSWER_WITHIN + 0.5
    assert answer is not None and answer.text in ("", None)
    await carla.wait_for_message(lambda m: "Je had deze melding al bevestigd" in m.text)
    assert time.monotonic() - pressed >= handlers.ANSWER_WITHIN + 0.6
    emu.assert_healthy()
