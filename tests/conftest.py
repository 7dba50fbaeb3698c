"""Shared fixtures: a real database and key in a temporary folder, a clock the test controls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.acknowledgement import Acknowledgements
from flows.intake import Intake
from flows.model import Audience, Coordinator, Counsellor, Language, Sender
from flows.routing import Router
from storage import Storage

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

STAFF_COUNSELLOR = Counsellor(1001, "Vertrouwenspersoon medewerkers", frozenset({Audience.STAFF}), Language.NL, 0)
HOLDERS_COUNSELLOR = Counsellor(1002, "Vertrouwenspersoon bestuurders", frozenset({Audience.OFFICE_HOLDERS}), Language.EN, 1)
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
    return Intake(storage, router, clock, AMSTERDAM, timedelta(hours=24))


@pytest.fixture
def acknowledgements(storage, router, clock) -> Acknowledgements:
    return Acknowledgements(storage, router, clock)
