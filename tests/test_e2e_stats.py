"""/stats, its charts and /export through the real bot and the Bot API emulator: the coordinator
reads the figures, receives the charts as real PNG pictures and the exports as files that open
again as CSV and XLSX, with no name, username or Telegram id in them; a reporter or a counsellor
who forges a statistics button gets nothing."""

from __future__ import annotations

import csv
import io
import struct
import zlib
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook

from bot import callbacks
from bot.app import Meldbot
from bot.demo.clock import DemoClock
from flows.clock import SystemClock
from flows.outcome import StatsCharts, StatsView
from flows.statistics import Period, PeriodKind
from flows.steering import SUMMARY_AT, first_working_day, following
from storage import Storage
from tests.e2e import COORDINATOR_ID, STAFF_COUNSELLOR_ID, BotUnderTest
from tests.support import AMSTERDAM, ManualClock, World, reporter
from tests.test_e2e_leak import encodings

pytestmark = pytest.mark.e2e

MARKERS = {"first name": "Markfirst4417", "username": "markuser_9055", "text": "MARKERTEXT7731 bij de balie"}
MARKED_ID = 913_457_286
SLOW = 30  # seconds: drawing charts and building a workbook take a while on a busy machine


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, after checking its signature and its header chunk's checksum."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    header = data[16:29]
    assert struct.unpack(">I", data[29:33])[0] == zlib.crc32(kind + header)
    width, height = struct.unpack(">II", header[:8])
    return width, height


async def seed_last_month(folder) -> None:
    """Reports filed last month through the real flows: six staff registrations, one by a reporter
    whose name, username, id and words are markers, and a report that stays with the counsellor."""
    storage = await Storage.open(folder / "meldbot.db", folder / "meldbot.key")
    try:
        local = SystemClock().now().astimezone(AMSTERDAM)
        clock = ManualClock(datetime(local.year, local.month, 1, 9, tzinfo=AMSTERDAM) - timedelta(days=12))
        world = World(storage, clock)
        await world.report(
            reporter(MARKED_ID, MARKERS["first name"], MARKERS["username"]),
            wish="anonymous_register",
            text=MARKERS["text"],
        )
        for n in range(5):
            clock.advance(minutes=30)
            await world.report(reporter(5400 + n, f"Melder {n}", None), wish="anonymous_register")
        clock.advance(minutes=30)
        await world.report(reporter(5410, "Vera", None))
    finally:
        await storage.close()


async def test_a_coordinator_reads_the_figures_sees_the_charts_and_exports(emu, tmp_path, captured_logs):
    await seed_last_month(tmp_path)
    coby = emu.user(COORDINATOR_ID, first_name="Coby", language_code="nl")
    carla = emu.user(STAFF_COUNSELLOR_ID, first_name="Carla", language_code="nl")
    for member in (coby, carla):
        member.skip_pending()
        await member.command("/start")
    bot = BotUnderTest(emu, tmp_path)
    await bot.start()
    try:
        await coby.next_message()
        await carla.next_message()
        await coby.command("/stats")
        quarter = await coby.wait_for_message(lambda m: "Cijfers" in m.text, timeout=SLOW)
        assert quarter.protect_content
        await coby.press("Maand")
        month = await coby.next_screen(lambda m: "Meldingen:" in m.text and "• Maand •" in dict(m.buttons))
        assert "Meldingen: 7" in month.text
        assert len(month.text) <= 4096
        await coby.press("📈 Toon als grafieken")
        photos = [await coby.wait_for_message(lambda m: m.media_type == "photo", timeout=SLOW) for _ in range(3)]
        for photo in photos:
            width, height = png_size(photo.file_bytes)
            assert width == 1080 and height > 200
            assert photo.protect_content
        assert photos[0].caption.startswith("Meldingen per maand, naar vorm")

        await coby.command("/export")
        await coby.wait_for_message(lambda m: "De export" in m.text, timeout=SLOW)
        files = [await coby.wait_for_message(lambda m: m.media_type == "document", timeout=SLOW) for _ in range(3)]
        assert all(f.protect_content for f in files)
        register, statistics, workbook = (f.file_bytes for f in files)
        rows = list(csv.reader(io.StringIO(register.decode("utf-8-sig")), delimiter=";", strict=True))
        assert len(rows) == 1 + 6  # the header and the six registrations; the counsellor's report is not a row
        list(csv.reader(io.StringIO(statistics.decode("utf-8-sig")), delimiter=";", strict=True))
        book = load_workbook(io.BytesIO(workbook))
        cells = [value for sheet in book for row in sheet.iter_rows(values_only=True) for value in row]
        assert len(cells) > 100
        readable = register + statistics + "\n".join(str(c) for c in cells).encode("utf-8")
        for marker in [*MARKERS.values(), MARKED_ID]:
            for encoded in encodings(marker):
                assert encoded not in readable, marker
    finally:
        await bot.stop()
    errors = [line for line in captured_logs.text.splitlines() if " ERROR " in line or "Traceback" in line]
    assert errors == []


async def test_a_forged_statistics_button_gives_a_reporter_or_counsellor_nothing(emu, meldbot):
    await seed_last_month_through(meldbot)
    anna = emu.user(5501, first_name="Anna", language_code="nl")
    await anna.command("/start")
    welcome = await anna.wait_for_message()
    carla = emu.user(STAFF_COUNSELLOR_ID)
    await carla.command("/help")
    help_message = await carla.wait_for_message()
    local = SystemClock().now().astimezone(AMSTERDAM)
    last_year = local.year - 1
    forged = [
        callbacks.encode(StatsView(PeriodKind.YEAR, last_year, 1, "a")),
        callbacks.encode(StatsCharts(PeriodKind.YEAR, last_year, 1, "h")),
    ]
    for person, message in ((anna, welcome), (carla, help_message)):
        before = len(person.chat.messages)
        for data in forged:
            answer = await person.press_data(message.message_id, data)
            assert answer is not None and answer.text == "Deze knop is niet voor jou."
        assert len(person.chat.messages) == before
        assert not any(m.media_type == "photo" for m in person.chat.messages)
    # The commands, like /register, answer those who may not use them with nothing at all.
    for command, person in (("/stats", anna), ("/export", carla), ("/stats", carla)):
        before = len(person.chat.messages)
        await person.command(command)
        await person.command("/privacy")
        await person.wait_for_message(lambda m: "Privacy" in m.text)
        later = person.chat.messages[before:]
        assert not any("Cijfers" in m.text or "De export" in m.text or m.media_type for m in later)


async def seed_last_month_through(meldbot) -> None:
    """A report in the running bot's database, so there is something that must not leak."""
    world = World(meldbot.storage, ManualClock(SystemClock().now() - timedelta(days=40)))
    await world.report(reporter(5499, "Melder", None), wish="anonymous_register")


async def test_the_quarterly_summary_arrives_on_the_quarters_first_working_day(emu, tmp_path, captured_logs):
    """A clock three seconds before the next quarter's first working morning: the summary of the
    quarter that just ended reaches the coordinator as a protected picture with its key figures."""
    now = SystemClock().now()
    quarter = following(Period.containing(PeriodKind.QUARTER, now, AMSTERDAM))
    due = datetime.combine(first_working_day(quarter), SUMMARY_AT, AMSTERDAM)
    storage = await Storage.open(tmp_path / "meldbot.db", tmp_path / "meldbot.key")
    try:
        world = World(storage, ManualClock(due - timedelta(days=40)))
        for n in range(6):
            await world.report(reporter(5600 + n, f"Melder {n}", None), wish="anonymous_register")
    finally:
        await storage.close()
    coby = emu.user(COORDINATOR_ID, first_name="Coby", language_code="nl")
    coby.skip_pending()
    await coby.command("/start")
    clock = DemoClock()
    clock.advance(due - timedelta(seconds=3) - now)
    bot = BotUnderTest(emu, tmp_path)
    bot.meldbot = Meldbot(bot.settings, clock=clock)
    await bot.meldbot.start()
    try:
        summary = await coby.wait_for_message(lambda m: m.media_type == "photo", timeout=20)
        assert clock.now() >= due
        assert png_size(summary.file_bytes)[0] == 1080
        assert summary.protect_content
        assert summary.caption.startswith("📊 Kwartaaloverzicht:") and "Meldingen: 6" in summary.caption
    finally:
        await bot.stop()
