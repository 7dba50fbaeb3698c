"""Who may do what with a case: the one place that decides, checked on every command and press.

Nothing here trusts what a button says about who pressed it or what they may do: the
relation between the person and the case is read from the case as it is in the database
each time, so a button on an old message does nothing once the case has changed hands,
been withdrawn, or left the register.

Relations:

- ``owner``: the reporter who filed the case.
- ``counsellor``: a counsellor assigned to the case.
- ``alerted``: a counsellor asked to pick the case up because nobody did (may look and take it).
- ``coordinator``: a configured coordinator, for a case the reporter let into the register.

Nobody has a staff relation with a case they are barred from (their own report, or one
whose reporter kept them out). Each :class:`Permission` lists the relations that allow
it and the statuses the case must be in. What may still be *sent* about a case is
flows.lifecycle.delivery_verdict, the same rules applied at the moment of sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flows.lifecycle import LIVE, OPEN, Case, CaseStatus, CounsellorState
from flows.model import Language, Sender
from flows.routing import Router, StaffMember
from storage import Storage
from storage.people import PersonRecord


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
    DOSSIER = "dossier"  # have the case file for the police drawn up
    OWN_COPY = "own_copy"  # the reporter's own copy of the case file
    PERPETRATOR_DETAILS = "perpetrator_details"  # add what is known of the perpetrator


_C, _A, _K, _O = Relation.COUNSELLOR, Relation.ALERTED, Relation.COORDINATOR, Relation.OWNER
# (relations allowed, statuses the case must be in)
RULES: dict[Permission, tuple[frozenset[Relation], frozenset[CaseStatus]]] = {
    Permission.VIEW: (frozenset({_C, _A, _K, _O}), LIVE | {CaseStatus.WITHDRAWN}),
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
    Permission.DOSSIER: (frozenset({_C, _K}), LIVE),
    Permission.OWN_COPY: (frozenset({_O}), LIVE),
    Permission.PERPETRATOR_DETAILS: (frozenset({_C, _K, _O}), LIVE),
}


@dataclass(frozen=True, slots=True)
class Grant:
    """Permission given: the case, how the person relates to it, and who they are."""

    case: Case
    relation: Relation
    index: bytes  # keyed HMAC of the person's Telegram id
    member: StaffMember | None  # staff in the configuration
    person: PersonRecord | None  # the reporter, for the owner

    @property
    def is_staff(self) -> bool:
        return self.relation is not Relation.OWNER

    @property
    def language(self) -> Language:
        if self.member is not None:
            return self.member.language
        assert self.person is not None
        return Language(self.person.language)


def relations(case: Case, index: bytes, router: Router) -> dict[Relation, StaffMember | None]:
    """Every relation this person has with this case (a counsellor may also be a reporter)."""
    found: dict[Relation, StaffMember | None] = {}
    if case.reporter is not None and case.reporter == index:
        found[Relation.OWNER] = None
    if index in case.barred:
        return found  # their own report, or one they were kept out of: never as staff
    counsellor = router.counsellor(index)
    if counsellor is not None:
        state = case.counsellors.get(index)
        if state is CounsellorState.ASSIGNED:
            found[Relation.COUNSELLOR] = counsellor
        elif state is CounsellorState.ALERTED:
            found[Relation.ALERTED] = counsellor
    coordinator = router.coordinator(index)
    if coordinator is not None and case.in_register:
        found[Relation.COORDINATOR] = coordinator
    return found


def allows(permission: Permission, relation: Relation, case: Case) -> bool:
    """Whether ``relation`` gives ``permission`` on the case as it is."""
    allowed, statuses = RULES[permission]
    if relation not in allowed or case.status not in statuses:
        return False
    if relation is Relation.COORDINATOR and permission is Permission.STATUS:
        # The counsellor runs a case that has one; coordinators run anonymous registrations.
        return not case.has_counsellor_side
    if relation is Relation.ALERTED and permission is Permission.VIEW:
        return case.is_open
    if case.status is CaseStatus.WITHDRAWN:
        # A withdrawn case is the reporter's alone: staff keep only its reference in their lists.
        return relation is Relation.OWNER
    return True


class Access:
    def __init__(self, storage: Storage, router: Router) -> None:
        self._storage = storage
        self._router = router

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
        self, sender: Sender, permission: Permission, case: Case, *, prefer: Relation | None = None
    ) -> Grant | None:
        index = self._storage.people.index_of(sender.telegram_id)
        found = relations(case, index, self._router)
        usable = [r for r in found if allows(permission, r, case)]
        if not usable:
            return None
        relation = prefer if prefer in usable else _most_specific(usable)
        person = await self._storage.people.find_by_index(index) if relation is Relation.OWNER else None
        return Grant(case, relation, index, found[relation], person)


def _most_specific(relations: list[Relation]) -> Relation:
    for relation in (Relation.COUNSELLOR, Relation.ALERTED, Relation.COORDINATOR, Relation.OWNER):
        if relation in relations:
            return relation
    raise ValueError("no relation")


def _plausible(reference: str) -> bool:
    return len(reference) == 12 and reference.startswith("MB-")


# -- the statistics ------------------------------------------------------------------------
# Statistics show counts, never cases, so they are not a relation with a case: whoever steers
# sees them. Coordinators do; the management role (the town secretary, the griffier, the
# mayor: statistics only) joins through :func:`management`.


def management(router: Router) -> frozenset[bytes]:
    """The keyed indexes of the people in the ``management`` role (configured or enrolled)."""
    return frozenset(router.management_indexes())


def sees_statistics(index: bytes, router: Router) -> bool:
    """Whether this person may see /stats and receive the quarterly summary."""
    return router.coordinator(index) is not None or index in management(router)


def may_export(index: bytes, router: Router) -> bool:
    """Whether this person may export the register: coordinators only (it lists cases)."""
    return router.coordinator(index) is not None
