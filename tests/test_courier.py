"""The courier with a controlled clock: quiet hours, summer time, and staff who never sleep."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

from bot.delivery import Courier
from flows.lifecycle import Notice
from flows.timing import QuietHours
from storage.database import from_db
from tests.support import AMSTERDAM, STAFF_COUNSELLOR, ManualClock, World, reporter, staff


class StubBot:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id, text, **kwargs):
        self.sent.append((chat_id, text))
        return SimpleNamespace(message_id=len(self.sent))


class StubJobQueue:
    def run_once(self, *args, **kwargs):
        return SimpleNamespace(schedule_removal=lambda: None)

    run_repeating = run_once


def courier_for(world: World, clock: ManualClock) -> tuple[Courier, StubBot]:
    bot = StubBot()
    app = SimpleNamespace(bot=bot, job_queue=StubJobQueue())
    courier = Courier(
        app,
        world.storage,
        world.router,
        clock,
        AMSTERDAM,
        notices=world.notices,
        sweep_interval=timedelta(seconds=30),
        max_backoff=timedelta(minutes=5),
        quiet=QuietHours(time(21), time(8), AMSTERDAM),
    )
    courier.pacer.interval = 0  # pacing is measured end to end; here only the clock matters
    return courier, bot


async def next_attempt(storage, kind: Notice):
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT next_attempt_at, status FROM outbox WHERE kind = ?", (kind.value,)) as cursor:
            row = await cursor.fetchone()
    return from_db(row[0]), row[1]


async def test_at_night_the_reporter_waits_for_the_morning_and_the_counsellor_does_not(storage):
    clock = ManualClock(datetime(2026, 11, 18, 20, 30, tzinfo=UTC))  # 21:30 in Amsterdam
    world = World(storage, clock)
    anna = reporter(5001)
    case = await world.report(anna)
    await world.casework.acknowledge(staff(STAFF_COUNSELLOR), case.reference)
    courier, bot = courier_for(world, clock)
    await courier.run()
    assert [chat for chat, _ in bot.sent] == [STAFF_COUNSELLOR.telegram_id]  # the report: staff get it now
    assert await next_attempt(storage, Notice.REPORTER_ACKNOWLEDGED) == (
        datetime(2026, 11, 19, 7, 0, tzinfo=UTC),
        "pending",
    )
    clock.current = datetime(2026, 11, 19, 6, 59, tzinfo=UTC)
    await courier.run()
    assert len(bot.sent) == 1
    clock.current = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)  # 08:00 local
    await courier.run()
    assert [chat for chat, _ in bot.sent] == [STAFF_COUNSELLOR.telegram_id, anna.telegram_id]
    assert (await next_attempt(storage, Notice.REPORTER_ACKNOWLEDGED))[1] == "sent"
    assert (await next_attempt(storage, Notice.CASE_REPORT))[1] == "sent"


async def test_the_night_summer_time_starts_the_morning_comes_an_hour_early_in_utc(storage):
    clock = ManualClock(datetime(2026, 3, 28, 22, 30, tzinfo=UTC))  # 23:30 winter time
    world = World(storage, clock)
    case = await world.report(reporter(5001))
    await world.casework.acknowledge(staff(STAFF_COUNSELLOR), case.reference)
    courier, _ = courier_for(world, clock)
    await courier.run()
    assert await next_attempt(storage, Notice.REPORTER_ACKNOWLEDGED) == (
        datetime(2026, 3, 29, 6, 0, tzinfo=UTC),
        "pending",
    )


async def test_a_night_in_autumn_ends_at_eight_winter_time(storage):
    clock = ManualClock(datetime(2026, 10, 24, 20, 0, tzinfo=UTC))  # 22:00 summer time, the last night of it
    world = World(storage, clock)
    case = await world.report(reporter(5001))
    await world.casework.acknowledge(staff(STAFF_COUNSELLOR), case.reference)
    courier, _ = courier_for(world, clock)
    await courier.run()
    assert await next_attempt(storage, Notice.REPORTER_ACKNOWLEDGED) == (
        datetime(2026, 10, 25, 7, 0, tzinfo=UTC),
        "pending",
    )


async def test_a_deferral_is_not_counted_as_a_failed_attempt(storage):
    clock = ManualClock(datetime(2026, 11, 18, 22, 0, tzinfo=UTC))
    world = World(storage, clock)
    case = await world.report(reporter(5001))
    await world.casework.acknowledge(staff(STAFF_COUNSELLOR), case.reference)
    courier, _ = courier_for(world, clock)
    for _ in range(3):
        await courier.run()
        clock.advance(minutes=30)
    async with storage.db.transaction() as conn:
        async with conn.execute(
            "SELECT attempts FROM outbox WHERE kind = ?", (Notice.REPORTER_ACKNOWLEDGED.value,)
        ) as cursor:
            assert (await cursor.fetchone())[0] == 0
