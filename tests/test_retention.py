"""Retention: cases closed or withdrawn longer ago than the period are crypto-shredded, daily, outside quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.config import parse_retention
from flows.lifecycle import CaseStatus, Thread, TimerKind
from flows.model import AttachmentKind, IncomingAttachment
from flows.privacy import statement
from flows.retention import Retention
from flows.timing import QuietHours
from tests.support import AMSTERDAM, STAFF_COUNSELLOR, ManualClock, World, after_description, reporter, staff

FIVE_YEARS = parse_retention("P5Y")
OLD_TEXT = "OUDEMELDING7781 hij stond weer bij de balie"
OLD_PHOTO = b"\xff\xd8\xff\xe0 OUDEFOTO7782"
OLD_MESSAGE = "OUDBERICHT7783 dank voor je melding"
OLD_REPLY = "OUDANTWOORD7784 hij was er gisteren weer"
WITHDRAWN_TEXT = "INGETROKKEN7785 toch maar niet"
MARKERS = [m.encode() if isinstance(m, str) else m for m in (OLD_TEXT, OLD_PHOTO, OLD_MESSAGE, OLD_REPLY)]
MARKERS += [b"OUDEMELDING7781", b"OUDEFOTO7782", b"OUDBERICHT7783", b"OUDANTWOORD7784", b"INGETROKKEN7785"]


async def old_closed_case_with_a_photo_and_messages(world: World) -> str:
    anna = reporter(5001)
    out = await world.intake.start(anna)
    for label in ("forms.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    await world.intake.attachment(
        anna, IncomingAttachment(AttachmentKind.PHOTO, OLD_PHOTO, None, "image/jpeg", None, None)
    )
    out = await after_description(world, anna, await world.intake.text(anna, OLD_TEXT))
    for label in ("wish.counsellor", "button.confirm"):
        out = await world.press(anna, out, label)
    case = (await world.storage.cases.of_person((await world.storage.people.find(5001)).id))[0]
    carla = staff(STAFF_COUNSELLOR)
    await world.casework.acknowledge(carla, case.reference)
    await world.casework.start_message(carla, case.reference)
    await world.relay.text(carla, OLD_MESSAGE)
    await world.mycases.start(anna, case.reference, "reply", Thread.COUNSELLOR.value)
    await world.relay.text(anna, OLD_REPLY)
    await world.casework.status(carla, case.reference, "closed")
    return case.reference


async def sealed_blobs(world: World, references: list[str]) -> list[bytes]:
    """The stored bytes of these cases: their wrapped keys and everything sealed under them."""
    blobs: list[bytes] = []
    async with world.storage.db.transaction() as conn:
        for reference in references:
            async with conn.execute(
                "SELECT c.wrapped_key, c.description FROM cases c WHERE reference = ?"
                " UNION ALL SELECT a.content, a.details FROM attachments a JOIN cases c ON c.id = a.case_id"
                " WHERE c.reference = ?"
                " UNION ALL SELECT m.body, NULL FROM case_messages m JOIN cases c ON c.id = m.case_id"
                " WHERE c.reference = ?",
                (reference, reference, reference),
            ) as cursor:
                blobs += [bytes(value) for row in await cursor.fetchall() for value in row if value is not None]
    return blobs


def database_files(world: World) -> dict[str, bytes]:
    path = world.storage.db.path
    return {p.name: p.read_bytes() for p in path.parent.glob(path.name + "*")}


async def test_cases_closed_or_withdrawn_past_the_period_are_erased_and_leave_no_trace(storage, clock):
    world = World(storage, clock)
    old_closed = await old_closed_case_with_a_photo_and_messages(world)
    bert = reporter(5002, "Bert")
    old_withdrawn = (await world.report(bert, text=WITHDRAWN_TEXT)).reference
    await world.mycases.withdraw(bert, old_withdrawn, True)
    still_open = (await world.report(reporter(5003, "Cor"))).reference
    clock.advance(days=5 * 365 + 2)  # five years and a leap day later...
    recent_case = await world.report(reporter(5004, "Dirk"))
    recent = recent_case.reference
    (handler,) = recent_case.handlers
    await world.casework.status(staff(world.router.counsellor(handler)), recent, "closed")
    clock.advance(days=1)
    blobs = await sealed_blobs(world, [old_closed, old_withdrawn])
    assert len(blobs) >= 7  # two keys, two descriptions, the photo and its details, the two messages
    await storage.db.checkpoint()
    assert all(any(blob in raw for raw in database_files(world).values()) for blob in blobs)  # visible before

    erased = await Retention(storage, clock, FIVE_YEARS, None).erase_expired()

    assert erased == 2
    for reference in (old_closed, old_withdrawn):
        assert await storage.cases.by_reference(reference) is None
    assert (await world.case(still_open)).status is CaseStatus.NEW  # old, but open: kept
    assert (await world.case(recent)).status is CaseStatus.CLOSED  # closed a day ago: kept
    leaks = [(name, m[:12]) for name, raw in database_files(world).items() for m in (*MARKERS, *blobs) if m in raw]
    assert leaks == []
    verified = await storage.audit.verify()
    assert verified.intact
    erasures = [e for e in await storage.audit.entries() if e.action == "erased"]
    assert sorted(e.case_ref for e in erasures) == sorted([old_closed, old_withdrawn])
    assert {(e.actor_role, e.detail) for e in erasures} == {("system", "retention")}
    assert await storage.retention.counts() == {clock.now().strftime("%Y-%m"): 2}
    # Every case that remains still opens in full.
    for reference in (still_open, recent):
        await storage.cases.check_opens((await world.case(reference)).id)


async def test_retention_runs_once_a_day_outside_quiet_hours(storage):
    evening = datetime(2031, 11, 18, 21, 30, tzinfo=UTC)  # 22:30 in Amsterdam: quiet
    clock = ManualClock(evening)
    quiet = QuietHours(time(21, 0), time(8, 0), AMSTERDAM)
    retention = Retention(storage, clock, FIVE_YEARS, quiet)

    first = await retention.arm()
    assert first == datetime(2031, 11, 19, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam
    assert await retention.arm() == first  # one item, however often the bot starts
    clock.current = first
    (item,) = await storage.schedule.due(clock.now(), 10)
    assert item.kind is TimerKind.RETENTION and item.case_id is None
    await storage.schedule.claim(item.id, clock.now(), timedelta(minutes=5))
    await retention.run(item)
    await storage.schedule.finish(item.id, clock.now())
    assert await storage.retention.pending_run() == first + timedelta(days=1)


async def test_without_a_period_nothing_is_armed_or_erased(storage, clock):
    retention = Retention(storage, clock, None, None)
    assert await retention.arm() is None
    assert await storage.retention.pending_run() is None
    assert await retention.erase_expired() == 0


@pytest.mark.parametrize(("text", "days"), [("P5Y", 1826), ("P18M", 548), ("P1Y6M", 548), ("P2W", 14), ("p30d", 30)])
def test_the_retention_period_is_read_in_years_months_weeks_and_days(text, days):
    assert parse_retention(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["5 years", "PT5H", "P", "P0D", "five"])
def test_a_period_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError):
        parse_retention(text)


def test_the_privacy_statement_says_how_long_closed_reports_are_kept():
    (_, _, rights) = statement(None, __import__("flows.model").model.Language.NL, FIVE_YEARS).replies
    assert rights.params["how_long"].key == "privacy.retention"
    assert rights.params["how_long"].params["period"].params == {"n": 5}
