"""The words of the domain: what happened, how, who reports, who receives.

Plain enums and dataclasses shared by the flows. Their values are the coarse codes
that storage keeps in plaintext (routing and statistics need them) and that the
message catalogue uses as label keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Form(StrEnum):
    """What happened, in the classes of the Dutch monitors (see shared/domain.md).

    An incident often combines several forms; a report keeps them as a set.
    """

    VERBAL_AGGRESSION = "verbal_aggression"  # shouting, swearing, threatening posture
    THREAT_TO_AUTHORITY = "threat_to_authority"  # threatening to go to a superior, the media, a judge, the mayor
    THREAT = "threat"  # of violence, against family or property
    INTIMIDATION = "intimidation"  # following, lying in wait, repeated messages, online harassment
    DISCRIMINATION = "discrimination"  # discrimination or sexual intimidation
    VIOLENCE = "violence"  # vandalism or physical violence
    BRIBERY = "bribery"  # money, gift or favour offered
    OTHER = "other"


def forms_code(forms: Iterable[Form]) -> str:
    """The coarse code storage keeps for a set of forms: their values sorted, comma separated."""
    return ",".join(sorted({form.value for form in forms}))


def forms_of(code: str) -> frozenset[Form]:
    """The forms a :func:`forms_code` names."""
    return frozenset(Form(value) for value in code.split(",") if value)


def in_order(forms: Iterable[Form]) -> tuple[Form, ...]:
    """The forms in the order the question lists them (for showing them)."""
    chosen = set(forms)
    return tuple(form for form in Form if form in chosen)


class Perpetrator(StrEnum):
    """Who did it, coarsely: for the register and statistics, never an identity."""

    CITIZEN_CLIENT = "citizen_client"
    BUSINESS_OWNER = "business_owner"
    COLLEAGUE_OR_OFFICE_HOLDER = "colleague_or_office_holder"
    OTHER = "other"
    UNKNOWN = "unknown"


class Consequence(StrEnum):
    """What the incident did to the reporter, as they told at the first check-in."""

    STRESS = "stress"
    UNSAFE = "unsafe"
    LESS_PLEASURE = "less_pleasure"
    AVOIDING = "avoiding"  # avoiding places or people
    REORGANISED = "reorganised"  # work reorganised


def consequences_code(consequences: Iterable[Consequence]) -> str:
    """The coarse code storage keeps: the values sorted, comma separated ("" for none of them)."""
    return ",".join(sorted(c.value for c in set(consequences)))


def consequences_of(code: str) -> frozenset[Consequence]:
    return frozenset(Consequence(value) for value in code.split(",") if value)


# Work processes the register distinguishes unless [organisation] work_processes names others.
DEFAULT_WORK_PROCESSES = (
    "permits",
    "enforcement",
    "benefits",
    "counter",
    "procurement_subsidies",
    "council_work",
    "other",
)


class Channel(StrEnum):
    """How the incident reached the reporter."""

    IN_PERSON = "in_person"
    PHONE = "phone"
    EMAIL = "email"
    ONLINE = "online"  # social media or elsewhere online
    LETTER = "letter"
    OTHER = "other"


class Role(StrEnum):
    EMPLOYEE = "employee"
    COUNCIL_MEMBER = "council_member"
    ALDERMAN = "alderman"
    MAYOR = "mayor"
    OTHER = "other"

    @property
    def is_office_holder(self) -> bool:
        return self in (Role.COUNCIL_MEMBER, Role.ALDERMAN, Role.MAYOR)


class Audience(StrEnum):
    """The group a counsellor serves; the research advises one counsellor per group."""

    STAFF = "staff"
    OFFICE_HOLDERS = "office_holders"

    @classmethod
    def of(cls, role: Role) -> Audience:
        return cls.OFFICE_HOLDERS if role.is_office_holder else cls.STAFF


class Wish(StrEnum):
    """What the reporter wants done with the report."""

    COUNSELLOR = "counsellor"  # a confidential talk with a counsellor only
    COUNSELLOR_AND_REGISTER = "counsellor_and_register"  # and registration with the coordinator
    ANONYMOUS_REGISTER = "anonymous_register"  # registration only, without identity

    @property
    def reaches_counsellor(self) -> bool:
        return self is not Wish.ANONYMOUS_REGISTER

    @property
    def reaches_coordinator(self) -> bool:
        return self is not Wish.COUNSELLOR


class Step(StrEnum):
    """Where a draft report stands. The questions are asked in the order of :data:`QUESTIONS`."""

    FORMS = "forms"
    WHEN = "when"
    CHANNEL = "channel"
    DESCRIPTION = "description"
    PERPETRATOR = "perpetrator"
    DETAILS = "details"  # what the reporter knows of the perpetrator: asked when known by name
    ROLE = "role"
    DEPARTMENT = "department"  # only when the organisation lists departments; remembered
    WORK_PROCESS = "work_process"  # optional; remembered like the department
    WISH = "wish"
    SUMMARY = "summary"
    CHANGE = "change"  # choosing which answer to change from the summary
    EXCLUDE = "exclude"  # choosing who must not receive the report (conflict of interest)
    CANCEL = "cancel"  # asked to confirm deleting the draft


QUESTIONS: tuple[Step, ...] = (
    Step.FORMS,
    Step.WHEN,
    Step.CHANNEL,
    Step.DESCRIPTION,
    Step.PERPETRATOR,
    Step.DETAILS,
    Step.ROLE,
    Step.DEPARTMENT,
    Step.WORK_PROCESS,
    Step.WISH,
)
# Asked once and remembered on the person: a later report skips them when they are known.
PROFILE_QUESTIONS = frozenset({Step.ROLE, Step.DEPARTMENT, Step.WORK_PROCESS})


class CaseStatus(StrEnum):
    DRAFT = "draft"
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Language(StrEnum):
    NL = "nl"
    EN = "en"

    @classmethod
    def from_telegram(cls, language_code: str | None) -> Language:
        """Dutch for ``nl`` (and regional variants such as ``nl-BE``), English otherwise."""
        if language_code and language_code.lower().split("-")[0] == "nl":
            return cls.NL
        return cls.EN


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"
    VOICE = "voice"
    AUDIO = "audio"
    VIDEO = "video"
    VIDEO_NOTE = "video_note"


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent an update, as Telegram tells us. Never stored in plaintext."""

    telegram_id: int
    display_name: str
    username: str | None
    language_code: str | None


@dataclass(frozen=True, slots=True)
class Counsellor:
    telegram_id: int
    name: str
    serves: frozenset[Audience]
    language: Language
    position: int  # index in the configuration, used to name them in logs without an id


@dataclass(frozen=True, slots=True)
class Coordinator:
    telegram_id: int
    name: str
    language: Language
    position: int


@dataclass(frozen=True, slots=True)
class IncomingAttachment:
    """A file the reporter sent, already fetched from Telegram by the bot layer."""

    kind: AttachmentKind
    content: bytes
    file_name: str | None
    mime_type: str | None
    duration: int | None
    caption: str | None
