"""Typed callback data: what a button asks for, in at most 64 bytes.

Callback data comes back from the user's client and can be forged, so
:func:`decode` accepts only the exact shapes :func:`encode` writes and returns None
for anything else. Decoding names an intent; whether the presser may act on it is
decided afterwards by the flow, against the database.
"""

from __future__ import annotations

import re

from flows.model import Language, Step
from flows.outcome import (
    Acknowledge,
    Action,
    Answer,
    CaseCommand,
    ChooseLanguage,
    CleanUp,
    CreateInvite,
    Forget,
    Inbox,
    MyCases,
    RegisterView,
    ResumeDraft,
    StartReport,
    StopComposing,
)

MAX_BYTES = 64  # Telegram's limit for callback_data
_REFERENCE = r"MB-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}"
_PATTERNS = {
    "i": re.compile(r"^i:(?P<tag>[0-9a-f]{8}):(?P<step>[a-z_]{1,16}):(?P<value>[a-z0-9_]{1,32})$"),
    "d": re.compile(r"^d:(?P<tag>[0-9a-f]{8}):(?P<keep>[01])$"),
    "l": re.compile(r"^l:(?P<language>[a-z]{2})$"),
    "a": re.compile(rf"^a:(?P<reference>{_REFERENCE})$"),
    "x": re.compile(rf"^x:(?P<reference>{_REFERENCE})$"),
    "c": re.compile(rf"^c:(?P<verb>[a-z]{{1,3}}):(?P<reference>{_REFERENCE})(?::(?P<arg>[a-z0-9_.]{{1,40}}))?$"),
    "n": re.compile(r"^n:(?P<page>0|[1-9]\d{0,3})$"),
    "k": re.compile(r"^k:(?P<page>0|[1-9]\d{0,3})$"),
    "g": re.compile(
        r"^g:(?P<status>[a-z]):(?P<category>[a-z_]{1,20}):(?P<role>[a-z]):(?P<period>[a-z]):(?P<page>0|[1-9]\d{0,3})$"
    ),
    "f": re.compile(r"^f:(?P<confirm>[01])$"),
    "v": re.compile(r"^v:(?P<role>[a-z_]{1,16}):(?P<department>[\w .&/-]{0,30})$"),
}


def encode(action: Action) -> str:
    match action:
        case Answer(draft_tag, step, value):
            data = f"i:{draft_tag}:{step.value}:{value}"
        case ResumeDraft(draft_tag, keep):
            data = f"d:{draft_tag}:{int(keep)}"
        case StartReport():
            data = "r"
        case ChooseLanguage(language):
            data = f"l:{language.value}"
        case Acknowledge(reference):
            data = f"a:{reference}"
        case CleanUp(reference):
            data = f"x:{reference}"
        case CaseCommand(verb, reference, arg):
            data = f"c:{verb}:{reference}" + (f":{arg}" if arg else "")
        case Inbox(page):
            data = f"n:{page}"
        case MyCases(page):
            data = f"k:{page}"
        case RegisterView(status, category, role, period, page):
            data = f"g:{status}:{category}:{role}:{period}:{page}"
        case Forget(confirm):
            data = f"f:{int(confirm)}"
        case CreateInvite(role, department):
            data = f"v:{role}:{department}"
        case StopComposing():
            data = "s"
        case _:
            raise TypeError(f"no callback encoding for {action!r}")
    if len(data.encode()) > MAX_BYTES or decode(data) != action:
        raise ValueError(f"callback data {data!r} does not round-trip within {MAX_BYTES} bytes")
    return data


def decode(data: str | None) -> Action | None:
    """The action behind callback data, or None when the data is not one we wrote."""
    if not data or len(data) > MAX_BYTES:
        return None
    if data == "r":
        return StartReport()
    if data == "s":
        return StopComposing()
    pattern = _PATTERNS.get(data[0])
    match = pattern.match(data) if pattern else None
    if match is None:
        return None
    fields = match.groupdict()
    try:
        match data[0]:
            case "i":
                return Answer(fields["tag"], Step(fields["step"]), fields["value"])
            case "d":
                return ResumeDraft(fields["tag"], keep=fields["keep"] == "1")
            case "l":
                return ChooseLanguage(Language(fields["language"]))
            case "a":
                return Acknowledge(fields["reference"])
            case "x":
                return CleanUp(fields["reference"])
            case "c":
                return CaseCommand(fields["verb"], fields["reference"], fields["arg"] or "")
            case "n":
                return Inbox(int(fields["page"]))
            case "k":
                return MyCases(int(fields["page"]))
            case "g":
                return RegisterView(
                    fields["status"], fields["category"], fields["role"], fields["period"], int(fields["page"])
                )
            case "f":
                return Forget(fields["confirm"] == "1")
            case "v":
                return CreateInvite(fields["role"], fields["department"])
    except ValueError:  # a step or language that does not exist
        return None
    return None
