"""End to end: the privacy statement on /privacy, and what people see of the bot before they press Start."""

from __future__ import annotations

import asyncio

import pytest

from bot import app
from tests.e2e import COORDINATOR_ID, STAFF_COUNSELLOR_ID, BotUnderTest

pytestmark = pytest.mark.e2e


async def test_a_reporter_reads_the_privacy_statement_in_their_language_and_nothing_is_stored(emu, meldbot):
    anna = emu.user(5301, first_name="Anna", language_code="nl")
    await anna.command("/privacy")
    statement = [await anna.next_message() for _ in range(3)]
    assert statement[0].text.startswith("🔒 Privacy: wat er met je gegevens gebeurt")
    assert "Gemeente Voorbeeld (Raadhuisplein 1, 1234 AB Voorbeeld) is verantwoordelijk" in statement[0].text
    assert "Wie wat ziet" in statement[1].text
    assert "/forgetme" in statement[2].text and "privacy@gemeente.example" in statement[2].text
    assert await meldbot.storage.people.find(5301) is None  # reading it leaves no trace

    emma = emu.user(5302, first_name="Emma", language_code="en-GB")
    await emma.command("/privacy")
    first = await emma.next_message()
    assert first.text.startswith("🔒 Privacy: what happens to your data")
    assert "Who sees what" in (await emma.next_message()).text
    assert "Your rights" in (await emma.next_message()).text

    await anna.command("/start")
    welcome = await anna.wait_for_message(lambda m: "Hoi Anna" in m.text)
    assert welcome.text.endswith("Wat er met je gegevens gebeurt: /privacy")
    emu.assert_healthy()


async def test_every_role_finds_privacy_in_its_menu(emu, meldbot):
    menus = {
        "reporters (Dutch)": emu.commands({"type": "default"}, "nl"),
        "reporters (default)": emu.commands({"type": "default"}),
        "counsellor": emu.commands({"type": "chat", "chat_id": STAFF_COUNSELLOR_ID}),
        "coordinator": emu.commands({"type": "chat", "chat_id": COORDINATOR_ID}),
    }
    for role, menu in menus.items():
        assert "privacy" in [c["command"] for c in menu], role
    described = {c["command"]: c["description"] for c in menus["reporters (Dutch)"]}
    assert described["privacy"] == "Wat er met je gegevens gebeurt"


async def test_the_description_before_start_is_set_in_both_languages_and_only_when_it_changed(emu, meldbot):
    bot = meldbot.meldbot.application.bot
    dutch = (await bot.get_my_description("nl")).description
    english = (await bot.get_my_description()).description
    assert dutch.startswith("🆘 Direct gevaar? Bel 112.") and "Gemeente Voorbeeld" in dutch
    assert english.startswith("🆘 In immediate danger? Call 112.") and "Gemeente Voorbeeld" in english
    short_dutch = (await bot.get_my_short_description("nl")).short_description
    short_english = (await bot.get_my_short_description()).short_description
    assert short_dutch.startswith("Gemeente Voorbeeld: bedreiging") and short_dutch.endswith("Bel 112.")
    assert short_english.startswith("Gemeente Voorbeeld: report threats") and short_english.endswith("Call 112.")
    # Someone whose Telegram speaks German sees the default, English one.
    assert (await bot.get_my_description("de")).description == english

    written = len(emu.calls("setMyDescription")) + len(emu.calls("setMyShortDescription"))
    assert written == 4
    await meldbot.restart()
    assert len(emu.calls("setMyDescription")) + len(emu.calls("setMyShortDescription")) == written
    emu.assert_healthy()


async def test_a_description_telegram_refuses_is_a_warning_and_the_bot_starts_anyway(
    emu, tmp_path, captured_logs, monkeypatch
):
    # Telegram limits how often a bot changes its profile: an hour's retry_after must not hold up the start.
    monkeypatch.setattr(app, "PROFILE_TIMEOUT", 1.0)
    emu.inject_fault("setMyDescription", 429, retry_after=3600, times=1)
    emu.inject_fault("setMyShortDescription", 500, times=None)
    bot = BotUnderTest(emu, tmp_path)
    await asyncio.wait_for(bot.start(), timeout=30)
    try:
        reporter = emu.user(5303, first_name="Piet", language_code="nl")
        await reporter.command("/privacy")
        assert "Privacy" in (await reporter.next_message()).text
    finally:
        await bot.stop()
    warnings = [line for line in captured_logs.text.splitlines() if "could not set the bot's" in line]
    assert [line.split(" WARNING ")[1].split(": ", 1)[1] for line in warnings] == [
        "could not set the bot's en description (TimeoutError)",
        "could not set the bot's en short description (NetworkError)",
        "could not set the bot's nl short description (NetworkError)",
    ]
    # The Dutch description was set although the English one was refused.
    assert [call.params.get("language_code") for call in emu.calls("setMyDescription", ok=True)] == ["nl"]
    emu.assert_healthy(allow_failed_requests=True)


async def test_someone_without_an_invitation_may_read_it_before_anything_else(emu, tmp_path, captured_logs):
    bot = BotUnderTest(emu, tmp_path, access={"mode": "invite"})
    await bot.start()
    try:
        stranger = emu.user(5304, first_name="Onbekend", language_code="nl")
        assert "privacy" in [c["command"] for c in emu.commands({"type": "default"}, "nl")]
        await stranger.command("/privacy")
        assert "Wie is verantwoordelijk?" in (await stranger.next_message()).text
        assert await bot.storage.people.find(5304) is None
    finally:
        await bot.stop()
    emu.assert_healthy(allow_failed_requests=True)
