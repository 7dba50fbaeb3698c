"""Who handles a case: never the reporter themself, never someone the reporter kept out.

A counsellor or coordinator may report too; and a reporter may need to keep a named person
out of their report (the counsellor who is involved, say). Such people never receive the
case, never see it in /inbox or /register, are never alerted about it, and cannot act on it.
"""

from __future__ import annotations

from flows.access import Permission
from flows.lifecycle import Case, CounsellorState, Notice, TimerKind
from flows.model import Coordinator, Language, Sender
from flows.outcome import RegisterView, Reply
from tests.support import (
    COORDINATOR,
    HOLDERS_COUNSELLOR,
    SECOND_STAFF,
    STAFF_COUNSELLOR,
    World,
    index,
    last,
    outbox,
    reference_of,
    reporter,
    staff,
    to,
)

SECOND_COORDINATOR = Coordinator(2002, "Tweede coördinator", Language.NL, 1)


async def file_excluding(
    world: World, who: Sender, excluded: list[str], wish: str = "counsellor"
) -> tuple[Reply, Case]:
    """The shortest path, keeping the named people out at the summary; the summary as last shown, and the case."""
    out = await world.intake.start(who)
    for label in ("forms.threat", "when.today", "channel.in_person"):
        out = await world.press(who, out, label)
    out = await world.intake.text(who, "Hij dreigde me op te wachten.")
    out = await world.press(who, out, "perpetrator.citizen_unnamed")
    if last(out).key == "ask.role":
        out = await world.press(who, out, "role.employee")
    if last(out).key == "ask.work_process":
        out = await world.press(who, out, "work_process.skip")
    out = await world.press(who, out, f"wish.{wish}")
    if excluded:
        out = await world.press(who, out, "button.exclude")
        for name in excluded:
            choice = next(c for row in last(out).keyboard for c in row if c.params.get("name") == name)
            out = await world.intake.press(who, choice.action)
        out = await world.press(who, out, "change.back")
    summary: Reply = last(out)  # the summary, redrawn in place after "back"
    assert summary.key == "summary"
    out = await world.press(who, out, "button.confirm")
    return summary, await world.case(reference_of(out))


async def test_a_counsellor_who_reports_herself_never_receives_her_own_case(storage, clock):
    world = World(storage, clock)
    vera = staff(STAFF_COUNSELLOR)
    summary, case = await file_excluding(world, vera, [])
    rows = await outbox(storage, Notice.CASE_REPORT)
    assert to(storage, STAFF_COUNSELLOR, rows) == [] and to(storage, SECOND_STAFF, rows) == [Notice.CASE_REPORT]
    assert summary.params["receivers"][0].params["names"] == SECOND_STAFF.name
    # Not in her inbox, and she cannot act on it as a counsellor (only as its reporter).
    inbox = await world.casework.inbox(vera)
    assert case.reference not in str(inbox.replies[0].params["lines"])
    assert (await world.casework.acknowledge(vera, case.reference)).toast.key == "toast.not_yours"
    assert await world.access.check(vera, Permission.ACKNOWLEDGE, case.reference) is None
    assert await world.access.check(vera, Permission.WITHDRAW, case.reference) is not None
    # Nobody acknowledges: the escalation goes to nobody else in her group (there is no one), and
    # the coordinator alert (metadata only) still goes out.
    clock.advance(hours=25)
    await world.run_due()
    assert to(storage, STAFF_COUNSELLOR, await outbox(storage, Notice.CASE_REPORT_ESCALATED)) == []


async def test_the_only_counsellor_of_the_group_who_reports_leaves_it_waiting_for_the_coordinators(storage, clock):
    world = World(storage, clock, counsellors=(STAFF_COUNSELLOR, HOLDERS_COUNSELLOR))
    summary, case = await file_excluding(world, staff(STAFF_COUNSELLOR), [])
    assert summary.params["receivers"][0].key == "summary.counsellor_nobody_else"
    assert await storage.cases.counsellors_of(case.id) == {}
    rows = await outbox(storage)
    assert to(storage, COORDINATOR, rows) == [Notice.CASE_WAITING]  # no content, no name
    assert to(storage, STAFF_COUNSELLOR, rows) == []


async def test_a_coordinator_who_reports_is_not_its_coordinator(storage, clock):
    world = World(storage, clock, coordinators=(COORDINATOR, SECOND_COORDINATOR))
    coby = staff(COORDINATOR)
    _, case = await file_excluding(world, coby, [], wish="counsellor_and_register")
    rows = await outbox(storage, Notice.CASE_REPORT)
    assert to(storage, COORDINATOR, rows) == [] and to(storage, SECOND_COORDINATOR, rows) == [Notice.CASE_REPORT]
    register = await world.casework.register(coby, RegisterView())
    assert case.reference not in str(register.replies[0].params["lines"])
    other = await world.casework.register(staff(SECOND_COORDINATOR), RegisterView())
    assert case.reference in str(other.replies[0].params["lines"])
    assert (await world.casework.open(coby, case.reference)).toast.key == "toast.not_yours"


async def test_a_counsellor_the_reporter_kept_out_never_receives_sees_or_is_alerted(storage, clock):
    world = World(storage, clock)
    anna = reporter(5001)
    summary, case = await file_excluding(world, anna, [STAFF_COUNSELLOR.name], wish="counsellor_and_register")
    assert summary.params["receivers"][0].params["names"] == SECOND_STAFF.name
    assert summary.params["receivers"][-1].key == "summary.excluded"
    rows = await outbox(storage)
    assert to(storage, STAFF_COUNSELLOR, rows) == []
    vera = staff(STAFF_COUNSELLOR)
    assert await world.access.check(vera, Permission.VIEW, case.reference) is None
    # Nobody acknowledges in time: the escalation to "the other counsellors" skips her.
    clock.advance(hours=25)
    await world.run_due()
    assert to(storage, STAFF_COUNSELLOR, await outbox(storage)) == []
    # The counsellor on the case cannot hand it to her either.
    asked = await world.casework.hand_over(staff(SECOND_STAFF), case.reference)
    assert asked.replies[0].key == "handover.nobody"
    refused = await world.casework.hand_over(staff(SECOND_STAFF), case.reference, STAFF_COUNSELLOR.position)
    assert refused.toast.key == "toast.not_yours"


async def test_a_coordinator_the_reporter_kept_out_never_sees_the_case_in_the_register_nor_its_alerts(storage, clock):
    world = World(storage, clock)
    anna = reporter(5001)
    _, case = await file_excluding(world, anna, [COORDINATOR.name], wish="counsellor_and_register")
    rows = await outbox(storage)
    assert to(storage, COORDINATOR, rows) == []
    register = await world.casework.register(staff(COORDINATOR), RegisterView())
    assert case.reference not in str(register.replies[0].params["lines"])
    assert (await world.casework.open(staff(COORDINATOR), case.reference)).toast.key == "toast.not_yours"
    clock.advance(hours=49)
    await world.run_due()
    assert to(storage, COORDINATOR, await outbox(storage, Notice.COORDINATOR_ALERT)) == []


async def test_the_summary_names_the_one_counsellor_who_will_receive_it(storage, clock):
    world = World(storage, clock)
    await world.report(reporter(5009))  # the first counsellor now has an open case, the second none
    summary, case = await file_excluding(world, reporter(5001), [])
    # Not "to: both of them": the one who receives it, and it is that one who does.
    assert summary.params["receivers"][0].params["names"] == SECOND_STAFF.name
    assert await storage.cases.counsellors_of(case.id) == {index(storage, SECOND_STAFF): CounsellorState.ASSIGNED}


async def test_after_a_take_over_alerts_go_to_whoever_holds_the_case_and_the_first_counsellor_is_told(storage, clock):
    world = World(storage, clock)
    anna = reporter(5001)
    case = await world.report(anna)
    first, second = staff(STAFF_COUNSELLOR), staff(SECOND_STAFF)
    # Nobody acknowledged within a day: the other counsellor of the group is asked, and takes it.
    clock.advance(hours=25)
    await world.run_due()
    await world.casework.acknowledge(second, case.reference)
    rows = await outbox(storage)
    assert to(storage, STAFF_COUNSELLOR, rows)[-1] == Notice.CASE_TAKEN_OVER  # the first hears it was taken over
    # Three days on, the reporter wants to talk: the one who holds the case now is alerted.
    clock.advance(hours=48)
    await world.run_due((TimerKind.CHECK_IN,))
    await world.aftercare.answer(anna, case.reference, 0, "talk")
    alerts = await outbox(storage, Notice.CHECKIN_ALERT)
    assert to(storage, SECOND_STAFF, alerts) == [Notice.CHECKIN_ALERT] and to(storage, STAFF_COUNSELLOR, alerts) == []
    assert (await world.access.check(first, Permission.VIEW, case.reference)) is None
