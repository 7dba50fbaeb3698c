"""The one place that decides who receives a case and what each of them sees.

- Office holders (council member, alderman, mayor) go to the counsellors who serve
  office holders; everyone else to those who serve staff.
- A report marked for registration also goes to the coordinators; an anonymous
  registration goes to the coordinators only, and carries no identity.
- A counsellor sees the reporter's name only when the reporter left name sharing on;
  a coordinator only when the reporter switched it on (never for anonymous reports).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flows.model import Audience, Coordinator, Counsellor, Role, Wish
from storage.cases import CaseRecord
from storage.outbox import Delivery

# A report's own words go in the first message when they fit; otherwise they follow
# in parts. Both stay well under Telegram's 4096 characters with the header added.
INLINE_DESCRIPTION = 2500
DESCRIPTION_PART = 3500

COUNSELLOR = "counsellor"
COORDINATOR = "coordinator"
REPORTER = "reporter"

CASE_REPORT = "case_report"
CASE_TEXT = "case_text"
CASE_ATTACHMENT = "case_attachment"
REPORTER_ACKNOWLEDGED = "reporter_acknowledged"
REPORTER_REGISTERED = "reporter_registered"


def description_parts(description: str) -> list[str]:
    """The description as the parts it is sent in: empty list when it fits inline.

    Parts break at a paragraph, line or word boundary where one is near the limit.
    """
    if len(description) <= INLINE_DESCRIPTION:
        return []
    parts: list[str] = []
    rest = description
    while len(rest) > DESCRIPTION_PART:
        window = rest[:DESCRIPTION_PART]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < DESCRIPTION_PART // 2:
            cut = DESCRIPTION_PART
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


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
    ) -> None:
        self.counsellors = tuple(counsellors)
        self.coordinators = tuple(coordinators)
        self._index_of = index_of
        self._staff_by_index: dict[bytes, list[Counsellor | Coordinator]] = {}
        for member in (*self.counsellors, *self.coordinators):
            self._staff_by_index.setdefault(index_of(member.telegram_id), []).append(member)

    def route(self, role: Role, wish: Wish) -> Route:
        audience = Audience.of(role)
        counsellors = tuple(c for c in self.counsellors if audience in c.serves) if wish.reaches_counsellor else ()
        coordinators = self.coordinators if wish.reaches_coordinator else ()
        return Route(counsellors, coordinators, audience, wish)

    def deliveries(self, case: CaseRecord, attachment_ids: Sequence[str], route: Route) -> list[Delivery]:
        """Everything to queue for one case: per recipient the report, its text parts, its files."""
        parts = len(description_parts(case.description))
        deliveries: list[Delivery] = []
        recipients = [(self._index_of(c.telegram_id), COUNSELLOR) for c in route.counsellors]
        recipients += [(self._index_of(c.telegram_id), COORDINATOR) for c in route.coordinators]
        for index, role in recipients:
            deliveries.append(Delivery(index, role, CASE_REPORT))
            deliveries.extend(Delivery(index, role, CASE_TEXT, str(n)) for n in range(parts))
            deliveries.extend(Delivery(index, role, CASE_ATTACHMENT, a) for a in attachment_ids)
        return deliveries

    def staff_member(self, telegram_id: int) -> list[Counsellor | Coordinator]:
        """The configured roles this Telegram account holds (someone may be both)."""
        return list(self._staff_by_index.get(self._index_of(telegram_id), ()))

    def staff_by_index(self, index: bytes, role: str) -> Counsellor | Coordinator | None:
        wanted = Counsellor if role == COUNSELLOR else Coordinator
        for member in self._staff_by_index.get(index, ()):
            if isinstance(member, wanted):
                return member
        return None

    def audiences_without_counsellor(self) -> list[Audience]:
        return [a for a in Audience if not any(a in c.serves for c in self.counsellors)]


def shows_name(case: CaseRecord, recipient_role: str) -> bool:
    """Whether this recipient may see who reported: only with the reporter's say-so."""
    wish = Wish(case.wish) if case.wish else Wish.ANONYMOUS_REGISTER
    if recipient_role == COUNSELLOR:
        return wish.reaches_counsellor and case.share_name_counsellor
    if recipient_role == COORDINATOR:
        return wish is Wish.COUNSELLOR_AND_REGISTER and case.share_name_coordinator
    return False
