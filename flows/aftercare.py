"""Aftercare and outcome feedback: the bot checks in, brings help, and says what came of it.

At submission a plan is stored with the case: check-ins after the configured periods
(default 72 hours, 2 weeks, 6 weeks, 3 months, the last one closing), practical
reminders for the kind of incident, and two silence watches. Each check-in asks how
the reporter is, with four buttons; "it still bothers me" and "I'd like to talk"
alert the counsellor on the case at once (a counsellor is assigned for an anonymous
registration, who sees only the case reference). From the step marked for it (6
weeks), "still bothers me" also suggests the GP or company doctor. Answers are
health information: sealed, and shown to the counsellor only.

"Stop these messages" cancels the check-ins; aftercare is offered once more after two
weeks, and if the answer is no (or none) the reporter is left in peace.

Outcome feedback: when staff record an action towards the perpetrator or its
outcome, the reporter hears it in their own language, with the personal note typed
right after (the message waits a few minutes for it). If a reporter has heard
nothing for a while, whoever handles the case is reminded, and later the
coordinators. When a case closes the reporter gets a last message and one question:
was the aftercare and feedback enough?
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows import lifecycle
from flows.access import Access, Grant, Permission
from flows.clock import Clock
from flows.lifecycle import (
    AftercareState,
    Case,
    CaseStatus,
    CheckInAnswer,
    Draft,
    InfluenceAnswer,
    NewCheckInAnswer,
    Party,
    Refused,
    SurveyAnswer,
    Timer,
    TimerKind,
)
from flows.model import Audience, Channel, Consequence, Form, Language, Sender
from flows.outcome import (
    CheckIn,
    Choice,
    Consequences,
    Influence,
    Label,
    Outcome,
    Reoffer,
    Reply,
    StopComposing,
    Survey,
)
from flows.routing import Router
from flows.timing import add_period
from storage import Storage
from storage.schedule import DueItem

KINDS = (
    TimerKind.CHECK_IN,
    TimerKind.TIPS,
    TimerKind.REOFFER,
    TimerKind.SILENCE_OWNER,
    TimerKind.SILENCE_COORDINATORS,
)


@dataclass(frozen=True, slots=True)
class CheckInStep:
    after: timedelta
    suggest_doctor: bool = False
    closing: bool = False


@dataclass(frozen=True, slots=True)
class SupportContact:
    """Help the organisation offers: psychological, physical, material, legal; or, for
    mayors, aldermen and council members, the national support team."""

    kind: str
    name: str
    contact: str


@dataclass(frozen=True, slots=True)
class AftercarePlan:
    check_ins: tuple[CheckInStep, ...] = (
        CheckInStep(timedelta(hours=72)),
        CheckInStep(timedelta(days=14)),
        CheckInStep(timedelta(days=42), suggest_doctor=True),
        CheckInStep(timedelta(days=91), closing=True),
    )
    tips_after: timedelta = timedelta(minutes=15)
    reoffer_after: timedelta = timedelta(days=14)
    pause_for: timedelta = timedelta(days=14)
    feedback_delay: timedelta = timedelta(minutes=10)
    silence_owner_after: timedelta = timedelta(days=7)
    silence_coordinators_after: timedelta = timedelta(days=14)
    support: tuple[SupportContact, ...] = field(default_factory=tuple)


def practical_tips(case: Case | Draft) -> list[str]:
    """Which practical reminders the kind of incident calls for (message keys)."""
    forms = case.forms or frozenset({Form.OTHER})
    channel = case.channel or Channel.OTHER
    tips = []
    if channel is Channel.IN_PERSON and forms != {Form.BRIBERY}:
        tips.append("tips.footage")  # camera footage is wiped after days or weeks
    if channel in (Channel.ONLINE, Channel.EMAIL) or Form.INTIMIDATION in forms:
        tips.append("tips.screenshots")
    if forms & {Form.THREAT, Form.VIOLENCE, Form.DISCRIMINATION, Form.BRIBERY, Form.INTIMIDATION}:
        tips.append("tips.police_report")
    return tips


def support_lines(plan: AftercarePlan, case: Case) -> tuple[Label, ...]:
    """The organisation's own help; the national support team only for office holders."""
    office_holder = case.audience is Audience.OFFICE_HOLDERS
    return tuple(
        Label("support.line", {"kind": Label(f"support.{s.kind}"), "name": s.name, "contact": s.contact})
        for s in plan.support
        if s.kind != "office_holders" or office_holder
    )


class AftercareFlow:
    def __init__(
        self, storage: Storage, router: Router, access: Access, clock: Clock, zone: ZoneInfo, plan: AftercarePlan
    ) -> None:
        self._storage = storage
        self._router = router
        self._access = access
        self._clock = clock
        self._zone = zone
        self.plan = plan

    # -- planning ---------------------------------------------------------------------

    def timers_at_submission(self, draft: Draft, submitted: datetime) -> list[Timer]:
        timers = [
            Timer(TimerKind.CHECK_IN, add_period(submitted, step.after, self._zone), str(n))
            for n, step in enumerate(self.plan.check_ins)
        ]
        if practical_tips(draft):
            timers.append(Timer(TimerKind.TIPS, submitted + self.plan.tips_after))
        timers.append(Timer(TimerKind.SILENCE_OWNER, add_period(submitted, self.plan.silence_owner_after, self._zone)))
        timers.append(
            Timer(
                TimerKind.SILENCE_COORDINATORS,
                add_period(submitted, self.plan.silence_coordinators_after, self._zone),
            )
        )
        return timers

    async def run(self, item: DueItem) -> bool:
        """Carry out one due follow-up; returns whether anyone was notified."""
        if item.case_id is None:
            return False
        now = self._clock.now()
        case = await self._storage.cases.get(item.case_id)
        if case is None or case.status is CaseStatus.WITHDRAWN:
            return False
        if item.kind is TimerKind.CHECK_IN:
            if case.aftercare is not AftercareState.ACTIVE:
                return False
            return await self._notify_reporter(case, lifecycle.Notice.CHECK_IN, item.detail, item.id)
        if item.kind is TimerKind.TIPS:
            return await self._notify_reporter(case, lifecycle.Notice.TIPS, None, item.id)
        if item.kind is TimerKind.REOFFER:
            _, decision = await self._storage.cases.change(case.id, lambda c: lifecycle.reoffer(c, item.id), now)
            return not isinstance(decision, Refused)
        if item.kind in (TimerKind.SILENCE_OWNER, TimerKind.SILENCE_COORDINATORS):
            return await self._silence(case, item)
        return False

    async def _notify_reporter(self, case: Case, kind: lifecycle.Notice, ref: str | None, item_id: str) -> bool:
        if case.reporter is None:
            return False
        delivery = lifecycle.Delivery(case.reporter, Party.REPORTER, kind, ref, dedupe=item_id)
        await self._storage.outbox.enqueue(case.id, [delivery], self._clock.now())
        return True

    async def _silence(self, case: Case, item: DueItem) -> bool:
        """Remind when the reporter heard nothing for the period; otherwise look again when it would run out."""
        if not case.is_open:
            return False
        period = (
            self.plan.silence_owner_after
            if item.kind is TimerKind.SILENCE_OWNER
            else self.plan.silence_coordinators_after
        )
        now = self._clock.now()
        last = max(filter(None, (case.last_news_at, case.submitted_at)))
        deadline = add_period(last, period, self._zone)
        if now < deadline:
            await self._storage.schedule.add(case.id, [Timer(item.kind, deadline)], now)
            return False
        days = max(1, (now - last).days)
        coordinators = lifecycle.coordinators_of(case, self._router.coordinator_indexes())
        recipients: list[tuple[bytes, Party]]
        if item.kind is TimerKind.SILENCE_OWNER:
            recipients = [(i, Party.COUNSELLOR) for i in sorted(case.handlers)]
            if not recipients and case.in_register:
                recipients = [(i, Party.COORDINATOR) for i in coordinators]  # they handle anonymous registrations
        else:
            recipients = [(i, Party.COORDINATOR) for i in coordinators]
        again = add_period(now, period, self._zone)
        _, decision = await self._storage.cases.change(
            case.id, lambda c: lifecycle.remind_of_silence(c, item.kind, recipients, days, item.id, again), now
        )
        return bool(recipients) and not isinstance(decision, Refused)

    # -- the reporter's answers ------------------------------------------------------------

    async def _grant(self, sender: Sender, reference: str) -> Grant | None:
        grant = await self._access.check(sender, Permission.AFTERCARE, reference)
        return grant if grant is not None and grant.person is not None else None

    async def _denied(self, sender: Sender) -> Outcome:
        person = await self._storage.people.find(sender.telegram_id)
        language = Language(person.language) if person else Language.from_telegram(sender.language_code)
        return Outcome(language, toast=Label("toast.not_yours"))

    async def answer(self, sender: Sender, reference: str, step: int, answer: str) -> Outcome:
        """A check-in button: how the reporter is at check-in number ``step``."""
        grant = await self._grant(sender, reference)
        if (
            grant is None
            or answer not in CheckInAnswer.__members__.values()
            or not 0 <= step < len(self.plan.check_ins)
        ):
            return await self._denied(sender)
        now = self._clock.now()
        chosen = await self._counsellor_for(grant.case)
        new = NewCheckInAnswer(uuid.uuid4().hex, step, CheckInAnswer(answer))
        reoffer_at = add_period(now, self.plan.reoffer_after, self._zone)
        _, decision = await self._storage.cases.change(
            grant.case.id,
            lambda case: lifecycle.check_in_answered(case, new, counsellor=chosen, reoffer_at=reoffer_at),
            now,
        )
        if isinstance(decision, Refused):
            return Outcome(grant.language, toast=Label("toast.already_noted"), clear_pressed_buttons=True)
        extra: Label | str = ""
        if new.answer is CheckInAnswer.STOP:
            key = "checkin.stopped"
        elif new.answer is CheckInAnswer.FINE:
            key = "checkin.thanks_fine"
        else:
            key = "checkin.alerted" if decision.deliveries else "checkin.no_counsellor"
            # From the step marked for it on (six weeks by default), a lasting worry points to the doctor.
            doctor = new.answer is CheckInAnswer.BOTHERS and any(
                s.suggest_doctor for s in self.plan.check_ins[: step + 1]
            )
            support = support_lines(self.plan, grant.case)
            extra = Label(
                "checkin.extra",
                {
                    "doctor": Label("checkin.doctor") if doctor else "",
                    "support": Label("checkin.support_after", {"lines": support}) if support else "",
                },
            )
        # One message: the answer, and where to turn, in place of the question.
        outcome = Outcome(grant.language, edit_pressed=Reply(key, {"reference": reference, "extra": extra}))
        if step == 0 and new.answer is not CheckInAnswer.STOP and grant.case.consequences is None:
            # Asked once, kindly, at the first check-in: what it did to them (for the register, as codes).
            outcome.replies.append(consequences_question(reference, 0))
        return outcome

    async def consequences(self, sender: Sender, action: Consequences) -> Outcome:
        """A tick turns the question into itself with that tick changed; "done" keeps the ticks and
        asks whether it influenced a decision they took."""
        grant = await self._grant(sender, action.reference)
        if grant is None or not 0 <= action.ticked < 2 ** len(Consequence):
            return await self._denied(sender)
        if not action.done:
            return Outcome(grant.language, edit_pressed=consequences_question(action.reference, action.ticked))
        told = frozenset(c for n, c in enumerate(Consequence) if action.ticked >> n & 1)
        _, decision = await self._storage.cases.change(
            grant.case.id, lambda case: lifecycle.consequences_told(case, told), self._clock.now()
        )
        if isinstance(decision, Refused):
            return Outcome(grant.language, toast=Label("toast.not_yours"), clear_pressed_buttons=True)
        keyboard = tuple((Choice(f"influence.{a.value}", Influence(action.reference, a)),) for a in InfluenceAnswer)
        return Outcome(grant.language, edit_pressed=Reply("influence.ask", {"reference": action.reference}, keyboard))

    async def influence(self, sender: Sender, action: Influence) -> Outcome:
        grant = await self._grant(sender, action.reference)
        if grant is None:
            return await self._denied(sender)
        _, decision = await self._storage.cases.change(
            grant.case.id, lambda case: lifecycle.influence_told(case, action.answer), self._clock.now()
        )
        if isinstance(decision, Refused):
            return Outcome(grant.language, toast=Label("toast.not_yours"), clear_pressed_buttons=True)
        return Outcome(grant.language, edit_pressed=Reply("influence.thanks"))

    async def _counsellor_for(self, case: Case) -> bytes | None:
        """For a case without a counsellor (an anonymous registration), the one of the reporter's group
        who would take an alert: it sees the case under its reference only."""
        if case.handlers:
            return None
        recused = case.with_state(lifecycle.CounsellorState.RECUSED)
        candidates = [
            c for c in self._router.serving(case.audience, case.barred) if self._router.index(c) not in recused
        ]
        if not candidates:
            return None
        load = await self._storage.cases.open_load([self._router.index(c) for c in candidates])
        return self._router.index(self._router.least_loaded(candidates, load))

    async def stop(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._grant(sender, reference)
        if grant is None:
            return await self._denied(sender)
        now = self._clock.now()
        reoffer_at = add_period(now, self.plan.reoffer_after, self._zone)
        await self._storage.cases.change(grant.case.id, lambda c: lifecycle.stop_check_ins(c, reoffer_at), now)
        return Outcome(grant.language, edit_pressed=Reply("checkin.stopped", {"reference": reference}))

    async def pause(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._grant(sender, reference)
        if grant is None:
            return await self._denied(sender)
        _, decision = await self._storage.cases.change(
            grant.case.id, lambda c: lifecycle.pause_check_ins(c, self.plan.pause_for), self._clock.now()
        )
        if isinstance(decision, Refused):
            return Outcome(grant.language, toast=Label("toast.already_noted"))
        return Outcome(
            grant.language,
            edit_pressed=Reply("checkin.paused", {"reference": reference, "days": self.plan.pause_for.days}),
        )

    async def resume(self, sender: Sender, reference: str, yes: bool = True) -> Outcome:
        """Check-ins again (from the re-offer, or from /mycases)."""
        grant = await self._grant(sender, reference)
        if grant is None:
            return await self._denied(sender)
        now = self._clock.now()
        if not yes:
            await self._storage.cases.change(grant.case.id, lifecycle.decline_check_ins, now)
            return Outcome(grant.language, edit_pressed=Reply("checkin.left_in_peace"))
        answered = {a.step for a in await self._storage.casefile.check_ins(grant.case.id)}
        timers = self._remaining(grant.case, answered, now)
        _, decision = await self._storage.cases.change(
            grant.case.id, lambda c: lifecycle.resume_check_ins(c, timers), now
        )
        if isinstance(decision, Refused):
            return Outcome(grant.language, toast=Label("toast.already_noted"), clear_pressed_buttons=True)
        return Outcome(grant.language, edit_pressed=Reply("checkin.resumed", {"reference": reference}))

    def _remaining(self, case: Case, answered: set[int], now: datetime) -> list[Timer]:
        timers = []
        for n, step in enumerate(self.plan.check_ins):
            due = add_period(case.submitted_at, step.after, self._zone)
            if due > now and n not in answered:
                timers.append(Timer(TimerKind.CHECK_IN, due, str(n)))
        if not timers and self.plan.check_ins:
            # Every planned moment has passed: one more check-in, after the usual first interval.
            last = str(len(self.plan.check_ins) - 1)
            timers.append(Timer(TimerKind.CHECK_IN, add_period(now, self.plan.check_ins[0].after, self._zone), last))
        return timers

    # -- closing ----------------------------------------------------------------------

    async def survey(self, sender: Sender, reference: str, answer: str) -> Outcome:
        grant = await self._grant(sender, reference)
        if grant is None or answer not in SurveyAnswer.__members__.values():
            return await self._denied(sender)
        if not await self._storage.casefile.answer_survey(grant.case.id, SurveyAnswer(answer), self._clock.now()):
            return await self._denied(sender)
        await self._storage.composing.start(grant.index, grant.case.id, "survey_comment", None, self._clock.now())
        return Outcome(
            grant.language,
            edit_pressed=Reply("survey.thanks", {"reference": reference, "answer": Label(f"survey.{answer}")}),
            replies=[Reply("survey.comment", {}, ((Choice("compose.skip", StopComposing()),),))],
        )


def checkin_keyboard(reference: str, step: int) -> tuple[tuple[Choice, ...], ...]:
    return tuple(
        (Choice(f"checkin.answer_{answer.value}", CheckIn(reference, step, answer)),) for answer in CheckInAnswer
    )


def consequences_question(reference: str, ticked: int) -> Reply:
    """What the incident did to the reporter, each consequence a tick (the buttons carry the ticks)."""
    rows = tuple(
        (
            Choice(
                "consequence.ticked" if ticked >> n & 1 else "consequence.unticked",
                Consequences(reference, ticked ^ (1 << n)),
                {"consequence": Label(f"consequence.{c.value}")},
            ),
        )
        for n, c in enumerate(Consequence)
    )
    done = Choice("consequences.done" if ticked else "consequences.none", Consequences(reference, ticked, done=True))
    return Reply("consequences.ask", {"reference": reference}, (*rows, (done,)))


def reoffer_keyboard(reference: str) -> tuple[tuple[Choice, ...], ...]:
    return (
        (Choice("reoffer.yes", Reoffer(reference, True)),),
        (Choice("reoffer.no", Reoffer(reference, False)),),
    )


def survey_keyboard(reference: str) -> tuple[tuple[Choice, ...], ...]:
    return tuple((Choice(f"survey.{a.value}", Survey(reference, a)),) for a in SurveyAnswer)
