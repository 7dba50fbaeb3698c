"""What may be sent is decided when it is sent: properties over random cases and random interleavings.

First over the rule itself: for any case as it may be at the moment of sending, and any
notification to anyone, flows.lifecycle.delivery_verdict lets out only what the model below
allows (and does let out what the person handling the case must get).

Then over the whole bot: a report is filed; then, in random order, the reporter withdraws
it, gives or withdraws consent for the register, hides their name, adds messages, or asks
to be forgotten; counsellors acknowledge, take over, hand over, recuse, close and write;
nobody acknowledges in time and the case escalates; staff press Start late or never; the
courier delivers now and then. Whatever the order, every message a staff member receives
is one the model allows at the moment it is sent: the report's words, the reporter's name
and how the reporter is doing reach only someone who may see them then.

The model reads the typed case as stored at the moment of each send; it does not call the
code under test to decide.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram.error import Forbidden

import messages
from bot.delivery import ChatPacer, Courier
from flows.lifecycle import (
    AftercareState,
    Case,
    CaseStatus,
    CounsellorState,
    Drop,
    Notice,
    Party,
    Readdress,
    RegisterState,
    Send,
    TimerKind,
    delivery_verdict,
)
from flows.model import Audience, Channel, Form, Role, Wish
from flows.outcome import Forget
from storage import Storage
from tests.support import (
    AMSTERDAM,
    COORDINATOR,
    HOLDERS_COUNSELLOR,
    SECOND_STAFF,
    STAFF_COUNSELLOR,
    ManualClock,
    World,
    reporter,
    staff,
)

COUNSELLORS = (STAFF_COUNSELLOR, SECOND_STAFF, HOLDERS_COUNSELLOR)
STAFF = {m.telegram_id: m for m in (*COUNSELLORS, COORDINATOR)}
NAME_MARK = "Zwaantje"
STORY_MARK = "VERHAALMERK"
MESSAGE_MARK = "BERICHTMERK"
REFERENCE = re.compile(r"MB-[0-9A-Z]{4}-[0-9A-Z]{4}")

# -- the model ------------------------------------------------------------------------------
# Written from the rules as the README and flows/access.py state them, not from delivery_verdict.

IN_REGISTER = frozenset({RegisterState.ANONYMOUS, RegisterState.NAMED})
OPEN = frozenset({CaseStatus.NEW, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS})
# What carries the report's words, the conversation, the reporter's name, or how the reporter is.
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
    }
)
# What a counsellor asked to pick a case up may see of it before taking it: the report itself.
REPORT = frozenset({Notice.CASE_REPORT, Notice.CASE_REPORT_ESCALATED, Notice.CASE_TEXT, Notice.CASE_ATTACHMENT})
# What belongs to the case rather than to the counsellor it was queued for.
CONVERSATION = frozenset(
    {
        Notice.RELAY,
        Notice.RELAY_FILE,
        Notice.CASE_ADDITION,
        Notice.CHECKIN_ALERT,
        Notice.CONSENT_ANSWER,
        Notice.SILENCE_REMINDER,
    }
)
# Metadata only (reference, group, forms, age), about open cases.
ALERTS = frozenset({Notice.COORDINATOR_ALERT, Notice.CASE_WAITING, Notice.SILENCE_REMINDER})


def may_see_content(case: Case, recipient: bytes, party: Party, kind: Notice) -> bool:
    if case.status is CaseStatus.WITHDRAWN or recipient in case.excluded or recipient == case.reporter:
        return False
    if party is Party.COORDINATOR:
        return case.register in IN_REGISTER and kind is not Notice.CHECKIN_ALERT  # health: counsellors only
    state = case.counsellors.get(recipient)
    if state is CounsellorState.ASSIGNED:
        return True
    return state is CounsellorState.ALERTED and kind in REPORT and case.status in OPEN


def may_see_name(case: Case, recipient: bytes, party: Party) -> bool:
    if party is Party.COORDINATOR:
        return case.register is RegisterState.NAMED
    return case.share_name_counsellor and case.wish is not Wish.ANONYMOUS_REGISTER


def may_see_health(case: Case, recipient: bytes, party: Party) -> bool:
    return may_see_content(case, recipient, party, Notice.CHECKIN_ALERT)


# -- the rule, over any case ---------------------------------------------------------------------

INDEXES = (b"a" * 32, b"b" * 32, b"c" * 32)
REPORTER_INDEX = b"r" * 32


@st.composite
def cases(draw: st.DrawFn) -> Case:
    wish = draw(st.sampled_from(Wish))
    counsellors = draw(st.dictionaries(st.sampled_from(INDEXES), st.sampled_from(CounsellorState), max_size=3))
    return Case(
        id="c",
        reference="MB-TEST-CASE",
        person_id=draw(st.sampled_from(["p", None])),
        status=draw(st.sampled_from([s for s in CaseStatus if s is not CaseStatus.DRAFT])),
        forms=frozenset({Form.THREAT}),
        incident_date=date(2026, 11, 18),
        channel=Channel.IN_PERSON,
        role=Role.EMPLOYEE,
        audience=Audience.STAFF,
        wish=wish,
        share_name_counsellor=draw(st.booleans()),
        share_name_coordinator=draw(st.booleans()),
        description="",
        attachment_count=0,
        submitted_at=datetime(2026, 11, 18, 10, 30, tzinfo=UTC),
        register=draw(st.sampled_from(RegisterState)),
        aftercare=AftercareState.ACTIVE,
        escalation=draw(st.integers(0, 2)),
        department=None,
        counsellors=counsellors,
        excluded=draw(st.frozensets(st.sampled_from(INDEXES), max_size=2)),
        reporter=draw(st.sampled_from([REPORTER_INDEX, *INDEXES, None])),  # a counsellor may report too
        link_consent=draw(st.booleans()),
    )


@settings(max_examples=3000, deadline=None)
@given(
    case=cases(),
    kind=st.sampled_from(Notice),
    recipient=st.sampled_from(INDEXES),
    party=st.sampled_from([Party.COUNSELLOR, Party.COORDINATOR]),
    told_before=st.booleans(),
)
def test_the_verdict_lets_staff_receive_only_what_they_may_see_at_the_moment_of_sending(
    case, kind, recipient, party, told_before
):
    verdict = delivery_verdict(case, kind, recipient, party, told_before=told_before)
    assert isinstance(verdict, Send | Drop | Readdress)
    if kind is Notice.NOT_ALONE:
        assert verdict == Drop("reporter_only")  # no staff member learns that other reports name the person
    barred = recipient in case.excluded or recipient == case.reporter
    state = case.counsellors.get(recipient)
    if isinstance(verdict, Send):
        assert not barred
        if kind in CONTENT:
            assert may_see_content(case, recipient, party, kind)
        if kind is Notice.CASE_WITHDRAWN:
            assert case.status is CaseStatus.WITHDRAWN and told_before  # never news of a case they never knew
        elif kind is Notice.REGISTER_WITHDRAWN:
            assert told_before and case.register not in IN_REGISTER
        else:
            assert case.status is not CaseStatus.WITHDRAWN
        if (kind in ALERTS and party is Party.COORDINATOR) or kind is Notice.SILENCE_REMINDER:
            assert case.status in OPEN
        if kind is Notice.CASE_TAKEN_OVER and party is Party.COUNSELLOR:
            assert state is CounsellorState.FORMER  # told once the case is no longer theirs
    if isinstance(verdict, Readdress):
        # Only the conversation follows the case to whoever handles it now; never for a case that is gone.
        assert party is Party.COUNSELLOR and kind in CONVERSATION
        assert state is not CounsellorState.ASSIGNED and not barred and case.status is not CaseStatus.WITHDRAWN
    # And what the person handling the case must get, goes.
    if kind in CONTENT and may_see_content(case, recipient, party, kind):
        assert verdict == Send()
    if kind is Notice.CASE_WITHDRAWN and case.status is CaseStatus.WITHDRAWN and told_before and not barred:
        assert verdict == Send()


@settings(max_examples=300, deadline=None)
@given(case=cases(), kind=st.sampled_from(Notice))
def test_the_reporter_hears_everything_about_their_case_until_they_withdraw_it(case, kind):
    verdict = delivery_verdict(case, kind, REPORTER_INDEX, Party.REPORTER, told_before=True)
    hears = case.status is not CaseStatus.WITHDRAWN
    if kind is Notice.NOT_ALONE:
        # "Other reports name the same person" only while the report may still join them.
        hears = hears and case.link_consent and case.register is RegisterState.NONE
    assert isinstance(verdict, Send if hears else Drop)


# -- the whole bot, over random interleavings -------------------------------------------------


def _tails(key: str) -> set[str]:
    """What a staff notification of this key says after the case reference, in every language."""
    return {
        messages.render(lang, key, {"who": "", "reference": "MB-0000-0000"}).split("MB-0000-0000", 1)[1]
        for lang in messages.LANGUAGES
    }


HEALTH_MARKS = _tails("staff.checkin_talk") | _tails("staff.checkin_bothers")


@dataclass
class Sent:
    chat_id: int
    text: str


@dataclass
class FakeMessage:
    message_id: int


@dataclass
class FakeBot:
    """Telegram as the courier sees it: refuses people who never pressed Start, checks the rest."""

    check: Any
    started: set[int] = field(default_factory=set)
    sent: list[Sent] = field(default_factory=list)

    async def _deliver(self, chat_id: int, text: str) -> FakeMessage:
        if chat_id not in self.started:
            raise Forbidden("Forbidden: bot can't initiate conversation with a user")
        await self.check(chat_id, text)
        self.sent.append(Sent(chat_id, text))
        return FakeMessage(len(self.sent))

    async def send_message(self, chat_id: int, text: str, **_: object) -> FakeMessage:
        return await self._deliver(chat_id, text)

    async def _file(self, chat_id: int, upload: object, caption: str = "", **_: object) -> FakeMessage:
        return await self._deliver(chat_id, caption)

    send_photo = send_document = send_voice = send_audio = send_video = _file


class FakeJobQueue:
    def run_once(self, *args: object, **kwargs: object) -> None:
        return None

    def run_repeating(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class FakeApplication:
    bot: FakeBot
    job_queue: FakeJobQueue = field(default_factory=FakeJobQueue)


class Scenario:
    def __init__(self, storage: Storage, clock: ManualClock) -> None:
        self.storage, self.clock = storage, clock
        self.world = World(storage, clock, counsellors=COUNSELLORS)
        self.bot = FakeBot(self.check)
        self.courier = Courier(
            FakeApplication(self.bot),  # type: ignore[arg-type]
            storage,
            self.world.router,
            clock,
            AMSTERDAM,
            notices=self.world.notices,
            sweep_interval=timedelta(seconds=30),
            max_backoff=timedelta(minutes=5),
        )
        self.courier.pacer = ChatPacer(interval=0)
        self.anna = reporter(5001, f"Anna {NAME_MARK}", "zwaantje_a")
        self.bot.started.add(self.anna.telegram_id)
        self.reference = ""
        self.violations: list[str] = []

    async def check(self, chat_id: int, text: str) -> None:
        """The model: may this person see this, now?"""
        if chat_id not in STAFF:
            return
        member = STAFF[chat_id]
        index = self.storage.people.index_of(chat_id)
        party = Party.COUNSELLOR if member in COUNSELLORS else Party.COORDINATOR
        case = await self.storage.cases.by_reference(self.reference)
        shows_story = STORY_MARK in text or MESSAGE_MARK in text
        shows_name = NAME_MARK in text or "zwaantje_a" in text
        shows_health = any(mark in text for mark in HEALTH_MARKS)
        if case is None:
            if shows_story or shows_name or shows_health:
                self.violations.append(f"{member.name} got content of an erased case: {text[:80]!r}")
            return
        state = case.counsellors.get(index)
        # The report's words and the reporter's name come with the report; a message only with the conversation.
        report = STORY_MARK in text or shows_name
        if (report and not may_see_content(case, index, party, Notice.CASE_REPORT)) or (
            MESSAGE_MARK in text and not may_see_content(case, index, party, Notice.RELAY)
        ):
            self.violations.append(
                f"{member.name} ({party.value}, {state}) got content of case {case.status.value}"
                f" / register {case.register.value}: {text[:80]!r}"
            )
        if shows_name and not may_see_name(case, index, party):
            self.violations.append(f"{member.name} saw the reporter's name without consent: {text[:80]!r}")
        if shows_health and not may_see_health(case, index, party):
            self.violations.append(f"{member.name} ({party.value}, {state}) heard how the reporter is: {text[:80]!r}")

    async def file(self, wish: str, named: bool) -> None:
        case = await self.world.report(
            self.anna, wish=wish, text=f"Hij wachtte me op bij de auto. {STORY_MARK}", share_coordinator=named
        )
        self.reference = case.reference

    async def on_case(self, *states: CounsellorState) -> list[Any]:
        case = await self.storage.cases.by_reference(self.reference)
        if case is None:
            return []
        return [m for m in COUNSELLORS if case.counsellors.get(self.storage.people.index_of(m.telegram_id)) in states]

    async def step(self, name: str, pick: int) -> None:
        world, ref = self.world, self.reference
        if name == "deliver":
            await self.courier.run()
        elif name == "start":
            member = list(STAFF.values())[pick % len(STAFF)]
            self.bot.started.add(member.telegram_id)
            await self.courier.arrived(self.storage.people.index_of(member.telegram_id))
        elif name == "withdraw":
            await world.mycases.withdraw(self.anna, ref, True)
        elif name in ("consent_named", "consent_anonymous", "consent_withdraw"):
            await world.mycases.consent(self.anna, ref, name.removeprefix("consent_"))
        elif name == "toggle_name":
            await world.mycases.toggle_name(self.anna, ref)
        elif name == "forget":
            await world.mycases.forget(self.anna, Forget(True))
        elif name == "reporter_writes":
            thread = ("counsellor", "coordinator")[pick % 2]
            await world.mycases.start(self.anna, ref, "reply", thread)
            await world.relay.text(self.anna, f"Hij stond er weer. {MESSAGE_MARK}")
        elif name == "reporter_adds":
            await world.mycases.start(self.anna, ref, "addition", "")
            await world.relay.text(self.anna, f"Nog iets: {MESSAGE_MARK}")
        elif name == "escalate":
            self.clock.advance(hours=25)
            await world.run_due()
        elif name == "checkin_talk":
            self.clock.advance(hours=73)
            await world.run_due((TimerKind.CHECK_IN,))
            await world.aftercare.answer(self.anna, ref, 0, ("talk", "bothers")[pick % 2])
        elif name == "take_over":
            alerted = await self.on_case(CounsellorState.ALERTED)
            if alerted:
                await world.casework.acknowledge(staff(alerted[pick % len(alerted)]), ref)
        else:  # what the counsellor on the case does
            handlers = await self.on_case(CounsellorState.ASSIGNED)
            if not handlers:
                return
            counsellor = handlers[pick % len(handlers)]
            if name == "acknowledge":
                await world.casework.acknowledge(staff(counsellor), ref)
            elif name == "hand_over":
                others = [c for c in COUNSELLORS[:2] if c is not counsellor]
                await world.casework.hand_over(staff(counsellor), ref, others[0].position)
            elif name == "recuse":
                await world.casework.recuse(staff(counsellor), ref, True)
            elif name == "close":
                await world.casework.status(staff(counsellor), ref, "closed")
            elif name == "counsellor_writes":
                await world.casework.start_message(staff(counsellor), ref)
                await world.relay.text(staff(counsellor), "Zullen we morgen bellen?")


STEPS = st.sampled_from(
    [
        "deliver",
        "start",
        "withdraw",
        "consent_named",
        "consent_anonymous",
        "consent_withdraw",
        "toggle_name",
        "forget",
        "reporter_writes",
        "reporter_adds",
        "escalate",
        "checkin_talk",
        "take_over",
        "acknowledge",
        "hand_over",
        "recuse",
        "close",
        "counsellor_writes",
    ]
)


async def play(folder: Path, wish: str, named: bool, started: set[int], steps: list[tuple[str, int]]) -> Scenario:
    storage = await Storage.open(folder / "meldbot.db", folder / "meldbot.key")
    try:
        scenario = Scenario(storage, ManualClock())
        scenario.bot.started |= started
        await scenario.file(wish, named)
        for name, pick in steps:
            await scenario.step(name, pick)
        # In the end everyone opens the bot and everything that may still go, goes.
        for member in STAFF.values():
            scenario.bot.started.add(member.telegram_id)
            await scenario.courier.arrived(storage.people.index_of(member.telegram_id))
        scenario.clock.advance(hours=1)
        await scenario.courier.run()
        pending = await storage.outbox.status_counts()
        assert not pending.get("pending") and not pending.get("sending"), pending
        return scenario
    finally:
        await storage.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    wish=st.sampled_from(["counsellor", "counsellor_and_register", "anonymous_register"]),
    named=st.booleans(),
    started=st.sets(st.sampled_from(sorted(STAFF))),
    steps=st.lists(st.tuples(STEPS, st.integers(0, 3)), min_size=1, max_size=14),
)
def test_every_message_staff_receive_is_allowed_at_the_moment_it_is_sent(wish, named, started, steps):
    with tempfile.TemporaryDirectory() as folder:
        scenario = asyncio.run(play(Path(folder), wish, named, started, steps))
    assert scenario.violations == []


def test_a_report_withdrawn_before_the_coordinator_starts_reaches_them_as_a_reference_at_most():
    """The scenario from the field, as a fixed example of the property."""
    steps = [("withdraw", 0), ("deliver", 0), ("start", 3), ("deliver", 0)]
    with tempfile.TemporaryDirectory() as folder:
        scenario = asyncio.run(
            play(Path(folder), "counsellor_and_register", True, {STAFF_COUNSELLOR.telegram_id}, steps)
        )
    assert scenario.violations == []
    to_coordinator = [s.text for s in scenario.bot.sent if s.chat_id == COORDINATOR.telegram_id]
    assert all(STORY_MARK not in text and NAME_MARK not in text for text in to_coordinator)
    assert all(set(REFERENCE.findall(text)) <= {scenario.reference} for text in to_coordinator)


def test_how_the_reporter_is_reaches_whoever_handles_the_case_when_it_is_sent():
    """A worry voiced while the counsellor had not pressed Start, the case handed over meanwhile:
    the alert goes to the counsellor who has the case then, and not to the one who had it."""
    steps = [("checkin_talk", 0), ("hand_over", 0), ("start", 0), ("start", 1), ("deliver", 0)]
    with tempfile.TemporaryDirectory() as folder:
        scenario = asyncio.run(play(Path(folder), "counsellor", False, set(), steps))
    assert scenario.violations == []
    health = {s.chat_id for s in scenario.bot.sent if any(mark in s.text for mark in HEALTH_MARKS)}
    assert health == {SECOND_STAFF.telegram_id}


def test_a_case_closed_before_the_colleague_asked_to_pick_it_up_starts_does_not_reach_them():
    steps = [("escalate", 0), ("close", 0), ("start", 1), ("deliver", 0)]
    with tempfile.TemporaryDirectory() as folder:
        scenario = asyncio.run(play(Path(folder), "counsellor", True, {STAFF_COUNSELLOR.telegram_id}, steps))
    assert scenario.violations == []
    to_colleague = [s.text for s in scenario.bot.sent if s.chat_id == SECOND_STAFF.telegram_id]
    assert all(STORY_MARK not in text and NAME_MARK not in text for text in to_colleague)
