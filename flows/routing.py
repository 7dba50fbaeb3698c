"""The one place that decides who receives a new case.

- Office holders (council member, alderman, mayor) go to the counsellors who serve
  office holders; everyone else to those who serve staff.
- A report marked for registration also goes to the coordinators; an anonymous
  registration goes to the coordinators only, and carries no identity.
- Nobody ever receives a case they are barred from: their own report, or one whose
  reporter kept them out (flows.lifecycle.Case.barred).

What each recipient may see of it (the name or not) is flows.lifecycle.shows_name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from flows.lifecycle import Party
from flows.model import Audience, Coordinator, Counsellor, DamagesHelper, Manager, Role, Wish

StaffMember = Counsellor | Coordinator | Manager | DamagesHelper
_KIND_OF: dict[Party, type[StaffMember]] = {
    Party.COUNSELLOR: Counsellor,
    Party.COORDINATOR: Coordinator,
    Party.MANAGEMENT: Manager,
    Party.DAMAGES_HELPER: DamagesHelper,
}


@dataclass(frozen=True, slots=True)
class Route:
    counsellors: tuple[Counsellor, ...]
    coordinators: tuple[Coordinator, ...]
    audience: Audience
    wish: Wish

    @property
    def counsellor_missing(self) -> bool:
        return self.wish.reaches_counsellor and not self.counsellors

    @property
    def coordinator_missing(self) -> bool:
        return self.wish.reaches_coordinator and not self.coordinators


class Router:
    def __init__(
        self,
        counsellors: Sequence[Counsellor],
        coordinators: Sequence[Coordinator],
        index_of: Callable[[int], bytes],
        management: Sequence[Manager] = (),
        damages_helper: DamagesHelper | None = None,
    ) -> None:
        self.counsellors = tuple(counsellors)
        self.coordinators = tuple(coordinators)
        self.management = tuple(management)
        self.damages_helper = damages_helper
        self._index_of = index_of
        self._staff_by_index: dict[bytes, list[StaffMember]] = {}
        helpers = (damages_helper,) if damages_helper is not None else ()
        members: tuple[StaffMember, ...] = (*self.counsellors, *self.coordinators, *self.management, *helpers)
        for member in members:
            self._staff_by_index.setdefault(index_of(member.telegram_id), []).append(member)

    def add(self, member: StaffMember) -> None:
        """Someone enrolled while the bot runs: routed to from the next report on (flows/enrolment.py)."""
        if isinstance(member, Counsellor):
            self.counsellors = (*self.counsellors, member)
        elif isinstance(member, Coordinator):
            self.coordinators = (*self.coordinators, member)
        elif isinstance(member, Manager):
            self.management = (*self.management, member)
        else:
            self.damages_helper = member
        self._staff_by_index.setdefault(self._index_of(member.telegram_id), []).append(member)

    def remove(self, member: StaffMember) -> None:
        """Someone no longer staff: nothing more is routed or delivered to them."""
        self.counsellors = tuple(c for c in self.counsellors if c != member)
        self.coordinators = tuple(c for c in self.coordinators if c != member)
        self.management = tuple(m for m in self.management if m != member)
        if self.damages_helper == member:
            self.damages_helper = None
        index = self._index_of(member.telegram_id)
        left = [m for m in self._staff_by_index.get(index, ()) if m != member]
        if left:
            self._staff_by_index[index] = left
        else:
            self._staff_by_index.pop(index, None)

    def route(
        self, role: Role, wish: Wish, load: dict[bytes, int] | None = None, barred: frozenset[bytes] = frozenset()
    ) -> Route:
        """Who receives a new case: one counsellor of the reporter's group, and the coordinators
        if the reporter wants registration; never anyone ``barred``.

        With several counsellors for a group, the one with the fewest open cases gets it
        (ties go to the first in the configuration); the others are alerted only if nobody
        acknowledges it in time. Without ``load`` every counsellor of the group is listed.
        """
        audience = Audience.of(role)
        counsellors = self.serving(audience, barred) if wish.reaches_counsellor else ()
        if load is not None and counsellors:
            counsellors = (min(counsellors, key=lambda c: (load.get(self.index(c), 0), c.position)),)
        coordinators = tuple(c for c in self.coordinators if self.index(c) not in barred)
        return Route(counsellors, coordinators if wish.reaches_coordinator else (), audience, wish)

    def serving(self, audience: Audience, barred: Iterable[bytes] = frozenset()) -> tuple[Counsellor, ...]:
        """The counsellors of a group who may handle a case (none of those barred from it)."""
        excluded = frozenset(barred)
        return tuple(c for c in self.counsellors if audience in c.serves and self.index(c) not in excluded)

    def least_loaded(self, candidates: Sequence[Counsellor], load: dict[bytes, int]) -> Counsellor:
        return min(candidates, key=lambda c: (load.get(self.index(c), 0), c.position))

    def index(self, member: StaffMember) -> bytes:
        return self._index_of(member.telegram_id)

    def coordinator_indexes(self) -> list[bytes]:
        return [self.index(c) for c in self.coordinators]

    def management_indexes(self) -> list[bytes]:
        return [self.index(m) for m in self.management]

    def damages_helper_index(self) -> bytes | None:
        return None if self.damages_helper is None else self.index(self.damages_helper)

    def staff_member(self, telegram_id: int) -> list[StaffMember]:
        """The configured roles this Telegram account holds."""
        return list(self._staff_by_index.get(self._index_of(telegram_id), ()))

    def staff_by_index(self, index: bytes, role: Party) -> StaffMember | None:
        wanted = _KIND_OF.get(role)
        if wanted is None:
            return None
        for member in self._staff_by_index.get(index, ()):
            if isinstance(member, wanted):
                return member
        return None

    def counsellor(self, index: bytes) -> Counsellor | None:
        member = self.staff_by_index(index, Party.COUNSELLOR)
        return member if isinstance(member, Counsellor) else None

    def coordinator(self, index: bytes) -> Coordinator | None:
        member = self.staff_by_index(index, Party.COORDINATOR)
        return member if isinstance(member, Coordinator) else None

    def name(self, index: bytes | None, role: Party) -> str:
        member = None if index is None else self.staff_by_index(index, role)
        return member.name if member is not None else "—"

    def audiences_without_counsellor(self) -> list[Audience]:
        return [a for a in Audience if not any(a in c.serves for c in self.counsellors)]
