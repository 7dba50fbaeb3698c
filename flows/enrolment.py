"""Staff enrolled by a single-use link, beside the staff in the configuration.

An operator (``meldbot invite --role counsellor|coordinator|management``) or a coordinator
(/invite in the chat) makes a link; whoever opens it becomes staff with that role, at once:
the Router routes to them from the next report on, and reports that waited for a
counsellor go to them. ``meldbot staff remove`` ends it: their open cases go to a colleague
of the group or wait for routing, as when nobody serves the group.

Enrolled management joins the Router like configured management; what they may see is decided in flows/access.py.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from flows import lifecycle
from flows.clock import Clock
from flows.invites import clean_department, invite_link
from flows.lifecycle import Actor, Change, CounsellorState
from flows.model import Audience, Coordinator, Counsellor, Language, Manager, Sender, StaffRole
from flows.outcome import CreateStaffInvite, Label, Outcome, Reply
from flows.routing import Router, StaffMember
from storage import Storage
from storage.staff import EnrolledMember

_CODE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True, slots=True)
class Removed:
    """What ``remove`` did: who left, and what became of the open cases they handled."""

    member: EnrolledMember
    handed_on: int  # went to a colleague of the group
    waiting: int  # wait for a counsellor (the coordinators were told)


class Enrolment:
    def __init__(
        self,
        storage: Storage,
        router: Router,
        clock: Clock,
        valid_for: timedelta,
        route_waiting: Callable[[], Awaitable[int]],
    ) -> None:
        self._storage = storage
        self._router = router
        self._clock = clock
        self.valid_for = valid_for
        self._route_waiting = route_waiting
        # enrolment id -> (the enrolment, the member the Router holds for it)
        self._routed: dict[str, tuple[EnrolledMember, StaffMember]] = {}
        self._last_position: dict[StaffRole, int] = {}

    # -- the Router's view ----------------------------------------------------------------

    async def sync(self) -> int:
        """Make the Router hold exactly the enrolled staff (at start, and after a change by another
        process such as ``meldbot staff remove``); waiting reports go to anyone new. Someone whose
        enrolment vanished otherwise (they erased themselves with /forgetme) has their open cases
        handed on here; after a removal that already did so, nothing is left to hand on. Returns how
        many members were added."""
        members = {m.id: m for m in await self._storage.staff.members()}
        for member_id in [i for i in self._routed if i not in members]:
            gone, routed = self._routed.pop(member_id)
            self._router.remove(routed)
            await self._hand_on(gone)
        added = 0
        for member in members.values():
            if member.id not in self._routed and self._admit(member):
                added += 1
        if added:
            await self._route_waiting()
        return added

    def _admit(self, member: EnrolledMember) -> bool:
        routed: StaffMember
        if member.role is StaffRole.COUNSELLOR:
            if self._router.counsellor(member.staff_index) is not None:
                return False  # also in the configuration, which comes first
            position = self._position(StaffRole.COUNSELLOR, [c.position for c in self._router.counsellors])
            routed = Counsellor(member.telegram_id, member.name, member.serves, member.language, position)
        elif member.role is StaffRole.COORDINATOR:
            if self._router.coordinator(member.staff_index) is not None:
                return False
            position = self._position(StaffRole.COORDINATOR, [c.position for c in self._router.coordinators])
            routed = Coordinator(member.telegram_id, member.name, member.language, position)
        else:
            if any(self._router.index(m) == member.staff_index for m in self._router.management):
                return False
            position = self._position(StaffRole.MANAGEMENT, [m.position for m in self._router.management])
            routed = Manager(member.telegram_id, member.name, member.language, position)
        self._router.add(routed)
        self._routed[member.id] = (member, routed)
        return True

    def _position(self, role: StaffRole, taken: list[int]) -> int:
        """After everyone configured, and never one given before while the bot runs: a draft names
        the staff it keeps out by position (flows/intake.py), so a removed member's is not reused."""
        position = max([*taken, self._last_position.get(role, -1)]) + 1
        self._last_position[role] = position
        return position

    # -- making a link --------------------------------------------------------------------

    async def create(
        self,
        *,
        role: StaffRole,
        name: str | None,
        serves: frozenset[Audience],
        language: Language,
        created_by: bytes | None,
        now: datetime,
    ) -> tuple[str, datetime]:
        """A new single-use code, and until when it works."""
        expires = now + self.valid_for
        code = await self._storage.staff.create_invite(
            role=role,
            name=name,
            serves=serves if role is StaffRole.COUNSELLOR else frozenset(),
            language=language,
            created_by=created_by,
            expires_at=expires,
            now=now,
        )
        who = "coordinator" if created_by else "operator"
        await self._storage.audit.record(
            actor_role=who, actor=who, action="staff_invite_created", now=now, detail=role.value
        )
        return code, expires

    async def create_in_bot(self, sender: Sender, action: CreateStaffInvite, bot_username: str) -> Outcome:
        """A coordinator's button under /invite: the link, to pass on to the new colleague."""
        coordinator = self._router.coordinator(self._storage.people.index_of(sender.telegram_id))
        name = clean_department(action.name)
        counsellor = action.role is StaffRole.COUNSELLOR
        if coordinator is None or name is None or counsellor != bool(action.serves.audiences):
            return Outcome(Language.from_telegram(sender.language_code), toast=Label("toast.not_yours"))
        code, expires = await self.create(
            role=action.role,
            name=name or None,
            serves=action.serves.audiences,
            language=coordinator.language,
            created_by=self._router.index(coordinator),
            now=self._clock.now(),
        )
        return Outcome(
            coordinator.language,
            edit_pressed=Reply(
                "staff.invite_created",
                {
                    "link": invite_link(bot_username, code),
                    "role": Label(f"staff.role_{action.role.value}"),
                    "name": name or Label("staff.own_name"),
                    "expires": expires.date(),
                },
            ),
        )

    # -- opening a link -------------------------------------------------------------------

    async def redeem(self, sender: Sender, code: str) -> Outcome | None:
        """/start with a staff invitation. None when the code is not one (a reporter's, perhaps)."""
        if not _CODE.match(code):
            return None
        found = await self._storage.staff.invitation(code)
        if found is None:
            return None
        invitation, used = found
        now = self._clock.now()
        language = Language.from_telegram(sender.language_code)
        if used or invitation.expires_at <= now:
            return Outcome(language, replies=[Reply("invite.invalid")])
        language = invitation.language
        role_label = Label(f"staff.role_{invitation.role.value}")
        held = self._router.staff_member(sender.telegram_id)
        enrolled = [m for m in await self._storage.staff.members() if m.telegram_id == sender.telegram_id]
        if any(m.role is invitation.role for m in enrolled) or any(_role_of(m) is invitation.role for m in held):
            return Outcome(language, replies=[Reply("staff.already_enrolled", {"role": role_label})])
        if _conflicts(invitation.role, {_role_of(m) for m in held} | {m.role for m in enrolled}):
            # As in the configuration: a counsellor keeps confidences a coordinator must not see.
            return Outcome(language, replies=[Reply("staff.enrol_conflict", {"role": role_label})])
        person = await self._storage.people.ensure(
            telegram_id=sender.telegram_id,
            display_name=sender.display_name,
            username=sender.username,
            language=language.value,
            now=now,
        )
        member = await self._storage.staff.enrol(
            code, person.id, self._storage.people.index_of(sender.telegram_id), sender.display_name, now
        )
        if member is None:
            return Outcome(language, replies=[Reply("invite.invalid")])
        await self._storage.audit.record(
            actor_role=member.role.value, actor=_audit_name(member), action="staff_enrolled", now=now
        )
        if self._admit(member):
            await self._route_waiting()
        return Outcome(language, replies=[Reply(f"staff.enrolled_{member.role.value}", {"name": member.name})])

    # -- the operator's list --------------------------------------------------------------

    async def members(self) -> list[EnrolledMember]:
        return await self._storage.staff.members()

    async def remove(self, member: EnrolledMember) -> Removed:
        """End an enrolment: the Router forgets them, and each open case they handled goes to a
        colleague of its group (the least loaded) or waits for routing; one audit entry for the removal,
        and one per case (in the case's own transaction)."""
        now = self._clock.now()
        await self._storage.staff.remove(member.id)
        held = self._routed.pop(member.id, None)
        if held is not None:
            self._router.remove(held[1])
        await self._storage.audit.record(
            actor_role="operator", actor="operator", action="staff_removed", now=now, detail=_audit_name(member)
        )
        handed_on, waiting = await self._hand_on(member)
        return Removed(member, handed_on, waiting)

    async def _hand_on(self, member: EnrolledMember) -> tuple[int, int]:
        """Each open case the member handled goes to a colleague, or waits: (handed on, waiting)."""
        now = self._clock.now()
        handed_on = waiting = 0
        if member.role is StaffRole.COUNSELLOR and self._router.counsellor(member.staff_index) is None:
            gone = Actor("counsellor", _audit_name(member), member.staff_index)
            for case_id in await self._storage.staff.cases_held(member.staff_index):
                to = await self._successor(case_id, member.staff_index)
                coordinators = self._router.coordinator_indexes()
                _, decision = await self._storage.cases.change(
                    case_id,
                    partial(lifecycle.counsellor_left, gone=gone, to=to, coordinators=coordinators, now=now),
                    now,
                )
                if isinstance(decision, Change) and decision.audit.detail != "alerted":
                    handed_on, waiting = (handed_on + 1, waiting) if to is not None else (handed_on, waiting + 1)
            await self._route_waiting()
        return handed_on, waiting

    async def _successor(self, case_id: str, gone: bytes) -> bytes | None:
        """The least-loaded colleague of the case's group who may take it; None if nobody may."""
        case = await self._storage.cases.get(case_id)
        if case is None:
            return None
        candidates = [
            c
            for c in self._router.serving(case.audience, case.barred)
            if self._router.index(c) != gone
            and case.counsellors.get(self._router.index(c)) is not CounsellorState.RECUSED
        ]
        if not candidates:
            return None
        load = await self._storage.cases.open_load([self._router.index(c) for c in candidates])
        return self._router.index(self._router.least_loaded(candidates, load))


def _audit_name(member: EnrolledMember) -> str:
    """How the audit trail names someone enrolled: by the id ``meldbot staff list`` shows, as their
    name is kept sealed (staff in the configuration are named by their configured name)."""
    return f"enrolled {member.id[:8]}"


def _role_of(member: StaffMember) -> StaffRole:
    return StaffRole.COUNSELLOR if isinstance(member, Counsellor) else StaffRole.COORDINATOR


def _conflicts(role: StaffRole, held: set[StaffRole]) -> bool:
    return (role is StaffRole.COUNSELLOR and StaffRole.COORDINATOR in held) or (
        role is StaffRole.COORDINATOR and StaffRole.COUNSELLOR in held
    )
