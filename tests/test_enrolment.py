"""Staff enrolled by a single-use link: routed to at once, never by a used or expired link, and removed cleanly."""

from __future__ import annotations

from bot.cli import main
from flows.lifecycle import CounsellorState, Notice
from flows.model import Audience, Language, StaffRole
from flows.outcome import Forget, Outcome
from tests.support import (
    COORDINATOR,
    HOLDERS_COUNSELLOR,
    STAFF_COUNSELLOR,
    World,
    index,
    outbox,
    reporter,
    staff,
    to,
)

EVA = reporter(7001, "Eva Jansen", "evaj")


async def staff_link(world: World, name: str, button: str) -> str:
    """The coordinator's /invite NAME and the staff button pressed; returns the code in the link."""
    coby = staff(COORDINATOR)
    created = await world.press(coby, await world.admission.menu(coby, name), button)
    assert created.edit_pressed is not None and created.edit_pressed.key == "staff.invite_created"
    return str(created.edit_pressed.params["link"]).split("start=")[1]


async def opened(world: World, who, code: str) -> Outcome:
    outcome = await world.services.enrolment.redeem(who, code)
    assert outcome is not None
    return outcome


async def test_a_counsellor_enrolled_by_a_coordinators_link_receives_the_waiting_report_and_the_next(storage, clock):
    # Nobody serves staff yet: Anna's report waits for a counsellor.
    world = World(storage, clock, counsellors=(HOLDERS_COUNSELLOR,))
    waiting = await world.report(reporter(5001))
    assert waiting.handlers == frozenset()
    code = await staff_link(world, "Eva", "staff.invite_counsellor_staff")

    welcome = await opened(world, EVA, code)

    assert [r.key for r in welcome.replies] == ["staff.enrolled_counsellor"]
    assert welcome.replies[0].params == {"name": "Eva"}
    eva = world.router.counsellor(index(storage, EVA))
    assert eva is not None and eva.serves == frozenset({Audience.STAFF}) and eva.language is Language.NL
    assert (await world.case(waiting.reference)).handlers == {index(storage, EVA)}
    assert Notice.CASE_REPORT in to(storage, EVA, await outbox(storage))
    nxt = await world.report(reporter(5002, "Bert"))
    assert nxt.handlers == {index(storage, EVA)}
    assert [e.action for e in await storage.audit.entries()].count("staff_enrolled") == 1


async def test_a_used_or_expired_link_enrols_nobody_and_stores_nothing(storage, clock):
    world = World(storage, clock)
    code = await staff_link(world, "", "staff.invite_coordinator_none")
    welcome = await opened(world, EVA, code)
    assert [r.key for r in welcome.replies] == ["staff.enrolled_coordinator"]
    (member,) = await storage.staff.members()
    assert (member.role, member.name) == (StaffRole.COORDINATOR, "Eva Jansen")  # no name given: their own

    # The same person twice, and someone else with the same link: nothing happens.
    assert [r.key for r in (await opened(world, EVA, code)).replies] == ["invite.invalid"]
    stranger = reporter(7002, "Iemand")
    assert [r.key for r in (await opened(world, stranger, code)).replies] == ["invite.invalid"]
    assert await storage.people.find(7002) is None
    assert world.router.coordinator(index(storage, stranger)) is None

    late = await staff_link(world, "Laat", "staff.invite_management_none")
    clock.advance(days=15)  # links are valid for 14 days (Policy.invite_valid_for)
    assert [r.key for r in (await opened(world, stranger, late)).replies] == ["invite.invalid"]
    assert await storage.people.find(7002) is None
    assert len(await storage.staff.members()) == 1


async def test_a_reporter_who_became_a_counsellor_cannot_use_a_staff_link_twice_nor_a_conflicting_one(storage, clock):
    world = World(storage, clock)
    anna = reporter(5001)
    await world.report(anna)
    first = await staff_link(world, "Anna", "staff.invite_counsellor_both")
    assert [r.key for r in (await opened(world, anna, first)).replies] == ["staff.enrolled_counsellor"]
    again = await staff_link(world, "Anna", "staff.invite_counsellor_staff")
    assert [r.key for r in (await opened(world, anna, again)).replies] == ["staff.already_enrolled"]
    other = await staff_link(world, "Anna", "staff.invite_coordinator_none")
    assert [r.key for r in (await opened(world, anna, other)).replies] == ["staff.enrol_conflict"]
    # Refused links stay unused: the coordinator can give them to the person they were meant for.
    assert await storage.staff.open_invites(clock.now()) == 2
    assert len(await storage.staff.members()) == 1
    # A configured counsellor cannot become a coordinator by a link either.
    assert [r.key for r in (await opened(world, staff(STAFF_COUNSELLOR), other)).replies] == ["staff.enrol_conflict"]


async def test_only_coordinators_make_staff_links(storage, clock):
    world = World(storage, clock)
    coby = staff(COORDINATOR)
    menu = await world.admission.menu(coby, "Eva")
    assert [r.key for r in menu.replies] == ["invite.ask_role", "staff.invite_ask"]
    action = menu.replies[1].keyboard[0][0].action
    for outsider in (staff(STAFF_COUNSELLOR), reporter(5003)):
        refused = await world.services.enrolment.create_in_bot(outsider, action, "meldbot_test_bot")
        assert refused.toast is not None and refused.toast.key == "toast.not_yours"
    assert await storage.staff.open_invites(clock.now()) == 0


async def test_neither_the_code_nor_the_name_of_a_staff_link_is_in_the_database(storage, clock):
    world = World(storage, clock)
    code = await staff_link(world, "Ivo Geheimnaam", "staff.invite_counsellor_staff")
    await storage.db.checkpoint()
    raw = storage.db.path.read_bytes()
    assert code.encode() not in raw and b"Ivo Geheimnaam" not in raw
    await opened(world, reporter(7003, "Ivo"), code)
    (member,) = await storage.staff.members()
    assert member.name == "Ivo Geheimnaam"
    await storage.db.checkpoint()
    assert b"Ivo Geheimnaam" not in storage.db.path.read_bytes()


async def test_removing_an_enrolled_counsellor_hands_their_open_case_to_a_colleague(storage, clock):
    world = World(storage, clock, counsellors=(HOLDERS_COUNSELLOR,))
    await opened(world, EVA, await staff_link(world, "Eva", "staff.invite_counsellor_staff"))
    case = await world.report(reporter(5001))
    assert case.handlers == {index(storage, EVA)}
    fred = reporter(7004, "Fred")
    await opened(world, fred, await staff_link(world, "Fred", "staff.invite_counsellor_staff"))

    eva = next(m for m in await storage.staff.members() if m.name == "Eva")
    removed = await world.services.enrolment.remove(eva)

    assert (removed.handed_on, removed.waiting) == (1, 0)
    after = await world.case(case.reference)
    assert after.handlers == {index(storage, fred)}
    assert after.counsellors[index(storage, EVA)] is CounsellorState.FORMER
    assert Notice.CASE_REPORT_HANDED_OVER in to(storage, fred, await outbox(storage))
    assert world.router.counsellor(index(storage, EVA)) is None
    assert (await world.report(reporter(5002, "Bert"))).handlers == {index(storage, fred)}
    actions = [(e.action, e.case_ref) for e in await storage.audit.entries()]
    assert ("staff_removed", None) in actions and ("staff_removed", case.reference) in actions


async def test_with_nobody_left_the_case_waits_and_goes_to_the_next_counsellor_enrolled(storage, clock):
    world = World(storage, clock, counsellors=(HOLDERS_COUNSELLOR,))
    await opened(world, EVA, await staff_link(world, "Eva", "staff.invite_counsellor_staff"))
    case = await world.report(reporter(5001), wish="counsellor_and_register")
    (eva,) = await storage.staff.members()

    removed = await world.services.enrolment.remove(eva)

    assert (removed.handed_on, removed.waiting) == (0, 1)
    assert (await world.case(case.reference)).handlers == frozenset()
    assert Notice.CASE_WAITING in to(storage, COORDINATOR, await outbox(storage))
    fred = reporter(7004, "Fred")
    await opened(world, fred, await staff_link(world, "Fred", "staff.invite_counsellor_staff"))
    assert (await world.case(case.reference)).handlers == {index(storage, fred)}


async def test_the_running_bot_follows_a_removal_made_by_another_process(storage, clock):
    bot = World(storage, clock, counsellors=(HOLDERS_COUNSELLOR,))
    await opened(bot, EVA, await staff_link(bot, "Eva", "staff.invite_counsellor_staff"))
    operator = World(storage, clock, counsellors=(HOLDERS_COUNSELLOR,))  # meldbot staff remove
    assert await operator.services.enrolment.sync() == 1
    (eva,) = await storage.staff.members()
    await operator.services.enrolment.remove(eva)
    assert bot.router.counsellor(index(storage, EVA)) is not None
    await bot.services.enrolment.sync()
    assert bot.router.counsellor(index(storage, EVA)) is None
    assert bot.router.counsellors == (HOLDERS_COUNSELLOR,)


def test_the_invite_command_says_what_a_staff_link_needs(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "123456:TEST-TOKEN-abcdef"\n[storage]\ndatabase = "{tmp_path / "m.db"}"\n'
        f'key_file = "{tmp_path / "m.key"}"\n'
    )
    base = ["invite", "--config", str(config), "--role"]
    assert main([*base, "counsellor"]) == 2
    assert "--name" in capsys.readouterr().err
    assert main([*base, "counsellor", "--name", "Eva", "--serves", "staff,everyone"]) == 2
    assert "--serves" in capsys.readouterr().err
    assert main([*base, "coordinator", "--name", "Coby", "--valid", "tomorrow"]) == 2
    assert "--valid" in capsys.readouterr().err
    assert not (tmp_path / "m.db").exists()  # nothing was made
    assert main(["staff", "remove", "--config", str(config)]) == 2
    assert "staff list" in capsys.readouterr().err


async def test_an_enrolled_counsellor_who_erases_themself_leaves_no_case_stranded(storage, clock):
    world = World(storage, clock, counsellors=(HOLDERS_COUNSELLOR,))
    await opened(world, EVA, await staff_link(world, "Eva", "staff.invite_counsellor_staff"))
    case = await world.report(reporter(5001))
    fred = reporter(7004, "Fred")
    await opened(world, fred, await staff_link(world, "Fred", "staff.invite_counsellor_staff"))

    await world.mycases.forget(EVA, Forget(True))  # /forgetme: her person row, and so her enrolment, go
    assert [m.name for m in await storage.staff.members()] == ["Fred"]
    await world.services.enrolment.sync()

    assert world.router.counsellor(index(storage, EVA)) is None
    assert (await world.case(case.reference)).handlers == {index(storage, fred)}
