"""Authorisation as a fact: every role x every action x own case / someone else's / no case.

A denied action must change nothing in the database and return nothing about the
case; an allowed one must be allowed exactly where the rules say. The whole matrix
runs against copies of one database, so each cell starts from the same state.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot import dispatch
from flows.access import Access
from flows.aftercare import AftercareFlow, AftercarePlan
from flows.casework import Casework
from flows.clock import Periods
from flows.intake import Intake
from flows.invites import Admission
from flows.mycases import MyCaseFlow
from flows.outcome import Acknowledge, CaseCommand, CleanUp
from flows.relay import Relay
from storage import Storage
from tests.conftest import (
    AMSTERDAM,
    COORDINATOR,
    HOLDERS_COUNSELLOR,
    STAFF_COUNSELLOR,
    ManualClock,
    make_router,
    reporter,
)
from tests.test_casework import SECOND_STAFF, staff
from tests.test_intake import file_report

COUNSELLORS = (STAFF_COUNSELLOR, SECOND_STAFF, HOLDERS_COUNSELLOR)
NO_CASE = "MB-ZZZZ-ZZZZ"


@dataclass
class Template:
    folder: Path
    references: dict[str, str]  # case name -> reference
    action_prefix: dict[str, str]  # case name -> prefix of an action recorded on it


def services(storage: Storage, clock: ManualClock) -> dispatch.Services:
    router = make_router(storage, counsellors=COUNSELLORS)
    access = Access(storage, router)
    mycases = MyCaseFlow(storage, router, access, clock, AMSTERDAM)
    aftercare = AftercareFlow(storage, router, access, clock, AMSTERDAM, AftercarePlan())
    return dispatch.Services(
        storage=storage,
        intake=Intake(storage, router, clock, AMSTERDAM, Periods(), aftercare),
        casework=Casework(storage, router, access, clock, AMSTERDAM, aftercare),
        mycases=mycases,
        relay=Relay(storage, router, access, mycases, clock),
        admission=Admission(storage, router, clock, "open", timedelta(days=7)),
        aftercare=aftercare,
        courier=None,
        timekeeper=None,
        clock=clock,
        router=router,
    )


ANNA, BERT, HANK, CORA, SAM = (
    reporter(5001, "Anna"),
    reporter(5002, "Bert"),
    reporter(5003, "Hank"),
    reporter(5004, "Cora"),
    reporter(5005, "Sam"),
)


async def build_template(folder: Path) -> Template:
    clock = ManualClock()
    storage = await Storage.open(folder / "m.db", folder / "m.key")
    svc = services(storage, clock)
    refs = {}
    for name, who, kwargs in (
        ("A", ANNA, {"wish": "counsellor"}),  # STAFF_COUNSELLOR's, not in the register
        ("B", BERT, {"wish": "counsellor_and_register"}),  # SECOND_STAFF's, in the register without name
        ("H", HANK, {"wish": "counsellor", "role": "mayor"}),  # HOLDERS_COUNSELLOR's
        ("C", CORA, {"wish": "anonymous_register"}),  # the coordinator's only
    ):
        out = await file_report(svc.intake, who, **kwargs)
        refs[name] = out.replies[0].params["reference"]
    prefixes = {}
    for name, actor in (("A", STAFF_COUNSELLOR), ("B", SECOND_STAFF), ("H", HOLDERS_COUNSELLOR), ("C", COORDINATOR)):
        await svc.casework.record_action(staff(actor), refs[name], "conversation.in_progress")
        await svc.relay.stop(staff(actor))
        case = await storage.cases.by_reference(refs[name])
        prefixes[name] = (await storage.casefile.actions(case))[0].id[:8]
    await storage.close()
    return Template(folder, refs, prefixes)


STAFF_ACTIONS = {
    "open": lambda r, p: CaseCommand("o", r),
    "files": lambda r, p: CaseCommand("fl", r),
    "acknowledge": lambda r, p: Acknowledge(r),
    "start_note": lambda r, p: CaseCommand("nt", r),
    "notes": lambda r, p: CaseCommand("nl", r),
    "status_menu": lambda r, p: CaseCommand("st", r),
    "status_set": lambda r, p: CaseCommand("st", r, "in_progress"),
    "hand_over_menu": lambda r, p: CaseCommand("ho", r),
    "hand_over_to": lambda r, p: CaseCommand("ho", r, p["target"]),
    "recuse_ask": lambda r, p: CaseCommand("rc", r),
    "recuse_yes": lambda r, p: CaseCommand("rc", r, "y"),
    "message": lambda r, p: CaseCommand("ms", r),
    "ask_consent": lambda r, p: CaseCommand("cs", r),
    "record_action": lambda r, p: CaseCommand("ac", r, "warning_letter.completed"),
    "update_action": lambda r, p: CaseCommand("au", r, f"{p['action']}.completed"),
}
REPORTER_ACTIONS = {
    "mine_open": lambda r, p: CaseCommand("mo", r),
    "add": lambda r, p: CaseCommand("ma", r),
    "reply_counsellor": lambda r, p: CaseCommand("mr", r, "counsellor"),
    "reply_coordinator": lambda r, p: CaseCommand("mr", r, "coordinator"),
    "consent_named": lambda r, p: CaseCommand("mc", r, "named"),
    "consent_anonymous": lambda r, p: CaseCommand("mc", r, "anonymous"),
    "consent_no": lambda r, p: CaseCommand("mc", r, "no"),
    "consent_withdraw": lambda r, p: CaseCommand("mc", r, "withdraw"),
    "share_name": lambda r, p: CaseCommand("mn", r),
    "withdraw_ask": lambda r, p: CaseCommand("mw", r),
    "withdraw_yes": lambda r, p: CaseCommand("mw", r, "y"),
    "clean_up": lambda r, p: CleanUp(r),
    "checkin_fine": lambda r, p: CaseCommand("ci", r, "0.fine"),
    "checkin_talk": lambda r, p: CaseCommand("ci", r, "1.talk"),
    "checkin_stop": lambda r, p: CaseCommand("ci", r, "2.stop"),
    "pause_checkins": lambda r, p: CaseCommand("mp", r),
    "stop_checkins": lambda r, p: CaseCommand("mx", r),
    "resume_checkins": lambda r, p: CaseCommand("mu", r),
    "reoffer_no": lambda r, p: CaseCommand("ro", r, "n"),
}
ALL_ACTIONS = {**STAFF_ACTIONS, **REPORTER_ACTIONS}
COUNSELLOR_ALLOWED = set(STAFF_ACTIONS)
COORDINATOR_ALLOWED = {
    "open",
    "files",
    "acknowledge",
    "status_menu",
    "status_set",
    "message",
    "record_action",
    "update_action",
}
OWNER_ALLOWED = set(REPORTER_ACTIONS)

# actor name -> (sender, own case name or None, other case name, actions allowed on the own case)
ACTORS = {
    "owner": (ANNA, "A", "B", OWNER_ALLOWED - {"reply_coordinator"}),  # A is not in the register
    "owner_in_register": (BERT, "B", "A", OWNER_ALLOWED),
    "stranger": (SAM, None, "A", set()),
    "counsellor": (staff(STAFF_COUNSELLOR), "A", "B", COUNSELLOR_ALLOWED),
    "second_counsellor": (staff(SECOND_STAFF), "B", "A", COUNSELLOR_ALLOWED),
    # Nobody else serves office holders, so a hand-over target from another group is refused.
    "holders_counsellor": (staff(HOLDERS_COUNSELLOR), "H", "A", COUNSELLOR_ALLOWED - {"hand_over_to"}),
    "coordinator": (staff(COORDINATOR), "C", "A", COORDINATOR_ALLOWED),
}
HAND_OVER_TARGET = {
    "A": str(SECOND_STAFF.position),
    "B": str(STAFF_COUNSELLOR.position),
    "H": str(STAFF_COUNSELLOR.position),
    "C": "0",
}


def _refused(outcome) -> bool:
    return outcome.toast is not None and outcome.toast.key == "toast.not_yours"


async def test_every_role_and_action_is_allowed_exactly_where_the_rules_say(tmp_path):
    template = await build_template(tmp_path / "template")
    problems: list[str] = []
    cells = 0
    for actor_name, (sender, own, other, allowed_on_own) in ACTORS.items():
        targets = [("own", own), ("other", other), ("none", None)] if own else [("other", other), ("none", None)]
        for target_name, case_name in targets:
            reference = template.references[case_name] if case_name else NO_CASE
            params = {
                "target": HAND_OVER_TARGET.get(case_name or "C"),
                "action": template.action_prefix.get(case_name or "C"),
            }
            for action_name, make in ALL_ACTIONS.items():
                cells += 1
                folder = tmp_path / f"cell{cells}"
                shutil.copytree(template.folder, folder)
                storage = await Storage.open(folder / "m.db", folder / "m.key")
                try:
                    before = storage.db._conn.total_changes
                    outcome = await dispatch.press(
                        services(storage, ManualClock()), sender, make(reference, params), "meldbot_test_bot"
                    )
                    changed = storage.db._conn.total_changes != before
                finally:
                    await storage.close()
                shutil.rmtree(folder)
                expected = target_name == "own" and action_name in allowed_on_own
                cell = f"{actor_name} {action_name} on {target_name} case"
                if expected and _refused(outcome):
                    problems.append(f"{cell}: refused, should be allowed")
                if not expected:
                    if not _refused(outcome):
                        problems.append(f"{cell}: allowed, should be refused")
                    if changed:
                        problems.append(f"{cell}: UNAUTHORISED CHANGE")
                    if outcome.replies or outcome.edit_pressed is not None:
                        problems.append(f"{cell}: UNAUTHORISED READ ({[r.key for r in outcome.replies]})")
    assert cells == sum((3 if own else 2) * len(ALL_ACTIONS) for _, own, _, _ in ACTORS.values())
    assert problems == []
