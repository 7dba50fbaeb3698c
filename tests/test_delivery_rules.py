"""What may be sent is decided when it is sent: a property over random interleavings.

A report is filed; then, in random order, the reporter withdraws it, gives or withdraws
consent for the register, adds messages, or asks to be forgotten; counsellors acknowledge,
hand over, recuse and write; nobody acknowledges in time and the case escalates; staff press
Start late or never; the courier delivers now and then. Whatever the order, every message a
staff member receives is one the access rules allow at the moment it is sent: the report's
words and the reporter's name reach only someone who may see them then.

The oracle here reads the database directly at the moment of each send; it does not call
the code under test to decide.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram.error import Forbidden

from bot.delivery import ChatPacer, Courier
from flows.outcome import Forget
from storage import Storage
from tests.conftest import AMSTERDAM, COORDINATOR, HOLDERS_COUNSELLOR, STAFF_COUNSELLOR, ManualClock, reporter
from tests.test_casework import SECOND_STAFF, World, staff

COUNSELLORS = (STAFF_COUNSELLOR, SECOND_STAFF, HOLDERS_COUNSELLOR)
STAFF = {m.telegram_id: m for m in (*COUNSELLORS, COORDINATOR)}
NAME_MARK = "Zwaantje"
STORY_MARK = "VERHAALMERK"
MESSAGE_MARK = "BERICHTMERK"
REFERENCE = re.compile(r"MB-[0-9A-Z]{4}-[0-9A-Z]{4}")


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
            sweep_interval=timedelta(seconds=30),
            max_backoff=timedelta(minutes=5),
        )
        self.courier.pacer = ChatPacer(interval=0)
        self.anna = reporter(5001, f"Anna {NAME_MARK}", "zwaantje_a")
        self.bot.started.add(self.anna.telegram_id)
        self.reference = ""
        self.violations: list[str] = []

    async def check(self, chat_id: int, text: str) -> None:
        """The oracle: may this person see this, now?"""
        if chat_id not in STAFF:
            return
        member = STAFF[chat_id]
        index = self.storage.people.index_of(chat_id)
        case = await self.storage.cases.by_reference(self.reference)
        shows_story = STORY_MARK in text or MESSAGE_MARK in text
        shows_name = NAME_MARK in text or "zwaantje_a" in text
        if case is None:
            if shows_story or shows_name:
                self.violations.append(f"{member.name} got content of an erased case: {text[:80]!r}")
            return
        is_counsellor = member in COUNSELLORS
        state = (await self.storage.cases.counsellors_of(case.id)).get(index)
        in_register = case.register in ("anonymous", "named")
        if case.status == "withdrawn" and (shows_story or shows_name):
            self.violations.append(f"{member.name} got content of a withdrawn case: {text[:80]!r}")
        if is_counsellor and (shows_story or shows_name) and state not in ("assigned", "alerted"):
            self.violations.append(f"{member.name} ({state}) got content of a case not theirs: {text[:80]!r}")
        if not is_counsellor and (shows_story or shows_name) and not in_register:
            self.violations.append(f"coordinator got content of a case outside the register: {text[:80]!r}")
        if shows_name:
            allowed = (
                (case.share_name_counsellor and case.wish != "anonymous_register")
                if is_counsellor
                else case.register == "named"
            )
            if not allowed:
                self.violations.append(f"{member.name} saw the reporter's name without consent: {text[:80]!r}")

    async def file(self, wish: str, named: bool) -> None:
        case = await self.world.report(
            self.anna, wish=wish, text=f"Hij wachtte me op bij de auto. {STORY_MARK}", share_coordinator=named
        )
        self.reference = case.reference

    async def assigned(self) -> list[Any]:
        case = await self.storage.cases.by_reference(self.reference)
        if case is None:
            return []
        states = await self.storage.cases.counsellors_of(case.id)
        return [m for m in COUNSELLORS if states.get(self.storage.people.index_of(m.telegram_id)) == "assigned"]

    async def step(self, name: str, pick: int) -> None:
        world, ref = self.world, self.reference
        if name == "deliver":
            await self.courier.run()
        elif name == "start":
            member = list(STAFF.values())[pick % len(STAFF)]
            self.bot.started.add(member.telegram_id)
            await self.courier.arrived(self.storage.people.index_of(member.telegram_id))
        elif name == "withdraw":
            await world.mycases.withdraw(self.anna, ref, "y")
        elif name in ("consent_named", "consent_anonymous", "consent_withdraw"):
            await world.mycases.consent(self.anna, ref, name.removeprefix("consent_"))
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
            await world.run_due(("check_in",))
            await world.aftercare.answer(self.anna, ref, "0.talk")
        else:  # counsellor actions
            handlers = await self.assigned()
            if not handlers:
                return
            counsellor = handlers[pick % len(handlers)]
            if name == "acknowledge":
                await world.casework.acknowledge(staff(counsellor), ref)
            elif name == "hand_over":
                others = [c for c in COUNSELLORS[:2] if c is not counsellor]
                await world.casework.hand_over(staff(counsellor), ref, str(others[0].position))
            elif name == "recuse":
                await world.casework.recuse(staff(counsellor), ref, "y")
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
        "forget",
        "reporter_writes",
        "reporter_adds",
        "escalate",
        "checkin_talk",
        "acknowledge",
        "hand_over",
        "recuse",
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
