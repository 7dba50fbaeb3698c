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

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows.access import Access, Grant, Permission, in_register
from flows.clock import Clock
from flows.model import Audience, Category, Channel, Language, Sender
from flows.outcome import CaseCommand, Choice, Label, Outcome, Reply, StopComposing
from flows.routing import (
    CHECK_IN,
    CHECKIN_ALERT,
    COUNSELLOR,
    REOFFER,
    REPORTER,
    SILENCE_REMINDER,
    SURVEY,
    TIPS,
    Router,
)
from flows.timing import add_period
from storage import Storage
from storage.cases import CaseRecord
from storage.outbox import Delivery
from storage.schedule import DueItem

# Scheduled kinds
CHECK_IN_DUE = "check_in"
TIPS_DUE = "tips"
REOFFER_DUE = "reoffer"
SILENCE_OWNER = "silence_owner"
SILENCE_COORDINATORS = "silence_coordinators"
KINDS = (CHECK_IN_DUE, TIPS_DUE, REOFFER_DUE, SILENCE_OWNER, SILENCE_COORDINATORS)

ANSWERS = ("fine", "bothers", "talk", "stop")
SURVEY_ANSWERS = ("yes", "partly", "no")
ACTIVE, STOPPED, DECLINED = "active", "stopped", "declined"
_OPEN = ("new", "acknowledged", "in_progress")


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


def practical_tips(case: CaseRecord) -> list[str]:
    """Which practical reminders the kind of incident calls for (message keys)."""
    category = Category(case.category) if case.category else Category.OTHER
    channel = Channel(case.channel) if case.channel else Channel.OTHER
    tips = []
    if channel is Channel.IN_PERSON and category is not Category.BRIBERY:
        tips.append("tips.footage")  # camera footage is wiped after days or weeks
    if channel in (Channel.ONLINE, Channel.EMAIL) or category is Category.INTIMIDATION:
        tips.append("tips.screenshots")
    if category in (
        Category.THREAT,
        Category.VIOLENCE,
        Category.DISCRIMINATION,
        Category.BRIBERY,
        Category.INTIMIDATION,
    ):
        tips.append("tips.police_report")
    return tips


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

    def timers_at_submission(self, case: CaseRecord, submitted: datetime) -> list[tuple]:
        timers: list[tuple] = [
            (CHECK_IN_DUE, add_period(submitted, step.after, self._zone), str(n))
            for n, step in enumerate(self.plan.check_ins)
        ]
        if practical_tips(case):
            timers.append((TIPS_DUE, submitted + self.plan.tips_after))
        timers.append((SILENCE_OWNER, add_period(submitted, self.plan.silence_owner_after, self._zone)))
        timers.append((SILENCE_COORDINATORS, add_period(submitted, self.plan.silence_coordinators_after, self._zone)))
        return timers

    async def run(self, item: DueItem) -> bool:
        case = None if item.case_id is None else await self._storage.cases.get(item.case_id)
        if case is None or case.status in ("draft", "withdrawn"):
            return False
        if item.kind == CHECK_IN_DUE:
            return await self._check_in(case, item)
        if item.kind == TIPS_DUE:
            return await self._to_reporter(case, TIPS, None, item.id)
        if item.kind == REOFFER_DUE:
            if case.aftercare != STOPPED:
                return False
            sent = await self._to_reporter(case, REOFFER, None, item.id)
            # One more offer, then peace: without a yes, nothing further comes.
            await self._storage.cases.set_aftercare(case, DECLINED, self._clock.now())
            return sent
        if item.kind in (SILENCE_OWNER, SILENCE_COORDINATORS):
            return await self._silence(case, item)
        return False

    async def _check_in(self, case: CaseRecord, item: DueItem) -> bool:
        if case.aftercare != ACTIVE:
            return False
        return await self._to_reporter(case, CHECK_IN, item.detail, item.id)

    async def _to_reporter(self, case: CaseRecord, kind: str, ref: str | None, dedupe: str) -> bool:
        index = await self._storage.people.index_of_person(case.person_id)
        if index is None:
            return False
        await self._storage.outbox.enqueue(case.id, [Delivery(index, REPORTER, kind, ref, dedupe)], self._clock.now())
        return True

    async def _silence(self, case: CaseRecord, item: DueItem) -> bool:
        """Remind when the reporter heard nothing for the period; otherwise look again when it would run out."""
        if case.status not in _OPEN:
            return False
        period = self.plan.silence_owner_after if item.kind == SILENCE_OWNER else self.plan.silence_coordinators_after
        now = self._clock.now()
        last = max(filter(None, (case.last_news_at, case.submitted_at)))
        deadline = add_period(last, period, self._zone)
        if now < deadline:
            await self._storage.schedule.add(case.id, [(item.kind, deadline)], now)
            return False
        days = max(1, (now - last).days)
        if item.kind == SILENCE_OWNER:
            recipients = [
                (i, COUNSELLOR)
                for i, s in (await self._storage.cases.counsellors_of(case.id)).items()
                if s == "assigned"
            ]
            if not recipients and in_register(case):
                # They handle anonymous registrations.
                recipients = self._router.coordinator_recipients(await self._storage.cases.barred_from(case.id))
        else:
            recipients = self._router.coordinator_recipients(await self._storage.cases.barred_from(case.id))
        deliveries = [
            Delivery(i, role, SILENCE_REMINDER, str(days), f"{item.id}:{n}") for n, (i, role) in enumerate(recipients)
        ]
        await self._storage.outbox.enqueue(case.id, deliveries, now)
        # Still silent a period from now? Then remind again.
        await self._storage.schedule.add(case.id, [(item.kind, add_period(now, period, self._zone))], now)
        await self._storage.audit.record(
            actor_role="system", actor="meldbot", action=item.kind, now=now, case_ref=case.reference, detail=str(days)
        )
        return bool(deliveries)

    # -- the reporter's answers ------------------------------------------------------------

    async def _grant(self, sender: Sender, reference: str) -> Grant | None:
        grant = await self._access.check(sender, Permission.AFTERCARE, reference)
        return grant if grant is not None and grant.person is not None else None

    async def _denied(self, sender: Sender) -> Outcome:
        person = await self._storage.people.find(sender.telegram_id)
        language = Language(person.language) if person else Language.from_telegram(sender.language_code)
        return Outcome(language, toast=Label("toast.not_yours"))

    async def answer(self, sender: Sender, reference: str, arg: str) -> Outcome:
        """A check-in button: ``arg`` is '<step>.<answer>'."""
        step_text, _, answer = arg.partition(".")
        grant = await self._grant(sender, reference)
        if (
            grant is None
            or answer not in ANSWERS
            or not step_text.isdigit()
            or int(step_text) >= len(self.plan.check_ins)
        ):
            return await self._denied(sender)
        case, step, now = grant.case, int(step_text), self._clock.now()
        language = Language(grant.person.language)
        if case.aftercare != ACTIVE:
            return Outcome(language, toast=Label("toast.already_noted"), clear_pressed_buttons=True)
        deliveries: list[Delivery] = []
        if answer in ("bothers", "talk"):
            deliveries = [Delivery(i, COUNSELLOR, CHECKIN_ALERT, answer) for i in await self._counsellors_for(case)]
        await self._storage.aftercare.answer(case, step, answer, deliveries, now)
        await self._storage.audit.record(
            actor_role="reporter", actor="reporter", action="checkin_answered", now=now, case_ref=case.reference
        )
        extra: Label | str = ""
        if answer == "stop":
            await self._stop(case)
            key = "checkin.stopped"
        elif answer == "fine":
            key = "checkin.thanks_fine"
        else:
            key = "checkin.alerted" if deliveries else "checkin.no_counsellor"
            # From the step marked for it on (six weeks by default), a lasting worry points to the doctor.
            doctor = answer == "bothers" and any(s.suggest_doctor for s in self.plan.check_ins[: step + 1])
            support = self.support_lines(case)
            extra = Label(
                "checkin.extra",
                {
                    "doctor": Label("checkin.doctor") if doctor else "",
                    "support": Label("checkin.support_after", {"lines": support}) if support else "",
                },
            )
        # One message: the answer, and where to turn, in place of the question.
        return Outcome(
            language,
            edit_pressed=Reply(key, {"reference": case.reference, "extra": extra}),
        )

    async def _counsellors_for(self, case: CaseRecord) -> list[bytes]:
        """The counsellors on the case; for a case without one, one of the reporter's group is assigned
        (it sees the case under its reference only, unless the reporter shares the name)."""
        states = await self._storage.cases.counsellors_of(case.id)
        assigned = [i for i, s in states.items() if s == "assigned"]
        if assigned:
            return assigned
        audience = Audience(case.audience) if case.audience else Audience.STAFF
        barred = await self._storage.cases.barred_from(case.id)
        candidates = [
            c for c in self._router.serving(audience, barred) if states.get(self._router.index(c)) != "recused"
        ]
        if not candidates:
            return []
        load = await self._storage.cases.open_load([self._router.index(c) for c in candidates])
        chosen = min(candidates, key=lambda c: (load.get(self._router.index(c), 0), c.position))
        await self._storage.cases.assign(case, self._router.index(chosen), [], self._clock.now())
        return [self._router.index(chosen)]

    def support_lines(self, case: CaseRecord) -> tuple[Label, ...]:
        office_holder = case.audience == Audience.OFFICE_HOLDERS.value
        return tuple(
            Label("support.line", {"kind": Label(f"support.{s.kind}"), "name": s.name, "contact": s.contact})
            for s in self.plan.support
            if s.kind != "office_holders" or office_holder
        )

    async def _stop(self, case: CaseRecord) -> None:
        now = self._clock.now()
        await self._storage.schedule.cancel(case.id, (CHECK_IN_DUE,))
        if case.aftercare == ACTIVE:
            await self._storage.cases.set_aftercare(case, STOPPED, now)
            await self._storage.schedule.add(
                case.id, [(REOFFER_DUE, add_period(now, self.plan.reoffer_after, self._zone))], now
            )

    async def stop(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._grant(sender, reference)
        if grant is None:
            return await self._denied(sender)
        await self._stop(grant.case)
        return Outcome(Language(grant.person.language), edit_pressed=Reply("checkin.stopped", {"reference": reference}))

    async def pause(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._grant(sender, reference)
        if grant is None:
            return await self._denied(sender)
        case, now = grant.case, self._clock.now()
        if case.aftercare != ACTIVE:
            return Outcome(Language(grant.person.language), toast=Label("toast.already_noted"))
        # A pause moves the coming check-ins later; it ends by itself when they fall due.
        await self._storage.schedule.postpone(case.id, (CHECK_IN_DUE,), self.plan.pause_for)
        await self._storage.audit.record(
            actor_role="reporter", actor="reporter", action="aftercare_paused", now=now, case_ref=case.reference
        )
        return Outcome(
            Language(grant.person.language),
            edit_pressed=Reply("checkin.paused", {"reference": reference, "days": self.plan.pause_for.days}),
        )

    async def resume(self, sender: Sender, reference: str, yes: bool = True) -> Outcome:
        """Check-ins again (from the re-offer, or from /mycases)."""
        grant = await self._grant(sender, reference)
        if grant is None:
            return await self._denied(sender)
        case, now = grant.case, self._clock.now()
        language = Language(grant.person.language)
        if not yes:
            await self._storage.schedule.cancel(case.id, (REOFFER_DUE,))
            await self._storage.cases.set_aftercare(case, DECLINED, now)
            return Outcome(language, edit_pressed=Reply("checkin.left_in_peace"))
        if case.aftercare == ACTIVE:
            return Outcome(language, toast=Label("toast.already_noted"), clear_pressed_buttons=True)
        await self._storage.schedule.cancel(case.id, (REOFFER_DUE, CHECK_IN_DUE))
        sent = {a.step for a in await self._storage.aftercare.answers(case)}
        timers = []
        for n, step in enumerate(self.plan.check_ins):
            due = add_period(case.submitted_at, step.after, self._zone)
            if due > now and n not in sent:
                timers.append((CHECK_IN_DUE, due, str(n)))
        if not timers and self.plan.check_ins:
            # Every planned moment has passed: one more check-in, after the usual first interval.
            timers.append(
                (
                    CHECK_IN_DUE,
                    add_period(now, self.plan.check_ins[0].after, self._zone),
                    str(len(self.plan.check_ins) - 1),
                )
            )
        await self._storage.schedule.add(case.id, timers, now)
        await self._storage.cases.set_aftercare(case, ACTIVE, now)
        return Outcome(language, edit_pressed=Reply("checkin.resumed", {"reference": reference}))

    # -- closing ----------------------------------------------------------------------

    async def closing_deliveries(self, case: CaseRecord) -> list[Delivery]:
        index = await self._storage.people.index_of_person(case.person_id)
        return [] if index is None else [Delivery(index, REPORTER, SURVEY)]

    async def survey(self, sender: Sender, reference: str, answer: str) -> Outcome:
        grant = await self._grant(sender, reference)
        if grant is None or answer not in SURVEY_ANSWERS:
            return await self._denied(sender)
        language = Language(grant.person.language)
        if not await self._storage.aftercare.answer_survey(grant.case, answer, self._clock.now()):
            return await self._denied(sender)
        await self._storage.composing.start(grant.index, grant.case.id, "survey_comment", None, self._clock.now())
        return Outcome(
            language,
            edit_pressed=Reply("survey.thanks", {"reference": reference, "answer": Label(f"survey.{answer}")}),
            replies=[Reply("survey.comment", {}, ((Choice("compose.skip", StopComposing()),),))],
        )


def checkin_keyboard(reference: str, step: int) -> tuple[tuple[Choice, ...], ...]:
    return tuple(
        (Choice(f"checkin.answer_{answer}", CaseCommand("ci", reference, f"{step}.{answer}")),) for answer in ANSWERS
    )


def reoffer_keyboard(reference: str) -> tuple[tuple[Choice, ...], ...]:
    return (
        (Choice("reoffer.yes", CaseCommand("ro", reference, "y")),),
        (Choice("reoffer.no", CaseCommand("ro", reference, "n")),),
    )


def survey_keyboard(reference: str) -> tuple[tuple[Choice, ...], ...]:
    return tuple((Choice(f"survey.{a}", CaseCommand("sv", reference, a)),) for a in SURVEY_ANSWERS)
