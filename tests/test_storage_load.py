"""The open-case counts the database keeps per counsellor (migration 0009) are always the recount.

The least-loaded counsellor gets each new report; the counts behind that choice are kept by
triggers, so that the choice costs the same with a hundred thousand cases. Here every kind of
change a case can go through, and erasure, is followed by a comparison with a recount done
the slow way, with flows/lifecycle.py's own idea of "open".
"""

from __future__ import annotations

from flows.lifecycle import OPEN, CounsellorState
from flows.outcome import Forget
from tests.support import SECOND_STAFF, STAFF_COUNSELLOR, World, reporter, staff


async def recount(storage) -> dict[bytes, int]:
    async with storage.db.transaction() as conn:
        async with conn.execute(
            f"SELECT cc.staff_index, COUNT(*) FROM case_counsellors cc JOIN cases c ON c.id = cc.case_id"
            f" WHERE cc.state = '{CounsellorState.ASSIGNED.value}'"
            f" AND c.status IN ({', '.join(repr(s.value) for s in OPEN)}) GROUP BY cc.staff_index"
        ) as cursor:
            return {bytes(row[0]): row[1] for row in await cursor.fetchall()}


async def kept(storage) -> dict[bytes, int]:
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT staff_index, open_cases FROM counsellor_load WHERE open_cases != 0") as cursor:
            return {bytes(row[0]): row[1] for row in await cursor.fetchall()}


async def test_the_kept_counts_follow_every_change_and_erasure(world: World, storage, clock):
    async def same() -> None:
        assert await kept(storage) == await recount(storage)

    async def handler(reference: str):
        (index,) = (await world.case(reference)).handlers
        return staff(next(m for m in (STAFF_COUNSELLOR, SECOND_STAFF) if world.router.index(m) == index))

    anna, bert, cees, dirk = reporter(5001), reporter(5002, "Bert"), reporter(5003, "Cees"), reporter(5004, "Dirk")
    first = await world.report(anna)
    second = await world.report(bert, wish="counsellor_and_register")
    third = await world.report(cees)
    await same()
    assert sum((await kept(storage)).values()) == 3
    await world.casework.acknowledge(await handler(first.reference), first.reference)
    await same()
    await world.casework.hand_over(await handler(first.reference), first.reference, SECOND_STAFF.position)
    await same()
    await world.casework.recuse(await handler(second.reference), second.reference, True)
    await same()
    third_handler = await handler(third.reference)
    await world.casework.status(third_handler, third.reference, "closed")
    await same()
    await world.casework.status(third_handler, third.reference, "in_progress")
    await same()
    # Nobody acknowledges in time: colleagues are alerted (alerted does not count); then withdrawn.
    fourth = await world.report(dirk)
    clock.advance(hours=25)
    assert await world.run_due() >= 1
    await same()
    await world.mycases.withdraw(dirk, fourth.reference, True)
    await same()
    # Erasure deletes the cases and their rows: the counts drop with them.
    await world.mycases.forget(cees, Forget(True))
    await same()
    await world.mycases.forget(anna, Forget(True))
    await same()
    assert sum((await kept(storage)).values()) == sum((await recount(storage)).values()) >= 0


async def slow_without_counsellor(storage) -> list[str]:
    async with storage.db.transaction() as conn:
        async with conn.execute(
            f"SELECT id FROM cases WHERE status IN ({', '.join(repr(s.value) for s in OPEN)})"
            " AND wish IN ('counsellor', 'counsellor_and_register')"
            " AND NOT EXISTS (SELECT 1 FROM case_counsellors cc WHERE cc.case_id = cases.id)"
            " ORDER BY submitted_at, id"
        ) as cursor:
            return [row[0] for row in await cursor.fetchall()]


async def slow_without_coordinator(storage) -> list[str]:
    async with storage.db.transaction() as conn:
        async with conn.execute(
            f"SELECT id FROM cases WHERE status IN ({', '.join(repr(s.value) for s in OPEN)})"
            " AND register IN ('anonymous', 'named')"
            " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = cases.id AND o.recipient_role = 'coordinator')"
            " ORDER BY submitted_at, id"
        ) as cursor:
            return [row[0] for row in await cursor.fetchall()]


async def test_reports_that_wait_for_a_recipient_are_found_by_their_mark_alone(storage, clock):
    """Reports sent while nobody held the role they need wait, marked, until start-up routes them."""

    async def same() -> tuple[list[str], list[str]]:
        waiting = await storage.cases.without_counsellor(), await storage.cases.without_coordinator_delivery()
        assert waiting == (await slow_without_counsellor(storage), await slow_without_coordinator(storage))
        return waiting

    empty = World(storage, clock, counsellors=(), coordinators=())
    talk = await empty.report(reporter(5001), wish="counsellor")
    clock.advance(minutes=1)
    both = await empty.report(reporter(5002, "Bert"), wish="counsellor_and_register")
    clock.advance(minutes=1)
    anonymous = await empty.report(reporter(5003, "Cees"), wish="anonymous_register")
    assert await same() == ([talk.id, both.id], [both.id, anonymous.id])
    # The reporter withdraws one: it no longer waits for anyone.
    await empty.mycases.withdraw(reporter(5003, "Cees"), anonymous.reference, True)
    assert await same() == ([talk.id, both.id], [both.id])
    # Counsellors and a coordinator are configured; start-up routes what waited.
    configured = World(storage, clock)
    assert await configured.intake.route_waiting() == 3
    assert await same() == ([], [])
    # Consent given later, when no coordinator is configured any more: it waits again.
    later = await configured.report(reporter(5004, "Dirk"), wish="counsellor")
    assert await same() == ([], [])
    without_coordinator = World(storage, clock, coordinators=())
    await without_coordinator.mycases.consent(reporter(5004, "Dirk"), later.reference, "anonymous")
    assert await same() == ([], [later.id])
