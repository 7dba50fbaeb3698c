"""Reports about the same person: which cases are linked, who sees the link, and the joint timeline.

Two cases are linked when both are in the register with their reporters' consent to be combined,
neither is withdrawn, and they name the perpetrator with an equal detail (same kind, same keyed
index of the canonical form).
"""

from __future__ import annotations

import uuid

import pytest

import messages
from bot import dispatch, render
from flows import lifecycle
from flows.lifecycle import REPORTER_ACTOR, Case, Drop, NewPerpetratorDetail, Notice, Party, RegisterState, Send
from flows.model import Language
from flows.outcome import JointTimeline, Outcome, RegisterView, Reply
from flows.perpetrator import IdentifierKind
from flows.queries import CoordinatorRegister, CounsellorInbox
from storage.outbox import OutboxItem
from tests.support import (
    COORDINATOR,
    HOLDERS_COUNSELLOR,
    STAFF_COUNSELLOR,
    World,
    button,
    index,
    keys,
    labels,
    last,
    outbox,
    reporter,
    screens,
    staff,
    to,
)

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


# -- not alone ------------------------------------------------------------------------------------


def question_for(case: Case, world: World) -> OutboxItem:
    """The "not alone" question to the reporter of ``case``, as the courier would take it from the outbox."""
    assert case.reporter is not None
    return OutboxItem("q", case.id, case.reporter, Party.REPORTER, Notice.NOT_ALONE, None, 0, 1, world.clock.now())


async def test_a_report_that_stays_with_the_counsellor_asks_its_reporter_once_and_tells_staff_nothing(world, storage):
    first = await naming(world, 5001, (PHONE, "0612345678"))
    second = await naming(world, 5002, (PHONE, "+31 6 1234 5678"))
    carol = reporter(5003, "Carol Jansen", "carolj")
    private = await world.report(carol, wish="counsellor", text="Hij stond weer bij mijn auto.")
    # Carol names him later from her cases; she has not let her report be combined: nothing happens.
    out = await world.mycases.open(carol, private.reference)
    out = await world.press(carol, out, "mine.add_details")
    out = await world.press(carol, out, "perpetrator.kind.phone")
    await world.relay.text(carol, "06-12345678")
    assert await outbox(storage, Notice.NOT_ALONE) == []
    before = await outbox(storage)
    # She lets it be combined: she alone is asked, and nothing is queued for anyone else.
    out = await world.mycases.open(carol, private.reference)
    out = await world.press(carol, out, "toggle.link_off")
    assert "toggle.link_on" in labels(out)
    added = [row for row in await outbox(storage) if row not in before]
    assert [row[2] for row in added] == ["not_alone"] and to(storage, carol, added) == ["not_alone"]
    # Never twice: switching off and on again, another detail, another registered report.
    out = await world.press(carol, out, "toggle.link_on")
    out = await world.press(carol, out, "toggle.link_off")
    await naming(world, 5004, (PHONE, "0612345678"))
    out = await world.press(carol, await world.mycases.open(carol, private.reference), "mine.add_details")
    await world.press(carol, out, "perpetrator.kind.name")
    await world.relay.text(carol, "Piet de Groot")
    assert len(await outbox(storage, Notice.NOT_ALONE)) == 1
    assert (await world.case(private.reference)).not_alone_asked_at is not None
    # The question says how many, never which reports or whose.
    item = question_for(await world.case(private.reference), world)
    assert await world.notices.authorise(item) == Send()
    question = await world.notices.compose(item, "nl")
    assert isinstance(question, Reply) and question.key == "not_alone.ask_many" and question.params["n"] == 3
    shown = render.text("nl", question)
    assert private.reference in shown
    assert first.reference not in shown and second.reference not in shown
    # Staff see no trace of it: the counsellor's view and inbox show no link, the coordinator cannot open it.
    carla = staff(STAFF_COUNSELLOR)
    assert last(await world.casework.open(carla, private.reference)).params["linked"] == ""
    inbox = last(await world.casework.inbox(carla))
    lines = {line.params["reference"]: line.params["linked"] for line in inbox.params["lines"]}
    assert lines[private.reference] == "" and lines[first.reference].params == {"n": 2}  # hers link among themselves
    assert (await world.casework.open(staff(COORDINATOR), private.reference)).toast.key == "toast.not_yours"
    # Carol says yes, without her name: her report is in the register and linked to the others.
    out = await world.press(carol, Outcome(Language.NL, replies=[question]), "not_alone.anonymous")
    assert out.edit_pressed.key == "not_alone.joined_anonymous"
    joined = await world.case(private.reference)
    assert joined.register is RegisterState.ANONYMOUS and lifecycle.linkable(joined)
    view = await world.casework.open(staff(COORDINATOR), first.reference)
    assert last(view).params["linked"].params == {"n": 3}


async def test_declining_changes_nothing_and_nobody_hears_of_it(world, storage):
    await naming(world, 5001, (PHONE, "0612345678"))
    private = await naming(world, 5003, (PHONE, "0612345678"), wish="counsellor", consent=False)
    carol = reporter(5003)
    await world.press(carol, await world.mycases.open(carol, private.reference), "toggle.link_off")
    question = await world.notices.compose(question_for(private, world), "en")
    assert isinstance(question, Reply) and question.key == "not_alone.ask_one"
    before = await outbox(storage)
    trail = len(await storage.audit.entries())
    out = await world.press(carol, Outcome(Language.NL, replies=[question]), "not_alone.no")
    assert out.edit_pressed.key == "not_alone.declined"
    after = await world.case(private.reference)
    assert after.register is RegisterState.NONE and not lifecycle.linkable(after)
    assert await outbox(storage) == before and len(await storage.audit.entries()) == trail


async def test_a_case_entering_the_register_asks_the_reporter_of_a_matching_private_report(world, storage):
    private = await naming(world, 5003, (PLATE, "12-ABC-3"), wish="counsellor")
    anna = reporter(5001)
    joining = await naming(world, 5001, (PLATE, "12abc3"), wish="counsellor")
    assert await outbox(storage, Notice.NOT_ALONE) == []  # neither is in the register: nothing to join
    out = await world.mycases.open(anna, joining.reference)
    await world.press(anna, out, "consent.anonymous")
    asked = await outbox(storage, Notice.NOT_ALONE)
    assert to(storage, reporter(5003), asked) == ["not_alone"] and len(asked) == 1
    question = await world.notices.compose(question_for(private, world), "nl")
    assert isinstance(question, Reply) and question.key == "not_alone.ask_one"


async def test_the_question_is_checked_again_when_it_is_sent(world):
    registered = await naming(world, 5001, (PHONE, "0612345678"))
    private = await naming(world, 5003, (PHONE, "0612345678"), wish="counsellor")
    now = world.clock.now()
    await world.storage.cases.change(private.id, lambda c: lifecycle.ask_not_alone(c, now), now)
    item = question_for(private, world)
    assert await world.notices.authorise(item) == Send()
    # The only matching report leaves: the question no longer goes.
    await world.storage.cases.change(registered.id, lambda c: lifecycle.withdraw(c, [], now), now)
    assert await world.notices.authorise(item) == Drop("no_match")
    # And a reporter who switched combining off is not asked either.
    await naming(world, 5002, (PHONE, "0612345678"))
    await world.storage.cases.change(private.id, lambda c: lifecycle.set_link_consent(c, False), now)
    assert await world.notices.authorise(item) == Drop("not_alone_over")


# -- unlinking and forgetting ---------------------------------------------------------------------


async def test_unlinking_in_mycases_takes_the_report_out_of_every_link_at_once(world):
    first = await naming(world, 5001, (PHONE, "0612345678"))
    second = await naming(world, 5002, (PHONE, "0612345678"), (PLATE, "12-ABC-3"))
    third = await naming(world, 5003, (PLATE, "12abc3"))
    assert sorted(await linked_to(world, second)) == sorted([first.reference, third.reference])
    bram = reporter(5002)
    out = await world.press(bram, await world.mycases.open(bram, second.reference), "toggle.link_on")
    assert "toggle.link_off" in labels(out)
    assert await linked_to(world, first) == [] and await linked_to(world, third) == []
    assert "case.linked" not in labels(await world.casework.open(staff(COORDINATOR), first.reference))


async def test_forgetme_removes_the_persons_details_and_every_link_with_them(world, storage):
    first = await naming(world, 5001, (PHONE, "0612345678"))
    second = await naming(world, 5002, (PHONE, "0612345678"))
    bram = reporter(5002)
    out = await world.mycases.forget_question(bram)
    await world.press(bram, out, "forget.yes")
    assert await linked_to(world, first) == []
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT COUNT(*) FROM perpetrator_details WHERE case_id = ?", (second.id,)) as cur:
            assert (await cur.fetchone())[0] == 0
    coordinator = CoordinatorRegister(index(storage, COORDINATOR))
    assert await storage.cases.linked_counts([first.id], coordinator) == {}


# -- from every role --------------------------------------------------------------------------------


def seen(outcome: Outcome) -> str:
    """Everything a person is shown by an outcome: texts, buttons and the toast, in Dutch."""
    parts = [render.text("nl", reply) for reply in screens(outcome)]
    parts += [messages.render("nl", c.label, c.params) for r in screens(outcome) for row in r.keyboard for c in row]
    if outcome.toast is not None:
        parts.append(messages.render("nl", outcome.toast.key, outcome.toast.params))
    return "\n".join(parts)


async def test_nothing_about_other_reports_reaches_anyone_who_could_not_already_open_them(world):
    """Anna (employee) and Bram (council member) registered reports naming the same phone number;
    Carol's names it too but stays with her counsellor. Carla counsels Anna and Carol, Henk counsels
    Bram. Every person tries every view of every report, the joint timeline included."""
    anna, bram, carol = reporter(5001, "Anna Aalbers", "annaa"), reporter(5002, "Bram Bos"), reporter(5003, "Carol")
    stories = {
        "A": await world.report(anna, wish="counsellor_and_register", text="Verhaal-Anna over de balie."),
        "B": await world.report(
            bram, wish="counsellor_and_register", role="council_member", text="Verhaal-Bram over de raad."
        ),
        "C": await world.report(carol, wish="counsellor", text="Verhaal-Carol over de parkeerplaats."),
    }
    for who, case in zip((anna, bram, carol), stories.values(), strict=True):
        out = await world.press(who, await world.mycases.open(who, case.reference), "mine.add_details")
        await world.press(who, out, "perpetrator.kind.phone")
        await world.relay.text(who, "0612345678")
        await world.press(who, await world.mycases.open(who, case.reference), "toggle.link_off")
    carla, henk, coby = staff(STAFF_COUNSELLOR), staff(HOLDERS_COUNSELLOR), staff(COORDINATOR)
    stranger = reporter(5999, "Iemand Anders")
    may_open = {
        "A": {anna, carla, coby},
        "B": {bram, henk, coby},
        "C": {carol, carla},
    }
    private = {"A": "Anna Aalbers", "B": "Bram Bos", "C": "Carol"}
    for person in (anna, bram, carol, carla, henk, coby, stranger):
        shown: list[str] = []
        for case in stories.values():
            ref = case.reference
            shown.append(seen(await world.casework.open(person, ref)))
            shown.append(seen(await world.mycases.open(person, ref)))
            shown.append(seen(await dispatch.press(world.services, person, JointTimeline(ref), "meldbot_test_bot")))
        text = "\n".join(shown)
        for name, case in stories.items():
            if person in may_open[name]:
                continue
            assert case.reference not in text, (person.display_name, name)
            assert case.description not in text, (person.display_name, name)
            if person.display_name != private[name]:
                assert private[name] not in text, (person.display_name, name)
    # The coordinator sees the two registered reports linked; never Carol's, nor its existence.
    view = await world.casework.open(coby, stories["A"].reference)
    assert last(view).params["linked"].key == "view.linked_one"
    timeline = await world.press(coby, view, "case.linked")
    assert {e.params["reference"] for e in last(timeline).params["entries"]} == {
        stories["A"].reference,
        stories["B"].reference,
    }
    # Each counsellor handles only one of the linked reports: neither sees a link.
    assert last(await world.casework.open(carla, stories["A"].reference)).params["linked"] == ""
    assert last(await world.casework.open(henk, stories["B"].reference)).params["linked"] == ""
    # Carol alone was asked whether her report may join them.
    asked = await outbox(world.storage, Notice.NOT_ALONE)
    assert [row[0] for row in asked] == [index(world.storage, carol)]
