"""What a flow hands back to the bot layer: replies to show and buttons to offer.

A flow never formats a Telegram message. It names message keys and parameters
(rendered and escaped by ``messages``) and typed actions behind buttons (encoded
into callback data by ``bot.callbacks``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from flows.lifecycle import (
    ActionKind,
    ActionOutcome,
    CaseStatus,
    CheckInAnswer,
    ClaimStatus,
    ConsentAnswer,
    CostKind,
    DossierConsent,
    FootageState,
    InfluenceAnswer,
    NotAloneAnswer,
    PoliceStep,
    SurveyAnswer,
    Thread,
)
from flows.model import Audience, Language, Role, StaffRole, Step
from flows.perpetrator import IdentifierKind
from flows.statistics import PeriodKind
from messages import Label

# -- what a button asks for -------------------------------------------------------------
# One dataclass per action. bot/callbacks.py declares how each is written into a button's
# callback data (and reads it back); whether the person pressing may do it is decided by
# the flow, against the database, each time.


@dataclass(frozen=True, slots=True)
class StartReport:
    pass


@dataclass(frozen=True, slots=True)
class StopComposing:
    pass


@dataclass(frozen=True, slots=True)
class Answer:
    """A reporter's answer to one step of the draft whose id starts with ``draft_tag``."""

    draft_tag: str
    step: Step
    value: str


@dataclass(frozen=True, slots=True)
class ResumeDraft:
    """Continue (``keep=True``) or throw away the unfinished draft ``draft_tag``."""

    draft_tag: str
    keep: bool


@dataclass(frozen=True, slots=True)
class ChooseLanguage:
    language: Language


@dataclass(frozen=True, slots=True)
class CleanUp:
    """Remove the conversation of a submitted report from the reporter's chat."""

    reference: str


@dataclass(frozen=True, slots=True)
class Forget:
    confirm: bool


@dataclass(frozen=True, slots=True)
class CreateInvite:
    role: Role
    department: str = ""


class Serves(StrEnum):
    """The groups a counsellor invited from the chat will serve (``none`` for other roles)."""

    NONE = "none"
    STAFF = "staff"
    OFFICE_HOLDERS = "office_holders"
    BOTH = "both"

    @property
    def audiences(self) -> frozenset[Audience]:
        if self is Serves.BOTH:
            return frozenset(Audience)
        return frozenset() if self is Serves.NONE else frozenset({Audience(self.value)})


@dataclass(frozen=True, slots=True)
class CreateStaffInvite:
    """A coordinator's single-use link that enrols its holder as staff, going by ``name`` (or their own)."""

    role: StaffRole
    serves: Serves
    name: str = ""


# Lists, a page at a time: ``anchor`` is the reference of the case the page starts after
# (``newer`` False: older cases) or before (``newer`` True); ``page`` is only for showing.


@dataclass(frozen=True, slots=True)
class Inbox:
    """A counsellor's list of cases."""

    page: int = 0
    anchor: str | None = None
    newer: bool = False


@dataclass(frozen=True, slots=True)
class MyCases:
    """A reporter's list of their reports."""

    page: int = 0
    anchor: str | None = None
    newer: bool = False


@dataclass(frozen=True, slots=True)
class RegisterView:
    """The coordinator's register with its filters (short codes, see flows.casework.FILTERS)."""

    status: str = "a"
    form: str = "a"
    role: str = "a"
    period: str = "a"
    page: int = 0
    anchor: str | None = None
    newer: bool = False


@dataclass(frozen=True, slots=True)
class StatsView:
    """/stats for one whole period (``number``: month 1-12, quarter 1-4, 1 for a year) and audience
    (``a`` all, with staff and office holders beside it; ``s`` staff; ``h`` office holders)."""

    kind: PeriodKind
    year: int
    number: int
    audience: str = "a"


@dataclass(frozen=True, slots=True)
class StatsCharts:
    """The charts of the period and audience of a /stats view, sent as pictures."""

    kind: PeriodKind
    year: int
    number: int
    audience: str = "a"


# Buttons on a case, for the staff who handle it.


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """A counsellor confirms receipt (or takes the case over); a coordinator confirms the registration."""

    reference: str


@dataclass(frozen=True, slots=True)
class OpenCase:
    reference: str


@dataclass(frozen=True, slots=True)
class SendFiles:
    reference: str


@dataclass(frozen=True, slots=True)
class StartNote:
    reference: str


@dataclass(frozen=True, slots=True)
class ShowNotes:
    reference: str
    page: int = 0


@dataclass(frozen=True, slots=True)
class SetStatus:
    """Choose a status (``status`` None: show the choices)."""

    reference: str
    status: CaseStatus | None = None


@dataclass(frozen=True, slots=True)
class HandOver:
    """Hand the case to the counsellor at position ``to`` in the configuration (None: show the choices)."""

    reference: str
    to: int | None = None


@dataclass(frozen=True, slots=True)
class Recuse:
    reference: str
    confirm: bool = False


@dataclass(frozen=True, slots=True)
class StartMessage:
    reference: str


@dataclass(frozen=True, slots=True)
class AskConsent:
    reference: str


@dataclass(frozen=True, slots=True)
class RecordAction:
    """What was done towards the perpetrator: first the kind, then how it stands."""

    reference: str
    kind: ActionKind | None = None
    outcome: ActionOutcome | None = None


@dataclass(frozen=True, slots=True)
class AllReactions:
    """Every reaction towards the perpetrator, not only those suggested for the kind of incident."""

    reference: str


@dataclass(frozen=True, slots=True)
class UpdateAction:
    """A later outcome of an action recorded earlier (``action``: the first 8 characters of its id)."""

    reference: str
    action: str
    outcome: ActionOutcome | None = None


@dataclass(frozen=True, slots=True)
class Footage:
    """The task to secure camera footage (``state`` None: show it)."""

    reference: str
    state: FootageState | None = None


@dataclass(frozen=True, slots=True)
class Police:
    """The police track (``step`` None: show it; otherwise record that step next)."""

    reference: str
    step: PoliceStep | None = None


@dataclass(frozen=True, slots=True)
class Damages:
    reference: str


@dataclass(frozen=True, slots=True)
class DamagesItem:
    """Add a cost item of this kind (its amount is typed next)."""

    reference: str
    kind: CostKind


@dataclass(frozen=True, slots=True)
class DamagesClaim:
    reference: str
    claim: ClaimStatus


@dataclass(frozen=True, slots=True)
class DamagesInsurance:
    """Whether the insurance was checked: pressing turns it over."""

    reference: str


@dataclass(frozen=True, slots=True)
class DamagesRecovered:
    """The amount recovered (typed next)."""

    reference: str


# Buttons on a case, for its reporter.


@dataclass(frozen=True, slots=True)
class OpenMine:
    reference: str


@dataclass(frozen=True, slots=True)
class AddInfo:
    reference: str


@dataclass(frozen=True, slots=True)
class Consequences:
    """What the incident did, ticked at the first check-in. The buttons carry the ticks so far
    (a bit per :class:`flows.model.Consequence`, in order); ``done`` keeps them."""

    reference: str
    ticked: int
    done: bool = False


@dataclass(frozen=True, slots=True)
class Influence:
    """Whether the incident influenced a decision the reporter took."""

    reference: str
    answer: InfluenceAnswer


@dataclass(frozen=True, slots=True)
class AddDetail:
    """Add something known about the perpetrator (reporter, counsellor or coordinator); no kind: choose one."""

    reference: str
    kind: IdentifierKind | None = None


@dataclass(frozen=True, slots=True)
class ReplyTo:
    """Write to the counsellor or to the coordinator of the case."""

    reference: str
    thread: Thread


@dataclass(frozen=True, slots=True)
class GiveConsent:
    reference: str
    answer: ConsentAnswer


@dataclass(frozen=True, slots=True)
class ToggleName:
    reference: str


@dataclass(frozen=True, slots=True)
class Withdraw:
    reference: str
    confirm: bool = False


@dataclass(frozen=True, slots=True)
class CheckIn:
    """An answer to check-in number ``step``."""

    reference: str
    step: int
    answer: CheckInAnswer


@dataclass(frozen=True, slots=True)
class Reoffer:
    reference: str
    yes: bool


@dataclass(frozen=True, slots=True)
class Survey:
    reference: str
    answer: SurveyAnswer


@dataclass(frozen=True, slots=True)
class PauseCheckIns:
    reference: str


@dataclass(frozen=True, slots=True)
class StopCheckIns:
    reference: str


@dataclass(frozen=True, slots=True)
class ResumeCheckIns:
    reference: str


# The safety pulse (flows/pulse.py): the answers so far travel in the button, so that
# nothing about one person's answers is ever written to the database.


@dataclass(frozen=True, slots=True)
class PulseAnswer:
    """The pulse of ``period`` as answered so far (0: not yet answered).

    ``safety`` 1 (very unsafe) to 5 (very safe); ``unreported`` and ``decision`` 1 yes, 2 no;
    ``reasons`` the set of flows.pulse.Reason as bits, ``reasons_done`` once they are chosen.
    """

    period: str
    safety: int = 0
    unreported: int = 0
    reasons: int = 0
    reasons_done: bool = False
    decision: int = 0


@dataclass(frozen=True, slots=True)
class PulseDecline:
    """ "Not now" (``mute`` False) or "never again" for the pulse of ``period``."""

    period: str
    mute: bool


@dataclass(frozen=True, slots=True)
class AnswerDossier:
    """The reporter's word on a case file staff asked for: their name in it, their messages in it."""

    reference: str
    answer: DossierConsent


@dataclass(frozen=True, slots=True)
class OwnCopy:
    """The reporter asks for their own copy of the case file (proof of reporting)."""

    reference: str


# Reports about the same person (flows/linking.py).


@dataclass(frozen=True, slots=True)
class JointTimeline:
    """Staff: the cases linked to this one, side by side."""

    reference: str


@dataclass(frozen=True, slots=True)
class ToggleLink:
    """The reporter lets the report be combined with reports about the same person, or no longer."""

    reference: str


@dataclass(frozen=True, slots=True)
class NotAlone:
    """The reporter's answer to "other reports name the same person: join them in the register?"."""

    reference: str
    answer: NotAloneAnswer


Action = (
    StartReport
    | StopComposing
    | Answer
    | ResumeDraft
    | ChooseLanguage
    | CleanUp
    | Forget
    | CreateInvite
    | CreateStaffInvite
    | Inbox
    | MyCases
    | RegisterView
    | Acknowledge
    | OpenCase
    | SendFiles
    | StartNote
    | ShowNotes
    | SetStatus
    | HandOver
    | Recuse
    | StartMessage
    | AskConsent
    | RecordAction
    | AllReactions
    | UpdateAction
    | Footage
    | Police
    | Damages
    | DamagesItem
    | DamagesClaim
    | DamagesInsurance
    | DamagesRecovered
    | OpenMine
    | AddInfo
    | AddDetail
    | Consequences
    | Influence
    | ReplyTo
    | GiveConsent
    | ToggleName
    | Withdraw
    | CheckIn
    | Reoffer
    | Survey
    | PauseCheckIns
    | StopCheckIns
    | ResumeCheckIns
    | PulseAnswer
    | PulseDecline
    | AnswerDossier
    | OwnCopy
    | StatsView
    | StatsCharts
    | JointTimeline
    | ToggleLink
    | NotAlone
)


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    action: Action
    params: Mapping[str, object] = field(default_factory=dict)


Keyboard = tuple[tuple[Choice, ...], ...]


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send: a catalogue key, its parameters, and buttons in rows.

    Parameter values may be ``str`` (user text, escaped when rendered), ``int``,
    ``date``, or :class:`Label`.
    """

    key: str
    params: Mapping[str, object] = field(default_factory=dict)
    keyboard: Keyboard = ()
    protect_content: bool = False
    # A line shown above the text: the answer just given, when a question turns into the next one.
    before: Label | None = None


ParamValue = str | int | date | Label | tuple[Label, ...]


class FileKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class MadeFile:
    """A file the bot made (a chart, an export), sent with protect_content: it cannot be forwarded or saved."""

    kind: FileKind
    content: bytes
    file_name: str
    caption: Label


@dataclass(slots=True)
class Outcome:
    """The result of one input: what to show, and what else the bot layer must do."""

    language: Language
    replies: list[Reply] = field(default_factory=list)
    # Replaces the text of the message whose button was pressed (and removes its buttons).
    edit_pressed: Reply | None = None
    # Removes the buttons from the pressed message without changing its text...
    clear_pressed_buttons: bool = False
    # ...or replaces them (e.g. a case's buttons after it was acknowledged).
    pressed_keyboard: Keyboard | None = None
    toast: Label | None = None
    toast_alert: bool = False
    # The messages of this exchange belong to this case's conversation (for clean-up).
    case_id: str | None = None
    delete_messages: tuple[int, ...] = ()
    # Files sent after the replies (charts, exports).
    files: list[MadeFile] = field(default_factory=list)
