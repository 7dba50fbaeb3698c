"""The register makes the organisation act: a reaction towards the perpetrator that cannot be
skipped, camera footage secured in time, the police and damages tracks, and management told
when nobody reacts (issue 9 §2, issue 10 §4).

First the rules as pure transitions (flows/lifecycle.py), then the same stories through the
flows and storage as the bot wires them (tests.support.World)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bot.handlers import COORDINATOR_COMMANDS, MANAGEMENT_COMMANDS, staff_commands
from flows import lifecycle
from flows.lifecycle import (
    REACTION_TIMERS,
    ActionKind,
    ActionOutcome,
    Actor,
    AftercareState,
    Case,
    CaseStatus,
    Change,
    ClaimStatus,
    ConsentAnswer,
    CostKind,
    CounsellorState,
    Drop,
    FootageState,
    NewAction,
    NewCostItem,
    NewMessage,
    NewPoliceStep,
    Notice,
    Party,
    PoliceStep,
    ReactionState,
    RegisterRules,
    RegisterState,
    Send,
    Thread,
    TimerKind,
    delivery_verdict,
    register_for,
)
from flows.model import Audience, Channel, Form, Role, Wish
from flows.tracks import euro, parse_amount
from messages import Label
from tests.support import (
    COORDINATOR,
    DAMAGES_HELPER,
    MANAGER,
    STAFF_COUNSELLOR,
    World,
    index,
    keys,
    last,
    outbox,
    reporter,
    staff,
    to,
)

T0 = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
RULES = RegisterRules()
VERA, KOEN, BOSS, HELPER, ANNA = b"v" * 32, b"k" * 32, b"m" * 32, b"h" * 32, b"a" * 32
COBY = Actor("coordinator", "Coby", KOEN)


def a_case(wish: Wish = Wish.COUNSELLOR_AND_REGISTER, channel: Channel = Channel.IN_PERSON, **fields: object) -> Case:
    case = Case(
        id="case",
        reference="MB-2345-6789",
        person_id="person",
        status=CaseStatus.NEW,
        forms=frozenset({Form.THREAT}),
        incident_date=date(2026, 11, 18),
        channel=channel,
        role=Role.EMPLOYEE,
        audience=Audience.STAFF,
        wish=wish,
        share_name_counsellor=True,
        share_name_coordinator=False,
        description="Hij dreigde me op te wachten.",
        attachment_count=0,
        submitted_at=T0,
        register=register_for(wish, False),
        aftercare=AftercareState.ACTIVE,
        escalation=0,
        department=None,
        counsellors={VERA: CounsellorState.ASSIGNED} if wish.reaches_counsellor else {},
        reporter=ANNA,
    )
    return replace(case, **fields) if fields else case


def running(case: Case) -> Case:
    """The case as it is once in the register: the clock runs, the footage task is open."""
    return replace(
        case,
        reaction=ReactionState.DUE,
        reaction_since=T0,
        reaction_due_at=T0 + RULES.reaction_within,
        footage=FootageState.DUE if case.channel is Channel.IN_PERSON else FootageState.NONE,
        footage_due_at=T0 + RULES.secure_footage_within,
    )


def changed(decision: lifecycle.Decision) -> Change:
    assert isinstance(decision, Change), decision
    return decision


def timer_kinds(change: Change) -> set[TimerKind]:
    return {t.kind for t in change.timers}


# -- the reaction clock as rules --------------------------------------------------------------


def test_a_case_that_enters_the_register_later_starts_the_clock_and_the_footage_task():
    case = a_case(Wish.COUNSELLOR)  # with the counsellor only: nothing is due from the organisation
    assert case.reaction is ReactionState.NONE
    given = changed(lifecycle.consent(case, ConsentAnswer.ANONYMOUS, [KOEN], RULES, T0))
    assert given.after.reaction is ReactionState.DUE and given.after.reaction_due_at == T0 + timedelta(hours=48)
    assert timer_kinds(given) == {TimerKind.REACTION_DUE, TimerKind.REACTION_ESCALATE, TimerKind.FOOTAGE_DUE}
    due = {t.kind: t.due for t in given.timers}
    assert due[TimerKind.REACTION_ESCALATE] == T0 + timedelta(hours=72)
    assert due[TimerKind.FOOTAGE_DUE] == T0 + timedelta(days=3)
    assert [(d.recipient_index, d.kind) for d in given.deliveries if d.kind is Notice.FOOTAGE_TASK] == [
        (KOEN, Notice.FOOTAGE_TASK)
    ]


def test_an_incident_not_in_person_has_no_footage_task():
    given = changed(lifecycle.consent(a_case(Wish.COUNSELLOR, Channel.EMAIL), ConsentAnswer.NAMED, [KOEN], RULES, T0))
    assert given.after.footage is FootageState.NONE and TimerKind.FOOTAGE_DUE not in timer_kinds(given)


def test_only_a_recorded_reaction_stops_the_clock_not_a_message():
    case = running(a_case())
    hello = NewMessage("m1", Thread.COORDINATOR, Party.COORDINATOR, KOEN, "We bellen je morgen.")
    talked = changed(lifecycle.message(case, COBY, hello, None, [(ANNA, Party.REPORTER)], "message", T0))
    assert talked.after.reaction is ReactionState.DUE and not talked.cancel
    acted = NewAction("a1", ActionKind.WARNING_LETTER, ActionOutcome.IN_PROGRESS, KOEN)
    reacted = changed(lifecycle.record_action(talked.after, COBY, acted, T0 + timedelta(hours=3), timedelta(0)))
    assert reacted.after.reaction is ReactionState.DONE
    assert reacted.after.reaction_at == T0 + timedelta(hours=3)
    assert reacted.cancel == REACTION_TIMERS


def test_no_reaction_needs_its_reason_and_then_stops_the_clock_like_a_reaction():
    case = running(a_case())
    for reason in (None, "", "   "):
        bare = NewAction("a1", ActionKind.NOTHING, ActionOutcome.COMPLETED, KOEN, reason)
        assert lifecycle.record_action(case, COBY, bare, T0, timedelta(0)) == lifecycle.Refused("reason_required")
    because = NewAction("a1", ActionKind.NOTHING, ActionOutcome.COMPLETED, KOEN, "Dader is onbekend.")
    decided = changed(lifecycle.record_action(case, COBY, because, T0, timedelta(0)))
    assert decided.after.reaction is ReactionState.DONE and decided.cancel == REACTION_TIMERS
    assert [d.kind for d in decided.deliveries] == [Notice.ACTION_FEEDBACK]


def test_withdrawal_and_leaving_the_register_stop_the_clock():
    case = running(a_case())
    withdrawn = changed(lifecycle.withdraw(case, [KOEN], T0))
    assert withdrawn.after.reaction is ReactionState.STOPPED and withdrawn.after.footage is FootageState.NONE
    assert REACTION_TIMERS <= withdrawn.cancel
    left = changed(lifecycle.consent(case, ConsentAnswer.WITHDRAW, [KOEN], RULES, T0))
    assert left.after.reaction is ReactionState.STOPPED
    assert left.cancel == {*REACTION_TIMERS, TimerKind.FOOTAGE_DUE}
    # Back in the register, the clock starts again; a reaction recorded before keeps it stopped.
    back = changed(lifecycle.consent(left.after, ConsentAnswer.NAMED, [KOEN], RULES, T0 + timedelta(days=1)))
    assert back.after.reaction is ReactionState.DUE and back.after.reaction_since == T0 + timedelta(days=1)
    done = replace(left.after, reaction=ReactionState.DONE, reaction_at=T0)
    again = changed(lifecycle.consent(done, ConsentAnswer.NAMED, [KOEN], RULES, T0))
    assert again.after.reaction is ReactionState.DONE and TimerKind.REACTION_DUE not in timer_kinds(again)


def test_the_coordinators_are_reminded_then_management_hears_without_content():
    case = running(a_case(excluded=frozenset({BOSS})))
    reminded = changed(lifecycle.remind_of_reaction(case, [KOEN], "item1"))
    assert [(d.recipient_index, d.recipient_role, d.kind) for d in reminded.deliveries] == [
        (KOEN, Party.COORDINATOR, Notice.REACTION_REMINDER)
    ]
    assert reminded.after.reaction is ReactionState.OVERDUE
    assert isinstance(lifecycle.remind_of_reaction(reminded.after, [KOEN], "item1"), lifecycle.Refused)
    # A manager the reporter kept out hears nothing; the other does.
    escalated = changed(lifecycle.escalate_reaction(reminded.after, [BOSS, b"n" * 32], "item2"))
    assert [(d.recipient_role, d.kind) for d in escalated.deliveries] == [(Party.MANAGEMENT, Notice.REACTION_ESCALATED)]
    assert escalated.deliveries[0].recipient_index == b"n" * 32
    assert escalated.after.reaction is ReactionState.ESCALATED
    reacted = replace(case, reaction=ReactionState.DONE)
    assert isinstance(lifecycle.escalate_reaction(reacted, [BOSS], "item3"), lifecycle.Refused)
    assert isinstance(lifecycle.remind_of_reaction(reacted, [KOEN], "item3"), lifecycle.Refused)


def test_management_may_receive_only_an_overdue_reaction_and_only_while_it_is_overdue():
    case = running(a_case())
    for kind in Notice:
        verdict = delivery_verdict(case, kind, BOSS, Party.MANAGEMENT, told_before=True)
        assert isinstance(verdict, Send) == (kind is Notice.REACTION_ESCALATED), kind
    reacted = replace(case, reaction=ReactionState.DONE)
    assert delivery_verdict(reacted, Notice.REACTION_ESCALATED, BOSS, Party.MANAGEMENT, told_before=False) == Drop(
        "reacted"
    )
    assert delivery_verdict(reacted, Notice.REACTION_REMINDER, KOEN, Party.COORDINATOR, told_before=True) == Drop(
        "reacted"
    )
    out = replace(case, register=RegisterState.WITHDRAWN)
    assert isinstance(delivery_verdict(out, Notice.REACTION_ESCALATED, BOSS, Party.MANAGEMENT, told_before=False), Drop)


# -- footage, police, damages as rules -------------------------------------------------------------


def test_the_footage_task_ends_when_it_is_recorded():
    case = running(a_case())
    secured = changed(lifecycle.record_footage(case, COBY, FootageState.SECURED, T0 + timedelta(days=1)))
    assert secured.after.footage is FootageState.SECURED and secured.cancel == {TimerKind.FOOTAGE_DUE}
    assert isinstance(lifecycle.remind_of_footage(secured.after, [KOEN], "i"), lifecycle.Refused)
    assert isinstance(lifecycle.record_footage(secured.after, COBY, FootageState.NO_CAMERA, T0), lifecycle.Refused)
    reminded = changed(lifecycle.remind_of_footage(case, [KOEN], "i"))
    assert [d.kind for d in reminded.deliveries] == [Notice.FOOTAGE_REMINDER]
    assert delivery_verdict(secured.after, Notice.FOOTAGE_REMINDER, KOEN, Party.COORDINATOR, told_before=True) == Drop(
        "footage_recorded"
    )


def test_the_police_track_starts_with_the_report_and_each_step_reaches_the_other_side():
    case = running(a_case())
    summons = NewPoliceStep("p0", PoliceStep.SUMMONS, date(2026, 12, 1), None, Party.COORDINATOR)
    assert lifecycle.record_police_step(case, COBY, summons, [KOEN]) == lifecycle.Refused("police_report_first")
    report = NewPoliceStep("p1", PoliceStep.REPORTED, date(2026, 11, 19), "PL0900-123", Party.COORDINATOR)
    reported = changed(lifecycle.record_police_step(case, COBY, report, [KOEN]))
    assert reported.after.police_reported_on == date(2026, 11, 19)
    assert [(d.recipient_index, d.kind, d.ref) for d in reported.deliveries] == [(ANNA, Notice.POLICE_FEEDBACK, "p1")]
    assert reported.audit.detail == "reported"  # the number is not in the audit trail
    assert lifecycle.record_police_step(reported.after, COBY, report, [KOEN]) == lifecycle.Refused("already_noted")
    by_victim = NewPoliceStep("p2", PoliceStep.DISMISSAL, date(2027, 2, 1), None, Party.REPORTER)
    told = changed(lifecycle.record_police_step(reported.after, lifecycle.REPORTER_ACTOR, by_victim, [KOEN]))
    assert {(d.recipient_index, d.kind) for d in told.deliveries} == {
        (VERA, Notice.POLICE_NEWS),
        (KOEN, Notice.POLICE_NEWS),
    }


def test_damages_reach_the_victim_and_the_helper_with_amounts_only():
    case = running(a_case())
    item = NewCostItem("c1", CostKind.MEDICAL, 12_550)
    added = changed(lifecycle.add_cost_item(case, COBY, item, HELPER))
    assert {(d.recipient_role, d.kind) for d in added.deliveries} == {
        (Party.REPORTER, Notice.DAMAGES_FEEDBACK),
        (Party.DAMAGES_HELPER, Notice.DAMAGES_ALERT),
    }
    claimed = changed(lifecycle.update_damages(case, COBY, "x1", HELPER, claim=ClaimStatus.CLAIMED))
    assert claimed.after.damages_claim is ClaimStatus.CLAIMED and claimed.audit.detail == "claim=claimed"
    assert lifecycle.update_damages(claimed.after, COBY, "x2", None, claim=ClaimStatus.CLAIMED) == lifecycle.Refused(
        "already_noted"
    )
    assert isinstance(
        lifecycle.add_cost_item(case, COBY, NewCostItem("c2", CostKind.OTHER, 0), None), lifecycle.Refused
    )
    outside = a_case(Wish.COUNSELLOR)  # damages are the register's: not on a counsellor-only case
    assert isinstance(lifecycle.add_cost_item(outside, COBY, item, HELPER), lifecycle.Refused)
    assert delivery_verdict(case, Notice.DAMAGES_ALERT, HELPER, Party.DAMAGES_HELPER, told_before=False) == Send()
    assert isinstance(delivery_verdict(case, Notice.CASE_REPORT, HELPER, Party.DAMAGES_HELPER, told_before=True), Drop)


def test_amounts_are_read_the_dutch_and_the_english_way():
    assert parse_amount("125,50") == parse_amount("125.50") == parse_amount("€ 125,50") == 12_550
    assert parse_amount("1.250") == parse_amount("1250 euro") == 125_000
    assert parse_amount("1.250,5") == 125_050
    for unreadable in ("", "abc", "12,345", "-5", "1,2,3"):
        assert parse_amount(unreadable) is None, unreadable
    assert euro(125_050) == "€ 1.250,50" and euro(5) == "€ 0,05"


def test_every_reaction_is_offered_and_what_fits_comes_first():
    for category in Form:
        first, rest = lifecycle.reaction_menu((category,))
        assert set(first) | set(rest) == set(ActionKind) - {ActionKind.NOTHING}
        assert not set(first) & set(rest)
    assert lifecycle.reaction_menu((Form.BRIBERY,))[0][0] is ActionKind.POLICE_REPORT_EMPLOYER
    # Forms combined: the best fit of each first, nothing twice.
    first, _ = lifecycle.reaction_menu((Form.VERBAL_AGGRESSION, Form.VIOLENCE))
    assert first[:2] == (ActionKind.CONVERSATION, ActionKind.POLICE_REPORT_EMPLOYER)
    assert len(first) == len(set(first)) == 5


# -- the same stories through the flows and storage ---------------------------------------------------


async def test_an_anonymous_registration_is_reminded_then_escalated_to_management(world: World, storage, clock):
    case = await world.report(reporter(5001), wish="anonymous_register")
    assert case.reaction is ReactionState.DUE and case.reaction_due_at == clock.now() + timedelta(hours=48)
    kinds = (TimerKind.REACTION_DUE, TimerKind.REACTION_ESCALATE, TimerKind.FOOTAGE_DUE)
    clock.advance(hours=47)
    assert await world.run_due(kinds) == 0
    clock.advance(hours=1)
    assert await world.run_due(kinds) == 1
    rows = await outbox(storage, Notice.REACTION_REMINDER, Notice.REACTION_ESCALATED)
    assert to(storage, COORDINATOR, rows) == [Notice.REACTION_REMINDER] and to(storage, MANAGER, rows) == []
    # A message to the reporter is not a reaction.
    await world.casework.start_message(staff(COORDINATOR), case.reference)
    await world.relay.text(staff(COORDINATOR), "We kijken ernaar.")
    clock.advance(hours=24)
    assert await world.run_due(kinds) >= 1
    rows = await outbox(storage, Notice.REACTION_ESCALATED)
    assert to(storage, MANAGER, rows) == [Notice.REACTION_ESCALATED]
    assert (await world.case(case.reference)).reaction is ReactionState.ESCALATED
    # What management receives: reference, group, form and age; no content, no button into the case.
    (item,) = [
        i
        for i in await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=1), limit=50)
        if i.kind is Notice.REACTION_ESCALATED
    ]
    assert isinstance(await world.notices.authorise(item), Send)
    reply = await world.notices.compose(item, "nl")
    assert reply.key == "management.reaction_escalated" and reply.keyboard == ()
    assert set(reply.params) == {"reference", "audience", "category", "hours"} and reply.params["hours"] == 72


async def test_a_coordinator_records_no_reaction_with_a_reason_and_the_clock_stops(world: World, storage, clock):
    case = await world.report(reporter(5001), wish="counsellor_and_register")
    coby = staff(COORDINATOR)
    menu = await world.casework.record_action(coby, case.reference)
    asked = await world.press(coby, menu, "action.nothing")
    assert asked.edit_pressed is not None and asked.edit_pressed.key == "action.ask_reason"
    assert await storage.casefile.actions(case.id) == []  # nothing recorded without the reason
    assert (await world.case(case.reference)).reaction is ReactionState.DUE
    done = await world.relay.text(coby, "De dader is onbekend en niet te vinden.")
    assert keys(done) == ["action.no_reaction_recorded"]
    (action,) = await storage.casefile.actions(case.id)
    assert (action.kind, action.note) == (ActionKind.NOTHING, "De dader is onbekend en niet te vinden.")
    after = await world.case(case.reference)
    assert after.reaction is ReactionState.DONE and after.reaction_at == clock.now()
    assert await storage.schedule.of_case(case.id, sorted(REACTION_TIMERS)) == []
    assert to(storage, reporter(5001), await outbox(storage, Notice.ACTION_FEEDBACK)) == [Notice.ACTION_FEEDBACK]
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT note FROM case_actions") as cursor:
            (sealed,) = [row[0] for row in await cursor.fetchall()]
    assert b"onbekend" not in sealed  # the reason is sealed like all content
    clock.advance(days=5)
    assert await world.run_due((TimerKind.REACTION_DUE, TimerKind.REACTION_ESCALATE)) == 0


async def test_a_police_report_by_the_employer_names_the_employers_address(storage, clock):
    from flows.privacy import Organisation

    world = World(
        storage, clock, organisation=Organisation("Gemeente Voorbeeld", "Markt 1, 1234 AB Voorbeeld", "14 020")
    )
    case = await world.report(reporter(5001), wish="anonymous_register")
    asked = await world.casework.record_action(staff(COORDINATOR), case.reference, "police_report_employer")
    assert asked.edit_pressed is not None and asked.edit_pressed.key == "action.ask_outcome_employer"
    assert asked.edit_pressed.params["address"] == "Markt 1, 1234 AB Voorbeeld"


async def test_the_footage_task_is_given_reminded_and_recorded(world: World, storage, clock):
    case = await world.report(reporter(5001), wish="anonymous_register")  # in person, as file_report answers
    assert case.footage is FootageState.DUE
    assert to(storage, COORDINATOR, await outbox(storage, Notice.FOOTAGE_TASK)) == [Notice.FOOTAGE_TASK]
    clock.advance(days=3)
    assert await world.run_due((TimerKind.FOOTAGE_DUE,)) == 1
    assert to(storage, COORDINATOR, await outbox(storage, Notice.FOOTAGE_REMINDER)) == [Notice.FOOTAGE_REMINDER]
    coby = staff(COORDINATOR)
    task = await world.tracks.footage(coby, case.reference)
    done = await world.press(coby, task, "footage.secured")
    assert done.edit_pressed is not None and done.edit_pressed.key == "footage.recorded_secured"
    after = await world.case(case.reference)
    assert after.footage is FootageState.SECURED and after.footage_at == clock.now()
    assert (await world.tracks.footage(coby, case.reference)).toast.key == "toast.already_noted"
    # Nobody but a coordinator of a case in the register may record it.
    assert (await world.tracks.footage(staff(STAFF_COUNSELLOR), case.reference)).toast.key == "toast.not_yours"


async def test_police_steps_typed_by_the_coordinator_reach_the_reporter(world: World, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna, wish="counsellor_and_register")
    coby = staff(COORDINATOR)
    track = await world.tracks.police(coby, case.reference)
    assert [c.label for row in last(track).keyboard for c in row] == ["police.record_reported"]
    asked = await world.press(coby, track, "police.record_reported")
    assert asked.edit_pressed is not None and asked.edit_pressed.key == "police.ask_report"
    unreadable = await world.relay.text(coby, "gisteren")
    assert keys(unreadable) == ["police.unreadable_report"]  # still asked: nothing recorded
    recorded = await world.relay.text(coby, "PL0900-2026123456 17-11-2026")
    assert keys(recorded) == ["police.recorded"]
    assert (await world.case(case.reference)).police_reported_on == date(2026, 11, 17)
    track = await world.tracks.police(coby, case.reference)
    await world.press(coby, track, "police.record_summons")
    await world.relay.text(coby, "vandaag")
    steps = await storage.casefile.police_steps(case.id)
    assert [(s.step, s.number) for s in steps] == [
        (PoliceStep.REPORTED, "PL0900-2026123456"),
        (PoliceStep.SUMMONS, ""),
    ]
    assert to(storage, anna, await outbox(storage, Notice.POLICE_FEEDBACK)) == [Notice.POLICE_FEEDBACK] * 2
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT number FROM case_police_steps WHERE step = 'reported'") as cursor:
            (sealed,) = [row[0] for row in await cursor.fetchall()]
    assert b"2026123456" not in sealed  # the police report number is sealed


async def test_the_reporter_keeps_track_of_the_police_report_from_mycases(world: World, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna, wish="counsellor_and_register")
    mine = await world.mycases.open(anna, case.reference)
    track = await world.press(anna, mine, "mine.police")
    await world.press(anna, track, "police.record_reported")
    await world.relay.text(anna, "2026-555 gisteren")
    rows = await outbox(storage, Notice.POLICE_NEWS)
    assert to(storage, STAFF_COUNSELLOR, rows) == [Notice.POLICE_NEWS]
    assert to(storage, COORDINATOR, rows) == [Notice.POLICE_NEWS]
    (step,) = await storage.casefile.police_steps(case.id)
    assert step.recorded_by is Party.REPORTER and step.on == date(2026, 11, 17)
    shown = last(await world.mycases.open(anna, case.reference)).params["actions"]
    assert Label("track.police", {"date": date(2026, 11, 17)}) in shown


async def test_damages_are_recorded_and_reach_the_reporter_and_the_helper(world: World, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna, wish="counsellor_and_register")
    coby = staff(COORDINATOR)
    view = await world.tracks.damages(coby, case.reference)
    asked = await world.press(coby, view, "damages.add_property")
    assert keys(asked) == ["damages.ask_amount"]
    assert keys(await world.relay.text(coby, "veel")) == ["damages.unreadable_amount"]
    shown = await world.relay.text(coby, "1.250,50")
    assert last(shown).params["total"] == "€ 1.250,50"
    claimed = await world.press(coby, shown, "damages.claim_claimed")
    await world.press(coby, claimed, "damages.insurance_todo")
    await world.press(coby, claimed, "damages.recovered")
    await world.relay.text(coby, "250")
    after = await world.case(case.reference)
    assert (after.damages_claim, after.damages_insurance_checked, after.damages_recovered_cents) == (
        ClaimStatus.CLAIMED,
        True,
        25_000,
    )
    (item,) = await storage.casefile.cost_items(case.id)
    assert (item.kind, item.amount_cents) == (CostKind.PROPERTY, 125_050)
    rows = await outbox(storage, Notice.DAMAGES_FEEDBACK, Notice.DAMAGES_ALERT)
    assert to(storage, anna, rows) == [Notice.DAMAGES_FEEDBACK] * 4
    assert to(storage, DAMAGES_HELPER, rows) == [Notice.DAMAGES_ALERT] * 4
    alert = [
        i
        for i in await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=1), limit=100)
        if i.kind is Notice.DAMAGES_ALERT
    ][-1]
    reply = await world.notices.compose(alert, "en")
    assert set(reply.params) == {"reference", "total", "recovered", "claim"} and reply.keyboard == ()
    # The damages are the register's: a counsellor does not keep them.
    assert (await world.tracks.damages(staff(STAFF_COUNSELLOR), case.reference)).toast.key == "toast.not_yours"
    assert index(storage, DAMAGES_HELPER) not in (await world.case(case.reference)).counsellors


def test_each_role_gets_the_menu_of_its_most_involved_role():
    assert staff_commands([MANAGER], invite_mode=True) == MANAGEMENT_COMMANDS
    assert not {"case", "register", "inbox", "invite"} & set(MANAGEMENT_COMMANDS)
    # A mayor who also coordinates gets the coordinator's menu (without /invite when the bot is open).
    both = staff_commands([MANAGER, COORDINATOR], invite_mode=False)
    assert both is not None and "register" in both and "invite" not in both
    assert staff_commands([COORDINATOR], invite_mode=True) == COORDINATOR_COMMANDS
    assert staff_commands([DAMAGES_HELPER], invite_mode=True) is None  # the reporters' menu
