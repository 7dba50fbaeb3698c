"""Aftercare and outcome feedback as plain Python: the plan, the answers, the silence, the last question."""

from __future__ import annotations

from datetime import timedelta

import pytest

import messages
from flows.aftercare import KINDS as AFTERCARE_KINDS
from flows.aftercare import AftercarePlan, SupportContact, support_lines
from flows.lifecycle import AftercareState, CheckInAnswer, Notice, Party, SurveyAnswer, TimerKind
from flows.outcome import Forget
from storage.database import from_db
from storage.outbox import OutboxItem
from tests.support import AMSTERDAM, COORDINATOR, STAFF_COUNSELLOR, World, outbox, reporter, staff, to

PLAN = AftercarePlan(
    support=(
        SupportContact("psychological", "Bedrijfsmaatschappelijk werk", "030-1234567"),
        SupportContact("office_holders", "Ondersteuningsteam Weerbaar Bestuur", "via weerbaarbestuur.nl"),
    )
)


@pytest.fixture
def world(storage, clock):
    return World(storage, clock, plan=PLAN)


async def feedback_due(storage):
    async with storage.db.transaction() as conn:
        async with conn.execute(
            "SELECT next_attempt_at FROM outbox WHERE kind = ?", (Notice.ACTION_FEEDBACK.value,)
        ) as cursor:
            return from_db((await cursor.fetchone())[0])


def queued(case, row) -> OutboxItem:
    """An outbox row as the courier claims it (to see what it would become when sent)."""
    return OutboxItem("x", case.id, row[0], Party(row[1]), Notice(row[2]), row[3], 0, 1, case.submitted_at)


async def due_kinds(storage, case):
    items = await storage.schedule.of_case(case.id, AFTERCARE_KINDS)
    return [(i.kind, i.detail) for i in items]


async def test_a_report_comes_with_its_plan_at_local_times(world, storage, clock):
    case = await world.report(reporter(5001), text="Hij schold me uit aan de balie.")
    items = await storage.schedule.of_case(case.id, AFTERCARE_KINDS)
    kinds = [(i.kind, i.detail) for i in items]
    assert kinds == [
        (TimerKind.TIPS, None),
        (TimerKind.CHECK_IN, "0"),
        (TimerKind.SILENCE_OWNER, None),
        (TimerKind.CHECK_IN, "1"),
        (TimerKind.SILENCE_COORDINATORS, None),
        (TimerKind.CHECK_IN, "2"),
        (TimerKind.CHECK_IN, "3"),
    ]
    check_ins = [i for i in items if i.kind is TimerKind.CHECK_IN]
    # All at the local time of day of the report, whatever summer time does in between.
    assert {i.due_at.astimezone(AMSTERDAM).time() for i in check_ins} == {clock.now().astimezone(AMSTERDAM).time()}
    assert check_ins[3].due_at - clock.now() >= timedelta(days=90)


async def test_check_ins_go_out_in_order_and_an_answer_of_concern_alerts_the_counsellor(
    world, storage, clock, announced
):
    anna = reporter(5001)
    case = await world.report(anna)
    clock.advance(hours=72, minutes=1)
    assert await world.run_due((TimerKind.CHECK_IN,)) == 1
    assert to(storage, anna.telegram_id, await outbox(storage, Notice.CHECK_IN)) == [Notice.CHECK_IN]
    told = len(announced.outbox)
    fine = await world.aftercare.answer(anna, case.reference, 0, "fine")
    assert fine.edit_pressed.key == "checkin.thanks_fine" and len(announced.outbox) == told  # nothing to send
    clock.advance(days=11)
    await world.run_due((TimerKind.CHECK_IN,))
    talk = await world.aftercare.answer(anna, case.reference, 1, "talk")
    assert talk.edit_pressed.key == "checkin.alerted"
    # One message in place of the question: the answer and where to turn (not the list a second time).
    assert talk.replies == [] and talk.edit_pressed.params["extra"].params["support"].key == "checkin.support_after"
    assert talk.edit_pressed.params["extra"].params["doctor"] == ""
    assert to(storage, STAFF_COUNSELLOR, await outbox(storage, Notice.CHECKIN_ALERT)) == [Notice.CHECKIN_ALERT]
    clock.advance(days=28)
    await world.run_due((TimerKind.CHECK_IN,))
    bothers = await world.aftercare.answer(anna, case.reference, 2, "bothers")
    extra = bothers.edit_pressed.params["extra"].params
    assert extra["doctor"].key == "checkin.doctor" and extra["support"].key == "checkin.support_after"  # the GP hint
    clock.advance(days=49)
    await world.run_due((TimerKind.CHECK_IN,))
    later = await world.aftercare.answer(anna, case.reference, 3, "bothers")
    # From the six-week step on, not only at it: still troubled at three months, still the hint.
    assert later.edit_pressed.params["extra"].params["doctor"].key == "checkin.doctor"
    answers = await storage.casefile.check_ins(case.id)
    assert [(a.step, a.answer) for a in answers] == [
        (0, CheckInAnswer.FINE),
        (1, CheckInAnswer.TALK),
        (2, CheckInAnswer.BOTHERS),
        (3, CheckInAnswer.BOTHERS),
    ]


async def test_answers_are_the_counsellors_alone(world, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna, wish="counsellor_and_register")
    clock.advance(hours=73)
    await world.run_due((TimerKind.CHECK_IN,))
    await world.aftercare.answer(anna, case.reference, 0, "bothers")
    counsellor_view = (await world.casework.open(staff(STAFF_COUNSELLOR), case.reference)).replies[0]
    coordinator_view = (await world.casework.open(staff(COORDINATOR), case.reference)).replies[0]
    assert counsellor_view.params["wellbeing"] and coordinator_view.params["wellbeing"] == ()
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT answer FROM checkin_answers") as cursor:
            (sealed,) = await cursor.fetchone()
    assert b"bothers" not in sealed


async def test_stop_offers_aftercare_once_more_after_two_weeks_then_leaves_them_in_peace(world, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna)
    clock.advance(hours=73)
    await world.run_due((TimerKind.CHECK_IN,))
    stopped = await world.aftercare.answer(anna, case.reference, 0, "stop")
    assert stopped.edit_pressed.key == "checkin.stopped"
    pending = [k for k, _ in await due_kinds(storage, case) if k in (TimerKind.CHECK_IN, TimerKind.REOFFER)]
    assert pending == [TimerKind.REOFFER]
    clock.advance(days=14, minutes=1)
    assert await world.run_due((TimerKind.REOFFER, TimerKind.CHECK_IN)) == 1
    assert to(storage, anna.telegram_id, await outbox(storage, Notice.REOFFER)) == [Notice.REOFFER]
    assert (await storage.cases.get(case.id)).aftercare is AftercareState.DECLINED
    clock.advance(days=120)
    await world.run_due((TimerKind.REOFFER, TimerKind.CHECK_IN))
    assert len(await outbox(storage, Notice.CHECK_IN)) == 1  # nothing more after the one re-offer


async def test_yes_to_the_re_offer_resumes_the_plan(world, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna)
    clock.advance(hours=73)
    await world.run_due((TimerKind.CHECK_IN,))
    await world.aftercare.answer(anna, case.reference, 0, "stop")
    clock.advance(days=14, minutes=1)
    await world.run_due((TimerKind.REOFFER,))
    resumed = await world.aftercare.resume(anna, case.reference, yes=True)
    assert resumed.edit_pressed.key == "checkin.resumed"
    assert [d for k, d in await due_kinds(storage, case) if k is TimerKind.CHECK_IN] == ["2", "3"]
    assert (await storage.cases.get(case.id)).aftercare is AftercareState.ACTIVE


async def test_a_pause_moves_the_coming_check_ins_two_weeks_later(world, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna)
    before = [i.due_at for i in await storage.schedule.of_case(case.id, (TimerKind.CHECK_IN,))]
    paused = await world.aftercare.pause(anna, case.reference)
    assert paused.edit_pressed.key == "checkin.paused"
    after = [i.due_at for i in await storage.schedule.of_case(case.id, (TimerKind.CHECK_IN,))]
    assert [b + timedelta(days=14) for b in before] == after


async def test_an_anonymous_reporter_who_wants_to_talk_gets_a_counsellor_who_does_not_see_the_name(
    world, storage, clock
):
    piet = reporter(5002, "Pietje Puk", "pietpuk")
    case = await world.report(piet, wish="anonymous_register")
    assert await storage.cases.counsellors_of(case.id) == {}
    clock.advance(hours=73)
    await world.run_due((TimerKind.CHECK_IN,))
    await world.aftercare.answer(piet, case.reference, 0, "talk")
    (index,) = (await storage.cases.counsellors_of(case.id)).keys()
    assert index == storage.people.index_of(STAFF_COUNSELLOR.telegram_id)
    (row,) = await outbox(storage, Notice.CHECKIN_ALERT)
    alert = await world.notices.compose(queued(case, row), "nl")
    assert alert.params["who"].key == "relay.reporter"  # "the reporter", no name
    view = (await world.casework.open(staff(STAFF_COUNSELLOR), case.reference)).replies[0]
    assert view.params["who"].key == "staff.reporter_pseudonym"


async def test_office_holders_see_the_national_support_team_and_staff_do_not(world, storage, clock):
    staff_case = await world.report(reporter(5001))
    mayor_case = await world.report(reporter(5003), role="mayor")
    staff_lines = support_lines(world.aftercare.plan, staff_case)
    mayor_lines = support_lines(world.aftercare.plan, mayor_case)
    assert [line.params["kind"].key for line in staff_lines] == ["support.psychological"]
    assert [line.params["kind"].key for line in mayor_lines] == ["support.psychological", "support.office_holders"]


async def test_practical_tips_follow_the_kind_of_incident(world, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna)  # a threat, in person
    clock.advance(minutes=16)
    await world.run_due((TimerKind.TIPS,))
    (row,) = await outbox(storage, Notice.TIPS)
    tips = await world.notices.compose(queued(case, row), "nl")
    assert [t.key for t in tips.params["tips"]] == ["tips.footage", "tips.police_report"]


async def test_an_action_reaches_the_reporter_with_the_personal_note_typed_after_it(world, storage, clock, announced):
    anna = reporter(5001, lang="en")
    case = await world.report(anna, wish="counsellor_and_register")
    coby = staff(COORDINATOR)
    await world.casework.record_action(coby, case.reference, "police_report_employer", "in_progress")
    (row,) = await outbox(storage, Notice.ACTION_FEEDBACK)
    # It waits a few minutes for the personal note...
    assert await feedback_due(storage) == clock.now() + PLAN.feedback_delay
    await world.relay.text(coby, "We did it on your behalf, with the municipality's address.")
    # ...and goes as soon as the note is there.
    assert announced.outbox[-1] == clock.now() and await feedback_due(storage) == clock.now()
    feedback = await world.notices.compose(queued(case, row), "en")
    text = messages.render("en", feedback.key, feedback.params)
    assert "Police report by the employer" in text and "ongoing" in text and "on your behalf" in text


async def test_a_silent_case_reminds_its_owner_and_later_the_coordinators(world, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna)
    await world.casework.acknowledge(staff(STAFF_COUNSELLOR), case.reference)
    clock.advance(days=5)
    # News on day 5 (a message to the reporter) moves the first reminder to day 12.
    await world.casework.start_message(staff(STAFF_COUNSELLOR), case.reference)
    await world.relay.text(staff(STAFF_COUNSELLOR), "Hoe gaat het?")
    clock.advance(days=2, hours=1)
    assert await world.run_due((TimerKind.SILENCE_OWNER,)) == 0
    assert await outbox(storage, Notice.SILENCE_REMINDER) == []
    clock.advance(days=5)
    assert await world.run_due((TimerKind.SILENCE_OWNER,)) == 1
    rows = await outbox(storage, Notice.SILENCE_REMINDER)
    assert to(storage, STAFF_COUNSELLOR, rows) == [Notice.SILENCE_REMINDER]
    clock.advance(days=7)
    await world.run_due((TimerKind.SILENCE_COORDINATORS,))
    assert to(storage, COORDINATOR, await outbox(storage, Notice.SILENCE_REMINDER)) == [Notice.SILENCE_REMINDER]


async def test_closing_a_case_asks_once_whether_it_was_enough(world, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna)
    carla = staff(STAFF_COUNSELLOR)
    await world.casework.status(carla, case.reference, "closed")
    rows = await outbox(storage, Notice.SURVEY, Notice.REPORTER_STATUS)
    assert to(storage, anna.telegram_id, rows) == [Notice.SURVEY]
    await world.casework.status(carla, case.reference, "in_progress")
    await world.casework.status(carla, case.reference, "closed")
    assert to(storage, anna.telegram_id, await outbox(storage, Notice.SURVEY)) == [Notice.SURVEY]  # asked once
    answered = await world.aftercare.survey(anna, case.reference, "no")
    assert answered.replies[0].key == "survey.comment"
    await world.relay.text(anna, "Ik heb te lang niets gehoord.")
    assert await storage.casefile.survey(case.id) == (SurveyAnswer.NO, "Ik heb te lang niets gehoord.")
    assert await storage.casefile.survey_counts() == {SurveyAnswer.NO: 1}
    assert (await world.aftercare.survey(reporter(5009), case.reference, "yes")).toast.key == "toast.not_yours"


async def test_forgetme_cancels_everything_pending(world, storage, clock):
    anna = reporter(5001)
    await world.report(anna)
    await world.mycases.forget(anna, Forget(True))
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT COUNT(*) FROM scheduled") as cursor:
            assert (await cursor.fetchone())[0] == 0
    clock.advance(days=100)
    assert await world.run_due(AFTERCARE_KINDS) == 0


async def test_a_repeated_run_of_a_check_in_queues_it_once(world, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna)
    clock.advance(hours=73)
    (item,) = [i for i in await storage.schedule.due(clock.now(), 10) if i.kind is TimerKind.CHECK_IN]
    await world.aftercare.run(item)
    await world.aftercare.run(item)  # a crash after the effect, before it was marked done
    assert len(await outbox(storage, Notice.CHECK_IN)) == 1
    assert (await storage.cases.get(case.id)).aftercare is AftercareState.ACTIVE


async def test_others_cannot_answer_pause_or_stop_someone_elses_check_ins(world, storage, clock):
    case = await world.report(reporter(5001))
    for outsider in (reporter(5009), staff(STAFF_COUNSELLOR), staff(COORDINATOR)):
        assert (await world.aftercare.answer(outsider, case.reference, 0, "stop")).toast.key == "toast.not_yours"
        assert (await world.aftercare.pause(outsider, case.reference)).toast.key == "toast.not_yours"
        assert (await world.aftercare.stop(outsider, case.reference)).toast.key == "toast.not_yours"
    assert (await storage.cases.get(case.id)).aftercare is AftercareState.ACTIVE
