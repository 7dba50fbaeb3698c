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
