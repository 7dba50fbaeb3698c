"""Perpetrator details added after the report: by the reporter from /mycases, by the staff on the
case from the case view; sealed with their keyed index, in the audit trail by kind only."""

from __future__ import annotations

import pytest

from flows.perpetrator import IdentifierKind
from messages import Label
from storage.cases import detail_index
from tests.support import COORDINATOR, STAFF_COUNSELLOR, World, button, keys, last, reporter, staff


@pytest.fixture
def world(small_world: World) -> World:
    return small_world


async def test_the_reporter_adds_a_phone_number_later_from_their_cases(world, storage):
    anna = reporter()
    case = await world.report(anna, wish="counsellor_and_register")
    out = await world.mycases.open(anna, case.reference)
    out = await world.press(anna, out, "mine.add_details")
    assert keys(out) == ["details.later"]
    out = await world.press(anna, out, "perpetrator.kind.phone")
    assert out.edit_pressed.key == "compose.detail"
    out = await world.relay.text(anna, "+31 6 1111 2222")
    assert keys(out) == ["details.saved"]
    assert button(out, "details.another")  # one tap to add the next
    (detail,) = await storage.cases.perpetrator_details(case.id)
    assert (detail.kind, detail.value, detail.added_by) == ("phone", "+31 6 1111 2222", "reporter")
    assert detail.index == detail_index(storage.vault, IdentifierKind.PHONE, "+31611112222")
    trail = [(e.action, e.detail) for e in await storage.audit.entries() if e.action == "added_perpetrator_detail"]
    assert trail == [("added_perpetrator_detail", "phone")]


async def test_the_counsellor_and_the_coordinator_add_what_they_learn_from_the_case_view(world, storage):
    anna = reporter()
    case = await world.report(anna, wish="counsellor_and_register")
    carla, coby = staff(STAFF_COUNSELLOR), staff(COORDINATOR)
    out = await world.casework.open(carla, case.reference)
    out = await world.press(carla, out, "case.add_details")
    out = await world.press(carla, out, "perpetrator.kind.name")
    await world.relay.text(carla, "Piet Jansen")
    out = await world.casework.open(coby, case.reference)
    out = await world.press(coby, out, "case.add_details")
    out = await world.press(coby, out, "perpetrator.kind.plate")
    await world.relay.text(coby, "12-abc-3")
    details = await storage.cases.perpetrator_details(case.id)
    assert [(d.kind, d.value, d.added_by) for d in details] == [
        ("name", "Piet Jansen", "counsellor"),
        ("plate", "12-abc-3", "coordinator"),
    ]
    # The case view shows the register's facts and what is known of the perpetrator.
    facts = last(await world.casework.open(carla, case.reference)).params["facts"].params["lines"]
    assert [line.key for line in facts] == ["facts.perpetrator", "facts.details"]
    assert facts[0].params["answer"] == Label("perpetrator.citizen_unnamed")
    assert [line.params["value"] for line in facts[1].params["lines"]] == ["Piet Jansen", "12-abc-3"]


async def test_nobody_else_adds_details_and_a_withdrawn_case_takes_none(world, storage):
    anna, bert = reporter(5001), reporter(5002)
    private = await world.report(anna)  # stays with the counsellor: not the coordinator's
    out = await world.mycases.open(anna, private.reference)
    menu = await world.press(anna, out, "mine.add_details")
    for stranger in (bert, staff(COORDINATOR)):
        refused = await world.press(stranger, menu, "perpetrator.kind.name")
        assert refused.toast.key == "toast.not_yours" and not refused.replies and refused.edit_pressed is None
    # Anna starts typing a detail, then withdraws the report: what she sends is not taken.
    await world.press(anna, menu, "perpetrator.kind.name")
    await world.mycases.withdraw(anna, private.reference, confirm=True)
    out = await world.relay.text(anna, "Piet Jansen")
    assert keys(out) == ["compose.no_longer"]
    assert await storage.cases.perpetrator_details(private.id) == []


async def test_a_detail_too_long_is_refused_and_the_reporter_can_try_again(world, storage):
    anna = reporter()
    case = await world.report(anna)
    out = await world.mycases.open(anna, case.reference)
    out = await world.press(anna, out, "mine.add_details")
    out = await world.press(anna, out, "perpetrator.kind.description")
    out = await world.relay.text(anna, "lang " * 60)
    assert last(out).key == "compose.too_long"
    out = await world.relay.text(anna, "Lange man, rode jas")
    assert keys(out) == ["details.saved"]
    (detail,) = await storage.cases.perpetrator_details(case.id)
    assert detail.index is None  # a description is kept, never matched
