"""Typed callback data: what a button asks for, in at most 64 bytes.

Each action (flows/outcome.py) is declared once below, with a prefix and a codec per
field; encoding, decoding and Telegram's 64-byte limit all follow from that declaration,
and a declaration that could exceed 64 bytes fails when this module is imported.

Callback data comes back from the user's client and can be forged, so :func:`decode`
accepts only the exact shapes :func:`encode` writes and returns None for anything else.
Decoding names an intent; whether the presser may act on it is decided afterwards by the
flow, against the database.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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
from flows.model import Language, Role, StaffRole, Step
from flows.outcome import (
    Acknowledge,
    Action,
    AddDetail,
    AddInfo,
    AllReactions,
    Answer,
    AnswerDossier,
    AskConsent,
    CheckIn,
    ChooseLanguage,
    CleanUp,
    Consequences,
    CreateInvite,
    CreateStaffInvite,
    Damages,
    DamagesClaim,
    DamagesInsurance,
    DamagesItem,
    DamagesRecovered,
    Footage,
    Forget,
    GiveConsent,
    HandOver,
    Inbox,
    Influence,
    JointTimeline,
    MyCases,
    NotAlone,
    OpenCase,
    OpenMine,
    OwnCopy,
    PauseCheckIns,
    Police,
    PulseAnswer,
    PulseDecline,
    RecordAction,
    Recuse,
    RegisterView,
    Reoffer,
    ReplyTo,
    ResumeCheckIns,
    ResumeDraft,
    SendFiles,
    Serves,
    SetStatus,
    ShowNotes,
    StartMessage,
    StartNote,
    StartReport,
    StatsCharts,
    StatsView,
    StopCheckIns,
    StopComposing,
    Survey,
    ToggleLink,
    ToggleName,
    UpdateAction,
    Withdraw,
)
from flows.perpetrator import IdentifierKind
from flows.statistics import PeriodKind

MAX_BYTES = 64  # Telegram's limit for callback_data


@dataclass(frozen=True, slots=True)
class Codec:
    """How one field is written: a pattern it must match (no ':'), its longest form in bytes."""

    pattern: str
    max_bytes: int
    write: Callable[[Any], str]
    read: Callable[[str], Any]


def _text(pattern: str, max_bytes: int) -> Codec:
    return Codec(pattern, max_bytes, str, str)


def _choice(enum: type[StrEnum]) -> Codec:
    values = [member.value for member in enum]
    return Codec("|".join(re.escape(v) for v in values), max(len(v.encode()) for v in values), lambda m: m.value, enum)


def _number(digits: int) -> Codec:
    # ASCII digits only: \d would also read other scripts' digits, which int() accepts and we never write.
    return Codec(rf"0|[1-9][0-9]{{0,{digits - 1}}}", digits, str, int)


def _optional(codec: Codec) -> Codec:
    """None is written as nothing."""
    return Codec(
        f"(?:{codec.pattern})?",
        codec.max_bytes,
        lambda value: "" if value is None else codec.write(value),
        lambda text: None if text == "" else codec.read(text),
    )


_ALNUM = "2-9A-HJKMNP-TV-Z"  # storage/cases.py's reference alphabet
REFERENCE = _text(rf"MB-[{_ALNUM}]{{4}}-[{_ALNUM}]{{4}}", 12)
TAG = _text(r"[0-9a-f]{8}", 8)
WORD = _text(r"[a-z0-9_]{1,32}", 32)
DEPARTMENT = _text(r"[\w .&/-]{0,30}", 30)  # flows/invites.py clean_department: at most 30 bytes
FLAG = Codec("[01]", 1, lambda value: "1" if value else "0", lambda text: text == "1")
PAGE = _number(4)
STEP_NUMBER = _number(2)
STATUS_FILTER = _text("[aocw]", 1)
ROLE_FILTER = _text("[ash]", 1)
PERIOD_FILTER = _text("[awmqy]", 1)
PULSE_PERIOD = _text(r"20[0-9]{2}(?:m(?:[1-9]|1[0-2])|q[1-4]|y1)", 7)  # flows/pulse.py period_key
DIGIT = _number(1)
FORM_FILTER = _text("a|[a-z_]{1,20}", 20)
CONSEQUENCE_TICKS = _number(2)  # a bit per flows.model.Consequence
AUDIENCE = _text("[ash]", 1)  # flows/steering.py AUDIENCES


@dataclass(frozen=True, slots=True)
class Declaration:
    action: type[Any]
    prefix: str
    fields: tuple[tuple[str, Codec], ...]
    regex: re.Pattern[str]
    max_bytes: int


def _declare(kind: type[Any], prefix: str, /, **codecs: Codec) -> Declaration:
    names = [f.name for f in dataclasses.fields(kind)]
    if list(codecs) != names:
        raise TypeError(f"{kind.__name__}: declare its fields in order: {names}")
    pattern = re.escape(prefix) + "".join(f":(?P<{name}>{codec.pattern})" for name, codec in codecs.items())
    size = len(prefix.encode()) + sum(1 + codec.max_bytes for codec in codecs.values())
    if size > MAX_BYTES:
        raise ValueError(f"{kind.__name__} could need {size} bytes of callback data; Telegram allows {MAX_BYTES}")
    return Declaration(kind, prefix, tuple(codecs.items()), re.compile(f"^{pattern}$"), size)


_CASE = "c:"  # buttons on a case: c:<verb>:<reference>...

DECLARATIONS: tuple[Declaration, ...] = (
    _declare(StartReport, "r"),
    _declare(StopComposing, "s"),
    _declare(Answer, "i", draft_tag=TAG, step=_choice(Step), value=WORD),
    _declare(ResumeDraft, "d", draft_tag=TAG, keep=FLAG),
    _declare(ChooseLanguage, "l", language=_choice(Language)),
    _declare(CleanUp, "x", reference=REFERENCE),
    _declare(Forget, "f", confirm=FLAG),
    _declare(CreateInvite, "v", role=_choice(Role), department=DEPARTMENT),
    _declare(CreateStaffInvite, "e", role=_choice(StaffRole), serves=_choice(Serves), name=DEPARTMENT),
    _declare(Inbox, "n", page=PAGE, anchor=_optional(REFERENCE), newer=FLAG),
    _declare(MyCases, "k", page=PAGE, anchor=_optional(REFERENCE), newer=FLAG),
    _declare(
        RegisterView,
        "g",
        status=STATUS_FILTER,
        form=FORM_FILTER,
        role=ROLE_FILTER,
        period=PERIOD_FILTER,
        page=PAGE,
        anchor=_optional(REFERENCE),
        newer=FLAG,
    ),
    _declare(StatsView, "sv", kind=_choice(PeriodKind), year=_number(4), number=_number(2), audience=AUDIENCE),
    _declare(StatsCharts, "sc", kind=_choice(PeriodKind), year=_number(4), number=_number(2), audience=AUDIENCE),
    _declare(Acknowledge, "a", reference=REFERENCE),
    _declare(OpenCase, _CASE + "o", reference=REFERENCE),
    _declare(SendFiles, _CASE + "fl", reference=REFERENCE),
    _declare(StartNote, _CASE + "nt", reference=REFERENCE),
    _declare(ShowNotes, _CASE + "nl", reference=REFERENCE, page=PAGE),
    _declare(SetStatus, _CASE + "st", reference=REFERENCE, status=_optional(_choice(CaseStatus))),
    _declare(HandOver, _CASE + "ho", reference=REFERENCE, to=_optional(_number(3))),
    _declare(Recuse, _CASE + "rc", reference=REFERENCE, confirm=FLAG),
    _declare(StartMessage, _CASE + "ms", reference=REFERENCE),
    _declare(AskConsent, _CASE + "cs", reference=REFERENCE),
    _declare(
        RecordAction,
        _CASE + "ac",
        reference=REFERENCE,
        kind=_optional(_choice(ActionKind)),
        outcome=_optional(_choice(ActionOutcome)),
    ),
    _declare(AllReactions, _CASE + "aa", reference=REFERENCE),
    _declare(Footage, _CASE + "fo", reference=REFERENCE, state=_optional(_choice(FootageState))),
    _declare(Police, _CASE + "po", reference=REFERENCE, step=_optional(_choice(PoliceStep))),
    _declare(Damages, _CASE + "dm", reference=REFERENCE),
    _declare(DamagesItem, _CASE + "di", reference=REFERENCE, kind=_choice(CostKind)),
    _declare(DamagesClaim, _CASE + "dc", reference=REFERENCE, claim=_choice(ClaimStatus)),
    _declare(DamagesInsurance, _CASE + "dn", reference=REFERENCE),
    _declare(DamagesRecovered, _CASE + "dr", reference=REFERENCE),
    _declare(UpdateAction, _CASE + "au", reference=REFERENCE, action=TAG, outcome=_optional(_choice(ActionOutcome))),
    _declare(OpenMine, _CASE + "mo", reference=REFERENCE),
    _declare(AddInfo, _CASE + "ma", reference=REFERENCE),
    _declare(ReplyTo, _CASE + "mr", reference=REFERENCE, thread=_choice(Thread)),
    _declare(GiveConsent, _CASE + "mc", reference=REFERENCE, answer=_choice(ConsentAnswer)),
    _declare(ToggleName, _CASE + "mn", reference=REFERENCE),
    _declare(AddDetail, _CASE + "pd", reference=REFERENCE, kind=_optional(_choice(IdentifierKind))),
    _declare(Consequences, _CASE + "cq", reference=REFERENCE, ticked=CONSEQUENCE_TICKS, done=FLAG),
    _declare(Influence, _CASE + "if", reference=REFERENCE, answer=_choice(InfluenceAnswer)),
    _declare(Withdraw, _CASE + "mw", reference=REFERENCE, confirm=FLAG),
    _declare(CheckIn, _CASE + "ci", reference=REFERENCE, step=STEP_NUMBER, answer=_choice(CheckInAnswer)),
    _declare(Reoffer, _CASE + "ro", reference=REFERENCE, yes=FLAG),
    _declare(Survey, _CASE + "sv", reference=REFERENCE, answer=_choice(SurveyAnswer)),
    _declare(PauseCheckIns, _CASE + "mp", reference=REFERENCE),
    _declare(StopCheckIns, _CASE + "mx", reference=REFERENCE),
    _declare(ResumeCheckIns, _CASE + "mu", reference=REFERENCE),
    _declare(
        PulseAnswer,
        "pa",
        period=PULSE_PERIOD,
        safety=DIGIT,
        unreported=DIGIT,
        reasons=_number(2),
        reasons_done=FLAG,
        decision=DIGIT,
    ),
    _declare(PulseDecline, "pd", period=PULSE_PERIOD, mute=FLAG),
    _declare(AnswerDossier, _CASE + "da", reference=REFERENCE, answer=_choice(DossierConsent)),
    _declare(OwnCopy, _CASE + "oc", reference=REFERENCE),
    _declare(JointTimeline, _CASE + "lt", reference=REFERENCE),
    _declare(ToggleLink, _CASE + "ml", reference=REFERENCE),
    _declare(NotAlone, _CASE + "na", reference=REFERENCE, answer=_choice(NotAloneAnswer)),
)
_BY_ACTION = {d.action: d for d in DECLARATIONS}
_BY_PREFIX = {d.prefix: d for d in DECLARATIONS}
if len(_BY_ACTION) != len(DECLARATIONS) or len(_BY_PREFIX) != len(DECLARATIONS):
    raise ValueError("every action is declared once, each with its own prefix")


def encode(action: Action) -> str:
    declaration = _BY_ACTION.get(type(action))
    if declaration is None:
        raise TypeError(f"no callback encoding for {action!r}")
    data = declaration.prefix + "".join(f":{codec.write(getattr(action, name))}" for name, codec in declaration.fields)
    if decode(data) != action:  # a value its codec cannot carry (a forbidden character, say)
        raise ValueError(f"callback data {data!r} does not read back as {action!r}")
    return data


def decode(data: str | None) -> Action | None:
    """The action behind callback data, or None when the data is not one we write."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    head, _, rest = data.partition(":")
    prefix = head + ":" + rest.partition(":")[0] if head + ":" == _CASE else head
    declaration = _BY_PREFIX.get(prefix)
    if declaration is None:
        return None
    found = declaration.regex.match(data)
    if found is None:
        return None
    try:
        values = {name: codec.read(found.group(name)) for name, codec in declaration.fields}
    except ValueError:
        return None
    action: Action = declaration.action(**values)
    return action
