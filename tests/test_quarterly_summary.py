"""The quarterly summary: armed once, sent on the first working day of the quarter outside quiet
hours through the outbox, re-authorised when it goes, and armed again for the next quarter."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flows.lifecycle import Drop, Notice, Party, Send, TimerKind
from flows.notices import FileNotice
from flows.statistics import Period
from flows.steering import easter_monday, first_working_day, summary_timer
from flows.timing import QuietHours
from storage.outbox import OutboxItem
from storage.schedule import DueItem
from tests.support import AMSTERDAM, COORDINATOR, MANAGER, STAFF_COUNSELLOR, World, index, outbox, reporter


def test_the_first_working_day_skips_weekends_new_year_and_easter_monday():
    assert easter_monday(2024) == date(2024, 4, 1) and easter_monday(2026) == date(2026, 4, 6)
    assert first_working_day(Period.quarter(2024, 2)) == date(2024, 4, 2)  # Easter Monday on the 1st
    assert first_working_day(Period.quarter(2027, 1)) == date(2027, 1, 4)  # Friday the 1st, then a weekend
    assert first_working_day(Period.quarter(2026, 4)) == date(2026, 10, 1)


def test_the_timer_falls_outside_quiet_hours_and_names_the_quarter_before():
    quiet = QuietHours(time(21, 0), time(10, 30), AMSTERDAM)
    timer = summary_timer(datetime(2026, 11, 18, 12, tzinfo=AMSTERDAM), AMSTERDAM, quiet)
    assert (timer.kind, timer.detail) == (TimerKind.QUARTERLY_SUMMARY, "2026-4")
    assert timer.due == datetime(2027, 1, 4, 10, 30, tzinfo=AMSTERDAM)
    # Early on the quarter's first working day, that day's summary is still to come.
    morning = summary_timer(datetime(2026, 10, 1, 7, tzinfo=AMSTERDAM), AMSTERDAM, None)
    assert (morning.due, morning.detail) == (datetime(2026, 10, 1, 9, tzinfo=AMSTERDAM), "2026-3")


async def summaries(storage, until: datetime) -> list[DueItem]:
    return [item for item in await storage.schedule.due(until, 100) if item.kind is TimerKind.QUARTERLY_SUMMARY]


async def test_the_summary_reaches_coordinators_with_a_chart_and_is_armed_again(storage, clock):
    world = World(storage, clock)
    clock.current = datetime(2026, 8, 3, 9, tzinfo=AMSTERDAM)
    for n in range(6):
        await world.report(reporter(7100 + n, f"Melder {n}", None), wish="anonymous_register")
    steering = world.services.steering
    await steering.arm_summary()
    await steering.arm_summary()  # armed once, however often the bot starts
    [armed] = await summaries(storage, datetime(2026, 10, 1, 9, tzinfo=AMSTERDAM))
    assert (armed.kind, armed.detail, armed.due_at) == (
        TimerKind.QUARTERLY_SUMMARY,
        "2026-3",
        datetime(2026, 10, 1, 9, tzinfo=AMSTERDAM),
    )
    assert await summaries(storage, armed.due_at - timedelta(seconds=1)) == []

    clock.current = armed.due_at + timedelta(seconds=1)
    claimed = await storage.schedule.claim(armed.id, clock.now(), timedelta(minutes=5))
    assert claimed is not None and await steering.run_summary(claimed)
    assert await steering.run_summary(claimed)  # a repeated run queues nothing twice
    await storage.schedule.finish(claimed.id, clock.now())
    rows = await outbox(storage, Notice.QUARTERLY_SUMMARY)
    assert sorted(rows) == sorted(
        [
            (index(storage, COORDINATOR), "coordinator", "quarterly_summary", "2026-3"),
            (index(storage, MANAGER), "management", "quarterly_summary", "2026-3"),
        ]
    )
    [following] = await summaries(storage, datetime(2027, 1, 4, 9, tzinfo=AMSTERDAM))
    assert (following.detail, following.due_at) == ("2026-4", datetime(2027, 1, 4, 9, tzinfo=AMSTERDAM))

    item = OutboxItem(
        "x", None, index(storage, COORDINATOR), Party.COORDINATOR, Notice.QUARTERLY_SUMMARY, "2026-3", 0, 0, clock.now()
    )
    assert isinstance(await world.notices.authorise(item), Send)
    sent = await world.notices.compose(item, "nl")
    assert isinstance(sent, FileNotice) and sent.attachment.kind == "photo"
    assert sent.attachment.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert sent.caption.protect_content
    from bot.render import caption

    text = caption("nl", sent.caption)
    assert "Kwartaaloverzicht: 3e kwartaal 2026" in text and "Meldingen: <b>6</b>" in text
    # Someone who no longer steers (here a counsellor's index) gets nothing when it is sent.
    stranger = OutboxItem(
        "y",
        None,
        index(storage, STAFF_COUNSELLOR),
        Party.COORDINATOR,
        Notice.QUARTERLY_SUMMARY,
        "2026-3",
        0,
        0,
        clock.now(),
    )
    assert isinstance(await world.notices.authorise(stranger), Drop)
