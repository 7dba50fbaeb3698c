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
    MANAGEMENT = "management"  # sees no case: only that a reaction is overdue (reference, group, form, age)
    DAMAGES_HELPER = "damages_helper"  # hears the reference and the amounts when damages are recorded


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
    REACTION_REMINDER = "reaction_reminder"  # a reaction towards the perpetrator is due; to the coordinators
    REACTION_ESCALATED = "reaction_escalated"  # still no reaction; to management (metadata only)
    FOOTAGE_TASK = "footage_task"  # secure the camera footage before it is wiped; to the coordinators
    FOOTAGE_REMINDER = "footage_reminder"  # the footage is still not secured; to the coordinators
    POLICE_FEEDBACK = "police_feedback"  # ref: the police step id; to the reporter
    POLICE_NEWS = "police_news"  # ref: the police step id, recorded by the reporter; to the staff on the case
    DAMAGES_FEEDBACK = "damages_feedback"  # ref: what changed (cost item id, or claim); to the reporter
    DAMAGES_ALERT = "damages_alert"  # reference and amounts only; to the damages helper
    PULSE = "pulse"  # ref: the period (flows/pulse.py); no case; to an office holder
    DOSSIER_QUESTION = "dossier_question"  # ref: who asks (counsellor, coordinator); to the reporter
    DOSSIER = "dossier"  # ref: the reporter's DossierConsent; the case file PDF, to the staff member who asked
    DOSSIER_COPY = "dossier_copy"  # the reporter's own copy of the case file, as proof of reporting
    QUARTERLY_SUMMARY = "quarterly_summary"  # ref: the quarter (2026-3); no case; to those who steer
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
    REACTION_DUE = "reaction_due"  # the coordinators are reminded that a reaction is due
    REACTION_ESCALATE = "reaction_escalate"  # management hears that none was recorded
    FOOTAGE_DUE = "footage_due"  # the coordinators are reminded to secure camera footage
    RETENTION = "retention"  # no case: the daily erasure of cases kept past [retention] closed_cases
    PULSE_ROUND = "pulse_round"  # no case: the safety pulse of the period goes out (flows/pulse.py)
    DOSSIER_WAIT = "dossier_wait"  # the reporter did not answer the case file question: made without name
    QUARTERLY_SUMMARY = "quarterly_summary"  # no case; detail: the quarter it is about (2026-3)


REACTION_TIMERS = frozenset({TimerKind.REACTION_DUE, TimerKind.REACTION_ESCALATE})
ESCALATIONS = frozenset({TimerKind.ESCALATE_COUNSELLORS, TimerKind.ESCALATE_COORDINATORS})


class ActionKind(StrEnum):
    """What the organisation did towards the perpetrator (measure 5 of Veilige Publieke Taak), in
    the order offered. ``NOTHING`` is "no reaction, because ...": it needs the reason."""

    CONVERSATION = "conversation"
    WARNING_LETTER = "warning_letter"  # warning or norm letter
    ACCESS_BAN = "access_ban"  # access or location ban
    CONTACT_BAN = "contact_ban"
    SERVICE_SUSPENDED = "service_suspended"  # a service or benefit stopped, where house rules allow
    MEDIATION = "mediation"
    POLICE_REPORT_VICTIM = "police_report_victim"
    POLICE_REPORT_EMPLOYER = "police_report_employer"  # filed with the employer's address
    DAMAGES_CLAIMED = "damages_claimed"
    CIVIL_ACTION = "civil_action"
    NOTHING = "nothing"


# What fits each form of incident best, offered first (all others follow, a tap away).
SUGGESTED_REACTIONS: dict[Form, tuple[ActionKind, ...]] = {
    Form.VERBAL_AGGRESSION: (ActionKind.CONVERSATION, ActionKind.WARNING_LETTER, ActionKind.ACCESS_BAN),
    Form.THREAT_TO_AUTHORITY: (ActionKind.CONVERSATION, ActionKind.WARNING_LETTER, ActionKind.CONTACT_BAN),
    Form.THREAT: (ActionKind.POLICE_REPORT_EMPLOYER, ActionKind.WARNING_LETTER, ActionKind.CONTACT_BAN),
    Form.INTIMIDATION: (ActionKind.CONTACT_BAN, ActionKind.WARNING_LETTER, ActionKind.POLICE_REPORT_EMPLOYER),
    Form.DISCRIMINATION: (ActionKind.CONVERSATION, ActionKind.WARNING_LETTER, ActionKind.MEDIATION),
    Form.VIOLENCE: (ActionKind.POLICE_REPORT_EMPLOYER, ActionKind.DAMAGES_CLAIMED, ActionKind.ACCESS_BAN),
    Form.BRIBERY: (ActionKind.POLICE_REPORT_EMPLOYER, ActionKind.SERVICE_SUSPENDED, ActionKind.WARNING_LETTER),
    Form.OTHER: (ActionKind.CONVERSATION, ActionKind.WARNING_LETTER),
}


def reaction_menu(forms: Iterable[Form]) -> tuple[tuple[ActionKind, ...], tuple[ActionKind, ...]]:
    """The reactions to offer for an incident of these forms (incidents combine forms): what fits
    them first, the best fit of each form before the second of any, then all the others (without
    "no reaction", which is offered on its own)."""
    suggestions = [SUGGESTED_REACTIONS[form] for form in dict.fromkeys(forms)]
    first: list[ActionKind] = []
    for rank in range(max((len(s) for s in suggestions), default=0)):
        for suggested in suggestions:
            if rank < len(suggested) and suggested[rank] not in first:
                first.append(suggested[rank])
    rest = tuple(k for k in ActionKind if k not in first and k is not ActionKind.NOTHING)
    return tuple(first), rest


class ReactionState(StrEnum):
    """Where the clock for a reaction towards the perpetrator stands (cases.reaction)."""

    NONE = "none"  # never in the register: no reaction is due
    DUE = "due"  # in the register, running
    OVERDUE = "overdue"  # fell due: the coordinators were reminded
    ESCALATED = "escalated"  # still nothing: management was told
    DONE = "done"  # a reaction (or "no reaction, because ...") was recorded: the clock stopped
    STOPPED = "stopped"  # withdrawn, or consent for the register withdrawn, before any reaction


RUNNING = frozenset({ReactionState.DUE, ReactionState.OVERDUE, ReactionState.ESCALATED})

# Every way the reaction clock changes (flows/reaction.mmd draws them), with what causes it.
REACTION_TRANSITIONS: frozenset[tuple[ReactionState, ReactionState, str]] = frozenset(
    {
        *(
            (before, after, "enters the register")
            for before in (ReactionState.NONE, ReactionState.STOPPED)
            for after in (ReactionState.DUE, ReactionState.DONE)  # done: a reaction came before
        ),
        (ReactionState.DUE, ReactionState.OVERDUE, "falls due"),
        (ReactionState.DUE, ReactionState.ESCALATED, "still no reaction"),
        (ReactionState.OVERDUE, ReactionState.ESCALATED, "still no reaction"),
        *((before, ReactionState.DONE, "reaction recorded") for before in RUNNING),
        *((before, ReactionState.STOPPED, "withdrawn or out of the register") for before in RUNNING),
    }
)


class FootageState(StrEnum):
    """The task to secure camera footage of an incident in person (cases.footage)."""

    NONE = "none"  # no task (not in person, or not in the register)
    DUE = "due"
    SECURED = "secured"
    NO_CAMERA = "no_camera"


class PoliceStep(StrEnum):
    """The police and public prosecutor's steps after a police report, in order."""

    REPORTED = "reported"  # the police report (aangifte) itself: number and date
    SUMMONS = "summons"  # dagvaarding
    SETTLEMENT = "settlement"  # schikking / strafbeschikking
    CONVICTION = "conviction"
    DISMISSAL = "dismissal"  # sepot


class CostKind(StrEnum):
    PROPERTY = "property"
    MEDICAL = "medical"  # medical costs not covered
    LOST_TIME = "lost_time"
    OTHER = "other"


class ClaimStatus(StrEnum):
    """Where the claim for damages against the perpetrator stands."""

    NOT_CLAIMED = "not_claimed"
    CLAIMED = "claimed"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class RegisterRules:
    """What the register asks of the organisation once a case is in it (``[register]``)."""

    reaction_within: timedelta = timedelta(hours=48)
    reaction_escalate_after: timedelta = timedelta(hours=24)  # after the reaction fell due
    secure_footage_within: timedelta = timedelta(days=3)


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


class DossierConsent(StrEnum):
    """The reporter's word on one case file for the police: their name in it, and their messages with staff.

    No answer in time counts as NEITHER. The values are short: they travel in a button's data.
    """

    NAME_AND_MESSAGES = "nm"
    NAME = "n"
    MESSAGES = "m"
    NEITHER = "x"

    @property
    def with_name(self) -> bool:
        return self in (DossierConsent.NAME_AND_MESSAGES, DossierConsent.NAME)

    @property
    def with_messages(self) -> bool:
        return self in (DossierConsent.NAME_AND_MESSAGES, DossierConsent.MESSAGES)


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
    # The id of the report's row of coarse facts (report_facts): the only link between the two,
    # sealed with the case, so it disappears when the case is erased.
    facts_id: str | None = None


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
    reaction: ReactionState = ReactionState.NONE
    reaction_since: datetime | None = None  # when the case entered the register (the clock started)
    reaction_due_at: datetime | None = None
    reaction_at: datetime | None = None  # when the first reaction was recorded
    footage: FootageState = FootageState.NONE
    footage_due_at: datetime | None = None
    footage_at: datetime | None = None  # when it was secured (or found there was no camera)
    police_reported_on: date | None = None  # the date of the police report, once recorded
    damages_claim: ClaimStatus = ClaimStatus.NOT_CLAIMED
    damages_insurance_checked: bool = False
    damages_recovered_cents: int = 0
    # A case file asked for and waiting for the reporter's word on their name: since when, and for whom.
    dossier_asked_at: datetime | None = None
    dossier_requester: bytes | None = None
    dossier_requester_role: Party | None = None
    dossier_consent: DossierConsent | None = None  # the reporter's last word on a case file
    perpetrator: Perpetrator = Perpetrator.UNKNOWN
    perpetrator_named: bool = False
    work_process: str | None = None
    link_consent: bool = False  # the reporter lets it be combined with reports about the same person
    consequences: frozenset[Consequence] | None = None  # told at the first check-in; None: not (yet) told
    influenced_decision: bool | None = None  # likewise; None also for "rather not say"
    facts_id: str | None = None  # its row of coarse facts for the statistics (None: filed before they were kept)
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
    note: str | None = None  # sealed: for "no reaction", the reason (required)


@dataclass(frozen=True, slots=True)
class NewPoliceStep:
    """A step of the police track: the report itself (with its number), or what came of it."""

    id: str
    step: PoliceStep
    on: date
    number: str | None  # the police report number (sealed); only for the report itself
    recorded_by: Party


@dataclass(frozen=True, slots=True)
class NewCostItem:
    """One item of the damages, an amount in euro cents."""

    id: str
    kind: CostKind
    amount_cents: int


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


@dataclass(frozen=True, slots=True)
class AwaitsCounsellor:
    """The case needs a counsellor again (its own left): routing picks it up like a new one."""


Record = (
    AwaitsCounsellor
    | NewAttachment
    | NewMessage
    | NewNote
    | NewAction
    | ActionUpdate
    | NewCheckInAnswer
    | SurveyAsked
    | NewPoliceStep
    | NewCostItem
    | NewPerpetratorDetail
)


# -- what the statistics keep -----------------------------------------------------------------
# Every submitted report, also one that stays with a counsellor, keeps one row of coarse facts
# (flows/statistics.py ReportFacts reads them): codes and whole hours, never content or identity.
# Only the case's sealed state knows which row is its own, so an erased case leaves a count that
# links to no one.


@dataclass(frozen=True, slots=True)
class SubmittedFacts:
    """The facts a report is counted by, as it is sent."""

    id: str
    month: date  # the first day of the month it was sent, in the municipality's time zone
    forms: tuple[str, ...]  # flows.statistics.Form codes, sorted
    channel: Channel
    role: Role
    department: str | None
    work_process: str | None
    perpetrator: str | None  # a flows.statistics.Perpetrator code; None while the intake does not ask it
    in_register: bool


@dataclass(frozen=True, slots=True)
class FactsUpdate:
    """What the statistics learn from a change; None leaves a fact as it was.

    Only the first acknowledgement and the first reaction count (storage keeps the earlier
    figure); police report and damages only ever become true.
    """

    in_register: bool | None = None
    acknowledged_hours: int | None = None  # whole hours from submission to acknowledgement
    reaction_hours: int | None = None  # whole hours from registration to a reaction towards the perpetrator
    police_report: bool | None = None
    damages_claimed: bool | None = None
    survey: SurveyAnswer | None = None
    latest_checkin: CheckInAnswer | None = None


def whole_hours(span: timedelta) -> int:
    """A duration as the statistics keep it: whole hours, so that a figure is never one exact moment."""
    return max(0, round(span.total_seconds() / 3600))


def acknowledged_facts(case: Case, now: datetime) -> FactsUpdate:
    return FactsUpdate(acknowledged_hours=whole_hours(now - case.submitted_at))


def reaction_facts(
    case: Case, now: datetime, *, reaction: bool, police_report: bool = False, damages_claimed: bool = False
) -> FactsUpdate | None:
    """What a recorded reaction towards the perpetrator tells the statistics. They count it for
    registered reports only; ``reaction`` False: "no reaction, because ..." (not a reaction)."""
    if not case.in_register:
        return None
    # From the moment the reaction clock started (the case entered the register).
    since = case.reaction_since or case.registered_at or case.submitted_at
    return FactsUpdate(
        reaction_hours=whole_hours(now - since) if reaction else None,
        police_report=True if police_report else None,
        damages_claimed=True if damages_claimed else None,
    )


_POLICE_REPORTS = frozenset({ActionKind.POLICE_REPORT_VICTIM, ActionKind.POLICE_REPORT_EMPLOYER})


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
    facts: FactsUpdate | None = None  # what the statistics learn from it


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
    facts: SubmittedFacts
    # Case values set beyond the draft's answers: the reaction clock and the footage task.
    starts: Mapping[str, Any] = field(default_factory=dict)


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
    facts: FactsUpdate | None = None,
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
        facts=facts,
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
    rules: RegisterRules | None = None,
    now: datetime | None = None,
    month: date,
    facts_id: str,
) -> Submission:
    """The reporter sends the report: it goes to ``counsellors`` (one, chosen from the group) and, for
    a registration, to the ``coordinators``; when the only counsellors of the group may not take it,
    ``waiting_for`` (the coordinators) hear that a case waits, without its content. A case that
    enters the register starts the clock for a reaction towards the perpetrator (``rules``)."""
    assert draft.wish is not None
    recipients = [(i, Party.COUNSELLOR) for i in counsellors] + [(i, Party.COORDINATOR) for i in coordinators]
    deliveries = report_deliveries(draft, attachment_ids, recipients, Notice.CASE_REPORT)
    deliveries += [Delivery(i, Party.COORDINATOR, Notice.CASE_WAITING) for i in waiting_for]
    register = register_for(draft.wish, draft.share_name_coordinator)
    starts: dict[str, Any] = {}
    added: list[Timer] = []
    if rules is not None and now is not None and register is not RegisterState.NONE:
        starts, added, tasks = _into_register(False, FootageState.NONE, draft.channel, list(coordinators), rules, now)
        deliveries += tasks
    assert draft.channel is not None and draft.role is not None
    facts = SubmittedFacts(
        id=facts_id,
        month=month.replace(day=1),
        forms=tuple(sorted(form.value for form in draft.forms)),
        channel=draft.channel,
        role=draft.role,
        department=department,
        work_process=draft.work_process,
        perpetrator=None if draft.perpetrator is None else draft.perpetrator.value,
        in_register=register in (RegisterState.ANONYMOUS, RegisterState.NAMED),
    )
    return Submission(
        draft=draft,
        audience=audience,
        register=register,
        department=department,
        counsellors=tuple(counsellors),
        excluded=tuple(excluded),
        deliveries=tuple(deliveries),
        timers=(*timers, *added),
        audit=REPORTER_ACTOR.note("submitted", f"{forms_code(draft.forms)}/{draft.wish.value}"),
        starts=starts,
        facts=facts,
    )


def _into_register(
    reacted: bool,
    footage: FootageState,
    channel: Channel | None,
    coordinators: Sequence[bytes],
    rules: RegisterRules,
    now: datetime,
) -> tuple[dict[str, Any], list[Timer], list[Delivery]]:
    """What entering the register starts: the clock for a reaction towards the perpetrator (unless
    one was recorded before), and for an incident in person the task to secure camera footage."""
    fields: dict[str, Any] = {}
    timers: list[Timer] = []
    deliveries: list[Delivery] = []
    if reacted:
        # A reaction was recorded before (by the counsellor, say): nothing is due, the clock stays stopped.
        fields["reaction"] = ReactionState.DONE
    else:
        due = now + rules.reaction_within
        fields |= {"reaction": ReactionState.DUE, "reaction_since": now, "reaction_due_at": due}
        timers += [
            Timer(TimerKind.REACTION_DUE, due),
            Timer(TimerKind.REACTION_ESCALATE, due + rules.reaction_escalate_after),
        ]
    if channel is Channel.IN_PERSON and footage in (FootageState.NONE, FootageState.DUE):
        due = now + rules.secure_footage_within
        fields |= {"footage": FootageState.DUE, "footage_due_at": due}
        timers.append(Timer(TimerKind.FOOTAGE_DUE, due))
        deliveries += [Delivery(i, Party.COORDINATOR, Notice.FOOTAGE_TASK) for i in coordinators]
    return fields, timers, deliveries


def _out_of_register(case: Case) -> dict[str, Any]:
    """Leaving the register (or withdrawn) stops the reaction clock and drops the footage task."""
    fields: dict[str, Any] = {}
    if case.reaction in RUNNING:
        fields["reaction"] = ReactionState.STOPPED
    if case.footage is FootageState.DUE:
        fields["footage"] = FootageState.NONE
    return fields


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
        facts=acknowledged_facts(case, now),
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
        facts=acknowledged_facts(case, now) if acknowledges else None,
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


def consent(
    case: Case,
    answer: ConsentAnswer,
    coordinators: Sequence[bytes],
    rules: RegisterRules | None = None,
    now: datetime | None = None,
) -> Decision:
    """The reporter's word on the register: with their name, without, no, or withdrawn. Only this
    changes what coordinators may see of a case after it was submitted. A withdrawn case stays out
    of everyone's sight: its reporter must send it anew. Entering the register starts the clock for
    a reaction (``rules``); leaving it stops the clock."""
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
            cancel={*REACTION_TIMERS, TimerKind.FOOTAGE_DUE},
            facts=FactsUpdate(in_register=False),
            register=RegisterState.WITHDRAWN,
            consent_asked_at=None,
            **_out_of_register(case),
        )
    if answer is ConsentAnswer.NO:
        return _change(case, REPORTER_ACTOR, "consent_refused", deliveries=told, consent_asked_at=None)
    given = RegisterState(answer.value)
    if case.in_register and case.register is given:
        return Refused("already_noted")
    deliveries = list(told)
    starts: dict[str, Any] = {}
    timers: list[Timer] = []
    if not case.in_register:
        recipients = [(i, Party.COORDINATOR) for i in coordinators_of(case, coordinators)]
        deliveries += report_deliveries(case, case.attachment_ids, recipients, Notice.CASE_REPORT_CONSENTED)
        if rules is not None and now is not None:
            starts, timers, tasks = _into_register(
                case.reaction_at is not None,
                case.footage,
                case.channel,
                coordinators_of(case, coordinators),
                rules,
                now,
            )
            deliveries += tasks
    return _change(
        case,
        REPORTER_ACTOR,
        "consent_given",
        detail=answer.value,
        deliveries=deliveries,
        timers=timers,
        facts=FactsUpdate(in_register=True),
        register=given,
        consent_asked_at=None,
        **starts,
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
        **_out_of_register(case),
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


def counsellor_left(
    case: Case, gone: Actor, to: bytes | None, coordinators: Sequence[bytes], now: datetime
) -> Decision:
    """A counsellor was removed from the staff (``meldbot staff remove``): their open case goes to
    ``to``, a colleague of the group, who receives the whole report, as at a hand-over; with nobody
    left it waits for routing, and the coordinators hear that (never its content)."""
    assert gone.index is not None
    state = case.counsellors.get(gone.index)
    if not case.is_open or state not in (CounsellorState.ASSIGNED, CounsellorState.ALERTED):
        return Refused("not_yours")
    if state is CounsellorState.ALERTED:
        # Only asked to help: they stop being asked; whoever handles the case keeps it.
        return _change(case, gone, "staff_removed", detail="alerted", counsellors={gone.index: CounsellorState.FORMER})
    if to is not None:
        return _move(case, gone, to, CounsellorState.FORMER, "staff_removed", now, detail="reassigned")
    waiting = [Delivery(i, Party.COORDINATOR, Notice.CASE_WAITING) for i in coordinators_of(case, coordinators)]
    return _change(
        case,
        gone,
        "staff_removed",
        detail="waiting",
        counsellors={gone.index: CounsellorState.FORMER},
        deliveries=waiting,
        records=[AwaitsCounsellor()],
        **_unacknowledged(case),
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
    for the personal note typed next (the text is composed when it goes out, so the note is in it).

    Recording a reaction, or "no reaction" with its reason, is the only thing that stops the clock
    for a reaction (a message to the reporter does not)."""
    if case.status not in LIVE:
        return Refused("not_yours")
    if new.kind is ActionKind.NOTHING and not (new.note or "").strip():
        return Refused("reason_required")
    clock: dict[str, Any] = {}
    if case.reaction_at is None:
        clock["reaction_at"] = now
    if case.reaction in RUNNING:
        clock["reaction"] = ReactionState.DONE
    return _change(
        case,
        by,
        "recorded_action",
        detail=f"{new.kind.value}/{new.outcome.value}",
        records=(new,),
        facts=reaction_facts(
            case,
            now,
            reaction=new.kind is not ActionKind.NOTHING,
            police_report=new.kind in _POLICE_REPORTS,
            damages_claimed=new.kind is ActionKind.DAMAGES_CLAIMED,
        ),
        deliveries=_feedback(case, new.id, now, feedback_delay),
        cancel=REACTION_TIMERS if "reaction" in clock else (),
        last_news_at=now if feedback_delay is not None else case.last_news_at,
        **clock,
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
        return replace(
            stopped,
            records=(new,),
            audit=REPORTER_ACTOR.note("checkin_answered"),
            facts=FactsUpdate(latest_checkin=new.answer),
        )
    answered = FactsUpdate(latest_checkin=new.answer)
    if new.answer is CheckInAnswer.FINE:
        return _change(case, REPORTER_ACTOR, "checkin_answered", records=(new,), facts=answered)
    handlers = sorted(case.handlers) or ([counsellor] if counsellor is not None else [])
    newly = {counsellor: CounsellorState.ASSIGNED} if not case.handlers and counsellor is not None else {}
    alerts = [Delivery(i, Party.COUNSELLOR, Notice.CHECKIN_ALERT, new.answer.value) for i in handlers]
    return _change(
        case, REPORTER_ACTOR, "checkin_answered", records=(new,), counsellors=newly, deliveries=alerts, facts=answered
    )


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


# -- the register's tracks: the reaction clock, camera footage, the police, damages ------------------


def remind_of_reaction(case: Case, coordinators: Sequence[bytes], item_id: str) -> Decision:
    """The reaction fell due and none was recorded: the coordinators are reminded (the case is in
    the register, so they may open it)."""
    if case.reaction is not ReactionState.DUE or not case.in_register or case.status is CaseStatus.WITHDRAWN:
        return Refused("not_due")
    reminders = [Delivery(i, Party.COORDINATOR, Notice.REACTION_REMINDER) for i in coordinators_of(case, coordinators)]
    return _change(
        case,
        SYSTEM,
        "reaction_overdue",
        detail=str(len(reminders)),
        deliveries=_once(reminders, item_id),
        reaction=ReactionState.OVERDUE,
    )


def escalate_reaction(case: Case, management: Sequence[bytes], item_id: str) -> Decision:
    """Still no reaction: management hears of it (reference, group, form and age; never content)."""
    if case.reaction not in (ReactionState.DUE, ReactionState.OVERDUE) or not case.in_register:
        return Refused("not_due")
    if case.status is CaseStatus.WITHDRAWN:
        return Refused("not_due")
    alerts = [Delivery(i, Party.MANAGEMENT, Notice.REACTION_ESCALATED) for i in management if i not in case.barred]
    return _change(
        case,
        SYSTEM,
        "reaction_escalated",
        detail=str(len(alerts)),
        deliveries=_once(alerts, item_id),
        reaction=ReactionState.ESCALATED,
    )


def remind_of_footage(case: Case, coordinators: Sequence[bytes], item_id: str) -> Decision:
    """The footage was not recorded as secured by its due date: the coordinators are reminded."""
    if case.footage is not FootageState.DUE or not case.in_register or case.status is CaseStatus.WITHDRAWN:
        return Refused("not_due")
    reminders = [Delivery(i, Party.COORDINATOR, Notice.FOOTAGE_REMINDER) for i in coordinators_of(case, coordinators)]
    return _change(case, SYSTEM, "footage_overdue", deliveries=_once(reminders, item_id))


def record_footage(case: Case, by: Actor, state: FootageState, now: datetime) -> Decision:
    """A coordinator records that the footage was secured, or that there was no camera."""
    if state not in (FootageState.SECURED, FootageState.NO_CAMERA):
        return Refused("not_yours")
    if case.footage is not FootageState.DUE:
        return Refused("already_noted")
    return _change(
        case, by, "footage", detail=state.value, cancel={TimerKind.FOOTAGE_DUE}, footage=state, footage_at=now
    )


def record_police_step(case: Case, by: Actor, new: NewPoliceStep, coordinators: Sequence[bytes]) -> Decision:
    """A step of the police track. The report comes first (with its date, and its number when
    known); each later step needs it. Recorded by staff, the reporter hears it (in their language);
    recorded by the reporter (from /mycases), the staff on the case do."""
    if case.status not in LIVE:
        return Refused("not_yours")
    if new.step is PoliceStep.REPORTED:
        if case.police_reported_on is not None:
            return Refused("already_noted")
    elif case.police_reported_on is None:
        return Refused("police_report_first")
    if new.recorded_by is Party.REPORTER:
        told = [Delivery(i, p, Notice.POLICE_NEWS, new.id) for i, p in staff_on(case, coordinators)]
    else:
        told = _to_reporter(case, Notice.POLICE_FEEDBACK, new.id)
    reported: dict[str, Any] = {"police_reported_on": new.on} if new.step is PoliceStep.REPORTED else {}
    counted = FactsUpdate(police_report=True) if new.step is PoliceStep.REPORTED and case.in_register else None
    return _change(
        case, by, "police_step", detail=new.step.value, records=(new,), deliveries=told, facts=counted, **reported
    )


def add_cost_item(case: Case, by: Actor, new: NewCostItem, helper: bytes | None) -> Decision:
    """An item of the damages. The reporter hears it; the damages helper (if configured) is alerted
    with the reference and the amounts only."""
    if case.status not in LIVE or not case.in_register:
        return Refused("not_yours")
    if not 0 < new.amount_cents <= 100_000_000_00:
        return Refused("bad_amount")
    return _change(
        case,
        by,
        "damages_item",
        detail=f"{new.kind.value}/{new.amount_cents}",
        records=(new,),
        deliveries=[*_to_reporter(case, Notice.DAMAGES_FEEDBACK, new.id), *_to_helper(case, helper, new.id)],
        facts=FactsUpdate(damages_claimed=True),
    )


def update_damages(
    case: Case,
    by: Actor,
    change_id: str,
    helper: bytes | None,
    *,
    insurance_checked: bool | None = None,
    claim: ClaimStatus | None = None,
    recovered_cents: int | None = None,
) -> Decision:
    """Whether insurance was checked, where the claim stands, what was recovered. Each change
    reaches the reporter and the damages helper."""
    if case.status not in LIVE or not case.in_register:
        return Refused("not_yours")
    fields: dict[str, Any] = {}
    if insurance_checked is not None and insurance_checked != case.damages_insurance_checked:
        fields["damages_insurance_checked"] = insurance_checked
    if claim is not None and claim is not case.damages_claim:
        fields["damages_claim"] = claim
    if recovered_cents is not None:
        if not 0 <= recovered_cents <= 100_000_000_00:
            return Refused("bad_amount")
        if recovered_cents != case.damages_recovered_cents:
            fields["damages_recovered_cents"] = recovered_cents
    if not fields:
        return Refused("already_noted")
    detail = ",".join(
        f"{name.removeprefix('damages_')}={getattr(value, 'value', value)}" for name, value in fields.items()
    )
    return _change(
        case,
        by,
        "damages",
        detail=detail,
        deliveries=[*_to_reporter(case, Notice.DAMAGES_FEEDBACK, change_id), *_to_helper(case, helper, change_id)],
        facts=FactsUpdate(damages_claimed=True)
        if fields.get("damages_claim") not in (None, ClaimStatus.NOT_CLAIMED)
        else None,
        **fields,
    )


def _to_helper(case: Case, helper: bytes | None, ref: str) -> list[Delivery]:
    if helper is None or helper in case.barred:
        return []
    return [Delivery(helper, Party.DAMAGES_HELPER, Notice.DAMAGES_ALERT, ref)]


# -- the case file (dossier) for the police --------------------------------------------------

# How long the reporter has to answer whether their name goes in a case file; then it is made without.
DOSSIER_ANSWER_WAIT = timedelta(days=2)


def request_dossier(case: Case, by: Actor, party: Party, now: datetime, wait: timedelta) -> Decision:
    """Staff ask for the case file. The reporter decides, for this case file, whether their name and
    their messages go in it; a reporter who was erased cannot be asked, so it is made without."""
    assert by.index is not None
    if case.status not in LIVE:
        return Refused("withdrawn")
    if case.dossier_asked_at is not None:
        return Refused("dossier_waiting")
    if case.reporter is None:
        made = Delivery(by.index, party, Notice.DOSSIER, DossierConsent.NEITHER.value)
        return _change(case, by, "dossier_requested", detail="nobody_to_ask", deliveries=[made])
    return _change(
        case,
        by,
        "dossier_requested",
        deliveries=_to_reporter(case, Notice.DOSSIER_QUESTION, party.value),
        timers=(Timer(TimerKind.DOSSIER_WAIT, now + wait),),
        dossier_asked_at=now,
        dossier_requester=by.index,
        dossier_requester_role=party,
    )


def _dossier_made_for_requester(case: Case, answer: DossierConsent, dedupe: str | None) -> list[Delivery]:
    """The case file for whoever asked, if they may still have it: a counsellor who still handles
    the case, a coordinator while the case is in the register (the reporter may have changed that)."""
    requester, party = case.dossier_requester, case.dossier_requester_role
    assert requester is not None and party is not None
    if requester in case.barred:
        return []
    if party is Party.COORDINATOR and not case.in_register:
        return []
    if party is Party.COUNSELLOR and requester not in case.handlers:
        return []
    return [Delivery(requester, party, Notice.DOSSIER, answer.value, dedupe)]


def answer_dossier(case: Case, answer: DossierConsent) -> Decision:
    """The reporter's word on the case file: it is made now, and goes to the staff member who asked."""
    if case.status not in LIVE or case.dossier_asked_at is None:
        return Refused("dossier_answered")
    return _change(
        case,
        REPORTER_ACTOR,
        "dossier_answered",
        detail=answer.name.lower(),
        deliveries=_dossier_made_for_requester(case, answer, None),
        cancel={TimerKind.DOSSIER_WAIT},
        dossier_asked_at=None,
        dossier_requester=None,
        dossier_requester_role=None,
        dossier_consent=answer,
    )


def dossier_unanswered(case: Case, item_id: str) -> Decision:
    """The reporter did not answer in time: the case file is made without their name and messages."""
    if case.status not in LIVE or case.dossier_asked_at is None:
        return Refused("not_due")
    return _change(
        case,
        SYSTEM,
        "dossier_unanswered",
        deliveries=_dossier_made_for_requester(case, DossierConsent.NEITHER, f"{item_id}:0"),
        dossier_asked_at=None,
        dossier_requester=None,
        dossier_requester_role=None,
    )


def own_copy(case: Case) -> Decision:
    """The reporter asks for their own copy of the case file: proof that they reported."""
    if case.status not in LIVE:
        return Refused("withdrawn")
    return _change(case, REPORTER_ACTOR, "dossier_copy_requested", deliveries=_to_reporter(case, Notice.DOSSIER_COPY))


def dossier_made(case: Case, by: Actor, *, named: bool, with_messages: bool, sha256: str) -> Decision:
    """A case file was drawn up: who for, whether the reporter's name and messages are in it, and
    the fingerprint of the PDF, so that a copy that turns up later can be recognised."""
    if case.status not in LIVE:
        return Refused("withdrawn")
    name = "named" if named else "unnamed"
    messages_part = "with_messages" if with_messages else "without_messages"
    return _change(case, by, "dossier_made", detail=f"{name}/{messages_part}/sha256:{sha256}")


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
        Notice.POLICE_NEWS,
        Notice.DOSSIER,
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
    if party is Party.MANAGEMENT:
        # Management sees no case: only that a reaction is overdue, while it still is.
        if kind is not Notice.REACTION_ESCALATED:
            return Drop("management_sees_no_cases")
        return Send() if case.in_register and case.reaction in RUNNING else Drop("reacted")
    if party is Party.DAMAGES_HELPER:
        return Send() if kind is Notice.DAMAGES_ALERT and case.in_register else Drop("not_in_register")
    if kind in (Notice.REACTION_REMINDER, Notice.FOOTAGE_TASK, Notice.FOOTAGE_REMINDER):
        if party is not Party.COORDINATOR or not case.in_register:
            return Drop("not_in_register")
        if kind is Notice.REACTION_REMINDER:
            return Send() if case.reaction in RUNNING else Drop("reacted")
        return Send() if case.footage is FootageState.DUE else Drop("footage_recorded")
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
