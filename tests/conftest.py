"""Shared fixtures: a real database and key in a temporary folder, a clock the test controls."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import datetime

import pytest
from hypothesis import HealthCheck, settings

from flows.routing import Router
from storage import Storage
from tests.support import (  # noqa: F401  (re-exported for older imports)
    AMSTERDAM,
    COORDINATOR,
    HOLDERS_COUNSELLOR,
    STAFF_COUNSELLOR,
    ManualClock,
    World,
    make_router,
    reporter,
)

# The meldbot command opts in to python-telegram-bot's timedelta durations (PTB_TIMEDELTA);
# the bot under test runs in this process, so the tests do the same.
os.environ["PTB_TIMEDELTA"] = "1"


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


# The suite runs on shared two-core machines (CI among them): what a property test checks is its
# data, never how fast a cold machine generates it, so no per-example deadline and no "too slow".
settings.register_profile("meldbot", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("meldbot")


def _database_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker" in t.name}


@pytest.fixture(autouse=True)
def no_database_left_open() -> Iterator[None]:
    """Every test closes the databases it opens. aiosqlite runs each connection on a thread that
    is not a daemon, so one left open makes the test run hang when it ends instead of failing."""
    before = _database_threads()
    yield
    left = _database_threads() - before
    for thread in left:
        thread.join(timeout=2)
    still = [t.name for t in left if t.is_alive()]
    assert not still, f"the test left {len(still)} database connection(s) open: {still}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def storage(tmp_path):
    opened = await Storage.open(tmp_path / "meldbot.db", tmp_path / "meldbot.key")
    yield opened
    await opened.close()


@pytest.fixture
def router(storage) -> Router:
    return make_router(storage)


@pytest.fixture
def world(storage, clock) -> World:
    """Every flow, as the bot wires it, with two staff counsellors, one for office holders and a coordinator."""
    return World(storage, clock)


@pytest.fixture
def small_world(storage, clock) -> World:
    """Every flow with one counsellor per group and a coordinator."""
    return World(storage, clock, counsellors=(STAFF_COUNSELLOR, HOLDERS_COUNSELLOR))


@pytest.fixture
def intake(small_world):
    return small_world.intake


@pytest.fixture
def access(small_world):
    return small_world.access


@pytest.fixture
def casework(small_world):
    return small_world.casework


@pytest.fixture
def mycases(small_world):
    return small_world.mycases


@pytest.fixture
def relay(small_world):
    return small_world.relay


@pytest.fixture
def escalation(small_world):
    return small_world.escalation


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
