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

import messages
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

# What the outbox can carry. The text is composed when it is sent (flows/notices.py).
CASE_REPORT = "case_report"  # the report, to its counsellor or to the coordinators
CASE_REPORT_ESCALATED = "case_report_escalated"  # to other counsellors: nobody picked it up
CASE_REPORT_HANDED_OVER = "case_report_handed_over"  # to the counsellor who takes over
CASE_REPORT_CONSENTED = "case_report_consented"  # to the coordinators, after the reporter's yes
CASE_TEXT = "case_text"  # ref: part number of a long description
CASE_ATTACHMENT = "case_attachment"  # ref: attachment id
RELAY = "relay"  # ref: message id; a message between reporter and staff (its text)
RELAY_FILE = "relay_file"  # ref: message id; the file that came with that message
CASE_ADDITION = "case_addition"  # ref: message id; the reporter added information
CONSENT_REQUEST = "consent_request"  # to the reporter
CONSENT_ANSWER = "consent_answer"  # ref: the answer; to the counsellor
REGISTER_WITHDRAWN = "register_withdrawn"  # to the coordinators
CASE_WITHDRAWN = "case_withdrawn"  # to staff on the case
CASE_ERASED = "case_erased"  # ref: the reference; the case no longer exists
COORDINATOR_ALERT = "coordinator_alert"  # metadata only: a case nobody picked up
CASE_WAITING = "case_waiting"  # metadata only: a case without a counsellor after recusal
REPORTER_ACKNOWLEDGED = "reporter_acknowledged"
REPORTER_REGISTERED = "reporter_registered"
REPORTER_ESCALATED = "reporter_escalated"  # honest word that more people were asked
REPORTER_NEW_COUNSELLOR = "reporter_new_counsellor"  # named at sending: whoever handles the case then
CASE_TAKEN_OVER = "case_taken_over"  # to the counsellor whose case a colleague took over
REPORTER_STATUS = "reporter_status"  # ref: the new status
CHECK_IN = "check_in"  # ref: the step number; to the reporter
TIPS = "tips"  # practical reminders for the kind of incident; to the reporter
REOFFER = "reoffer"  # aftercare offered once more; to the reporter
CHECKIN_ALERT = "checkin_alert"  # ref: the answer (bothers, talk); to the counsellor
ACTION_FEEDBACK = "action_feedback"  # ref: the action id; to the reporter
SILENCE_REMINDER = "silence_reminder"  # ref: days without news; to the case owner or coordinators
SURVEY = "survey"  # the closing question; to the reporter


def description_parts(description: str) -> list[str]:
    """The description as the parts it is sent in: empty list when it fits inline.

    Lengths as Telegram counts them (messages.length). Parts break at a paragraph, line
    or word boundary where one is near the limit.
    """
    if messages.length(description) <= INLINE_DESCRIPTION:
        return []
    parts: list[str] = []
    rest = description
    while messages.length(rest) > DESCRIPTION_PART:
        window = messages.shorten(rest, DESCRIPTION_PART + 1)[:-1]  # the most that fits in one part
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < len(window) // 2:
            cut = len(window)
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

    def route(
        self, role: Role, wish: Wish, load: dict[bytes, int] | None = None, barred: frozenset[bytes] = frozenset()
    ) -> Route:
        """Who receives a new case: one counsellor of the reporter's group, and the coordinators
        if the reporter wants registration; never anyone ``barred`` (the reporter themself, and
        whoever the reporter excluded).

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

    def serving(self, audience: Audience, barred: frozenset[bytes] = frozenset()) -> tuple[Counsellor, ...]:
        """The counsellors of a group who may handle a case (none of those barred from it)."""
        return tuple(c for c in self.counsellors if audience in c.serves and self.index(c) not in barred)

    def index(self, member: Counsellor | Coordinator) -> bytes:
        return self._index_of(member.telegram_id)

    def report_deliveries(
        self,
        case: CaseRecord,
        attachment_ids: Sequence[str],
        recipients: Sequence[tuple[bytes, str]],
        kind: str = CASE_REPORT,
    ) -> list[Delivery]:
        """The whole report for each recipient: the report itself, its text parts, its files."""
        parts = len(description_parts(case.description))
        deliveries: list[Delivery] = []
        for index, role in recipients:
            deliveries.append(Delivery(index, role, kind))
            deliveries.extend(Delivery(index, role, CASE_TEXT, str(n)) for n in range(parts))
            deliveries.extend(Delivery(index, role, CASE_ATTACHMENT, a) for a in attachment_ids)
        return deliveries

    def deliveries(self, case: CaseRecord, attachment_ids: Sequence[str], route: Route) -> list[Delivery]:
        """Everything to queue for a routed case."""
        recipients = [(self.index(c), COUNSELLOR) for c in route.counsellors]
        recipients += [(self.index(c), COORDINATOR) for c in route.coordinators]
        return self.report_deliveries(case, attachment_ids, recipients)

    def coordinator_recipients(self, barred: frozenset[bytes] = frozenset()) -> list[tuple[bytes, str]]:
        return [(self.index(c), COORDINATOR) for c in self.coordinators if self.index(c) not in barred]

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
    """Whether this recipient may see who reported: only with the reporter's say-so.

    A counsellor sees the name when the reporter left name sharing on; coordinators only
    when the reporter let the case into the register with their name.
    """
    wish = Wish(case.wish) if case.wish else Wish.ANONYMOUS_REGISTER
    if recipient_role == COUNSELLOR:
        return wish.reaches_counsellor and case.share_name_counsellor
    if recipient_role == COORDINATOR:
        if case.status == "draft":
            return wish is Wish.COUNSELLOR_AND_REGISTER and case.share_name_coordinator
        return case.register == "named"
    return False


def register_for(wish: Wish, share_name_coordinator: bool) -> str:
    """What the coordinators may see of a case when it is submitted with this wish."""
    if wish is Wish.COUNSELLOR:
        return "none"
    if wish is Wish.COUNSELLOR_AND_REGISTER and share_name_coordinator:
        return "named"
    return "anonymous"
