"""Who may do what with a case: the one place that decides, checked on every command and press.

Nothing here trusts what a button says about who pressed it or what they may do: the
relation between the person and the case is looked up in the database each time, so
a button on an old message does nothing once the case has changed hands, been
withdrawn, or left the register.

Relations:

- ``owner``: the reporter who filed the case.
- ``counsellor``: a counsellor assigned to the case.
- ``alerted``: a counsellor asked to pick the case up because nobody did (may look and take it).
- ``coordinator``: a configured coordinator, for a case the reporter let into the register.

Each :class:`Permission` lists the relations that allow it and whether the case must
still be open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flows import routing
from flows.model import Coordinator, Counsellor, Sender, Wish
from flows.routing import Router
from storage import Storage
from storage.cases import CaseRecord
from storage.people import PersonRecord

OPEN = ("new", "acknowledged", "in_progress")
LIVE = (*OPEN, "closed")


class Relation(StrEnum):
    OWNER = "owner"
    COUNSELLOR = "counsellor"
    ALERTED = "alerted"
    COORDINATOR = "coordinator"


class Permission(StrEnum):
    VIEW = "view"
    ACKNOWLEDGE = "acknowledge"  # take the case (counsellor) or confirm the registration (coordinator)
    NOTES = "notes"
    STATUS = "status"
    HAND_OVER = "hand_over"
    RECUSE = "recuse"
    MESSAGE = "message"
    ASK_CONSENT = "ask_consent"
    RECORD_ACTION = "record_action"
    ADD_INFO = "add_info"
    REPLY = "reply"
    CONSENT = "consent"
    WITHDRAW = "withdraw"
    SHARE_NAME = "share_name"
    AFTERCARE = "aftercare"  # answer check-ins, pause or stop them, answer the closing question


_C, _A, _K, _O = Relation.COUNSELLOR, Relation.ALERTED, Relation.COORDINATOR, Relation.OWNER
# (relations allowed, statuses the case must be in)
RULES: dict[Permission, tuple[frozenset[Relation], tuple[str, ...]]] = {
    Permission.VIEW: (frozenset({_C, _A, _K, _O}), (*LIVE, "withdrawn")),
    Permission.ACKNOWLEDGE: (frozenset({_C, _A, _K}), OPEN),
    Permission.NOTES: (frozenset({_C}), LIVE),
    Permission.STATUS: (frozenset({_C, _K}), LIVE),
    Permission.HAND_OVER: (frozenset({_C}), OPEN),
    Permission.RECUSE: (frozenset({_C}), OPEN),
    Permission.MESSAGE: (frozenset({_C, _K}), LIVE),
    Permission.ASK_CONSENT: (frozenset({_C}), LIVE),
    Permission.RECORD_ACTION: (frozenset({_C, _K}), LIVE),
    Permission.ADD_INFO: (frozenset({_O}), LIVE),
    Permission.REPLY: (frozenset({_O}), LIVE),
    Permission.CONSENT: (frozenset({_O}), LIVE),
    Permission.WITHDRAW: (frozenset({_O}), LIVE),
    Permission.SHARE_NAME: (frozenset({_O}), LIVE),
    Permission.AFTERCARE: (frozenset({_O}), LIVE),
}


@dataclass(frozen=True, slots=True)
class Grant:
    """Permission given: the case, how the person relates to it, and who they are."""

    case: CaseRecord
    relation: Relation
    index: bytes  # keyed HMAC of the person's Telegram id
    member: Counsellor | Coordinator | None  # staff in the configuration
    person: PersonRecord | None  # the reporter, for the owner

    @property
    def is_staff(self) -> bool:
        return self.relation is not Relation.OWNER


class Access:
    def __init__(self, storage: Storage, router: Router) -> None:
        self._storage = storage
        self._router = router

    async def relations(self, sender: Sender, case: CaseRecord) -> dict[Relation, Counsellor | Coordinator | None]:
        """Every relation this person has with this case (a counsellor may also be a reporter)."""
        index = self._storage.people.index_of(sender.telegram_id)
        found: dict[Relation, Counsellor | Coordinator | None] = {}
        if case.status == "draft":
            return found
        if case.person_id is not None:
            person = await self._storage.people.find_by_index(index)
            if person is not None and person.id == case.person_id:
                found[Relation.OWNER] = None
        if index in await self._storage.cases.barred_from(case.id):
            return found  # their own report, or one they were excluded from: never as staff
        counsellor = self._router.staff_by_index(index, "counsellor")
        if counsellor is not None:
            state = (await self._storage.cases.counsellors_of(case.id)).get(index)
            if state == "assigned":
                found[Relation.COUNSELLOR] = counsellor
            elif state == "alerted":
                found[Relation.ALERTED] = counsellor
        coordinator = self._router.staff_by_index(index, "coordinator")
        if coordinator is not None and in_register(case):
            found[Relation.COORDINATOR] = coordinator
        return found

    async def check(
        self, sender: Sender, permission: Permission, reference: str, *, prefer: Relation | None = None
    ) -> Grant | None:
        """A grant if this person may do this to the case with this reference; None otherwise.

        None is also the answer for a case that does not exist, so that probing references
        tells nothing about which exist.
        """
        case = await self._storage.cases.by_reference(reference) if _plausible(reference) else None
        if case is None:
            return None
        return await self.check_case(sender, permission, case, prefer=prefer)

    async def check_case(
        self, sender: Sender, permission: Permission, case: CaseRecord, *, prefer: Relation | None = None
    ) -> Grant | None:
        allowed, statuses = RULES[permission]
        if case.status not in statuses:
            return None
        relations = await self.relations(sender, case)
        usable = [r for r in relations if r in allowed and _condition(permission, r, case)]
        if not usable:
            return None
        relation = prefer if prefer in usable else _most_specific(usable)
        index = self._storage.people.index_of(sender.telegram_id)
        person = await self._storage.people.find_by_index(index) if relation is Relation.OWNER else None
        return Grant(case, relation, index, relations[relation], person)


async def record(storage: Storage, grant: Grant, action: str, now: datetime, detail: str | None = None) -> None:
    """An audit entry for what someone did under a grant: staff by their configured name, a reporter as such."""
    await storage.audit.record(
        actor_role=grant.relation.value if grant.is_staff else "reporter",
        actor=grant.member.name if grant.member is not None else "reporter",
        action=action,
        now=now,
        case_ref=grant.case.reference,
        detail=detail,
    )


# -- what may be sent, decided when it is sent ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    """Deliver the item as it is."""


@dataclass(frozen=True, slots=True)
class Drop:
    """Do not deliver: the recipient may no longer receive this (``reason`` is a short code)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Readdress:
    """Not for this recipient any more, but it still matters: it goes to whoever handles the case now."""

    reason: str


Verdict = Send | Drop | Readdress

# Staff notifications that carry the report, the conversation or health information.
_CONTENT = frozenset(
    {
        routing.CASE_REPORT,
        routing.CASE_REPORT_ESCALATED,
        routing.CASE_REPORT_HANDED_OVER,
        routing.CASE_REPORT_CONSENTED,
        routing.CASE_TEXT,
        routing.CASE_ATTACHMENT,
        routing.RELAY,
        routing.RELAY_FILE,
        routing.CASE_ADDITION,
        routing.CHECKIN_ALERT,
    }
)
# What a counsellor who alerted (asked to pick the case up) may receive: the report itself.
_REPORT_PARTS = frozenset(
    {routing.CASE_REPORT, routing.CASE_REPORT_ESCALATED, routing.CASE_TEXT, routing.CASE_ATTACHMENT}
)
# Counsellor notifications that belong to the case rather than the person: when the counsellor
# they were queued for no longer handles it, the one who does receives them instead.
_FOLLOWS_THE_HANDLER = frozenset(
    {
        routing.RELAY,
        routing.RELAY_FILE,
        routing.CASE_ADDITION,
        routing.CHECKIN_ALERT,
        routing.CONSENT_ANSWER,
        routing.SILENCE_REMINDER,
    }
)
# Metadata only (reference, group, category, age): for coordinators about open cases.
_ALERTS = frozenset({routing.COORDINATOR_ALERT, routing.CASE_WAITING})


def delivery_verdict(
    case: CaseRecord,
    kind: str,
    recipient_role: str,
    *,
    counsellor_state: str | None,
    told_before: bool,
    barred: bool,
) -> Verdict:
    """May this notification go to this recipient now, given the case as it is at this moment?

    The same rules as :data:`RULES` and :func:`in_register`, applied at the moment of
    sending rather than the moment of queueing: a case can be withdrawn, its consent
    withdrawn, handed over or erased while a message waits for someone who has not
    pressed Start yet. ``counsellor_state`` is the recipient's state on the case
    (assigned, alerted, former, recused, or None); ``told_before`` whether anything about
    this case ever reached them; ``barred`` whether they may never handle it (they
    reported it themself, or the reporter excluded them).
    """
    if recipient_role == routing.REPORTER:
        # After withdrawing, the reporter hears nothing more about the case.
        return Drop("withdrawn") if case.status == "withdrawn" else Send()
    if barred:
        return Drop("barred")
    if kind == routing.CASE_WITHDRAWN:
        # Only someone who knew of the case learns that it was withdrawn; nothing else.
        return Send() if case.status == "withdrawn" and told_before else Drop("never_told")
    if kind == routing.REGISTER_WITHDRAWN:
        return Send() if told_before and not in_register(case) else Drop("never_told")
    if case.status == "withdrawn":
        return Drop("withdrawn")
    if recipient_role == routing.COORDINATOR:
        if kind in _ALERTS or kind == routing.SILENCE_REMINDER:
            return Send() if case.status in OPEN else Drop("closed")
        if kind == routing.CHECKIN_ALERT:
            return Drop("health_information")
        if kind in _CONTENT:
            return Send() if in_register(case) else Drop("not_in_register")
        return Send()
    # A counsellor.
    if kind == routing.CASE_TAKEN_OVER:
        return Send() if counsellor_state == "former" else Drop("not_on_case")
    if kind == routing.SILENCE_REMINDER and case.status not in OPEN:
        return Drop("closed")
    if counsellor_state == "assigned":
        return Send()
    if counsellor_state == "alerted" and kind in _REPORT_PARTS and case.status in OPEN:
        return Send()
    if kind in _FOLLOWS_THE_HANDLER:
        return Readdress("handler_changed")
    return Drop("not_on_case")


def _condition(permission: Permission, relation: Relation, case: CaseRecord) -> bool:
    """Rules that depend on the case itself."""
    if relation is Relation.COORDINATOR and permission is Permission.STATUS:
        # The counsellor runs a case that has one; coordinators run anonymous registrations.
        return not has_counsellor_side(case)
    if relation is Relation.ALERTED and permission is Permission.VIEW:
        return case.status in OPEN
    if case.status == "withdrawn":
        # A withdrawn case is the reporter's alone: staff keep only its reference in their lists.
        return relation is Relation.OWNER
    return True


def in_register(case: CaseRecord) -> bool:
    """Whether coordinators may see the case: only with the reporter's say-so, never withdrawn."""
    return case.register in ("anonymous", "named") and case.status != "draft"


def has_counsellor_side(case: CaseRecord) -> bool:
    return case.wish is not None and Wish(case.wish).reaches_counsellor


def _most_specific(relations: list[Relation]) -> Relation:
    for relation in (Relation.COUNSELLOR, Relation.ALERTED, Relation.COORDINATOR, Relation.OWNER):
        if relation in relations:
            return relation
    raise ValueError("no relation")


def _plausible(reference: str) -> bool:
    return len(reference) == 12 and reference.startswith("MB-")
