"""The safety pulse for office holders: a short, periodic question on how safe they feel.

What this module owns: when a pulse goes out (``[pulse] every`` period: month, quarter or
year, on its first working day at ``send_at``, outside quiet hours), who gets it (people
whose stored role is council member, alderman or mayor and who did not mute it), its
questions (how safe do you feel in your role, 1-5; did you go through incidents you did
not report, and why not; did pressure influence a decision), what "unsafe" or
"unreported" brings at once (the report button and the national support team), and what
management sees: the counts per period with small numbers hidden, and a chart.

Why the answers cannot be traced back to a person
--------------------------------------------------
- The answers so far travel in the buttons' callback data (flows.outcome.PulseAnswer),
  not in the database: nothing is written while someone is answering.
- The last answer adds one to a counter per question and answer of the period
  (``pulse_counts``): no row per person, no time, no insertion order (WITHOUT ROWID), and
  the write-ahead log is folded back at once so no older counter page lies beside the
  newer one.
- Answering twice is prevented by a closed-marker (``pulse_closed``) written in the same
  transaction: a keyed hash of the Telegram id and the period, so it cannot be joined to
  ``persons`` (whose index is a different keyed hash) without the key, and it says
  nothing about the answer: it is also written when someone declines or mutes, so it
  does not even say that they answered. Only the current period's markers are kept, and
  /forgetme removes a person's.
- What remains: whoever holds both the database and the key file can test whether a
  given Telegram id closed this period's pulse, and while only one or two have, the
  stored counts are theirs. That is why /pulse shows nothing of a period with fewer than
  five respondents and hides every count under five.

Small numbers (the same rule as the statistics, flows/suppression.py): a period with
fewer than five respondents shows nothing; every count under five is hidden; in a
question whose answers add up to the respondents, at least two cells are hidden together
and they hold at least one answer between them (the smallest shown cells are hidden
with a small one until that holds), so whoever knows the rule and sees every shown
number still finds more than one value possible for each hidden count
(tests/test_pulse.py checks this against every way the answers could be split). The
reasons are counted among those who said "yes, unreported": shown, that count bounds
them from above only; hidden, it hides them all. Periods are independent: nothing shown
adds up several periods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from flows.aftercare import SupportContact
from flows.clock import Clock
from flows.lifecycle import Delivery, Drop, Notice, Party, Send, Timer, TimerKind, Verdict
from flows.model import Language, Role, Sender
from flows.outcome import Choice, Keyboard, Label, Outcome, PulseAnswer, PulseDecline, Reply, StartReport
from flows.routing import Router
from flows.statistics import Count, Period, PeriodKind, Suppressed
from flows.statistics_text import count_text, period_label
from storage import Storage
from storage.outbox import OutboxItem
from storage.people import PersonRecord
from storage.schedule import DueItem

THRESHOLD = 5
SHOWN_PERIODS = 8  # the chart in /pulse: two years of quarters
TEXT_PERIODS = 4  # the figures as text: the last four periods (one Telegram message)


class Question(StrEnum):
    RESPONDENTS = "respondents"  # answer "all": how many answered the period's pulse
    SAFETY = "safety"  # answer "1" (very unsafe) .. "5" (very safe)
    UNREPORTED = "unreported"  # yes / no
    REASON = "reason"  # a Reason, among those who said yes to UNREPORTED (several allowed)
    DECISION = "decision"  # yes / no


class Reason(StrEnum):
    """Why an incident was not reported (the reasons the monitors found most)."""

    NOT_SERIOUS = "not_serious"
    PART_OF_JOB = "part_of_job"
    WONT_HELP = "wont_help"
    OTHER = "other"


REASONS = tuple(Reason)  # bit n of PulseAnswer.reasons is REASONS[n]
SAFETY_POINTS = (1, 2, 3, 4, 5)
UNSAFE = frozenset({1, 2})
YES, NO = 1, 2
_YES_NO = {YES: "yes", NO: "no"}


@dataclass(frozen=True, slots=True)
class PulsePlan:
    """The ``[pulse]`` settings."""

    enabled: bool = False
    every: PeriodKind = PeriodKind.QUARTER
    send_at: time = time(10, 0)  # local time on the first working day of the period
    support: tuple[SupportContact, ...] = ()  # [[aftercare.support]] of kind office_holders


# -- periods and their first working day ------------------------------------------------


def period_key(period: Period) -> str:
    """How a period is named in the database and in buttons: 2026q4, 2026m10, 2026y1."""
    return f"{period.year}{period.kind.value[0]}{period.number}"


def period_from_key(key: str) -> Period | None:
    kinds = {kind.value[0]: kind for kind in PeriodKind}
    if len(key) < 6 or not key[:4].isdigit() or key[4] not in kinds or not key[5:].isdigit():
        return None
    try:
        return Period(kinds[key[4]], int(key[:4]), int(key[5:]))
    except ValueError:
        return None


def next_period(period: Period, zone: ZoneInfo) -> Period:
    return Period.containing(period.kind, period.end(zone), zone)


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous algorithm of 1876)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * weekday) // 433
    month = (h + weekday - 7 * m + 90) // 25
    return date(year, month, (h + weekday - 7 * m + 33 * month + 19) % 32)


def public_holidays(year: int) -> frozenset[date]:
    """The Dutch public holidays on which town halls are closed (Liberation Day only every fifth year)."""
    easter = easter_sunday(year)
    kings_day = date(year, 4, 27)
    days = {
        date(year, 1, 1),
        easter + timedelta(days=1),
        kings_day - timedelta(days=1) if kings_day.weekday() == 6 else kings_day,
        easter + timedelta(days=39),  # Ascension Day
        easter + timedelta(days=50),  # Whit Monday
        date(year, 12, 25),
        date(year, 12, 26),
    }
    if year % 5 == 0:
        days.add(date(year, 5, 5))
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in public_holidays(day.year)


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the first one after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def send_moment(period: Period, plan: PulsePlan, zone: ZoneInfo) -> datetime:
    """When a period's pulse goes out: its first working day at ``send_at``, local time (in UTC)."""
    day = next_working_day(period.start(zone).date())
    return datetime.combine(day, plan.send_at, tzinfo=zone).astimezone(UTC)


def next_send_slot(moment: datetime, plan: PulsePlan, zone: ZoneInfo) -> datetime:
    """The first working-day ``send_at`` at or after ``moment`` (a pulse switched on mid-period)."""
    day = moment.astimezone(zone).date()
    while True:
        day = next_working_day(day)
        slot = datetime.combine(day, plan.send_at, tzinfo=zone).astimezone(UTC)
        if slot >= moment:
            return slot
        day += timedelta(days=1)


# -- answers --------------------------------------------------------------------------


def chosen_reasons(bits: int) -> tuple[Reason, ...]:
    return tuple(reason for n, reason in enumerate(REASONS) if bits >> n & 1)


def well_formed(answer: PulseAnswer) -> bool:
    """Values in range, and each answer only after the ones before it (buttons can be forged)."""
    if not (
        0 <= answer.safety <= 5
        and answer.unreported in (0, YES, NO)
        and 0 <= answer.reasons < 2 ** len(REASONS)
        and answer.decision in (0, YES, NO)
    ):
        return False
    if answer.safety == 0 and (answer.unreported or answer.reasons or answer.reasons_done or answer.decision):
        return False
    if answer.unreported != YES and (answer.reasons or answer.reasons_done):
        return False
    asked_reasons = answer.unreported == NO or answer.reasons_done
    return not (answer.decision and (answer.unreported == 0 or not asked_reasons))


def complete(answer: PulseAnswer) -> bool:
    return answer.decision != 0


def counted(answer: PulseAnswer) -> list[tuple[str, str]]:
    """The counters a complete answer adds one to."""
    pairs = [
        (Question.RESPONDENTS.value, "all"),
        (Question.SAFETY.value, str(answer.safety)),
        (Question.UNREPORTED.value, _YES_NO[answer.unreported]),
        (Question.DECISION.value, _YES_NO[answer.decision]),
    ]
    pairs += [(Question.REASON.value, reason.value) for reason in chosen_reasons(answer.reasons)]
    return pairs


def needs_support(before: PulseAnswer, after: PulseAnswer) -> bool:
    """Whether this press is the first to say "unsafe" or "unreported incidents": help comes at once."""
    said_before = before.safety in UNSAFE or before.unreported == YES
    said_now = after.safety in UNSAFE or after.unreported == YES
    return said_now and not said_before


# -- what management sees -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PulseResult:
    """One period's pulse, as it may be shown: hidden counts are Suppressed.HIDDEN."""

    period: Period
    respondents: Count
    safety: tuple[Count, ...]  # SAFETY_POINTS in order
    unreported: tuple[Count, Count]  # yes, no
    reasons: tuple[Count, ...]  # REASONS in order, among those who said yes
    decision: tuple[Count, Count]  # yes, no


HIDDEN_COUNT = Suppressed.HIDDEN


def _protect(values: Sequence[int]) -> tuple[Count, ...]:
    """The cells of one question that add up to the respondents, with complementary suppression."""
    hidden = {n for n, value in enumerate(values) if value < THRESHOLD}
    if hidden:
        shown = sorted((value, n) for n, value in enumerate(values) if n not in hidden)
        while shown and (len(hidden) < 2 or sum(values[n] for n in hidden) == 0):
            hidden.add(shown.pop(0)[1])
    return tuple(HIDDEN_COUNT if n in hidden else value for n, value in enumerate(values))


def publish(period: Period, counts: Mapping[tuple[str, str], int]) -> PulseResult:
    """A period's counters as they may be shown (see "Small numbers" above)."""

    def get(question: Question, answer: str) -> int:
        return counts.get((question.value, answer), 0)

    respondents = get(Question.RESPONDENTS, "all")
    if respondents < THRESHOLD:
        return PulseResult(
            period,
            HIDDEN_COUNT,
            (HIDDEN_COUNT,) * len(SAFETY_POINTS),
            (HIDDEN_COUNT, HIDDEN_COUNT),
            (HIDDEN_COUNT,) * len(REASONS),
            (HIDDEN_COUNT, HIDDEN_COUNT),
        )
    unreported = _protect([get(Question.UNREPORTED, "yes"), get(Question.UNREPORTED, "no")])
    reasons: tuple[Count, ...]
    if isinstance(unreported[0], int):
        reasons = tuple(HIDDEN_COUNT if (n := get(Question.REASON, r.value)) < THRESHOLD else n for r in REASONS)
    else:
        reasons = (HIDDEN_COUNT,) * len(REASONS)
    yes_no = _protect([get(Question.DECISION, "yes"), get(Question.DECISION, "no")])
    return PulseResult(
        period,
        respondents,
        _protect([get(Question.SAFETY, str(point)) for point in SAFETY_POINTS]),
        (unreported[0], unreported[1]),
        reasons,
        (yes_no[0], yes_no[1]),
    )


def trend(rounds: Sequence[str], counts: Mapping[str, Mapping[tuple[str, str], int]]) -> list[PulseResult]:
    """The last periods whose pulse went out, oldest first, each protected on its own."""
    periods = sorted(
        (p for key in rounds if (p := period_from_key(key)) is not None),
        key=lambda p: (p.year, p.months()[0].number, len(p.months())),
    )
    return [publish(p, counts.get(period_key(p), {})) for p in periods[-SHOWN_PERIODS:]]


# -- the flow -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PulseView:
    """What /pulse shows: the figures as text, and the chart (None when there is nothing to draw)."""

    outcome: Outcome
    chart: bytes | None = None
    caption: Reply | None = None


@dataclass(slots=True)
class PulseFlow:
    storage: Storage
    router: Router
    clock: Clock
    zone: ZoneInfo
    plan: PulsePlan
    # Who besides the coordinators may see the results: the management role's Telegram ids.
    viewers: frozenset[int] = field(default_factory=frozenset)

    def current(self) -> Period:
        return Period.containing(self.plan.every, self.clock.now(), self.zone)

    # -- the round, on the timekeeper --------------------------------------------------

    async def arm(self) -> datetime | None:
        """At start: make sure the next round is on the timekeeper (when the pulse is on)."""
        if not self.plan.enabled or await self.storage.pulse.round_pending():
            return None
        now = self.clock.now()
        period = self.current()
        if await self.storage.pulse.round_opened(period_key(period)):
            period = next_period(period, self.zone)
            due = send_moment(period, self.plan, self.zone)
        else:
            due = max(send_moment(period, self.plan, self.zone), next_send_slot(now, self.plan, self.zone))
        await self.storage.schedule.add(None, [Timer(TimerKind.PULSE_ROUND, due, period_key(period))], now)
        return due

    async def run(self, item: DueItem) -> bool:
        """The round falls due: every office holder who did not mute it gets the pulse; the next round is set."""
        if not self.plan.enabled:
            return False  # switched off meanwhile: not set again until it is switched on (arm, at start)
        now = self.clock.now()
        period = self.current()
        key = period_key(period)
        deliveries = [
            Delivery(index, Party.REPORTER, Notice.PULSE, key, dedupe=f"{item.id}:{n}")
            for n, index in enumerate(await self.storage.pulse.office_holders())
        ]
        following = next_period(period, self.zone)
        timer = Timer(TimerKind.PULSE_ROUND, send_moment(following, self.plan, self.zone), period_key(following))
        return await self.storage.pulse.open_round(key, deliveries, timer, now)

    # -- at sending --------------------------------------------------------------------

    async def _refusal(self, person: PersonRecord | None, key: str) -> str | None:
        """Why this person may not answer the pulse ``key`` now (None: they may)."""
        if not self.plan.enabled:
            return "pulse_off"
        if person is None:
            return "person_gone"
        if person.role is None or not Role(person.role).is_office_holder:
            return "not_office_holder"
        if key != period_key(self.current()) or not await self.storage.pulse.round_opened(key):
            return "period_over"
        if await self.storage.pulse.muted(person.id):
            return "muted"
        if await self.storage.pulse.is_closed(key, person.telegram_id):
            return "closed"
        return None

    async def authorise(self, item: OutboxItem) -> Verdict:
        """Decided again when the pulse is sent: someone who muted it, left, or was erased gets nothing."""
        person = await self.storage.people.find_by_index(item.recipient_index)
        reason = await self._refusal(person, item.ref or "")
        return Send() if reason is None else Drop(reason)

    def compose(self, item: OutboxItem) -> Reply:
        return self.question(PulseAnswer(item.ref or ""))

    # -- the office holder's answers ---------------------------------------------------

    async def _person(self, sender: Sender) -> tuple[PersonRecord | None, Language]:
        person = await self.storage.people.find(sender.telegram_id)
        language = Language(person.language) if person else Language.from_telegram(sender.language_code)
        return person, language

    async def press(self, sender: Sender, answer: PulseAnswer) -> Outcome:
        """One answer of the pulse; the last one is counted, and only then is anything stored."""
        person, language = await self._person(sender)
        if not well_formed(answer):
            return Outcome(language, toast=Label("toast.stale"))
        if await self._refusal(person, answer.period) is not None:
            return Outcome(language, toast=Label("pulse.closed"), clear_pressed_buttons=True)
        assert person is not None
        replies = []
        if needs_support(_previous(answer), answer):
            replies.append(self.support())
        if not complete(answer):
            return Outcome(language, edit_pressed=self.question(answer), replies=replies)
        if not await self.storage.pulse.close(answer.period, person.telegram_id, counted(answer)):
            return Outcome(language, toast=Label("pulse.closed"), clear_pressed_buttons=True)
        return Outcome(language, edit_pressed=Reply("pulse.thanks"), replies=replies)

    async def decline(self, sender: Sender, action: PulseDecline) -> Outcome:
        """Declining: "not now" closes this period's pulse, "never again" also mutes it for good."""
        person, language = await self._person(sender)
        refusal = await self._refusal(person, action.period)
        if refusal in ("pulse_off", "person_gone", "not_office_holder"):
            return Outcome(language, toast=Label("toast.stale"))
        assert person is not None
        if action.mute:
            await self.storage.pulse.mute(person.id, self.clock.now())
        if refusal is None:
            await self.storage.pulse.close(action.period, person.telegram_id)
        return Outcome(language, edit_pressed=Reply("pulse.muted" if action.mute else "pulse.declined"))

    def support(self) -> Reply:
        """The national support team (configured, or the default words) and the report button, at once."""
        lines = tuple(
            Label("support.line", {"kind": Label(f"support.{s.kind}"), "name": s.name, "contact": s.contact})
            for s in self.plan.support
        )
        return Reply(
            "pulse.support",
            {"contacts": Label("pulse.support_lines", {"lines": lines}) if lines else Label("pulse.support_default")},
            ((Choice("button.report", StartReport()),),),
        )

    def question(self, answer: PulseAnswer) -> Reply:
        """The screen that asks what ``answer`` still lacks (flows/pulse.mmd)."""
        since = Label(f"pulse.since.{self.plan.every.value}")
        decline_row = (
            Choice("pulse.not_now", PulseDecline(answer.period, mute=False)),
            Choice("pulse.never", PulseDecline(answer.period, mute=True)),
        )
        if answer.safety == 0:
            rows: Keyboard = tuple(
                (Choice(f"pulse.safety.{point}", PulseAnswer(answer.period, safety=point)),) for point in SAFETY_POINTS
            )
            return Reply("pulse.intro", {"since": since}, (*rows, decline_row))
        if answer.unreported == 0:
            return Reply(
                "pulse.ask_unreported",
                {"since": since},
                (
                    (
                        Choice("pulse.yes", replace(answer, unreported=YES)),
                        Choice("pulse.no", replace(answer, unreported=NO)),
                    ),
                ),
            )
        if answer.unreported == YES and not answer.reasons_done:
            rows = tuple(
                (
                    Choice(
                        f"pulse.reason.{reason.value}",
                        replace(answer, reasons=answer.reasons ^ (1 << n)),
                        {"mark": "✅ " if answer.reasons >> n & 1 else ""},
                    ),
                )
                for n, reason in enumerate(REASONS)
            )
            return Reply("pulse.ask_reasons", {}, (*rows, (Choice("pulse.done", replace(answer, reasons_done=True)),)))
        return Reply(
            "pulse.ask_decision",
            {"since": since},
            ((Choice("pulse.yes", replace(answer, decision=YES)), Choice("pulse.no", replace(answer, decision=NO))),),
        )

    # -- what management sees ------------------------------------------------------------

    def may_see_results(self, sender: Sender) -> bool:
        index = self.storage.people.index_of(sender.telegram_id)
        return (
            self.router.coordinator(index) is not None
            or index in self.router.management_indexes()
            or sender.telegram_id in self.viewers
        )

    async def results(self, sender: Sender) -> PulseView:
        """/pulse: the trend per period, small numbers hidden, with its chart."""
        if not self.may_see_results(sender):
            _, language = await self._person(sender)
            return PulseView(Outcome(language, replies=[Reply("pulse.only_management")]))
        members = self.router.staff_member(sender.telegram_id)
        language = members[0].language if members else (await self._person(sender))[1]
        results = trend(await self.storage.pulse.rounds(), await self.storage.pulse.counts())
        if not results:
            key = "pulse.none" if self.plan.enabled else "pulse.none_off"
            return PulseView(Outcome(language, replies=[Reply(key)]))
        blocks = tuple(_result_block(language.value, r) for r in results[-TEXT_PERIODS:])
        text = Reply("pulse.results", {"periods": blocks}, protect_content=True)
        # Drawn here only: matplotlib takes half a second to load, which the bot's start and stop need not pay.
        from flows.pulse_chart import pulse_chart

        chart = pulse_chart(results, language.value)
        return PulseView(Outcome(language, replies=[text]), chart, Reply("pulse.chart.caption", protect_content=True))


def _previous(answer: PulseAnswer) -> PulseAnswer:
    """The answer as it stood before this press (each press adds the next answer, or toggles a reason)."""
    if answer.decision:
        return replace(answer, decision=0)
    if answer.reasons_done or answer.reasons:
        return answer  # reasons come after "unreported": that press has passed
    if answer.unreported:
        return replace(answer, unreported=0)
    return replace(answer, safety=0)


def _result_block(language: str, result: PulseResult) -> Label:
    def cells(keys: Sequence[str], counts: Sequence[Count]) -> tuple[Label, ...]:
        return tuple(
            Label("pulse.results.cell", {"answer": Label(key), "count": count_text(language, count)})
            for key, count in zip(keys, counts, strict=True)
        )

    return Label(
        "pulse.results.period",
        {
            "period": period_label(language, result.period),
            "respondents": count_text(language, result.respondents),
            "safety": cells([f"pulse.safety.{p}" for p in SAFETY_POINTS], result.safety),
            "unreported": cells(["pulse.yes", "pulse.no"], result.unreported),
            "reasons": cells([f"pulse.reason_plain.{r.value}" for r in REASONS], result.reasons),
            "decision": cells(["pulse.yes", "pulse.no"], result.decision),
        },
    )
