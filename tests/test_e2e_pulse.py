"""End to end: the safety pulse reaches office holders on the first working morning of the
quarter, after the quiet hours (and not employees), is answered in a few taps, counted, and seen by the coordinator
as figures and a chart; "unsafe" brings help at once; "not now" and "never again" hold.

The bot runs on a clock the test moves, so a quarter passes in seconds.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from io import BytesIO

import pytest
from PIL import Image

from bot.app import Meldbot
from tests.e2e import COORDINATOR_ID, STAFF_COUNSELLOR_ID, settings_for
from tests.test_e2e_report import file_report

pytestmark = pytest.mark.e2e

PULSE = "Hoe veilig voel jij je?"


class MovedClock:
    """Real time, shifted to a chosen moment and moved on from there by the test."""

    def __init__(self, start: datetime) -> None:
        self.offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def move_to(self, moment: datetime) -> None:
        self.offset = moment - datetime.now(UTC)


async def move(bot: Meldbot, clock: MovedClock, moment: datetime) -> None:
    clock.move_to(moment)
    assert bot.timekeeper is not None and bot.courier is not None
    bot.courier.clock_moved()
    await bot.timekeeper.clock_moved()


def pulses(user, since: int = 0) -> list:
    """The pulse questions among the bot's messages to ``user`` (from message number ``since`` on)."""
    return [m for m in user.chat.bot_messages[since:] if PULSE in m.text]


async def test_the_pulse_end_to_end(emu, tmp_path, captured_logs):
    for user_id, name in ((STAFF_COUNSELLOR_ID, "Carla"), (1002, "Henk"), (COORDINATOR_ID, "Coby")):
        await emu.user(user_id, first_name=name, language_code="nl").command("/start")
    # Wednesday 30 September 2026, 14:00 in Amsterdam: the last day of the third quarter.
    clock = MovedClock(datetime(2026, 9, 30, 12, 0, tzinfo=UTC))
    # Sent at 07:30 on the first working day, but the quiet hours (until 08:00) hold it back.
    settings = settings_for(
        emu, tmp_path, pulse={"enabled": True, "send_at": "07:30"}, quiet_hours={"start": "21:00", "end": "08:00"}
    )
    bot = Meldbot(settings, clock=clock)
    await bot.start()
    try:
        roos = emu.user(7001, first_name="Roos", language_code="nl")  # council member
        wim = emu.user(7002, first_name="Wim", language_code="nl")  # alderman
        bas = emu.user(7003, first_name="Bas", language_code="nl")  # mayor
        mo = emu.user(7004, first_name="Mo", language_code="nl")  # employee
        for user, role in ((roos, "Raadslid"), (wim, "Wethouder"), (bas, "Burgemeester"), (mo, "Medewerker")):
            await file_report(user, role=role)

        # Thursday 1 October, a few seconds before 07:30: the fourth quarter's pulse falls due...
        await move(bot, clock, datetime(2026, 10, 1, 5, 29, 57, tzinfo=UTC))
        await asyncio.sleep(5)
        assert pulses(roos) == []  # ...in quiet hours: it waits for the morning
        waiting = [due for kind, due in await bot.storage.outbox.upcoming(100) if kind == "pulse"]
        assert len(waiting) == 3 and set(waiting) == {datetime(2026, 10, 1, 6, 0, tzinfo=UTC)}
        # ...and goes at 08:00.
        await move(bot, clock, datetime(2026, 10, 1, 5, 59, 57, tzinfo=UTC))
        question = await roos.wait_for_message(lambda m: PULSE in m.text, timeout=15)
        assert "Heel onveilig" in [text for text, _ in question.buttons]
        for user in (wim, bas):
            await user.wait_for_message(lambda m: PULSE in m.text)
        await asyncio.sleep(1)
        assert pulses(mo) == []  # employees are not asked

        # Roos feels unsafe: the report button and the support team come at once.
        await roos.press("Onveilig")
        await roos.wait_for_edit(lambda m: "niet hebt gemeld" in m.text)
        support = await roos.wait_for_message(lambda m: "Weerbaar Bestuur" in m.text)
        assert any("Melding maken" in text for text, _ in support.buttons)
        await roos.press("Ja")
        await roos.wait_for_edit(lambda m: "Waarom heb je het niet gemeld" in m.text)
        await roos.press("Hoort bij het werk")
        await roos.wait_for_edit(lambda m: any("✅ Hoort bij het werk" in t for t, _ in m.buttons))
        await roos.press("Klaar")
        await roos.wait_for_edit(lambda m: "invloed gehad op een besluit" in m.text)
        await roos.press("Nee")
        await roos.wait_for_edit(lambda m: "meegeteld" in m.text)
        assert await bot.storage.pulse.counts() == {
            "2026q4": {
                ("respondents", "all"): 1,
                ("safety", "2"): 1,
                ("unreported", "yes"): 1,
                ("reason", "part_of_job"): 1,
                ("decision", "no"): 1,
            }
        }
        await wim.press("Niet meer vragen")
        await wim.wait_for_edit(lambda m: "niet meer" in m.text)
        await bas.press("Nu niet")
        await bas.wait_for_edit(lambda m: "Prima, dan niet" in m.text)

        # The coordinator sees the quarter: one answer, so nothing but "×"; and a chart, protected.
        coby = emu.user(COORDINATOR_ID)
        await coby.command("/pulse")
        figures = await coby.wait_for_message(lambda m: "Veiligheidspeiling" in m.text)
        assert "×" in figures.text and "Onveilig: 1" not in figures.text and figures.protect_content
        chart = await coby.wait_for_message(lambda m: m.media_type == "photo")
        assert chart.protect_content
        assert Image.open(BytesIO(chart.file_bytes or b"")).format == "PNG"
        await mo.command("/pulse")
        await mo.wait_for_message(lambda m: "alleen voor coördinatoren" in m.text)

        # Monday 4 January 2027 (New Year's Day was a Friday): the next quarter's pulse, at 08:00.
        seen = {user: len(user.chat.bot_messages) for user in (wim, mo)}
        await move(bot, clock, datetime(2027, 1, 4, 6, 59, 57, tzinfo=UTC))
        await roos.wait_for_message(lambda m: PULSE in m.text, timeout=15)
        await bas.wait_for_message(lambda m: PULSE in m.text, timeout=15)
        await asyncio.sleep(1)
        assert pulses(wim, seen[wim]) == []  # muted: never asked again
        assert pulses(mo, seen[mo]) == []
    finally:
        await bot.stop()
    emu.assert_healthy()
    assert "Roos" not in captured_logs.text and "7001" not in captured_logs.text
