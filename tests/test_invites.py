"""Invitation mode: single-use, expiring links; strangers get an explanation and leave no trace."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from bot.cli import main
from flows.invites import Admission
from flows.model import Role
from flows.outcome import CreateInvite
from storage import Storage
from tests.support import COORDINATOR, STAFF_COUNSELLOR, World, make_router, reporter, staff


def admission(storage, clock, mode="invite"):
    return Admission(storage, make_router(storage), clock, mode, timedelta(days=7))


def code_in(outcome) -> str:
    return outcome.edit_pressed.params["link"].split("start=")[1]


async def test_a_coordinator_invites_and_the_link_admits_once_with_role_and_department(storage, clock):
    gate = admission(storage, clock)
    coby = staff(COORDINATOR)
    menu = await gate.menu(coby, "Toezicht & Handhaving")
    assert menu.replies[0].key == "invite.ask_role"
    choice = next(c.action for row in menu.replies[0].keyboard for c in row if c.action.role is Role.EMPLOYEE)
    assert choice == CreateInvite(Role.EMPLOYEE, "Toezicht & Handhaving")
    created = await gate.create_in_bot(coby, choice, "meldbot_test_bot")
    link = created.edit_pressed.params["link"]
    assert re.fullmatch(r"https://t\.me/meldbot_test_bot\?start=[A-Za-z0-9_-]{24}", link)
    newcomer = reporter(6001, "Nieuw")
    assert not await gate.admitted(newcomer)
    welcome = await gate.redeem(newcomer, code_in(created))
    assert welcome.replies[0].key == "invite.welcome"
    person = await storage.people.find(6001)
    assert person.admitted and person.role == "employee" and person.department == "Toezicht & Handhaving"
    assert await gate.admitted(newcomer)
    # Single use: a second person with the same link is turned away and not stored.
    second = await gate.redeem(reporter(6002), code_in(created))
    assert second.replies[0].key == "invite.invalid"
    assert await storage.people.find(6002) is None


async def test_an_expired_or_made_up_code_admits_nobody_and_stores_nothing(storage, clock):
    gate = admission(storage, clock)
    created = await gate.create_in_bot(staff(COORDINATOR), CreateInvite(Role.COUNCIL_MEMBER, ""), "bot")
    clock.advance(days=8)
    assert (await gate.redeem(reporter(6003), code_in(created))).replies[0].key == "invite.invalid"
    assert (await gate.redeem(reporter(6003), "A" * 24)).replies[0].key == "invite.invalid"
    assert await gate.redeem(reporter(6003), "not a code!") is None  # not an invitation: the ordinary /start
    assert await storage.people.find(6003) is None


async def test_only_coordinators_create_invitations(storage, clock):
    gate = admission(storage, clock)
    for outsider in (staff(STAFF_COUNSELLOR), reporter(6004)):
        assert (await gate.menu(outsider, "")).replies[0].key == "staff.only_coordinators"
        refused = await gate.create_in_bot(outsider, CreateInvite(Role.MAYOR, ""), "bot")
        assert refused.toast.key == "toast.not_yours"
    assert await storage.invites.open_count(clock.now()) == 0


async def test_a_department_that_does_not_fit_a_button_is_explained(storage, clock):
    out = await admission(storage, clock).menu(staff(COORDINATOR), "x" * 31)
    assert out.replies[0].key == "invite.bad_department"


async def test_the_code_is_not_in_the_database(storage, clock):
    created = await admission(storage, clock).create_in_bot(staff(COORDINATOR), CreateInvite(Role.ALDERMAN, ""), "bot")
    await storage.db.checkpoint()
    assert code_in(created).encode() not in storage.db.path.read_bytes()


async def test_in_open_mode_everyone_is_admitted(storage, clock):
    assert await admission(storage, clock, "open").admitted(reporter(6005))


def test_meldbot_invite_prints_a_working_link(tmp_path, capsys, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "123456:TEST-TOKEN-abcdef"\n[storage]\ndatabase = "{tmp_path / "m.db"}"\n'
        f'key_file = "{tmp_path / "m.key"}"\n[access]\nmode = "invite"\n'
    )

    async def seed():
        storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
        await storage.remember_bot_username("gemeente_meld_bot")
        await storage.close()

    asyncio.run(seed())
    assert main(["invite", "--config", str(config), "--role", "council_member", "--department", "Griffie"]) == 0
    link = capsys.readouterr().out.splitlines()[0]
    assert link.startswith("https://t.me/gemeente_meld_bot?start=")
    code = link.split("start=")[1]

    async def redeem():
        storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
        try:
            from flows.clock import SystemClock

            gate = Admission(storage, make_router(storage), SystemClock(), "invite", timedelta(days=7))
            outcome = await gate.redeem(reporter(6006), code)
            return outcome.replies[0].key, (await storage.people.find(6006)).role
        finally:
            await storage.close()

    assert asyncio.run(redeem()) == ("invite.welcome", "council_member")
    assert main(["invite", "--config", str(config), "--role", "mayor", "--valid", "tomorrow"]) == 2


async def test_someone_who_reported_while_the_bot_was_open_keeps_access_in_invite_mode(storage, clock):
    world = World(storage, clock)
    anna = reporter(6010)
    await world.report(anna)
    assert await admission(storage, clock, "invite").admitted(anna)
    assert not await admission(storage, clock, "invite").admitted(reporter(6011))
