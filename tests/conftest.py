"""Shared fixtures: a real database and key in a temporary folder, a clock the test controls."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.access import Access
from flows.casework import Casework
from flows.clock import Periods
from flows.escalation import Escalation
from flows.intake import Intake
from flows.model import Audience, Coordinator, Counsellor, Language, Sender
from flows.mycases import MyCaseFlow
from flows.relay import Relay
from flows.routing import Router
from storage import Storage

# The meldbot command opts in to python-telegram-bot's timedelta durations (PTB_TIMEDELTA);
# the bot under test runs in this process, so the tests do the same.
os.environ["PTB_TIMEDELTA"] = "1"

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

STAFF_COUNSELLOR = Counsellor(1001, "Vertrouwenspersoon medewerkers", frozenset({Audience.STAFF}), Language.NL, 0)
HOLDERS_COUNSELLOR = Counsellor(
    1002, "Vertrouwenspersoon bestuurders", frozenset({Audience.OFFICE_HOLDERS}), Language.EN, 1
)
COORDINATOR = Coordinator(2001, "Coördinator incidentregistratie", Language.NL, 0)


class ManualClock:
    """A clock that moves only when the test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 18, 10, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def reporter(telegram_id: int = 5001, name: str = "Anna de Vries", username: str | None = "annadv", lang: str = "nl"):
    return Sender(telegram_id=telegram_id, display_name=name, username=username, language_code=lang)


class Announced:
    """What the database told the courier and the timekeeper falls due (after each commit)."""

    def __init__(self, storage: Storage) -> None:
        self.outbox: list[datetime] = []
        self.scheduled: list[datetime] = []
        storage.db.on_due("outbox", self.outbox.append)
        storage.db.on_due("scheduled", self.scheduled.append)


@pytest.fixture
def announced(storage) -> Announced:
    return Announced(storage)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def storage(tmp_path):
    opened = await Storage.open(tmp_path / "meldbot.db", tmp_path / "meldbot.key")
    yield opened
    await opened.close()


def make_router(storage: Storage, counsellors=(STAFF_COUNSELLOR, HOLDERS_COUNSELLOR), coordinators=(COORDINATOR,)):
    return Router(list(counsellors), list(coordinators), storage.people.index_of)


@pytest.fixture
def router(storage) -> Router:
    return make_router(storage)


@pytest.fixture
def intake(storage, router, clock) -> Intake:
    return Intake(storage, router, clock, AMSTERDAM, Periods())


@pytest.fixture
def access(storage, router) -> Access:
    return Access(storage, router)


@pytest.fixture
def casework(storage, router, access, clock) -> Casework:
    return Casework(storage, router, access, clock, AMSTERDAM)


@pytest.fixture
def mycases(storage, router, access, clock) -> MyCaseFlow:
    return MyCaseFlow(storage, router, access, clock, AMSTERDAM)


@pytest.fixture
def relay(storage, router, access, mycases, clock) -> Relay:
    return Relay(storage, router, access, mycases, clock)


@pytest.fixture
def escalation(storage, router, clock) -> Escalation:
    return Escalation(storage, router, clock)


@pytest.fixture
async def emu():
    from tests.e2e import emulator

    async with emulator() as running:
        yield running


@pytest.fixture
def captured_logs():
    from tests.e2e import CapturedLogs

    with CapturedLogs() as captured:
        yield captured


@pytest.fixture
async def meldbot(emu, tmp_path, captured_logs):
    """The real bot, running against the emulator, with its counsellors and coordinator started."""
    from tests.e2e import COORDINATOR_ID, HOLDERS_COUNSELLOR_ID, STAFF_COUNSELLOR_ID, BotUnderTest

    for user_id, name, language in (
        (STAFF_COUNSELLOR_ID, "Carla", "nl"),
        (HOLDERS_COUNSELLOR_ID, "Henk", "en"),
        (COORDINATOR_ID, "Coby", "nl"),
    ):
        staff = emu.user(user_id, first_name=name, language_code=language)
        staff.skip_pending()
        await staff.command("/start")
    under_test = BotUnderTest(emu, tmp_path)
    await under_test.start()
    for user_id in (STAFF_COUNSELLOR_ID, HOLDERS_COUNSELLOR_ID, COORDINATOR_ID):
        await emu.user(user_id).next_message()  # their own welcome
    yield under_test
    await under_test.stop()
    # A healthy run logs no errors: a job or handler that failed would show up here.
    errors = [line for line in captured_logs.text.splitlines() if " ERROR " in line or "Traceback" in line]
    assert errors == []
