"""Authorisation as a fact: every role x every button on a case x their own case / someone else's / no case.

A denied press must change nothing in the database and return nothing about the case; an
allowed one must be allowed exactly where the rules say. Besides the plain cases, the
database holds the cases where access ends: a case its reporter withdrew, one handed over
(its first counsellor is a former one), one whose reporter kept a counsellor and the
coordinator out, one taken out of the register, and a counsellor's own report. Every
button is pressed through bot.dispatch as the bot does, including shapes the codec reads
but the bot never writes (a status nobody may set, a thread one cannot reply to).

The whole matrix starts from one template database: a press that changed nothing leaves the
copy as the template was, so the next press may use it; after any change the copy is replaced.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot import dispatch
from flows.lifecycle import (
    ActionKind,
    ActionOutcome,
    CaseStatus,
    CheckInAnswer,
    ConsentAnswer,
    CounsellorState,
    InfluenceAnswer,
    RegisterState,
    SurveyAnswer,
    Thread,
)
from flows.model import Sender
from flows.outcome import (
    Acknowledge,
    Action,
    AddDetail,
    AddInfo,
    AskConsent,
    CheckIn,
    CleanUp,
    Consequences,
    GiveConsent,
    HandOver,
    Influence,
    OpenCase,
    OpenMine,
    Outcome,
    PauseCheckIns,
    RecordAction,
    Recuse,
    Reoffer,
    ReplyTo,
    ResumeCheckIns,
    SendFiles,
    SetStatus,
    ShowNotes,
    StartMessage,
    StartNote,
    StopCheckIns,
    Survey,
    ToggleName,
    UpdateAction,
    Withdraw,
)
from flows.perpetrator import IdentifierKind
from storage import Storage
from tests.support import (
    COORDINATOR,
    HOLDERS_COUNSELLOR,
    SECOND_STAFF,
    STAFF_COUNSELLOR,
    ManualClock,
    World,
    file_report,
    index,
    last,
    reference_of,
    reporter,
    staff,
)

BOT = "meldbot_test_bot"
NO_CASE = "MB-ZZZZ-ZZZZ"

ANNA, BERT, HANK, CORA, SAM = (
    reporter(5001, "Anna"),
    reporter(5002, "Bert"),
    reporter(5003, "Hank"),
    reporter(5004, "Cora"),
    reporter(5005, "Sam"),
)
WENDY, FRANK, XENIA, ROOS = reporter(5006, "Wendy"), reporter(5007, "Frank"), reporter(5008, "Xenia"), reporter(5009)
VERA = staff(STAFF_COUNSELLOR)


@dataclass
class Template:
    folder: Path
    references: dict[str, str]  # case name -> reference
    action_prefix: dict[str, str]  # case name -> the first 8 characters of an action recorded on it


async def press(world: World, sender: Sender, action: Action) -> Outcome:
    return await dispatch.press(world.services, sender, action, BOT)


async def file_keeping_out(world: World, who: Sender, kept_out: list[str], wish: str) -> str:
    """A report whose reporter keeps the named staff out of it (at the summary); its reference."""
    out = await world.intake.start(who)
    for label in ("forms.threat", "when.today", "channel.in_person"):
        out = await world.press(who, out, label)
    out = await world.intake.text(who, "Hij schreeuwde tegen me.")
    out = await world.press(who, out, "perpetrator.citizen_unnamed")
    out = await world.press(who, out, "role.employee")
    out = await world.press(who, out, "work_process.skip")
    out = await world.press(who, out, f"wish.{wish}")
    out = await world.press(who, out, "button.exclude")
    for name in kept_out:
        choice = next(c for row in last(out).keyboard for c in row if c.params.get("name") == name)
        out = await press(world, who, choice.action)
    out = await world.press(who, out, "change.back")
    return reference_of(await world.press(who, out, "button.confirm"))


async def build_template(folder: Path) -> Template:
    """The cases, filed and changed as people would, and checked to be what the matrix assumes."""
    storage = await Storage.open(folder / "m.db", folder / "m.key")
    try:
        return await _fill(World(storage, ManualClock()), folder)
    finally:
        await storage.close()


async def _fill(world: World, folder: Path) -> Template:
    storage = world.storage
    refs: dict[str, str] = {}
    # Filed in this order, each goes to the staff counsellor with the fewest open cases (the first on a tie).
    for name, who, kwargs in (
        ("A", ANNA, {"wish": "counsellor"}),  # STAFF_COUNSELLOR's, not in the register
        ("B", BERT, {"wish": "counsellor_and_register"}),  # SECOND_STAFF's, in the register without name
        ("H", HANK, {"wish": "counsellor", "role": "mayor"}),  # HOLDERS_COUNSELLOR's
        ("C", CORA, {"wish": "anonymous_register"}),  # the coordinator's only
        ("F", FRANK, {"wish": "counsellor"}),  # STAFF_COUNSELLOR's, until she hands it over
        ("V", VERA, {"wish": "counsellor"}),  # the counsellor's own report, so SECOND_STAFF's
        ("W", WENDY, {"wish": "counsellor_and_register"}),  # STAFF_COUNSELLOR's and the register's, until withdrawn
    ):
        refs[name] = reference_of(await file_report(world, who, **kwargs))
    # SECOND_STAFF's: its reporter keeps STAFF_COUNSELLOR and the coordinator out.
    refs["X"] = await file_keeping_out(
        world, XENIA, [STAFF_COUNSELLOR.name, COORDINATOR.name], "counsellor_and_register"
    )
    # STAFF_COUNSELLOR's and in the register, until Roos takes it out.
    refs["R"] = reference_of(await file_report(world, ROOS, wish="counsellor_and_register"))
    prefixes: dict[str, str] = {}
    for name, actor in (
        ("A", STAFF_COUNSELLOR),
        ("B", SECOND_STAFF),
        ("H", HOLDERS_COUNSELLOR),
        ("C", COORDINATOR),
        ("W", STAFF_COUNSELLOR),
        ("F", STAFF_COUNSELLOR),
        ("R", STAFF_COUNSELLOR),
        ("V", SECOND_STAFF),
        ("X", SECOND_STAFF),
    ):
        recorded = await press(
            world, staff(actor), RecordAction(refs[name], ActionKind.CONVERSATION, ActionOutcome.IN_PROGRESS)
        )
        assert recorded.edit_pressed is not None and recorded.edit_pressed.key == "action.recorded", name
        await world.relay.stop(staff(actor))  # no note to the action
        prefixes[name] = (await storage.casefile.actions((await world.case(refs[name])).id))[0].id[:8]
    # Where access ends.
    assert (await press(world, WENDY, Withdraw(refs["W"], True))).edit_pressed.key == "withdraw.done"
    handed = await press(world, VERA, HandOver(refs["F"], SECOND_STAFF.position))
    assert handed.edit_pressed.key == "handover.done"
    out_of_register = await press(world, ROOS, GiveConsent(refs["R"], ConsentAnswer.WITHDRAW))
    assert out_of_register.edit_pressed.key == "consent.withdrawn"

    vera, second, holders = (
        index(storage, STAFF_COUNSELLOR),
        index(storage, SECOND_STAFF),
        index(storage, HOLDERS_COUNSELLOR),
    )
    assigned = CounsellorState.ASSIGNED
    cases = {name: await world.case(ref) for name, ref in refs.items()}
    assert cases["A"].counsellors == {vera: assigned} and not cases["A"].in_register
    assert cases["B"].counsellors == {second: assigned} and cases["B"].register is RegisterState.ANONYMOUS
    assert cases["H"].counsellors == {holders: assigned}
    assert cases["C"].counsellors == {} and cases["C"].in_register
    assert cases["W"].status is CaseStatus.WITHDRAWN and cases["W"].counsellors == {vera: assigned}
    assert cases["F"].counsellors == {vera: CounsellorState.FORMER, second: assigned}
    assert cases["R"].register is RegisterState.WITHDRAWN and cases["R"].counsellors == {vera: assigned}
    assert cases["V"].reporter == vera and cases["V"].counsellors == {second: assigned}
    assert cases["X"].counsellors == {second: assigned} and cases["X"].in_register
    assert {vera, index(storage, COORDINATOR)} <= cases["X"].barred
    return Template(folder, refs, prefixes)


@dataclass(frozen=True)
class Target:
    reference: str
    action: str  # an action recorded on the case (8 characters)
    hand_over_to: int  # a counsellor's position the case could be handed to


Press = Callable[[Target], Action]

STAFF_ACTIONS: dict[str, Press] = {
    "open": lambda t: OpenCase(t.reference),
    "files": lambda t: SendFiles(t.reference),
    "acknowledge": lambda t: Acknowledge(t.reference),
    "start_note": lambda t: StartNote(t.reference),
    "notes": lambda t: ShowNotes(t.reference),
    "notes_older": lambda t: ShowNotes(t.reference, 1),
    "status_menu": lambda t: SetStatus(t.reference),
    "status_set": lambda t: SetStatus(t.reference, CaseStatus.IN_PROGRESS),
    "hand_over_menu": lambda t: HandOver(t.reference),
    "hand_over_to": lambda t: HandOver(t.reference, t.hand_over_to),
    "recuse_ask": lambda t: Recuse(t.reference),
    "recuse_yes": lambda t: Recuse(t.reference, True),
    "message": lambda t: StartMessage(t.reference),
    "ask_consent": lambda t: AskConsent(t.reference),
    "record_action_menu": lambda t: RecordAction(t.reference),
    "record_action_kind": lambda t: RecordAction(t.reference, ActionKind.WARNING_LETTER),
    "record_action": lambda t: RecordAction(t.reference, ActionKind.WARNING_LETTER, ActionOutcome.COMPLETED),
    "update_action_menu": lambda t: UpdateAction(t.reference, t.action),
    "update_action": lambda t: UpdateAction(t.reference, t.action, ActionOutcome.COMPLETED),
    "details_menu": lambda t: AddDetail(t.reference),
    "details_kind": lambda t: AddDetail(t.reference, IdentifierKind.PHONE),
}
REPORTER_ACTIONS: dict[str, Press] = {
    "mine_open": lambda t: OpenMine(t.reference),
    "add": lambda t: AddInfo(t.reference),
    "reply_counsellor": lambda t: ReplyTo(t.reference, Thread.COUNSELLOR),
    "reply_coordinator": lambda t: ReplyTo(t.reference, Thread.COORDINATOR),
    "consent_named": lambda t: GiveConsent(t.reference, ConsentAnswer.NAMED),
    "consent_anonymous": lambda t: GiveConsent(t.reference, ConsentAnswer.ANONYMOUS),
    "consent_no": lambda t: GiveConsent(t.reference, ConsentAnswer.NO),
    "consent_withdraw": lambda t: GiveConsent(t.reference, ConsentAnswer.WITHDRAW),
    "share_name": lambda t: ToggleName(t.reference),
    "withdraw_ask": lambda t: Withdraw(t.reference),
    "withdraw_yes": lambda t: Withdraw(t.reference, True),
    "clean_up": lambda t: CleanUp(t.reference),
    "checkin_fine": lambda t: CheckIn(t.reference, 0, CheckInAnswer.FINE),
    "checkin_talk": lambda t: CheckIn(t.reference, 1, CheckInAnswer.TALK),
    "checkin_stop": lambda t: CheckIn(t.reference, 2, CheckInAnswer.STOP),
    "checkin_bothers": lambda t: CheckIn(t.reference, 3, CheckInAnswer.BOTHERS),
    "pause_checkins": lambda t: PauseCheckIns(t.reference),
    "stop_checkins": lambda t: StopCheckIns(t.reference),
    "resume_checkins": lambda t: ResumeCheckIns(t.reference),
    "reoffer_yes": lambda t: Reoffer(t.reference, True),
    "reoffer_no": lambda t: Reoffer(t.reference, False),
    # No closing question was asked on these cases: an answer to one never asked is refused too.
    "survey": lambda t: Survey(t.reference, SurveyAnswer.PARTLY),
    "consequences_tick": lambda t: Consequences(t.reference, 3),
    "consequences_done": lambda t: Consequences(t.reference, 3, done=True),
    "influence": lambda t: Influence(t.reference, InfluenceAnswer.NO),
}
# Shapes the codec reads but the bot never writes: refused to everyone, on every case.
NEVER_WRITTEN: dict[str, Press] = {
    "status_withdrawn": lambda t: SetStatus(t.reference, CaseStatus.WITHDRAWN),
    "status_draft": lambda t: SetStatus(t.reference, CaseStatus.DRAFT),
    "hand_over_to_nobody": lambda t: HandOver(t.reference, 999),
    "reply_case_thread": lambda t: ReplyTo(t.reference, Thread.CASE),
    "checkin_beyond_the_plan": lambda t: CheckIn(t.reference, 99, CheckInAnswer.TALK),
    "update_unknown_action": lambda t: UpdateAction(t.reference, "00000000", ActionOutcome.COMPLETED),
}
ALL_ACTIONS = {**STAFF_ACTIONS, **REPORTER_ACTIONS, **NEVER_WRITTEN}
COUNSELLOR_ALLOWED = set(STAFF_ACTIONS)
COORDINATOR_ALLOWED = {
    "open",
    "files",
    "acknowledge",
    "status_menu",
    "status_set",
    "message",
    "record_action_menu",
    "record_action_kind",
    "record_action",
    "update_action_menu",
    "update_action",
    "details_menu",
    "details_kind",
}
# What is known of the perpetrator may be added by the reporter as well as by staff on the case.
OWNER_ALLOWED = set(REPORTER_ACTIONS) - {"survey"} | {"details_menu", "details_kind"}
NOT_IN_REGISTER = OWNER_ALLOWED - {"reply_coordinator"}
NOTHING: set[str] = set()

# actor -> (sender, {case name: actions allowed on it}); every other case, and no case at all, allows nothing.
ACTORS: dict[str, tuple[Sender, dict[str, set[str]]]] = {
    "owner": (ANNA, {"A": NOT_IN_REGISTER, "B": NOTHING}),
    "owner_in_register": (BERT, {"B": OWNER_ALLOWED, "A": NOTHING}),
    # A withdrawn case is its reporter's to look at (and to clean up), nothing more.
    "owner_of_withdrawn": (WENDY, {"W": {"mine_open", "clean_up"}, "A": NOTHING}),
    "stranger": (SAM, {"A": NOTHING, "W": NOTHING}),
    "counsellor": (
        VERA,
        {
            "A": COUNSELLOR_ALLOWED,
            "B": NOTHING,  # a colleague's
            "W": NOTHING,  # hers, until its reporter withdrew it
            "F": NOTHING,  # hers, until she handed it over
            "X": NOTHING,  # its reporter kept her out
            "V": NOT_IN_REGISTER,  # her own report: hers as its reporter, never as its counsellor
        },
    ),
    "second_counsellor": (staff(SECOND_STAFF), {"B": COUNSELLOR_ALLOWED, "A": NOTHING}),
    # Nobody else serves office holders, so a hand-over target from another group is refused.
    "holders_counsellor": (staff(HOLDERS_COUNSELLOR), {"H": COUNSELLOR_ALLOWED - {"hand_over_to"}, "A": NOTHING}),
    "coordinator": (
        staff(COORDINATOR),
        {
            "C": COORDINATOR_ALLOWED,
            "A": NOTHING,  # never let into the register
            "W": NOTHING,  # in the register, until withdrawn
            "R": NOTHING,  # in the register, until its reporter took it out
            "X": NOTHING,  # in the register, but its reporter kept the coordinator out
        },
    ),
}
HAND_OVER_TARGET = {  # a staff counsellor who does not hold the case
    "A": SECOND_STAFF.position,
    "B": STAFF_COUNSELLOR.position,
    "H": STAFF_COUNSELLOR.position,
}


def _refused(outcome: Outcome) -> bool:
    return outcome.toast is not None and outcome.toast.key == "toast.not_yours"


class Copies:
    """Copies of the template database to press on; a copy that was changed is replaced by a fresh one."""

    def __init__(self, template: Template, scratch: Path) -> None:
        self._template, self._scratch = template, scratch
        self._made = 0
        self._storage: Storage | None = None
        self._world: World | None = None

    async def press(self, sender: Sender, action: Action) -> tuple[Outcome, bool]:
        """The outcome of the press, and whether it changed any row."""
        if self._storage is None:
            self._made += 1
            folder = self._scratch / f"copy{self._made}"
            shutil.copytree(self._template.folder, folder)
            self._storage = await Storage.open(folder / "m.db", folder / "m.key")
            self._world = World(self._storage, ManualClock())
        assert self._world is not None
        before = self._storage.db._conn.total_changes
        outcome = await press(self._world, sender, action)
        changed = self._storage.db._conn.total_changes != before
        if changed:
            await self.close()
        return outcome, changed

    async def close(self) -> None:
        if self._storage is not None:
            await self._storage.close()
            shutil.rmtree(self._storage.db.path.parent)
            self._storage = self._world = None


async def test_every_role_and_action_is_allowed_exactly_where_the_rules_say(tmp_path):
    template = await build_template(tmp_path / "template")
    copies = Copies(template, tmp_path)
    problems: list[str] = []
    cells = 0
    try:
        for actor_name, (sender, cases) in ACTORS.items():
            for case_name in [*cases, None]:
                allowed = cases.get(case_name, NOTHING) if case_name else NOTHING
                target = Target(
                    template.references[case_name] if case_name else NO_CASE,
                    template.action_prefix[case_name or "C"],
                    HAND_OVER_TARGET.get(case_name or "", STAFF_COUNSELLOR.position),
                )
                for action_name, make in ALL_ACTIONS.items():
                    cells += 1
                    outcome, changed = await copies.press(sender, make(target))
                    cell = f"{actor_name} {action_name} on {case_name or 'no'} case"
                    if action_name in allowed:
                        if _refused(outcome):
                            problems.append(f"{cell}: refused, should be allowed")
                        continue
                    if not _refused(outcome):
                        problems.append(f"{cell}: allowed, should be refused")
                    if changed:
                        problems.append(f"{cell}: UNAUTHORISED CHANGE")
                    if outcome.replies or outcome.edit_pressed is not None or outcome.delete_messages:
                        problems.append(f"{cell}: UNAUTHORISED READ ({[r.key for r in outcome.replies]})")
    finally:
        await copies.close()
    assert cells == sum((len(cases) + 1) * len(ALL_ACTIONS) for _, cases in ACTORS.values())
    assert problems == []
