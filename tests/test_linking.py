"""Reports about the same person: which cases are linked, who sees the link, and the joint timeline.

Two cases are linked when both are in the register with their reporters' consent to be combined,
neither is withdrawn, and they name the perpetrator with an equal detail (same kind, same keyed
index of the canonical form).
"""

from __future__ import annotations

import uuid

import pytest

from flows import lifecycle
from flows.lifecycle import REPORTER_ACTOR, Case, NewPerpetratorDetail, Party
from flows.outcome import RegisterView
from flows.perpetrator import IdentifierKind
from flows.queries import CoordinatorRegister, CounsellorInbox
from tests.support import COORDINATOR, STAFF_COUNSELLOR, World, button, index, keys, labels, last, reporter, staff

PHONE, PLATE, HANDLE, PLACE = IdentifierKind.PHONE, IdentifierKind.PLATE, IdentifierKind.HANDLE, IdentifierKind.PLACE


@pytest.fixture
def world(small_world: World) -> World:
    return small_world


async def naming(
    world: World,
    telegram_id: int,
    *details: tuple[IdentifierKind, str],
    wish: str = "counsellor_and_register",
    role: str = "employee",
    consent: bool = True,
) -> Case:
    """A report by ``telegram_id`` that names the perpetrator with ``details``; ``consent``: its reporter
    lets it be combined with other reports about the same person."""
    case = await world.report(reporter(telegram_id), wish=wish, role=role)
    now = world.clock.now()
    for kind, value in details:
        detail = NewPerpetratorDetail(uuid.uuid4().hex, kind, value, Party.REPORTER)
        await world.storage.cases.change(
            case.id, lambda c, d=detail: lifecycle.add_perpetrator_detail(c, REPORTER_ACTOR, d), now
        )
    if consent:
        await world.storage.cases.change(case.id, lambda c: lifecycle.set_link_consent(c, True), now)
    return await world.case(case.reference)


async def linked_to(world: World, case: Case) -> list[str]:
    """The references linked to ``case`` as the coordinator sees them."""
    coordinator = CoordinatorRegister(index(world.storage, COORDINATOR))
    ids = await world.storage.cases.linked(case.id, coordinator) if lifecycle.linkable(case) else []
    return [c.reference for c in await world.storage.cases.cases(ids)]


# -- the rule ------------------------------------------------------------------------------


async def test_two_registered_reports_naming_the_same_phone_number_in_different_forms_are_linked(world):
    first = await naming(world, 5001, (PHONE, "+31 6 1234 5678"))
    second = await naming(world, 5002, (PHONE, "0612345678"))
    assert await linked_to(world, first) == [second.reference]
    assert await linked_to(world, second) == [first.reference]


async def test_plates_and_handles_match_in_their_canonical_form(world):
    car = await naming(world, 5001, (PLATE, "12-ABC-3"))
    same_car = await naming(world, 5002, (PLATE, "12abc3"))
    account = await naming(world, 5003, (HANDLE, "@PietJ"))
    same_account = await naming(world, 5004, (HANDLE, "https://instagram.com/pietj"))
    assert await linked_to(world, car) == [same_car.reference]
    assert await linked_to(world, account) == [same_account.reference]


async def test_without_consent_on_either_side_nothing_is_linked(world):
    willing = await naming(world, 5001, (PHONE, "0612345678"))
    unwilling = await naming(world, 5002, (PHONE, "0612345678"), consent=False)
    assert await linked_to(world, willing) == []
    assert not lifecycle.linkable(unwilling)
    # The unwilling reporter changes their mind: the link appears; and switched off, it goes again.
    now = world.clock.now()
    await world.storage.cases.change(unwilling.id, lambda c: lifecycle.set_link_consent(c, True), now)
    assert await linked_to(world, willing) == [unwilling.reference]
    await world.storage.cases.change(unwilling.id, lambda c: lifecycle.set_link_consent(c, False), now)
    assert await linked_to(world, willing) == []


async def test_a_report_outside_the_register_or_withdrawn_is_in_no_link(world):
    registered = await naming(world, 5001, (PHONE, "0612345678"))
    private = await naming(world, 5002, (PHONE, "0612345678"), wish="counsellor")
    withdrawn = await naming(world, 5003, (PHONE, "0612345678"))
    left_register = await naming(world, 5004, (PHONE, "0612345678"))
    now = world.clock.now()
    await world.storage.cases.change(withdrawn.id, lambda c: lifecycle.withdraw(c, [], now), now)
    await world.storage.cases.change(
        left_register.id, lambda c: lifecycle.consent(c, lifecycle.ConsentAnswer.WITHDRAW, []), now
    )
    assert not lifecycle.linkable(private)
    assert await linked_to(world, registered) == []


async def test_equal_text_under_different_kinds_links_nothing(world):
    # "12abc3" is the canonical form both as a handle and as a place; only equal kinds match.
    handle = await naming(world, 5001, (HANDLE, "12abc3"))
    await naming(world, 5002, (PLACE, "12abc3"))
    await naming(world, 5003, (IdentifierKind.DESCRIPTION, "12abc3"))
    assert await linked_to(world, handle) == []


async def test_the_links_of_a_page_are_counted_in_one_query_on_the_indexes(world, storage):
    first = await naming(world, 5001, (PHONE, "0612345678"), (PLATE, "12-ABC-3"))
    second = await naming(world, 5002, (PHONE, "06 12 34 56 78"))
    third = await naming(world, 5003, (PLATE, "12ABC3"), (PHONE, "+31612345678"))
    alone = await naming(world, 5004, (PHONE, "0687654321"))
    statements: list[str] = []
    async with storage.db.transaction() as conn:
        await conn.set_trace_callback(statements.append)
    try:
        counts = await storage.cases.linked_counts(
            [first.id, second.id, third.id, alone.id], CoordinatorRegister(index(storage, COORDINATOR))
        )
    finally:
        async with storage.db.transaction() as conn:
            await conn.set_trace_callback(None)
    assert counts == {first.id: 2, second.id: 2, third.id: 2}
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) == 1
    async with storage.db.transaction() as conn:
        async with conn.execute(f"EXPLAIN QUERY PLAN {queries[0]}") as cursor:
            plan = [row[3] for row in await cursor.fetchall()]
    # Every table is reached by key or index: nothing is read in full, whatever the register holds.
    assert not [step for step in plan if step.startswith("SCAN")], plan


# -- who sees it ------------------------------------------------------------------------------


async def test_the_coordinator_sees_how_many_other_reports_name_the_same_person_and_their_timeline(world, storage):
    first = await naming(world, 5001, (PHONE, "0612345678"))
    second = await naming(world, 5002, (PHONE, "+31 6 12345678"))
    coby = staff(COORDINATOR)
    view = await world.casework.open(coby, first.reference)
    assert last(view).params["linked"].key == "view.linked_one"
    register = await world.casework.register(coby, RegisterView())
    lines = {line.params["reference"]: line.params["linked"] for line in last(register).params["lines"]}
    assert lines[first.reference].params == {"n": 1} and lines[second.reference].params == {"n": 1}
    timeline = await world.press(coby, view, "case.linked")
    assert keys(timeline) == ["linked.timeline"]
    entries = last(timeline).params["entries"]
    assert [e.params["reference"] for e in entries] == [first.reference, second.reference]
    assert button(timeline, "list.open")  # the other case opens like any in the register
    trail = [(e.action, e.detail) for e in await storage.audit.entries() if e.action == "viewed_linked"]
    assert trail == [("viewed_linked", "1")]


async def test_a_counsellor_sees_links_only_between_cases_they_handle_themselves(world, storage):
    # A council member's report goes to the counsellor for office holders; an employee's to Carla.
    employee = await naming(world, 5001, (PHONE, "0612345678"))
    await naming(world, 5002, (PHONE, "0612345678"), role="council_member")
    carla = staff(STAFF_COUNSELLOR)
    view = await world.casework.open(carla, employee.reference)
    assert last(view).params["linked"] == ""
    assert "case.linked" not in labels(view)
    counts = await storage.cases.linked_counts([employee.id], CounsellorInbox(index(storage, STAFF_COUNSELLOR)))
    assert counts == {}
    # The coordinator, who may open both, sees the link.
    view = await world.casework.open(staff(COORDINATOR), employee.reference)
    assert last(view).params["linked"].key == "view.linked_one"


async def test_a_forged_timeline_button_for_a_case_one_may_not_open_shows_nothing(world):
    first = await naming(world, 5001, (PHONE, "0612345678"))
    await naming(world, 5002, (PHONE, "0612345678"))
    view = await world.casework.open(staff(COORDINATOR), first.reference)
    for stranger in (reporter(5001), reporter(5002), reporter(5999)):
        refused = await world.press(stranger, view, "case.linked")
        assert refused.toast is not None and refused.toast.key == "toast.not_yours"
        assert not refused.replies and refused.edit_pressed is None
