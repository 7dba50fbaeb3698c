"""The case lifecycle as pure functions: the drawing matches the rules, and no sequence of
presses, timers and reporter choices breaks them.

flows/lifecycle.py is the one place for a case's statuses and transitions. Here hypothesis
plays every transition in random order on one case (as staff on it, staff not on it, the
reporter and the timers would), and after each step checks what must always hold: a status
or register change is one the model lists (and flows/casework.mmd draws), nobody barred
from the case ever handles it or hears of it, coordinators get content only with the
reporter's consent, nothing happens to a withdrawn case, and every change is audited.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from flows import lifecycle
from flows.lifecycle import (
    LIVE,
    REACTION_TIMERS,
    REACTION_TRANSITIONS,
    REGISTER_TRANSITIONS,
    RUNNING,
    SYSTEM,
    TRANSITIONS,
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
    DossierConsent,
    FootageState,
    InfluenceAnswer,
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
    Thread,
    register_for,
)
from flows.model import Audience, Channel, Consequence, Form, Role, Wish
from flows.perpetrator import IdentifierKind

DIAGRAM = Path(__file__).resolve().parent.parent / "flows" / "casework.mmd"
ARROW = re.compile(r"^\s*(\[\*\]|\w+) --> (\[\*\]|\w+)(?::\s*(.*))?$")


def _arrows(lines: list[str]) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = {}
    for line in lines:
        match = ARROW.match(line)
        if match:
            source, target, causes = match.groups()
            found[(source, target)] = {c.strip() for c in causes.split(";")} if causes else set()
    return found


def _diagram() -> tuple[dict[tuple[str, str], set[str]], dict[tuple[str, str], set[str]]]:
    """The status arrows and the register arrows of flows/casework.mmd."""
    text = DIAGRAM.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(text) if line.strip().startswith("state register {"))
    end = next(i for i in range(start, len(text)) if text[i].strip() == "}")
    return _arrows(text[:start] + text[end + 1 :]), _arrows(text[start + 1 : end])


def _expected(transitions: frozenset[tuple[str, str, str]], rename: dict[str, str]) -> dict[tuple[str, str], set[str]]:
    expected: dict[tuple[str, str], set[str]] = {}
    for before, after, cause in transitions:
        key = (rename.get(before, before), rename.get(after, after))
        expected.setdefault(key, set()).add(cause)
    return expected


def test_the_drawing_of_the_statuses_is_the_rules_of_the_model():
    statuses, _ = _diagram()
    drawn = {pair: causes for pair, causes in statuses.items() if pair[1] != "[*]"}
    assert drawn == _expected(TRANSITIONS, {CaseStatus.DRAFT: "[*]"})
    # /forgetme erases the case from whatever status it is in.
    erasable = {source for source, target in statuses if target == "[*]"}
    assert erasable == {status.value for status in CaseStatus if status is not CaseStatus.DRAFT}


def test_the_drawing_of_the_register_is_the_rules_of_the_model():
    _, register = _diagram()
    assert register == _expected(REGISTER_TRANSITIONS, {RegisterState.WITHDRAWN: "withdrawn_consent"})


def test_the_drawing_of_the_reaction_clock_is_the_rules_of_the_model():
    lines = (DIAGRAM.parent / "reaction.mmd").read_text(encoding="utf-8").splitlines()
    drawn = {pair: causes for pair, causes in _arrows(lines).items() if pair[0] != "[*]"}
    assert drawn == _expected(REACTION_TRANSITIONS, {})
    assert {target for source, target in _arrows(lines) if source == "[*]"} == {"none", "due"}


def test_every_status_can_be_reached_and_left():
    sources = {before for before, _, _ in TRANSITIONS}
    targets = {after for _, after, _ in TRANSITIONS}
    assert targets == set(CaseStatus) - {CaseStatus.DRAFT}
    assert sources == set(CaseStatus) - {CaseStatus.WITHDRAWN}  # withdrawn is final (but erasable)


# -- every sequence keeps the rules ---------------------------------------------------------------

COUNSELLORS = (b"c" * 32, b"d" * 32, b"e" * 32)
COORDINATORS = (b"k" * 32, b"l" * 32)
MANAGEMENT = (b"m" * 32,)
HELPER = b"h" * 32
REPORTER = b"r" * 32
RULES = RegisterRules()
STAFF = COUNSELLORS + COORDINATORS
T0 = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)

STATUS_PAIRS = {(before, after) for before, after, _ in TRANSITIONS}
REGISTER_PAIRS = {(before, after) for before, after, _ in REGISTER_TRANSITIONS}
REACTION_PAIRS = {(before, after) for before, after, _ in REACTION_TRANSITIONS}
# Staff notifications that carry content: the report, its parts, the conversation, health.
CONTENT = frozenset(
    {
        Notice.CASE_REPORT,
        Notice.CASE_REPORT_ESCALATED,
        Notice.CASE_REPORT_HANDED_OVER,
        Notice.CASE_REPORT_CONSENTED,
        Notice.CASE_TEXT,
        Notice.CASE_ATTACHMENT,
        Notice.RELAY,
        Notice.RELAY_FILE,
        Notice.CASE_ADDITION,
        Notice.CHECKIN_ALERT,
        Notice.DOSSIER,
    }
)


def _case(wish: Wish, share_name_coordinator: bool, excluded: frozenset[bytes], first: bytes | None) -> Case:
    register = register_for(wish, share_name_coordinator)
    clock: dict[str, object] = {}
    if register is not RegisterState.NONE:  # as lifecycle.submit starts it for a case entering the register
        clock = {
            "reaction": ReactionState.DUE,
            "reaction_since": T0,
            "reaction_due_at": T0 + RULES.reaction_within,
            "footage": FootageState.DUE,
            "footage_due_at": T0 + RULES.secure_footage_within,
        }
    return Case(
        id="case",
        reference="MB-2345-6789",
        person_id="person",
        status=CaseStatus.NEW,
        forms=frozenset({Form.THREAT}),
        incident_date=date(2026, 11, 18),
        channel=Channel.IN_PERSON,
        role=Role.EMPLOYEE,
        audience=Audience.STAFF,
        wish=wish,
        share_name_counsellor=False,
        share_name_coordinator=share_name_coordinator,
        description="Hij dreigde me op te wachten.",
        attachment_count=0,
        submitted_at=T0,
        register=register_for(wish, share_name_coordinator),
        aftercare=AftercareState.ACTIVE,
        escalation=0,
        department=None,
        counsellors={} if first is None else {first: CounsellorState.ASSIGNED},
        excluded=excluded,
        reporter=REPORTER,
        **clock,  # type: ignore[arg-type]
    )


def counsellor(index: bytes) -> Actor:
    return Actor("counsellor", f"counsellor {index[:1].decode()}", index)


def coordinator(index: bytes) -> Actor:
    return Actor("coordinator", f"coordinator {index[:1].decode()}", index)


class CaseLife(RuleBasedStateMachine):
    """One case, and everyone who can act on it, in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.case: Case | None = None
        self.now = T0
        self.item = 0
        self.steps: list[str] = []
        self.reacted = False  # a reaction (or "no reaction" with its reason) was recorded

    @rule(
        wish=st.sampled_from(Wish),
        share=st.booleans(),
        excluded=st.frozensets(st.sampled_from(STAFF), max_size=3),
    )
    @precondition(lambda self: self.case is None)
    def submitted(self, wish: Wish, share: bool, excluded: frozenset[bytes]) -> None:
        allowed = [i for i in COUNSELLORS if i not in excluded]
        first = allowed[0] if allowed and wish.reaches_counsellor else None
        self.case = _case(wish, share, excluded, first)

    def _apply(self, name: str, decision: lifecycle.Decision) -> None:
        assert self.case is not None
        self.steps.append(name)
        if isinstance(decision, Change):
            assert decision.before is self.case
            self._check(name, decision)
            self.case = decision.after
        self.now += timedelta(hours=1)

    def _check(self, name: str, change: Change) -> None:
        before, after = change.before, change.after
        if before.status is not after.status:
            assert (before.status, after.status) in STATUS_PAIRS, (name, before.status, after.status)
        if before.register is not after.register:
            assert (before.register, after.register) in REGISTER_PAIRS, (name, before.register, after.register)
        assert before.status is not CaseStatus.WITHDRAWN, f"{name} changed a withdrawn case"
        assert change.audit is not None, f"{name} left no audit entry"
        # Only a recorded reaction stops the reaction clock; only withdrawal or leaving the register ends it otherwise.
        if before.reaction in RUNNING and after.reaction not in RUNNING:
            assert (name, after.reaction) in (
                ("record reaction", ReactionState.DONE),
                ("withdraw", ReactionState.STOPPED),
                ("consent", ReactionState.STOPPED),
            ), (name, after.reaction)
        if before.reaction is not after.reaction:
            assert (before.reaction, after.reaction) in REACTION_PAIRS, (name, before.reaction, after.reaction)
        if REACTION_TIMERS & change.cancel:
            assert name in ("record reaction", "withdraw", "consent"), f"{name} cancelled the reaction clock"
        for index, state in change.counsellors.items():
            if state in (CounsellorState.ASSIGNED, CounsellorState.ALERTED):
                assert index not in after.barred, f"{name} gave the case to someone barred from it"
        # The statistics learn what changed, and only coarse facts of the register's own cases.
        facts = change.facts
        if before.in_register is not after.in_register:
            assert facts is not None and facts.in_register is after.in_register, f"{name} left the count behind"
        if before.acknowledged_at is None and after.acknowledged_at is not None:
            assert facts is not None and facts.acknowledged_hours is not None, f"{name}: acknowledgement not counted"
        if facts is not None:
            if facts.reaction_hours is not None or facts.police_report or facts.damages_claimed:
                assert after.in_register, f"{name} counted a reaction for a case outside the register"
            assert all(h is None or h >= 0 for h in (facts.acknowledged_hours, facts.reaction_hours))
        for delivery in change.deliveries:
            if delivery.recipient_role is Party.REPORTER:
                assert delivery.recipient_index == REPORTER
                continue
            assert delivery.recipient_index not in after.barred, f"{name} told someone barred: {delivery.kind}"
            if delivery.recipient_role is Party.MANAGEMENT:
                assert delivery.kind is Notice.REACTION_ESCALATED, f"{name} told management {delivery.kind}"
            if delivery.recipient_role is Party.DAMAGES_HELPER:
                assert delivery.kind is Notice.DAMAGES_ALERT, f"{name} told the damages helper {delivery.kind}"
            if delivery.recipient_role is Party.COORDINATOR and delivery.kind in CONTENT:
                assert after.in_register, f"{name} sent content to a coordinator without consent"
            if delivery.recipient_role is Party.COUNSELLOR and delivery.kind in CONTENT:
                assert after.counsellors.get(delivery.recipient_index) in (
                    CounsellorState.ASSIGNED,
                    CounsellorState.ALERTED,
                ), f"{name} sent content to a counsellor not on the case"

    @invariant()
    def a_case_in_the_register_waits_for_a_reaction_until_one_is_recorded(self) -> None:
        case = self.case
        if case is not None and case.in_register and case.status is not CaseStatus.WITHDRAWN:
            assert (case.reaction is ReactionState.DONE) == self.reacted, (case.reaction, self.reacted)
            assert case.reaction in RUNNING or case.reaction is ReactionState.DONE, case.reaction

    @invariant()
    def nobody_barred_handles_it(self) -> None:
        if self.case is not None:
            assert not (self.case.handlers & self.case.barred)
            assert len(self.case.handlers) <= 1 or self.case.status is CaseStatus.WITHDRAWN

    @rule(who=st.sampled_from(COUNSELLORS))
    @precondition(lambda self: self.case is not None)
    def acknowledge(self, who: bytes) -> None:
        assert self.case is not None
        self._apply("acknowledge", lifecycle.acknowledge(self.case, counsellor(who), self.now))

    @rule(who=st.sampled_from(COUNSELLORS))
    @precondition(lambda self: self.case is not None)
    def take_over(self, who: bytes) -> None:
        assert self.case is not None
        self._apply("take over", lifecycle.take_over(self.case, counsellor(who)))

    @rule(who=st.sampled_from(COORDINATORS))
    @precondition(lambda self: self.case is not None)
    def register(self, who: bytes) -> None:
        assert self.case is not None
        self._apply("register", lifecycle.register(self.case, coordinator(who), self.now))

    @rule(who=st.sampled_from(COUNSELLORS), to=st.sampled_from(COUNSELLORS))
    @precondition(lambda self: self.case is not None)
    def hand_over(self, who: bytes, to: bytes) -> None:
        assert self.case is not None
        self._apply("hand over", lifecycle.hand_over(self.case, counsellor(who), to, self.now, "colleague"))

    @rule(who=st.sampled_from(COUNSELLORS), to=st.none() | st.sampled_from(COUNSELLORS))
    @precondition(lambda self: self.case is not None)
    def recuse(self, who: bytes, to: bytes | None) -> None:
        assert self.case is not None
        self._apply("recuse", lifecycle.recuse(self.case, counsellor(who), to, COORDINATORS, self.now))

    @rule(who=st.sampled_from(COUNSELLORS), to=st.none() | st.sampled_from(COUNSELLORS))
    @precondition(lambda self: self.case is not None)
    def a_counsellor_is_removed_from_the_staff(self, who: bytes, to: bytes | None) -> None:
        assert self.case is not None
        decision = lifecycle.counsellor_left(self.case, counsellor(who), to, COORDINATORS, self.now)
        self._apply("staff removed", decision)
        if isinstance(decision, Change):
            assert self.case.counsellors[who] is CounsellorState.FORMER
            assert self.case.handlers <= ({to} if to is not None else frozenset()) | decision.before.handlers - {who}

    @rule(who=st.sampled_from(STAFF), status=st.sampled_from(lifecycle.SETTABLE), survey=st.booleans())
    @precondition(lambda self: self.case is not None)
    def set_status(self, who: bytes, status: CaseStatus, survey: bool) -> None:
        assert self.case is not None
        # Whether this person may set it at all is flows/access.py's (tested in test_authorization);
        # here: what setting it does to the case.
        if who in self.case.handlers or (who in COORDINATORS and self.case.in_register and who not in self.case.barred):
            actor = counsellor(who) if who in COUNSELLORS else coordinator(who)
            self._apply("set status", lifecycle.set_status(self.case, status, actor, self.now, ask_survey=survey))

    @rule(who=st.sampled_from(COUNSELLORS))
    @precondition(lambda self: self.case is not None)
    def ask_consent(self, who: bytes) -> None:
        assert self.case is not None
        if who in self.case.handlers:
            self._apply("ask consent", lifecycle.ask_consent(self.case, counsellor(who), COORDINATORS, self.now))

    @rule(answer=st.sampled_from(ConsentAnswer))
    @precondition(lambda self: self.case is not None)
    def consent(self, answer: ConsentAnswer) -> None:
        assert self.case is not None
        self._apply("consent", lifecycle.consent(self.case, answer, COORDINATORS, RULES, self.now))

    @rule(share=st.booleans())
    @precondition(lambda self: self.case is not None)
    def share_name(self, share: bool) -> None:
        assert self.case is not None
        self._apply("share name", lifecycle.share_name(self.case, share))

    @rule()
    @precondition(lambda self: self.case is not None)
    def withdraw(self) -> None:
        assert self.case is not None
        self._apply("withdraw", lifecycle.withdraw(self.case, COORDINATORS, self.now))

    @rule()
    @precondition(lambda self: self.case is not None)
    def nobody_acknowledged(self) -> None:
        assert self.case is not None
        self.item += 1
        self._apply(
            "escalate to counsellors", lifecycle.escalate_to_counsellors(self.case, COUNSELLORS, f"item{self.item}")
        )

    @rule()
    @precondition(lambda self: self.case is not None)
    def still_nobody(self) -> None:
        assert self.case is not None
        self.item += 1
        self._apply(
            "escalate to coordinators",
            lifecycle.escalate_to_coordinators(self.case, COORDINATORS, f"item{self.item}"),
        )

    @rule(to=st.sampled_from(COUNSELLORS))
    @precondition(lambda self: self.case is not None)
    def a_counsellor_configured_later(self, to: bytes) -> None:
        assert self.case is not None
        if not self.case.handlers and self.case.has_counsellor_side and self.case.is_open:
            self._apply("assign (configured later)", lifecycle.assign(self.case, to, send_report=True))

    @rule(who=st.sampled_from(STAFF), kind=st.sampled_from(ActionKind), reason=st.sampled_from(["", "  ", "omdat"]))
    @precondition(lambda self: self.case is not None)
    def record_reaction(self, who: bytes, kind: ActionKind, reason: str) -> None:
        assert self.case is not None
        actor = counsellor(who) if who in COUNSELLORS else coordinator(who)
        new = NewAction(f"a{len(self.steps)}", kind, ActionOutcome.COMPLETED, who, reason or None)
        decision = lifecycle.record_action(self.case, actor, new, self.now, timedelta(minutes=10))
        if isinstance(decision, Change):
            assert kind is not ActionKind.NOTHING or reason.strip(), "no reaction recorded without its reason"
            self.reacted = True
        self._apply("record reaction", decision)

    @rule(who=st.sampled_from(STAFF))
    @precondition(lambda self: self.case is not None)
    def a_message_is_no_reaction(self, who: bytes) -> None:
        assert self.case is not None
        party = Party.COUNSELLOR if who in COUNSELLORS else Party.COORDINATOR
        new = NewMessage(f"m{len(self.steps)}", Thread.COORDINATOR, party, who, "We bellen je.")
        actor = counsellor(who) if who in COUNSELLORS else coordinator(who)
        decision = lifecycle.message(self.case, actor, new, None, [(REPORTER, Party.REPORTER)], "message", self.now)
        if isinstance(decision, Change):
            assert decision.after.reaction is self.case.reaction
        self._apply("message", decision)

    @rule()
    @precondition(lambda self: self.case is not None)
    def the_reaction_falls_due(self) -> None:
        assert self.case is not None
        self.item += 1
        self._apply("reaction due", lifecycle.remind_of_reaction(self.case, COORDINATORS, f"item{self.item}"))

    @rule()
    @precondition(lambda self: self.case is not None)
    def still_no_reaction(self) -> None:
        assert self.case is not None
        self.item += 1
        self._apply("reaction escalated", lifecycle.escalate_reaction(self.case, MANAGEMENT, f"item{self.item}"))

    @rule(state=st.sampled_from(FootageState))
    @precondition(lambda self: self.case is not None)
    def footage(self, state: FootageState) -> None:
        assert self.case is not None
        self.item += 1
        self._apply("footage due", lifecycle.remind_of_footage(self.case, COORDINATORS, f"item{self.item}"))
        self._apply("footage", lifecycle.record_footage(self.case, coordinator(COORDINATORS[0]), state, self.now))

    @rule(step=st.sampled_from(PoliceStep), by_reporter=st.booleans())
    @precondition(lambda self: self.case is not None)
    def police(self, step: PoliceStep, by_reporter: bool) -> None:
        assert self.case is not None
        party = Party.REPORTER if by_reporter else Party.COORDINATOR
        actor = lifecycle.REPORTER_ACTOR if by_reporter else coordinator(COORDINATORS[0])
        new = NewPoliceStep(
            f"p{len(self.steps)}", step, T0.date(), "PL-1" if step is PoliceStep.REPORTED else None, party
        )
        self._apply("police", lifecycle.record_police_step(self.case, actor, new, COORDINATORS))

    @rule(cents=st.integers(min_value=-1, max_value=10_000), claim=st.sampled_from(ClaimStatus))
    @precondition(lambda self: self.case is not None)
    def damages(self, cents: int, claim: ClaimStatus) -> None:
        assert self.case is not None
        actor = coordinator(COORDINATORS[0])
        item = NewCostItem(f"d{len(self.steps)}", CostKind.OTHER, cents)
        self._apply("damages item", lifecycle.add_cost_item(self.case, actor, item, HELPER))
        assert self.case is not None
        self._apply(
            "damages", lifecycle.update_damages(self.case, actor, "x", HELPER, claim=claim, recovered_cents=cents)
        )

    @rule(who=st.sampled_from(STAFF))
    @precondition(lambda self: self.case is not None)
    def ask_for_a_case_file(self, who: bytes) -> None:
        assert self.case is not None
        # Who may ask is flows/access.py's (the counsellor on the case, a coordinator of a register case).
        if who in self.case.handlers:
            decision = lifecycle.request_dossier(self.case, counsellor(who), Party.COUNSELLOR, self.now, timedelta(2))
        elif who in COORDINATORS and self.case.in_register and who not in self.case.barred:
            decision = lifecycle.request_dossier(self.case, coordinator(who), Party.COORDINATOR, self.now, timedelta(2))
        else:
            return
        self._apply("request dossier", decision)

    @rule(answer=st.sampled_from(DossierConsent))
    @precondition(lambda self: self.case is not None)
    def answer_the_case_file_question(self, answer: DossierConsent) -> None:
        assert self.case is not None
        waiting = self.case.dossier_asked_at is not None
        decision = lifecycle.answer_dossier(self.case, answer)
        assert isinstance(decision, Change) == (waiting and self.case.status in LIVE)
        self._apply("answer dossier", decision)
        if isinstance(decision, Change):
            assert decision.after.dossier_asked_at is None and decision.after.dossier_consent is answer

    @rule()
    @precondition(lambda self: self.case is not None)
    def no_answer_in_time(self) -> None:
        assert self.case is not None
        self.item += 1
        self._apply("dossier unanswered", lifecycle.dossier_unanswered(self.case, f"item{self.item}"))

    @rule()
    @precondition(lambda self: self.case is not None)
    def the_reporter_asks_for_her_copy(self) -> None:
        assert self.case is not None
        self._apply("own copy", lifecycle.own_copy(self.case))

    @rule(kind=st.sampled_from(IdentifierKind), by_staff=st.booleans())
    @precondition(lambda self: self.case is not None)
    def perpetrator_detail(self, kind: IdentifierKind, by_staff: bool) -> None:
        assert self.case is not None
        actor = counsellor(COUNSELLORS[0]) if by_staff else lifecycle.REPORTER_ACTOR
        new = lifecycle.NewPerpetratorDetail(f"d{self.item}", kind, "Piet Jansen 06-12345678", Party.REPORTER)
        self.item += 1
        decision = lifecycle.add_perpetrator_detail(self.case, actor, new)
        if isinstance(decision, Change):
            assert decision.records == (new,) and not decision.deliveries
            assert decision.audit.detail == kind.value  # the kind, never the value
            assert decision.after == decision.before
        self._apply("perpetrator detail", decision)

    @rule(told=st.frozensets(st.sampled_from(Consequence)), influence=st.sampled_from(InfluenceAnswer))
    @precondition(lambda self: self.case is not None)
    def consequences(self, told: frozenset[Consequence], influence: InfluenceAnswer) -> None:
        assert self.case is not None
        decision = lifecycle.consequences_told(self.case, told)
        if isinstance(decision, Change):
            assert decision.after.consequences == told and not decision.deliveries
        self._apply("consequences", decision)
        decision = lifecycle.influence_told(self.case, influence)
        if isinstance(decision, Change):
            assert decision.after.influenced_decision is {"yes": True, "no": False}.get(influence.value)
        self._apply("influence", decision)

    @rule(on=st.booleans())
    @precondition(lambda self: self.case is not None)
    def link_consent(self, on: bool) -> None:
        assert self.case is not None
        decision = lifecycle.set_link_consent(self.case, on)
        if isinstance(decision, Change):
            assert decision.after.link_consent is on and not decision.deliveries
        self._apply("link consent", decision)

    @rule()
    @precondition(lambda self: self.case is not None)
    def other_reports_name_the_same_person(self) -> None:
        assert self.case is not None
        asked_before = self.case.not_alone_asked_at is not None
        decision = lifecycle.ask_not_alone(self.case, self.now)
        if isinstance(decision, Change):
            # Asked once, of the reporter alone, about a report outside the register that may be combined.
            assert not asked_before and self.case.link_consent and not self.case.in_register
            assert [(d.recipient_role, d.kind) for d in decision.deliveries] == [(Party.REPORTER, Notice.NOT_ALONE)]
            assert decision.after.not_alone_asked_at == self.now
        else:
            assert asked_before or not lifecycle.may_ask_not_alone(self.case)
        self._apply("not alone", decision)

    @invariant()
    def only_registered_consenting_live_cases_are_linkable(self) -> None:
        if self.case is not None and lifecycle.linkable(self.case):
            assert self.case.in_register and self.case.link_consent and self.case.status is not CaseStatus.WITHDRAWN

    @rule()
    @precondition(lambda self: self.case is not None and self.case.status is CaseStatus.WITHDRAWN)
    def a_withdrawn_case_takes_nothing(self) -> None:
        case = self.case
        assert case is not None
        who = COUNSELLORS[0]
        for name, decision in (
            ("acknowledge", lifecycle.acknowledge(case, counsellor(who), self.now)),
            ("register", lifecycle.register(case, coordinator(COORDINATORS[0]), self.now)),
            ("withdraw", lifecycle.withdraw(case, COORDINATORS, self.now)),
            ("consent", lifecycle.consent(case, ConsentAnswer.NAMED, COORDINATORS)),
            ("escalate", lifecycle.escalate_to_counsellors(case, COUNSELLORS, "late")),
            ("link consent", lifecycle.set_link_consent(case, not case.link_consent)),
            ("not alone", lifecycle.ask_not_alone(case, self.now)),
            ("status", lifecycle.set_status(case, CaseStatus.IN_PROGRESS, counsellor(who), self.now, ask_survey=False)),
            ("dossier", lifecycle.request_dossier(case, counsellor(who), Party.COUNSELLOR, self.now, timedelta(2))),
            ("dossier answer", lifecycle.answer_dossier(case, DossierConsent.NAME)),
            ("dossier unanswered", lifecycle.dossier_unanswered(case, "late")),
            ("own copy", lifecycle.own_copy(case)),
            ("dossier made", lifecycle.dossier_made(case, SYSTEM, named=False, with_messages=False, sha256="0" * 64)),
            ("consequences", lifecycle.consequences_told(case, frozenset({Consequence.STRESS}))),
            ("influence", lifecycle.influence_told(case, InfluenceAnswer.YES)),
            (
                "perpetrator detail",
                lifecycle.add_perpetrator_detail(
                    case,
                    lifecycle.REPORTER_ACTOR,
                    lifecycle.NewPerpetratorDetail("late", IdentifierKind.NAME, "Piet Jansen", Party.REPORTER),
                ),
            ),
        ):
            assert not isinstance(decision, Change), f"{name} acted on a withdrawn case"


CaseLife.TestCase.settings = settings(
    max_examples=300, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_no_sequence_of_events_breaks_the_rules = CaseLife.TestCase


def test_the_statuses_staff_may_set_are_the_live_ones_in_order():
    assert set(lifecycle.SETTABLE) == LIVE
    assert lifecycle.SETTABLE[0] is CaseStatus.NEW and lifecycle.SETTABLE[-1] is CaseStatus.CLOSED
