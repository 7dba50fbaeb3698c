"""What the incident did to the reporter, asked kindly once at the first check-in and kept as
coarse codes for the register and statistics: never in the intake, never at a later check-in."""

from __future__ import annotations

from flows.lifecycle import TimerKind
from flows.model import Consequence
from flows.outcome import Consequences
from messages import Label
from tests.support import World, reporter


def ticks(reply) -> dict[str, str]:
    """Each consequence's button label (ticked or not) on the question."""
    return {c.params["consequence"].key: c.label for row in reply.keyboard for c in row if "consequence" in c.params}


async def first_check_in(world: World, clock, anna, answer: str = "bothers"):
    case = await world.report(anna)
    clock.advance(hours=72, minutes=1)
    assert await world.run_due((TimerKind.CHECK_IN,)) == 1
    return case, await world.aftercare.answer(anna, case.reference, 0, answer)


async def test_the_first_check_in_asks_what_it_did_and_whether_it_influenced_a_decision(world, storage, clock):
    anna = reporter()
    case, out = await first_check_in(world, clock, anna)
    question = out.replies[-1]
    assert question.key == "consequences.ask"
    assert set(ticks(question).values()) == {"consequence.unticked"}
    out = await world.press(anna, out, "consequence.unticked")  # the first: stress
    question = out.edit_pressed
    assert ticks(question)["consequence.stress"] == "consequence.ticked"
    avoiding = next(
        c.action
        for row in question.keyboard
        for c in row
        if c.params.get("consequence") == Label("consequence.avoiding")
    )
    out = await world.aftercare.consequences(anna, avoiding)
    assert (await world.case(case.reference)).consequences is None  # nothing kept until "done"
    out = await world.press(anna, out, "consequences.done")
    assert out.edit_pressed.key == "influence.ask"
    assert (await world.case(case.reference)).consequences == {Consequence.STRESS, Consequence.AVOIDING}
    out = await world.press(anna, out, "influence.yes")
    assert out.edit_pressed.key == "influence.thanks"
    told = await world.case(case.reference)
    assert told.influenced_decision is True
    trail = [(e.action, e.detail) for e in await storage.audit.entries() if e.action.startswith("told_")]
    assert trail == [("told_consequences", "avoiding,stress"), ("told_influence", "yes")]


async def test_none_of_these_and_rather_not_say_are_kept_as_such(world, storage, clock):
    anna = reporter()
    case, out = await first_check_in(world, clock, anna, "fine")
    out = await world.press(anna, out, "consequences.none")
    out = await world.press(anna, out, "influence.rather_not")
    told = await world.case(case.reference)
    assert told.consequences == frozenset() and told.influenced_decision is None


async def test_it_is_asked_once_not_after_stop_and_not_at_later_check_ins(world, storage, clock):
    anna = reporter()
    case, out = await first_check_in(world, clock, anna, "stop")
    assert [r.key for r in out.replies] == []  # who wants to stop is left in peace
    bert = reporter(5002)
    case, out = await first_check_in(world, clock, bert, "fine")
    out = await world.press(bert, out, "consequences.none")
    await world.press(bert, out, "influence.no")
    clock.advance(days=14)
    await world.run_due((TimerKind.CHECK_IN,))
    later = await world.aftercare.answer(bert, case.reference, 1, "fine")
    assert later.replies == []


async def test_only_the_reporter_answers_and_a_forged_tick_changes_nothing(world, storage, clock):
    anna, bert = reporter(5001), reporter(5002)
    case, _ = await first_check_in(world, clock, anna)
    for who, action in (
        (bert, Consequences(case.reference, 1, done=True)),
        (anna, Consequences(case.reference, 99, True)),
    ):
        refused = await world.aftercare.consequences(who, action)
        assert refused.toast.key == "toast.not_yours" and refused.edit_pressed is None
    assert (await world.case(case.reference)).consequences is None
