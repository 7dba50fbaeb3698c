"""The register's tracks beyond the first word: the reaction clock, camera footage, the police, damages.

A case that enters the register starts a clock: a reaction towards the perpetrator is due
within ``[register] reaction_within``. When it falls due without one, the coordinators are
reminded; when still nothing is recorded ``reaction_escalate_after`` later, management hears
of it (reference, group, form and age: never content). Only recording a reaction, or "no
reaction, because ..." with its reason (flows/casework.py, flows/relay.py), stops the clock.

For an incident in person the coordinators get a task to secure the camera footage before it
is wiped, reminded when it falls due, until they record it secured (or that there was no
camera). The police track records the report's number and date and what came of it; the
damages track the cost items, whether insurance was checked, the claim and what was recovered.
Each step reaches the reporter in their language; the damages helper (if configured) hears the
reference and the amounts. Every rule is a transition of flows/lifecycle.py; this module reads
what people press and type, and runs the timers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from flows import lifecycle
from flows.access import Access, Grant, Permission, Relation
from flows.clock import Clock, local_today
from flows.dates import parse_incident_date
from flows.lifecycle import (
    Actor,
    Case,
    ClaimStatus,
    CostKind,
    Decision,
    FootageState,
    NewCostItem,
    NewPoliceStep,
    Party,
    PoliceStep,
    Refused,
    TimerKind,
)
from flows.model import Language, Sender
from flows.outcome import (
    Choice,
    DamagesClaim,
    DamagesInsurance,
    DamagesItem,
    DamagesRecovered,
    Footage,
    Keyboard,
    Label,
    Outcome,
    Police,
    Reply,
    StopComposing,
)
from flows.relay import Relay, Typed
from flows.routing import Router
from storage import Storage
from storage.schedule import DueItem

KINDS = (TimerKind.REACTION_DUE, TimerKind.REACTION_ESCALATE, TimerKind.FOOTAGE_DUE)
MAX_TYPED = 200
# A police report number as the police write it: letters, digits and a few separators.
_POLICE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9./-]{2,39}")
# An amount in euro as people type it: 1250, 1.250, 1250,50, € 1.250,50, 1250.50
_AMOUNT = re.compile(r"(?:€\s*)?(\d{1,3}(?:\.\d{3})+|\d+)(?:[,.](\d{1,2}))?(?:\s*(?:euro|eur|€))?", re.IGNORECASE)
_REFUSALS = {
    "already_noted": "toast.already_noted",
    "police_report_first": "toast.police_report_first",
    "bad_amount": "toast.bad_amount",
}


def parse_amount(text: str) -> int | None:
    """An amount in euro typed in Dutch or English style, in cents; None if it is not one."""
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        return None
    euros = int(match.group(1).replace(".", ""))
    cents = int((match.group(2) or "0").ljust(2, "0"))
    return euros * 100 + cents


def euro(cents: int) -> str:
    """An amount the Dutch way: € 1.250,50."""
    whole = f"{cents // 100:,}".replace(",", ".")
    return f"€ {whole},{cents % 100:02d}"


def footage_task(case: Case, key: str, zone: ZoneInfo) -> Reply:
    """The task to secure camera footage, with its two answers (for the coordinators)."""
    due = case.footage_due_at.astimezone(zone).strftime("%d-%m-%Y %H:%M") if case.footage_due_at else "—"
    return Reply(
        key,
        {"reference": case.reference, "due": due},
        (
            (Choice("footage.secured", Footage(case.reference, FootageState.SECURED)),),
            (Choice("footage.no_camera", Footage(case.reference, FootageState.NO_CAMERA)),),
        ),
    )


class Tracks:
    def __init__(self, storage: Storage, router: Router, access: Access, clock: Clock, zone: ZoneInfo) -> None:
        self._storage = storage
        self._router = router
        self._access = access
        self._clock = clock
        self._zone = zone

    def register_purposes(self, relay: Relay) -> None:
        """What staff and reporters type for the police and damages tracks arrives through the relay."""
        relay.add_purpose("police_step", Permission.RECORD_ACTION, MAX_TYPED, self._police_typed)
        relay.add_purpose("police_step_mine", Permission.ADD_INFO, MAX_TYPED, self._police_typed)
        relay.add_purpose("damages_item", Permission.RECORD_ACTION, MAX_TYPED, self._item_typed)
        relay.add_purpose("damages_recovered", Permission.RECORD_ACTION, MAX_TYPED, self._recovered_typed)

    # -- timers ----------------------------------------------------------------------

    async def run(self, item: DueItem) -> bool:
        """Carry out one due reminder or escalation; returns whether anyone was notified."""
        if item.case_id is None:
            return False
        coordinators = self._router.coordinator_indexes()
        management = self._router.management_indexes()

        def decide(case: Case) -> Decision:
            if item.kind is TimerKind.REACTION_DUE:
                return lifecycle.remind_of_reaction(case, coordinators, item.id)
            if item.kind is TimerKind.REACTION_ESCALATE:
                return lifecycle.escalate_reaction(case, management, item.id)
            return lifecycle.remind_of_footage(case, coordinators, item.id)

        _, decision = await self._storage.cases.change(item.case_id, decide, self._clock.now())
        return not isinstance(decision, Refused) and bool(decision.deliveries)

    # -- helpers -----------------------------------------------------------------------

    def _denied(self, sender: Sender) -> Outcome:
        members = self._router.staff_member(sender.telegram_id)
        language = members[0].language if members else Language.from_telegram(sender.language_code)
        return Outcome(language, toast=Label("toast.not_yours"))

    @staticmethod
    def _actor(grant: Grant) -> Actor:
        if grant.member is None:
            return lifecycle.REPORTER_ACTOR
        return Actor(grant.relation.value, grant.member.name, grant.index)

    async def _staff(self, sender: Sender, reference: str) -> Grant | None:
        """A coordinator on a case in the register (the tracks are the register's)."""
        grant = await self._access.check(sender, Permission.RECORD_ACTION, reference, prefer=Relation.COORDINATOR)
        return grant if grant is not None and grant.relation is Relation.COORDINATOR else None

    async def _change(self, grant: Grant, decide: Callable[[Case], Decision]) -> Decision:
        _, decision = await self._storage.cases.change(grant.case.id, decide, self._clock.now())
        return decision

    def _refused(self, grant: Grant, refusal: Refused) -> Outcome:
        return Outcome(grant.language, toast=Label(_REFUSALS.get(refusal.reason, "toast.not_yours")))

    # -- camera footage --------------------------------------------------------------

    async def footage(self, sender: Sender, reference: str, state: FootageState | None = None) -> Outcome:
        """Show the footage task, or record it secured (or that there was no camera)."""
        grant = await self._staff(sender, reference)
        if grant is None:
            return self._denied(sender)
        case = grant.case
        if state is None:
            if case.footage is not FootageState.DUE:
                return Outcome(grant.language, toast=Label("toast.already_noted"))
            return Outcome(grant.language, replies=[footage_task(case, "footage.task", self._zone)])
        now, actor = self._clock.now(), self._actor(grant)
        decision = await self._change(grant, lambda c: lifecycle.record_footage(c, actor, state, now))
        if isinstance(decision, Refused):
            return self._refused(grant, decision)
        return Outcome(grant.language, edit_pressed=Reply(f"footage.recorded_{state.value}", {"reference": reference}))

    # -- the police track --------------------------------------------------------------

    async def police(self, sender: Sender, reference: str, step: PoliceStep | None = None) -> Outcome:
        """The police track of a case: its steps so far and what can be recorded next. For the
        coordinator of a registered case, the case's counsellor, and its reporter (from /mycases)."""
        grant = await self._access.check(sender, Permission.RECORD_ACTION, reference)
        grant = grant or await self._access.check(sender, Permission.ADD_INFO, reference)
        if grant is None:
            return self._denied(sender)
        case = grant.case
        if step is None:
            steps = await self._storage.casefile.police_steps(case.id)
            lines = tuple(
                Label(
                    "police.line",
                    {
                        "step": Label(f"police.step_{s.step.value}"),
                        "date": s.on,
                        "number": Label("police.number", {"number": s.number}) if s.number else "",
                    },
                )
                for s in steps
            ) or (Label("police.none"),)
            offered = (
                (PoliceStep.REPORTED,)
                if case.police_reported_on is None
                else tuple(s for s in PoliceStep if s is not PoliceStep.REPORTED)
            )
            rows: Keyboard = tuple((Choice(f"police.record_{s.value}", Police(reference, s)),) for s in offered)
            return Outcome(
                grant.language, replies=[Reply("police.track", {"reference": reference, "lines": lines}, rows)]
            )
        if (step is PoliceStep.REPORTED) != (case.police_reported_on is None):
            return Outcome(
                grant.language,
                toast=Label("toast.already_noted" if step is PoliceStep.REPORTED else "toast.police_report_first"),
            )
        purpose = "police_step_mine" if grant.relation is Relation.OWNER else "police_step"
        await self._storage.composing.start(grant.index, case.id, purpose, step.value, self._clock.now())
        prompt = "police.ask_report" if step is PoliceStep.REPORTED else "police.ask_date"
        return Outcome(
            grant.language,
            edit_pressed=Reply(
                prompt,
                {"reference": reference, "step": Label(f"police.step_{step.value}")},
                ((Choice("compose.stop", StopComposing()),),),
            ),
        )

    async def _police_typed(self, typed: Typed) -> Outcome:
        grant, step = typed.grant, PoliceStep(typed.composing.detail or PoliceStep.REPORTED.value)
        number: str | None = None
        text = typed.text
        if step is PoliceStep.REPORTED:
            head, _, rest = text.partition(" ")
            if not _POLICE_NUMBER.fullmatch(head) or not rest.strip():
                return await self._again(typed, "police.unreadable_report")
            number, text = head, rest
        parsed = parse_incident_date(text, local_today(self._clock, self._zone))
        if parsed.value is None:
            return await self._again(typed, "police.unreadable_date")
        on: date = parsed.value
        party = Party.REPORTER if grant.relation is Relation.OWNER else Party(grant.relation.value)
        new = NewPoliceStep(uuid.uuid4().hex, step, on, number, party)
        coordinators, actor = self._router.coordinator_indexes(), self._actor(grant)
        decision = await self._change(grant, lambda c: lifecycle.record_police_step(c, actor, new, coordinators))
        if isinstance(decision, Refused):
            return self._refused(grant, decision)
        return Outcome(
            grant.language,
            replies=[
                Reply(
                    "police.recorded",
                    {"reference": grant.case.reference, "step": Label(f"police.step_{step.value}"), "date": on},
                )
            ],
        )

    async def _again(self, typed: Typed, key: str) -> Outcome:
        """What was typed could not be read: the same question stays open."""
        composing = typed.composing
        await self._storage.composing.start(
            typed.grant.index, composing.case_id, composing.purpose, composing.detail, self._clock.now()
        )
        return Outcome(
            typed.grant.language,
            replies=[
                Reply(key, {"reference": typed.grant.case.reference}, ((Choice("compose.stop", StopComposing()),),))
            ],
        )

    # -- the damages track ---------------------------------------------------------------

    async def damages(self, sender: Sender, reference: str) -> Outcome:
        """The damages of a registered case: the items, the claim, what was recovered."""
        grant = await self._staff(sender, reference)
        if grant is None:
            return self._denied(sender)
        return Outcome(grant.language, replies=[await self._damages_view(grant.case)])

    async def _damages_view(self, case: Case) -> Reply:
        items = await self._storage.casefile.cost_items(case.id)
        lines = tuple(
            Label("damages.line", {"kind": Label(f"damages.kind_{i.kind.value}"), "amount": euro(i.amount_cents)})
            for i in items
        ) or (Label("damages.none"),)
        ref = case.reference
        rows: Keyboard = (
            tuple(Choice(f"damages.add_{k.value}", DamagesItem(ref, k)) for k in (CostKind.PROPERTY, CostKind.MEDICAL)),
            tuple(Choice(f"damages.add_{k.value}", DamagesItem(ref, k)) for k in (CostKind.LOST_TIME, CostKind.OTHER)),
            (
                Choice(
                    "damages.insurance_done" if case.damages_insurance_checked else "damages.insurance_todo",
                    DamagesInsurance(ref),
                ),
            ),
            tuple(
                Choice(f"damages.claim_{c.value}", DamagesClaim(ref, c))
                for c in (ClaimStatus.CLAIMED, ClaimStatus.PARTLY_PAID)
                if c is not case.damages_claim
            ),
            tuple(
                Choice(f"damages.claim_{c.value}", DamagesClaim(ref, c))
                for c in (ClaimStatus.PAID, ClaimStatus.REJECTED)
                if c is not case.damages_claim
            ),
            (Choice("damages.recovered", DamagesRecovered(ref)),),
        )
        return Reply(
            "damages.view",
            {
                "reference": ref,
                "lines": lines,
                "total": euro(sum(i.amount_cents for i in items)),
                "insurance": Label(
                    "damages.insurance_yes" if case.damages_insurance_checked else "damages.insurance_no"
                ),
                "claim": Label(f"damages.status_{case.damages_claim.value}"),
                "recovered": euro(case.damages_recovered_cents),
            },
            tuple(row for row in rows if row),
            protect_content=True,
        )

    async def damages_item(self, sender: Sender, reference: str, kind: CostKind) -> Outcome:
        grant = await self._staff(sender, reference)
        if grant is None:
            return self._denied(sender)
        await self._storage.composing.start(grant.index, grant.case.id, "damages_item", kind.value, self._clock.now())
        return Outcome(
            grant.language,
            replies=[
                Reply(
                    "damages.ask_amount",
                    {"reference": reference, "kind": Label(f"damages.kind_{kind.value}")},
                    ((Choice("compose.stop", StopComposing()),),),
                )
            ],
        )

    async def damages_recovered(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._staff(sender, reference)
        if grant is None:
            return self._denied(sender)
        await self._storage.composing.start(grant.index, grant.case.id, "damages_recovered", None, self._clock.now())
        return Outcome(
            grant.language,
            replies=[
                Reply("damages.ask_recovered", {"reference": reference}, ((Choice("compose.stop", StopComposing()),),))
            ],
        )

    async def damages_claim(self, sender: Sender, reference: str, claim: ClaimStatus) -> Outcome:
        grant = await self._staff(sender, reference)
        if grant is None:
            return self._denied(sender)
        return await self._update(grant, claim=claim)

    async def damages_insurance(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._staff(sender, reference)
        if grant is None:
            return self._denied(sender)
        return await self._update(grant, insurance_checked=not grant.case.damages_insurance_checked)

    async def _update(
        self,
        grant: Grant,
        *,
        claim: ClaimStatus | None = None,
        insurance_checked: bool | None = None,
        recovered_cents: int | None = None,
    ) -> Outcome:
        actor, helper, change_id = self._actor(grant), self._router.damages_helper_index(), uuid.uuid4().hex[:8]
        decision = await self._change(
            grant,
            lambda c: lifecycle.update_damages(
                c,
                actor,
                f"claim:{change_id}",
                helper,
                insurance_checked=insurance_checked,
                claim=claim,
                recovered_cents=recovered_cents,
            ),
        )
        if isinstance(decision, Refused):
            return self._refused(grant, decision)
        return Outcome(grant.language, replies=[await self._damages_view(decision.after)])

    async def _item_typed(self, typed: Typed) -> Outcome:
        cents = parse_amount(typed.text)
        if cents is None or cents == 0:
            return await self._again(typed, "damages.unreadable_amount")
        grant = typed.grant
        new = NewCostItem(uuid.uuid4().hex, CostKind(typed.composing.detail or CostKind.OTHER.value), cents)
        actor, helper = self._actor(grant), self._router.damages_helper_index()
        decision = await self._change(grant, lambda c: lifecycle.add_cost_item(c, actor, new, helper))
        if isinstance(decision, Refused):
            return self._refused(grant, decision)
        return Outcome(grant.language, replies=[await self._damages_view(decision.after)])

    async def _recovered_typed(self, typed: Typed) -> Outcome:
        cents = parse_amount(typed.text)
        if cents is None:
            return await self._again(typed, "damages.unreadable_amount")
        return await self._update(typed.grant, recovered_cents=cents)
