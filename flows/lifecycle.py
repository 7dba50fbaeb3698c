"""The life of a case: every status, every transition, and every rule of who hears what.

A report starts as a :class:`Draft` while the reporter answers the questions; submitted,
it is a :class:`Case`. Each thing that can happen to a case is a pure function here
(:func:`acknowledge`, :func:`hand_over`, :func:`withdraw`, ...) that takes the case as it is
and returns either :class:`Refused` (with a reason) or a :class:`Change`: the case after,
the counsellors' new states, the notifications to queue, the timers to add or cancel, the
rows to add to the case file, and the audit entry. ``storage`` reads the case, asks the
transition and applies its change in one write transaction (so two presses at once are
decided one after the other, each on the case as the other left it), and decides nothing;
a crash never leaves a change without its audit entry or its notifications, and this
module is the one place to read the rules. ``flows/casework.mmd`` draws the statuses; a test checks the drawing
against :data:`TRANSITIONS`.

What may be sent is decided twice: when a change queues a notification, and again when
it is sent (:func:`delivery_verdict`), because a case can be withdrawn, handed over or
erased while a message waits for someone who has not pressed Start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import messages
from flows.model import (
    AttachmentKind,
    Audience,
    Channel,
    Consequence,
    Form,
    Perpetrator,
    Role,
    Step,
    Wish,
    consequences_code,
    forms_code,
)
from flows.perpetrator import IdentifierKind

# -- the words --------------------------------------------------------------------------


class CaseStatus(StrEnum):
    DRAFT = "draft"
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


OPEN = frozenset({CaseStatus.NEW, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS})
LIVE = OPEN | {CaseStatus.CLOSED}
# What staff can set by hand, in the order offered.
SETTABLE = (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS, CaseStatus.CLOSED)

# Every way a status changes (the statuses of flows/casework.mmd), with what causes it.
TRANSITIONS: frozenset[tuple[CaseStatus, CaseStatus, str]] = frozenset(
    {
        (CaseStatus.DRAFT, CaseStatus.NEW, "submit"),
        (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED, "acknowledge"),
        (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED, "register an anonymous report"),
        (CaseStatus.ACKNOWLEDGED, CaseStatus.NEW, "hand over or recuse"),
        *(
            (before, after, "set status")
            for before in (*OPEN, CaseStatus.CLOSED)
            for after in SETTABLE
            if before != after
        ),
        *((before, CaseStatus.WITHDRAWN, "withdraw") for before in LIVE),
    }
)


class RegisterState(StrEnum):
    """What the coordinators may see: nothing, the content without a name, or with the name."""

    NONE = "none"
    ANONYMOUS = "anonymous"
    NAMED = "named"
    WITHDRAWN = "withdrawn"


# What coordinators may see: the case is in the register.
IN_REGISTER = frozenset({RegisterState.ANONYMOUS, RegisterState.NAMED})

# Every way the register state changes after submission: only by the reporter's word (consent).
REGISTER_TRANSITIONS: frozenset[tuple[RegisterState, RegisterState, str]] = frozenset(
    {
        *(
            (before, after, "consent given")
            for before in (RegisterState.NONE, RegisterState.WITHDRAWN)
            for after in (RegisterState.ANONYMOUS, RegisterState.NAMED)
        ),
        (RegisterState.ANONYMOUS, RegisterState.NAMED, "consent given"),
        (RegisterState.NAMED, RegisterState.ANONYMOUS, "consent given"),
        (RegisterState.ANONYMOUS, RegisterState.WITHDRAWN, "consent withdrawn"),
        (RegisterState.NAMED, RegisterState.WITHDRAWN, "consent withdrawn"),
    }
)


class CounsellorState(StrEnum):
    ASSIGNED = "assigned"  # handles the case
    ALERTED = "alerted"  # asked to pick it up because nobody did (may look and take it)
    FORMER = "former"  # handed it over, or a colleague took it
    RECUSED = "recused"  # stepped back (conflict of interest)


class AftercareState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"  # said stop; offered once more later
    DECLINED = "declined"  # said no again, or did not answer: left in peace


class Party(StrEnum):
    """Who a notification is for."""

    REPORTER = "reporter"
    COUNSELLOR = "counsellor"
    COORDINATOR = "coordinator"


class Notice(StrEnum):
    """What the outbox can carry. The text is composed when it is sent (flows/notices.py)."""

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
    NOT_ALONE = "not_alone"  # other registered reports name the same person: join them? to the reporter


class TimerKind(StrEnum):
    """What falls due later (the ``scheduled`` table)."""

    ESCALATE_COUNSELLORS = "escalate_counsellors"
    ESCALATE_COORDINATORS = "escalate_coordinators"
    CHECK_IN = "check_in"  # detail: the step number
    TIPS = "tips"
    REOFFER = "reoffer"
    SILENCE_OWNER = "silence_owner"
    SILENCE_COORDINATORS = "silence_coordinators"


ESCALATIONS = frozenset({TimerKind.ESCALATE_COUNSELLORS, TimerKind.ESCALATE_COORDINATORS})


class ActionKind(StrEnum):
    """What the organisation did towards the perpetrator."""

    CONVERSATION = "conversation"
    WARNING_LETTER = "warning_letter"
    ACCESS_BAN = "access_ban"
    SERVICE_SUSPENDED = "service_suspended"
    POLICE_REPORT_VICTIM = "police_report_victim"
    POLICE_REPORT_EMPLOYER = "police_report_employer"
    DAMAGES_CLAIMED = "damages_claimed"
    NOTHING = "nothing"


class ActionOutcome(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    UNSUCCESSFUL = "unsuccessful"


class Thread(StrEnum):
    """Conversations about a case: with the counsellor, with the coordinator, or additions to the case."""

    CASE = "case"
    COUNSELLOR = "counsellor"
    COORDINATOR = "coordinator"


class NotAloneAnswer(StrEnum):
    """The reporter's word on "other reports name the same person": join the register, or not."""

    NAMED = "named"
    ANONYMOUS = "anonymous"
    NO = "no"


class ConsentAnswer(StrEnum):
    NAMED = "named"
    ANONYMOUS = "anonymous"
    NO = "no"
    WITHDRAW = "withdraw"


class CheckInAnswer(StrEnum):
    FINE = "fine"
    BOTHERS = "bothers"
    TALK = "talk"
    STOP = "stop"


class InfluenceAnswer(StrEnum):
    """Did the incident influence a decision the reporter took?"""

    YES = "yes"
    NO = "no"
    RATHER_NOT = "rather_not"


class SurveyAnswer(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


# -- the case ----------------------------------------------------------------------------


@dataclass(slots=True)
class DraftState:
    """Where the reporter is with the questions, beyond the answers themselves (kept sealed)."""

    message_ids: list[int] = field(default_factory=list)  # chat messages to remove on request
    asks_role: bool = True  # whether the role question belongs to this report ("step n of m")
    asks_department: bool = False  # likewise the department (only when the organisation lists them)
    asks_work_process: bool = False  # likewise the work process
    choosing_forms: bool = False  # picking several forms: each press ticks one, "done" answers
    asks_details: bool = False  # the perpetrator details are asked (also when not known by name: a change)
    details_done: bool = False  # the details question was answered ("done" or "skip")
    detail_kind: str | None = None  # the kind of detail being typed now (flows.perpetrator.IdentifierKind)
    details: list[list[str]] = field(default_factory=list)  # [kind, value] as typed, in order
    work_process_skipped: bool = False  # the work process question was answered "skip"
    before_cancel: Step | None = None  # where to return if they do not cancel after all
    typing_date: bool = False  # chose "earlier" and types the date
    no_text: bool = False  # files only, no words
    replacing_description: bool = False  # chose to change the description: new text replaces it
    early_text: bool = False  # text typed before the report began: kept, the account still asked for
    excluded: list[str] = field(default_factory=list)  # staff kept out (c<n> counsellor, k<n> coordinator)


@dataclass(slots=True)
class Draft:
    """A report being made: answers so far, changed in place and saved after each one."""

    id: str
    reference: str
    person_id: str
    step: Step
    forms: frozenset[Form]  # empty until answered
    incident_date: date | None
    channel: Channel | None
    role: Role | None
    wish: Wish | None
    share_name_counsellor: bool
    share_name_coordinator: bool
    description: str
    state: DraftState
    attachment_count: int
    created_at: datetime
    perpetrator: Perpetrator | None = None
    perpetrator_named: bool | None = None  # whether the reporter knows the perpetrator by name
    department: str | None = None
    work_process: str | None = None
    link_consent: bool = False  # may be combined with other reports about the same person


@dataclass(frozen=True, slots=True)
class Case:
    """A submitted case as it is now, with who handles it: what every transition decides on."""

    id: str
    reference: str
    person_id: str | None  # None once the reporter was erased
    status: CaseStatus
    forms: frozenset[Form]
    incident_date: date
    channel: Channel
    role: Role
    audience: Audience
    wish: Wish
    share_name_counsellor: bool
    share_name_coordinator: bool
    description: str
    attachment_count: int
    submitted_at: datetime
    register: RegisterState
    aftercare: AftercareState
    escalation: int  # 0 none, 1 other counsellors asked, 2 coordinators alerted
    department: str | None
    acknowledged_at: datetime | None = None
    acknowledged_by: bytes | None = None
    registered_at: datetime | None = None
    consent_asked_at: datetime | None = None
    closed_at: datetime | None = None
    withdrawn_at: datetime | None = None
    last_news_at: datetime | None = None
    message_ids: tuple[int, ...] = ()
    counsellors: Mapping[bytes, CounsellorState] = field(default_factory=dict)
    excluded: frozenset[bytes] = frozenset()  # staff the reporter kept out (conflict of interest)
    reporter: bytes | None = None  # the reporter's keyed index (None once erased)
    attachment_ids: tuple[str, ...] = ()  # the report's own files, in order
    survey_asked: bool = False  # the closing question went out (it is asked once)
    perpetrator: Perpetrator = Perpetrator.UNKNOWN
    perpetrator_named: bool = False
    work_process: str | None = None
    link_consent: bool = False  # the reporter lets it be combined with reports about the same person
    consequences: frozenset[Consequence] | None = None  # told at the first check-in; None: not (yet) told
    influenced_decision: bool | None = None  # likewise; None also for "rather not say"
    not_alone_asked_at: datetime | None = None  # asked to join registered reports about the same person

    @property
    def in_register(self) -> bool:
        """Whether coordinators may see the case: only with the reporter's say-so."""
        return self.register in IN_REGISTER

    @property
    def has_counsellor_side(self) -> bool:
        return self.wish.reaches_counsellor

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def barred(self) -> frozenset[bytes]:
        """Who may never handle this case: those the reporter excluded, and the reporter themself."""
        return self.excluded | ({self.reporter} if self.reporter is not None else frozenset())

    def with_state(self, state: CounsellorState) -> frozenset[bytes]:
        return frozenset(index for index, s in self.counsellors.items() if s is state)

    @property
    def handlers(self) -> frozenset[bytes]:
        """The counsellors who handle the case now."""
        return self.with_state(CounsellorState.ASSIGNED)


def register_for(wish: Wish, share_name_coordinator: bool) -> RegisterState:
    """What the coordinators may see of a case when it is submitted with this wish."""
    if wish is Wish.COUNSELLOR:
        return RegisterState.NONE
    if wish is Wish.COUNSELLOR_AND_REGISTER and share_name_coordinator:
        return RegisterState.NAMED
    return RegisterState.ANONYMOUS


def shows_name(case: Case | Draft, party: Party) -> bool:
    """Whether this recipient may see who reported: only with the reporter's say-so.

    A counsellor sees the name when the reporter left name sharing on; coordinators only
    when the reporter let the case into the register with their name.
    """
    wish = case.wish or Wish.ANONYMOUS_REGISTER
    if party is Party.COUNSELLOR:
        return wish.reaches_counsellor and case.share_name_counsellor
    if party is Party.COORDINATOR:
        if isinstance(case, Draft):
            return wish is Wish.COUNSELLOR_AND_REGISTER and case.share_name_coordinator
        return case.register is RegisterState.NAMED
    return False


# -- what a change is ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """A notification to put in the outbox."""

    recipient_index: bytes
    recipient_role: Party
    kind: Notice
    ref: str | None = None
    # Set when a scheduled item causes this notification: a second run of the item adds nothing.
    dedupe: str | None = None
    # When it may go out at the earliest (a wait for a personal note, say); default now.
    not_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class Timer:
    kind: TimerKind
    due: datetime
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class AuditNote:
    """Who did what to the case: actions and coarse codes, never content or the reporter's identity."""

    actor_role: str  # reporter, counsellor, coordinator, system
    actor: str  # staff by their configured name; otherwise the role
    action: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts on a case: a reporter, a staff member by index and configured name, or the bot."""

    role: str
    name: str
    index: bytes | None = None

    def note(self, action: str, detail: str | None = None) -> AuditNote:
        return AuditNote(self.role, self.name, action, detail)


REPORTER_ACTOR = Actor("reporter", "reporter")
SYSTEM = Actor("system", "meldbot")


# New rows for the case file; storage seals what people wrote under the case's key.
@dataclass(frozen=True, slots=True)
class NewAttachment:
    id: str
    kind: AttachmentKind
    content: bytes
    file_name: str | None
    mime_type: str | None
    duration: int | None
    added_later: bool  # came with a message after submission: it belongs to that message


@dataclass(frozen=True, slots=True)
class NewMessage:
    id: str
    thread: Thread
    author: Party
    author_index: bytes | None  # staff author's index; None for the reporter
    body: str
    attachment_id: str | None = None


@dataclass(frozen=True, slots=True)
class NewNote:
    id: str
    author_index: bytes
    body: str


@dataclass(frozen=True, slots=True)
class NewPerpetratorDetail:
    """Something known about the perpetrator; storage seals the value and keeps its keyed index beside it."""

    id: str
    kind: IdentifierKind
    value: str
    added_by: Party


@dataclass(frozen=True, slots=True)
class NewAction:
    id: str
    kind: ActionKind
    outcome: ActionOutcome
    recorded_by: bytes


@dataclass(frozen=True, slots=True)
class ActionUpdate:
    id: str
    outcome: ActionOutcome | None
    note: str | None


@dataclass(frozen=True, slots=True)
class NewCheckInAnswer:
    id: str
    step: int
    answer: CheckInAnswer


@dataclass(frozen=True, slots=True)
class SurveyAsked:
    pass


Record = (
    NewAttachment
    | NewMessage
    | NewNote
    | NewAction
    | ActionUpdate
    | NewCheckInAnswer
    | SurveyAsked
    | NewPerpetratorDetail
)


@dataclass(frozen=True, slots=True)
class Change:
    """Everything that follows from one thing happening to a case, applied in one transaction."""

    before: Case
    after: Case
    audit: AuditNote
    counsellors: Mapping[bytes, CounsellorState] = field(default_factory=dict)  # new states
    deliveries: tuple[Delivery, ...] = ()
    timers: tuple[Timer, ...] = ()
    cancel: frozenset[TimerKind] = frozenset()  # pending timers of these kinds end
    postpone: tuple[tuple[TimerKind, timedelta], ...] = ()  # pending timers of this kind move later
    records: tuple[Record, ...] = ()


@dataclass(frozen=True, slots=True)
class Refused:
    """Nothing happens; ``reason`` says why (flows turn it into a kind word)."""

    reason: str


Decision = Change | Refused


@dataclass(frozen=True, slots=True)
class Submission:
    """A draft becoming a case: everything that follows from sending it, applied in one transaction."""

    draft: Draft
    audience: Audience
    register: RegisterState
    department: str | None
    counsellors: tuple[bytes, ...]  # who receives it (assigned)
    excluded: tuple[bytes, ...]  # staff the reporter kept out
    deliveries: tuple[Delivery, ...]
    timers: tuple[Timer, ...]
    audit: AuditNote


def _change(
    case: Case,
    actor: Actor,
    action: str,
    *,
    detail: str | None = None,
    counsellors: Mapping[bytes, CounsellorState] | None = None,
    deliveries: Iterable[Delivery] = (),
    timers: Iterable[Timer] = (),
    cancel: Iterable[TimerKind] = (),
    postpone: Iterable[tuple[TimerKind, timedelta]] = (),
    records: Iterable[Record] = (),
    **fields: Any,
) -> Change:
    states = dict(counsellors or {})
    after = replace(case, **fields, counsellors={**case.counsellors, **states})
    return Change(
        before=case,
        after=after,
        audit=actor.note(action, detail),
        counsellors=states,
        deliveries=tuple(deliveries),
        timers=tuple(timers),
        cancel=frozenset(cancel),
        postpone=tuple(postpone),
        records=tuple(records),
    )


# -- who hears of it -----------------------------------------------------------------------

# A report's own words go in the first message when they fit; otherwise they follow in parts.
# Both stay well under Telegram's 4096 characters with the header added (messages.length).
INLINE_DESCRIPTION = 2500
DESCRIPTION_PART = 3500


def description_parts(description: str) -> list[str]:
    """The description as the parts it is sent in: empty list when it fits inline.

    Parts break at a paragraph, line or word boundary where one is near the limit.
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


def report_deliveries(
    case: Case | Draft, attachment_ids: Sequence[str], recipients: Iterable[tuple[bytes, Party]], kind: Notice
) -> list[Delivery]:
    """The whole report for each recipient: the report itself, its text parts, its files (a message each)."""
    parts = len(description_parts(case.description))
    deliveries: list[Delivery] = []
    for index, party in recipients:
        deliveries.append(Delivery(index, party, kind))
        deliveries.extend(Delivery(index, party, Notice.CASE_TEXT, str(n)) for n in range(parts))
        deliveries.extend(Delivery(index, party, Notice.CASE_ATTACHMENT, a) for a in attachment_ids)
    return deliveries


def _to_reporter(
    case: Case, kind: Notice, ref: str | None = None, not_before: datetime | None = None
) -> list[Delivery]:
    return [] if case.reporter is None else [Delivery(case.reporter, Party.REPORTER, kind, ref, None, not_before)]


def coordinators_of(case: Case, coordinators: Iterable[bytes]) -> list[bytes]:
    """The configured coordinators who may hear of this case (never those barred from it)."""
    return [index for index in coordinators if index not in case.barred]


def staff_on(
    case: Case, coordinators: Iterable[bytes], *, counsellors: bool = True, in_register: bool = True
) -> list[tuple[bytes, Party]]:
    """Who handles the case now: its counsellor(s), and the coordinators if it is in the register."""
    found: list[tuple[bytes, Party]] = []
    if counsellors:
        found += [(index, Party.COUNSELLOR) for index in sorted(case.handlers)]
    if in_register and case.in_register:
        found += [(index, Party.COORDINATOR) for index in coordinators_of(case, coordinators)]
    return found


# -- transitions -------------------------------------------------------------------------


def submit(
    draft: Draft,
    *,
    audience: Audience,
    department: str | None,
    counsellors: Sequence[bytes],
    coordinators: Sequence[bytes],
    waiting_for: Sequence[bytes],
    excluded: Sequence[bytes],
    attachment_ids: Sequence[str],
    timers: Sequence[Timer],
) -> Submission:
    """The reporter sends the report: it goes to ``counsellors`` (one, chosen from the group) and, for
    a registration, to the ``coordinators``; when the only counsellors of the group may not take it,
    ``waiting_for`` (the coordinators) hear that a case waits, without its content."""
    assert draft.wish is not None
    recipients = [(i, Party.COUNSELLOR) for i in counsellors] + [(i, Party.COORDINATOR) for i in coordinators]
    deliveries = report_deliveries(draft, attachment_ids, recipients, Notice.CASE_REPORT)
    deliveries += [Delivery(i, Party.COORDINATOR, Notice.CASE_WAITING) for i in waiting_for]
    return Submission(
        draft=draft,
        audience=audience,
        register=register_for(draft.wish, draft.share_name_coordinator),
        department=department,
        counsellors=tuple(counsellors),
        excluded=tuple(excluded),
        deliveries=tuple(deliveries),
        timers=tuple(timers),
        audit=REPORTER_ACTOR.note("submitted", f"{forms_code(draft.forms)}/{draft.wish.value}"),
    )


def acknowledge(case: Case, by: Actor, now: datetime) -> Decision:
    """A counsellor confirms receipt; one who was alerted (nobody picked it up) takes the case by it.

    The others on the case lose access, so their old buttons no longer act on it; whoever the
    case is taken from hears it.
    """
    assert by.index is not None
    state = case.counsellors.get(by.index)
    if not case.is_open or state not in (CounsellorState.ASSIGNED, CounsellorState.ALERTED):
        return Refused("not_yours")
    if case.acknowledged_at is not None:
        if state is CounsellorState.ALERTED:
            return take_over(case, by)
        return Refused("acknowledged_by_you")
    taken_from = _taken_from(case, by.index)
    return _change(
        case,
        by,
        "acknowledged" if state is CounsellorState.ASSIGNED else "took_over",
        counsellors=_only_handler(case, by.index),
        deliveries=[*_to_reporter(case, Notice.REPORTER_ACKNOWLEDGED), *taken_from],
        cancel=ESCALATIONS,
        status=CaseStatus.ACKNOWLEDGED if case.status is CaseStatus.NEW else case.status,
        acknowledged_at=now,
        acknowledged_by=by.index,
        last_news_at=now,
    )


def take_over(case: Case, by: Actor) -> Decision:
    """An alerted counsellor takes a case someone else acknowledged but then left waiting."""
    assert by.index is not None
    if not case.is_open or case.counsellors.get(by.index) is not CounsellorState.ALERTED:
        return Refused("not_yours")
    return _change(
        case,
        by,
        "took_over",
        counsellors=_only_handler(case, by.index),
        deliveries=[*_to_reporter(case, Notice.REPORTER_NEW_COUNSELLOR), *_taken_from(case, by.index)],
    )


def _only_handler(case: Case, index: bytes) -> dict[bytes, CounsellorState]:
    states = {
        other: CounsellorState.FORMER
        for other, s in case.counsellors.items()
        if other != index and s in (CounsellorState.ASSIGNED, CounsellorState.ALERTED)
    }
    return {**states, index: CounsellorState.ASSIGNED}


def _taken_from(case: Case, by: bytes) -> list[Delivery]:
    """Whoever handled the case hears that a colleague took it (sent once they are no longer on it)."""
    return [Delivery(i, Party.COUNSELLOR, Notice.CASE_TAKEN_OVER) for i in sorted(case.handlers) if i != by]


def register(case: Case, by: Actor, now: datetime) -> Decision:
    """A coordinator confirms the registration. For an anonymous registration (no counsellor to
    acknowledge it), that is also the acknowledgement."""
    if not case.in_register or not case.is_open:
        return Refused("not_yours")
    if case.registered_at is not None:
        return Refused("registered_already")
    acknowledges = case.wish is Wish.ANONYMOUS_REGISTER and case.status is CaseStatus.NEW
    return _change(
        case,
        by,
        "registered",
        deliveries=_to_reporter(case, Notice.REPORTER_REGISTERED),
        registered_at=now,
        status=CaseStatus.ACKNOWLEDGED if acknowledges else case.status,
        last_news_at=now,
    )


def hand_over(case: Case, by: Actor, to: bytes, now: datetime, to_name: str) -> Decision:
    """The counsellor gives the case to a colleague of the group, who receives the whole report."""
    return _move(case, by, to, CounsellorState.FORMER, "handed_over", now, detail=to_name)


def recuse(case: Case, by: Actor, to: bytes | None, coordinators: Sequence[bytes], now: datetime) -> Decision:
    """The counsellor steps back (conflict of interest). The case goes to ``to``, chosen from the
    group; with nobody left, it waits, and the coordinators hear that (never its content)."""
    if to is not None:
        return _move(case, by, to, CounsellorState.RECUSED, "recused", now, detail="reassigned")
    assert by.index is not None
    if not case.is_open or case.counsellors.get(by.index) is not CounsellorState.ASSIGNED:
        return Refused("not_yours")
    waiting = [Delivery(i, Party.COORDINATOR, Notice.CASE_WAITING) for i in coordinators_of(case, coordinators)]
    return _change(
        case,
        by,
        "recused",
        detail="waiting",
        counsellors={by.index: CounsellorState.RECUSED},
        deliveries=[*waiting, *_to_reporter(case, Notice.REPORTER_NEW_COUNSELLOR)],
        **_unacknowledged(case),
    )


def _move(
    case: Case, by: Actor, to: bytes, leaving: CounsellorState, action: str, now: datetime, detail: str | None = None
) -> Decision:
    assert by.index is not None
    if not case.is_open or case.counsellors.get(by.index) is not CounsellorState.ASSIGNED:
        return Refused("not_yours")
    if to == by.index or to in case.barred or case.counsellors.get(to) is CounsellorState.RECUSED:
        return Refused("not_yours")
    deliveries = report_deliveries(case, case.attachment_ids, [(to, Party.COUNSELLOR)], Notice.CASE_REPORT_HANDED_OVER)
    return _change(
        case,
        by,
        action,
        detail=detail,
        counsellors={by.index: leaving, to: CounsellorState.ASSIGNED},
        deliveries=[*deliveries, *_to_reporter(case, Notice.REPORTER_NEW_COUNSELLOR)],
        **_unacknowledged(case),
    )


def _unacknowledged(case: Case) -> dict[str, Any]:
    """A case changing hands waits for its new counsellor's acknowledgement again."""
    return {
        "acknowledged_at": None,
        "acknowledged_by": None,
        "status": CaseStatus.NEW if case.status is CaseStatus.ACKNOWLEDGED else case.status,
    }


def set_status(case: Case, status: CaseStatus, by: Actor, now: datetime, *, ask_survey: bool) -> Decision:
    """Staff set the status. Closing sends the last word: with the closing question once (if
    aftercare asks it), otherwise the new status."""
    if status not in SETTABLE or case.status not in LIVE:
        return Refused("not_yours")
    if status is case.status:
        return Refused("already_noted")
    closing = status is CaseStatus.CLOSED
    records: tuple[Record, ...] = ()
    if closing and ask_survey:
        word, records = _to_reporter(case, Notice.SURVEY), (SurveyAsked(),)
    else:
        word = _to_reporter(case, Notice.REPORTER_STATUS, status.value)
    return _change(
        case,
        by,
        "status",
        detail=status.value,
        deliveries=word,
        records=records,
        cancel=ESCALATIONS if closing else (),
        status=status,
        closed_at=now if closing else None,
        last_news_at=now,
    )


def ask_consent(case: Case, by: Actor, coordinators: Sequence[bytes], now: datetime) -> Decision:
    """The counsellor asks the reporter whether the coordinator may be involved."""
    if case.status not in LIVE:
        return Refused("not_yours")
    if case.in_register:
        return Refused("already_registered")
    if not coordinators_of(case, coordinators):
        return Refused("no_coordinator")
    return _change(
        case, by, "asked_consent", deliveries=_to_reporter(case, Notice.CONSENT_REQUEST), consent_asked_at=now
    )


def consent(case: Case, answer: ConsentAnswer, coordinators: Sequence[bytes]) -> Decision:
    """The reporter's word on the register: with their name, without, no, or withdrawn. Only this
    changes what coordinators may see of a case after it was submitted. A withdrawn case stays out
    of everyone's sight: its reporter must send it anew."""
    if case.status not in LIVE:
        return Refused("not_yours")
    counsellors = [(i, Party.COUNSELLOR) for i in sorted(case.handlers)]
    told = [Delivery(i, p, Notice.CONSENT_ANSWER, answer.value) for i, p in counsellors]
    if answer is ConsentAnswer.WITHDRAW:
        if not case.in_register:
            return Refused("already_noted")
        withdrawn = [
            Delivery(i, Party.COORDINATOR, Notice.REGISTER_WITHDRAWN) for i in coordinators_of(case, coordinators)
        ]
        return _change(
            case,
            REPORTER_ACTOR,
            "consent_withdrawn",
            deliveries=[*withdrawn, *told],
            register=RegisterState.WITHDRAWN,
            consent_asked_at=None,
        )
    if answer is ConsentAnswer.NO:
        return _change(case, REPORTER_ACTOR, "consent_refused", deliveries=told, consent_asked_at=None)
    given = RegisterState(answer.value)
    if case.in_register and case.register is given:
        return Refused("already_noted")
    deliveries = list(told)
    if not case.in_register:
        recipients = [(i, Party.COORDINATOR) for i in coordinators_of(case, coordinators)]
        deliveries += report_deliveries(case, case.attachment_ids, recipients, Notice.CASE_REPORT_CONSENTED)
    return _change(
        case,
        REPORTER_ACTOR,
        "consent_given",
        detail=answer.value,
        deliveries=deliveries,
        register=given,
        consent_asked_at=None,
    )


def share_name(case: Case, share: bool) -> Decision:
    """The reporter decides whether their counsellor sees their name."""
    if not case.has_counsellor_side or case.status not in LIVE:
        return Refused("not_yours")
    return _change(case, REPORTER_ACTOR, "name_shared" if share else "name_hidden", share_name_counsellor=share)


def withdraw(case: Case, coordinators: Sequence[bytes], now: datetime) -> Decision:
    """The reporter withdraws the report: nothing more happens with it, and what waited for staff
    becomes at most "it was withdrawn" (see :func:`delivery_verdict`)."""
    if case.status not in LIVE:
        return Refused("already_noted")
    told = [Delivery(i, p, Notice.CASE_WITHDRAWN) for i, p in staff_on(case, coordinators)]
    return _change(
        case,
        REPORTER_ACTOR,
        "withdrawn",
        deliveries=told,
        cancel=frozenset(TimerKind),
        status=CaseStatus.WITHDRAWN,
        withdrawn_at=now,
    )


def escalate_to_counsellors(case: Case, serving: Sequence[bytes], item_id: str) -> Decision:
    """Nobody acknowledged in time: the group's other counsellors receive the case to take it,
    and the reporter is told honestly that more people were asked."""
    if not case.is_open or case.acknowledged_at is not None or case.escalation >= 1:
        return Refused("not_due")
    others = [i for i in serving if i not in case.counsellors and i not in case.barred]
    deliveries = report_deliveries(
        case, case.attachment_ids, [(i, Party.COUNSELLOR) for i in others], Notice.CASE_REPORT_ESCALATED
    )
    deliveries += _to_reporter(case, Notice.REPORTER_ESCALATED)
    return _change(
        case,
        SYSTEM,
        "escalated_to_counsellors",
        detail=str(len(others)),
        counsellors={i: CounsellorState.ALERTED for i in others},
        deliveries=_once(deliveries, item_id),
        escalation=1,
    )


def escalate_to_coordinators(case: Case, coordinators: Sequence[bytes], item_id: str) -> Decision:
    """Still nobody: the coordinators are alerted that a case waits (reference, group, forms
    and age; never its content, and not who reported)."""
    if not case.is_open or case.acknowledged_at is not None or case.escalation >= 2:
        return Refused("not_due")
    alerts = [Delivery(i, Party.COORDINATOR, Notice.COORDINATOR_ALERT) for i in coordinators_of(case, coordinators)]
    return _change(
        case,
        SYSTEM,
        "escalated_to_coordinators",
        detail=str(len(alerts)),
        deliveries=_once(alerts, item_id),
        escalation=2,
    )


def _once(deliveries: Sequence[Delivery], item_id: str) -> tuple[Delivery, ...]:
    """Notifications caused by a scheduled item carry its id: a second run of the item adds nothing."""
    return tuple(replace(d, dedupe=f"{item_id}:{n}") for n, d in enumerate(deliveries))


def assign(case: Case, to: bytes, *, send_report: bool) -> Decision:
    """A case gets a counsellor it did not have: one configured later (sent the report), or, for an
    anonymous registration whose reporter wants to talk, one who sees only the reference."""
    if to in case.barred or case.counsellors.get(to) is CounsellorState.RECUSED:
        return Refused("not_yours")
    deliveries = (
        report_deliveries(case, case.attachment_ids, [(to, Party.COUNSELLOR)], Notice.CASE_REPORT)
        if send_report
        else []
    )
    return _change(
        case,
        SYSTEM,
        "assigned",
        detail="report sent" if send_report else "reference only",
        counsellors={to: CounsellorState.ASSIGNED},
        deliveries=deliveries,
    )


# -- the case file: messages, notes, actions, how the reporter is -------------------------


def message(
    case: Case,
    by: Actor,
    new: NewMessage,
    attachment: NewAttachment | None,
    recipients: Sequence[tuple[bytes, Party]],
    action: str,
    now: datetime,
) -> Decision:
    """A message on the case (between reporter and staff, or added by the reporter), each
    recipient getting its text and, as a second message, its file."""
    if case.status not in LIVE:
        return Refused("not_yours")
    text_kind = Notice.CASE_ADDITION if new.thread is Thread.CASE else Notice.RELAY
    kinds = (text_kind, Notice.RELAY_FILE) if new.attachment_id else (text_kind,)
    deliveries = [Delivery(i, p, k, new.id) for i, p in recipients for k in kinds]
    news: dict[str, Any] = {"last_news_at": now} if new.author is not Party.REPORTER else {}
    records: tuple[Record, ...] = (new,) if attachment is None else (attachment, new)
    return _change(case, by, action, deliveries=deliveries, records=records, **news)


def note(case: Case, by: Actor, new: NewNote) -> Decision:
    """A counsellor's private note (sealed, for the counsellors on the case only)."""
    return _change(case, by, "added_note", records=(new,))


def add_perpetrator_detail(case: Case, by: Actor, new: NewPerpetratorDetail) -> Decision:
    """The reporter, or staff who handle the case, add what they know of the perpetrator. The trail
    keeps its kind, never its value; a withdrawn case takes nothing more."""
    if case.status is CaseStatus.WITHDRAWN:
        return Refused("withdrawn")
    return _change(case, by, "added_perpetrator_detail", detail=new.kind.value, records=(new,))


def record_action(case: Case, by: Actor, new: NewAction, now: datetime, feedback_delay: timedelta | None) -> Decision:
    """What the organisation did towards the perpetrator. The reporter hears it, after a short wait
    for the personal note typed next (the text is composed when it goes out, so the note is in it)."""
    return _change(
        case,
        by,
        "recorded_action",
        detail=f"{new.kind.value}/{new.outcome.value}",
        records=(new,),
        deliveries=_feedback(case, new.id, now, feedback_delay),
        last_news_at=now if feedback_delay is not None else case.last_news_at,
    )


def update_action(
    case: Case, by: Actor, update: ActionUpdate, kind: ActionKind, now: datetime, feedback_delay: timedelta | None
) -> Decision:
    """A later outcome of an action; the reporter hears this too."""
    assert update.outcome is not None
    return _change(
        case,
        by,
        "updated_action",
        detail=f"{kind.value}/{update.outcome.value}",
        records=(update,),
        deliveries=_feedback(case, update.id, now, feedback_delay),
        last_news_at=now if feedback_delay is not None else case.last_news_at,
    )


def note_on_action(case: Case, by: Actor, update: ActionUpdate) -> Decision:
    return _change(case, by, "action_note", records=(update,))


def _feedback(case: Case, action_id: str, now: datetime, delay: timedelta | None) -> list[Delivery]:
    return [] if delay is None else _to_reporter(case, Notice.ACTION_FEEDBACK, action_id, now + delay)


def check_in_answered(case: Case, new: NewCheckInAnswer, *, counsellor: bytes | None, reoffer_at: datetime) -> Decision:
    """How the reporter is (health information: sealed, for the counsellor only). "It still bothers
    me" and "I'd like to talk" alert the counsellor on the case at once; a case without one (an
    anonymous registration) gets ``counsellor``, who sees only its reference. "Stop" ends the
    check-ins (:func:`stop_check_ins`)."""
    if case.aftercare is not AftercareState.ACTIVE:
        return Refused("already_noted")
    if new.answer is CheckInAnswer.STOP:
        stopped = stop_check_ins(case, reoffer_at)
        assert isinstance(stopped, Change)
        return replace(stopped, records=(new,), audit=REPORTER_ACTOR.note("checkin_answered"))
    if new.answer is CheckInAnswer.FINE:
        return _change(case, REPORTER_ACTOR, "checkin_answered", records=(new,))
    handlers = sorted(case.handlers) or ([counsellor] if counsellor is not None else [])
    newly = {counsellor: CounsellorState.ASSIGNED} if not case.handlers and counsellor is not None else {}
    alerts = [Delivery(i, Party.COUNSELLOR, Notice.CHECKIN_ALERT, new.answer.value) for i in handlers]
    return _change(case, REPORTER_ACTOR, "checkin_answered", records=(new,), counsellors=newly, deliveries=alerts)


def consequences_told(case: Case, consequences: frozenset[Consequence]) -> Decision:
    """What the incident did to the reporter (first check-in): coarse codes for the register."""
    if case.status is CaseStatus.WITHDRAWN:
        return Refused("withdrawn")
    code = consequences_code(consequences) or "none"
    return _change(case, REPORTER_ACTOR, "told_consequences", detail=code, consequences=consequences)


def influence_told(case: Case, answer: InfluenceAnswer) -> Decision:
    """Whether the incident influenced a decision the reporter took; "rather not say" is kept as unknown."""
    if case.status is CaseStatus.WITHDRAWN:
        return Refused("withdrawn")
    influenced = None if answer is InfluenceAnswer.RATHER_NOT else answer is InfluenceAnswer.YES
    return _change(case, REPORTER_ACTOR, "told_influence", detail=answer.value, influenced_decision=influenced)


def stop_check_ins(case: Case, reoffer_at: datetime) -> Decision:
    """No more check-ins; they are offered once more later, then the reporter is left in peace."""
    if case.aftercare is not AftercareState.ACTIVE:
        return _change(case, REPORTER_ACTOR, "aftercare_stopped", cancel={TimerKind.CHECK_IN})
    return _change(
        case,
        REPORTER_ACTOR,
        "aftercare_stopped",
        cancel={TimerKind.CHECK_IN},
        timers=(Timer(TimerKind.REOFFER, reoffer_at),),
        aftercare=AftercareState.STOPPED,
    )


def pause_check_ins(case: Case, by: timedelta) -> Decision:
    """The coming check-ins move later; the pause ends by itself when they fall due."""
    if case.aftercare is not AftercareState.ACTIVE:
        return Refused("already_noted")
    return _change(case, REPORTER_ACTOR, "aftercare_paused", postpone=((TimerKind.CHECK_IN, by),))


def decline_check_ins(case: Case) -> Decision:
    return _change(
        case, REPORTER_ACTOR, "aftercare_declined", cancel={TimerKind.REOFFER}, aftercare=AftercareState.DECLINED
    )


def resume_check_ins(case: Case, timers: Sequence[Timer]) -> Decision:
    if case.aftercare is AftercareState.ACTIVE:
        return Refused("already_noted")
    return _change(
        case,
        REPORTER_ACTOR,
        "aftercare_resumed",
        cancel={TimerKind.REOFFER, TimerKind.CHECK_IN},
        timers=timers,
        aftercare=AftercareState.ACTIVE,
    )


def reoffer(case: Case, item_id: str) -> Decision:
    """Check-ins are offered once more to a reporter who stopped them; without a yes, nothing
    further comes."""
    if case.aftercare is not AftercareState.STOPPED or case.status is CaseStatus.WITHDRAWN:
        return Refused("not_due")
    return _change(
        case,
        SYSTEM,
        "aftercare_reoffered",
        deliveries=_once(_to_reporter(case, Notice.REOFFER), item_id),
        aftercare=AftercareState.DECLINED,
    )


def remind_of_silence(
    case: Case, kind: TimerKind, recipients: Sequence[tuple[bytes, Party]], days: int, item_id: str, again: datetime
) -> Decision:
    """The reporter heard nothing for a while: whoever handles the case (or the coordinators) is
    reminded; and again a period from now, if it stays silent."""
    reminders = [Delivery(i, p, Notice.SILENCE_REMINDER, str(days)) for i, p in recipients]
    return _change(
        case, SYSTEM, kind.value, detail=str(days), deliveries=_once(reminders, item_id), timers=(Timer(kind, again),)
    )


# -- reports about the same person ----------------------------------------------------------

# A case takes part in links while it is in the register, its reporter lets it be combined
# with other reports about the same person, and it is neither a draft nor withdrawn (an erased
# case no longer exists). storage/cases.py reads these same sets to find links by index.
LINKABLE_REGISTER = IN_REGISTER
LINKABLE_STATUSES = LIVE
# A report outside the register whose reporter may be asked to join reports about the same person:
# never one the reporter took out of the register themselves.
ASKABLE_REGISTER = frozenset({RegisterState.NONE})


def linkable(case: Case) -> bool:
    """Whether the case is linked to every other linkable case that names the same person."""
    return case.link_consent and case.register in LINKABLE_REGISTER and case.status in LINKABLE_STATUSES


def may_ask_not_alone(case: Case) -> bool:
    """Whether this report's reporter may still be asked to join the registered reports about the
    same person: outside the register, consenting to be combined, live, and never asked before."""
    return (
        case.link_consent
        and case.register in ASKABLE_REGISTER
        and case.status in LINKABLE_STATUSES
        and case.not_alone_asked_at is None
        and case.reporter is not None
    )


def ask_not_alone(case: Case, now: datetime) -> Decision:
    """Registered reports name the same person as this one, which stays with the counsellor: its
    reporter, and nobody else, is asked once whether it may join them. Staff hear nothing."""
    if not may_ask_not_alone(case):
        return Refused("not_due")
    return _change(
        case, SYSTEM, "not_alone_asked", deliveries=_to_reporter(case, Notice.NOT_ALONE), not_alone_asked_at=now
    )


def set_link_consent(case: Case, on: bool) -> Decision:
    """The reporter lets the report be combined with reports about the same person, or no longer:
    switched off, it drops out of every link at once (links are read, never kept)."""
    if case.status not in LIVE:
        return Refused("not_yours")
    if case.link_consent is on:
        return Refused("already_noted")
    return _change(case, REPORTER_ACTOR, "link_consent_on" if on else "link_consent_off", link_consent=on)


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
        Notice.CASE_REPORT,
        Notice.CASE_REPORT_ESCALATED,
        Notice.CASE_REPORT_HANDED_OVER,
        Notice.CASE_REPORT_CONSENTED,
        Notice.CASE_TEXT,
        Notice.CASE_ATTACHMENT,
        Notice.RELAY,
        Notice.RELAY_FILE,
        Notice.CASE_ADDITION,
        Notice.CHECKIN_ALERT,
    }
)
# What a counsellor who was alerted (asked to pick the case up) may receive: the report itself.
_REPORT_PARTS = frozenset({Notice.CASE_REPORT, Notice.CASE_REPORT_ESCALATED, Notice.CASE_TEXT, Notice.CASE_ATTACHMENT})
# Counsellor notifications that belong to the case rather than the person: when the counsellor
# they were queued for no longer handles it, the one who does receives them instead.
FOLLOWS_THE_HANDLER = frozenset(
    {
        Notice.RELAY,
        Notice.RELAY_FILE,
        Notice.CASE_ADDITION,
        Notice.CHECKIN_ALERT,
        Notice.CONSENT_ANSWER,
        Notice.SILENCE_REMINDER,
    }
)
# Metadata only (reference, group, forms, age): for coordinators about open cases.
_ALERTS = frozenset({Notice.COORDINATOR_ALERT, Notice.CASE_WAITING})


def delivery_verdict(case: Case, kind: Notice, recipient: bytes, party: Party, *, told_before: bool) -> Verdict:
    """May this notification go to this recipient now, given the case as it is at this moment?

    The same rules as flows.access applies to a press, applied at the moment of sending
    rather than the moment of queueing. ``told_before``: whether anything about this case
    ever reached the recipient.
    """
    if party is Party.REPORTER:
        # After withdrawing, the reporter hears nothing more about the case.
        if case.status is CaseStatus.WITHDRAWN:
            return Drop("withdrawn")
        if kind is Notice.NOT_ALONE and (not case.link_consent or case.register not in ASKABLE_REGISTER):
            return Drop("not_alone_over")  # consent switched off, or the report joined the register meanwhile
        return Send()
    if kind is Notice.NOT_ALONE:
        return Drop("reporter_only")  # that other reports name the same person is for the reporter alone
    if recipient in case.barred:
        return Drop("barred")
    if kind is Notice.CASE_WITHDRAWN:
        # Only someone who knew of the case learns that it was withdrawn; nothing else.
        return Send() if case.status is CaseStatus.WITHDRAWN and told_before else Drop("never_told")
    if kind is Notice.REGISTER_WITHDRAWN:
        return Send() if told_before and not case.in_register else Drop("never_told")
    if case.status is CaseStatus.WITHDRAWN:
        return Drop("withdrawn")
    if party is Party.COORDINATOR:
        if kind in _ALERTS or kind is Notice.SILENCE_REMINDER:
            return Send() if case.is_open else Drop("closed")
        if kind is Notice.CHECKIN_ALERT:
            return Drop("health_information")
        if kind in _CONTENT:
            return Send() if case.in_register else Drop("not_in_register")
        return Send()
    state = case.counsellors.get(recipient)
    if kind is Notice.CASE_TAKEN_OVER:
        return Send() if state is CounsellorState.FORMER else Drop("not_on_case")
    if kind is Notice.SILENCE_REMINDER and not case.is_open:
        return Drop("closed")
    if state is CounsellorState.ASSIGNED:
        return Send()
    if state is CounsellorState.ALERTED and kind in _REPORT_PARTS and case.is_open:
        return Send()
    if kind in FOLLOWS_THE_HANDLER:
        return Readdress("handler_changed")
    return Drop("not_on_case")
