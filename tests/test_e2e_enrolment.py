"""Staff enrolment end to end: a link from `meldbot invite` or from a coordinator in the chat enrols
whoever opens it, and the next report reaches them without a restart; and /privacy says how long
closed reports are kept."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.cli import main
from tests.e2e import COORDINATOR_ID, TOKEN, BotUnderTest
from tests.test_e2e_report import file_report, reference_in


def config_file(bot: BotUnderTest, folder: Path) -> Path:
    """The operator's configuration for the same database (the CLI beside the running bot)."""
    storage = bot.settings.storage
    path = folder / "config.toml"
    path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\napi_base_url = "{bot.settings.telegram.api_base_url}"\n'
        f'[storage]\ndatabase = "{storage.database}"\nkey_file = "{storage.key_file}"\n'
        f'[[coordinators]]\ntelegram_id = {COORDINATOR_ID}\nname = "Coördinator GIR"\n'
    )
    return path


async def meldbot(*args: str) -> int:
    # The CLI runs its own event loop, as from a shell: in a thread beside the bot's.
    return await asyncio.to_thread(main, list(args))


async def menu_offers(emu, chat_id: int, command: str) -> bool:
    for _ in range(50):
        if command in [c["command"] for c in emu.commands({"type": "chat", "chat_id": chat_id})]:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_an_operators_link_enrols_a_counsellor_who_receives_the_next_report(emu, tmp_path, captured_logs, capsys):
    bot = BotUnderTest(emu, tmp_path, counsellors=[])  # nobody in the configuration serves anyone
    await bot.start()
    try:
        config = str(config_file(bot, tmp_path))
        assert (
            await meldbot("invite", "--config", config, "--role", "counsellor", "--name", "Eva", "--serves", "staff")
            == 0
        )
        link = capsys.readouterr().out.splitlines()[0]
        assert link.startswith("https://t.me/meldbot_test_bot?start=")
        code = link.split("start=")[1]

        eva = emu.user(3001, first_name="Eva", last_name="Jansen", language_code="nl")
        await eva.command("/start", payload=code)
        welcome = await eva.wait_for_message(lambda m: "Welkom, Eva" in m.text)
        assert "vertrouwenspersoon" in welcome.text
        assert await menu_offers(emu, 3001, "inbox")  # set just after the welcome

        anna = emu.user(5001, first_name="Anna", language_code="nl")
        reference = reference_in(await file_report(anna))
        await eva.wait_for_message(lambda m: reference in m.text)

        # The link is used: a second person who opens it gets nothing but the explanation.
        mallory = emu.user(5002, first_name="Mal", language_code="nl")
        await mallory.command("/start", payload=code)
        assert "werkt niet" in (await mallory.next_message()).text

        assert await meldbot("staff", "list", "--config", config) == 0
        (line,) = capsys.readouterr().out.splitlines()
        assert "counsellor" in line and "Eva" in line and "serves staff" in line
        assert await meldbot("check-config", "--config", config) == 0
        assert "enrolled staff (1):" in capsys.readouterr().out
    finally:
        await bot.stop()
    assert "Eva" not in captured_logs.text and "3001" not in captured_logs.text
    emu.assert_healthy(allow_failed_requests=True)


async def test_a_coordinator_enrols_a_counsellor_in_the_chat_and_removal_sends_her_cases_back(emu, tmp_path, capsys):
    coby = emu.user(COORDINATOR_ID, first_name="Coby", language_code="nl")
    await coby.command("/start")
    bot = BotUnderTest(emu, tmp_path, counsellors=[], delivery={"sweep_interval": "PT1S"})
    await bot.start()
    try:
        await coby.wait_for_message(lambda m: True)
        await coby.command("/invite Fenna de Boer")
        await coby.wait_for_message(lambda m: "Naam in de bot: Fenna de Boer" in m.text)
        await coby.press("Vertrouwenspersoon voor medewerkers")
        created = await coby.wait_for_edit(lambda m: "t.me/meldbot_test_bot?start=" in m.text)
        code = created.text.split("start=")[1].split()[0]

        fenna = emu.user(3002, first_name="F.", language_code="nl")
        await fenna.command("/start", payload=code)
        await fenna.wait_for_message(lambda m: "Welkom, Fenna de Boer" in m.text)
        anna = emu.user(5001, first_name="Anna", language_code="nl")
        reference = reference_in(await file_report(anna))
        await fenna.wait_for_message(lambda m: reference in m.text)

        # The operator ends her enrolment: nobody else serves staff, so the case waits and Coby hears so.
        config = str(config_file(bot, tmp_path))
        assert await meldbot("staff", "list", "--config", config) == 0
        member_id = capsys.readouterr().out.split()[0]
        assert await meldbot("staff", "remove", member_id, "--config", config) == 0
        assert "0 went to a colleague of the group, 1 wait" in capsys.readouterr().out
        await coby.wait_for_message(lambda m: reference in m.text)
        for _ in range(50):  # the running bot follows within its sweep interval
            if bot.meldbot.application.bot_data["services"].router.counsellors == ():
                break
            await asyncio.sleep(0.1)
        assert bot.meldbot.application.bot_data["services"].router.counsellors == ()
    finally:
        await bot.stop()
    emu.assert_healthy(allow_failed_requests=True)


async def test_privacy_says_how_long_closed_reports_are_kept_and_the_daily_erasure_is_armed(emu, tmp_path):
    bot = BotUnderTest(emu, tmp_path, retention={"closed_cases": "P5Y"})
    await bot.start()
    try:
        # The first run falls due at start (no quiet hours here) and arms the next, a day later.
        for _ in range(50):
            due = await bot.storage.retention.pending_run()
            if due is not None and due > bot.meldbot.clock.now() + timedelta(hours=23):
                break
            await asyncio.sleep(0.1)
        assert due is not None and due > bot.meldbot.clock.now() + timedelta(hours=23)
        anna = emu.user(5001, first_name="Anna", language_code="nl")
        await anna.command("/privacy")
        said = [(await anna.next_message()).text for _ in range(3)]
        assert any("5 jaar na het afsluiten automatisch gewist" in text for text in said), said
    finally:
        await bot.stop()
