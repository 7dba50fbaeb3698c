"""What a flow hands back to the bot layer: replies to show and buttons to offer.

A flow never formats a Telegram message. It names message keys and parameters
(rendered and escaped by ``messages``) and typed actions behind buttons (encoded
into callback data by ``bot.callbacks``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from flows.model import Language, Step
from messages import Label


@dataclass(frozen=True, slots=True)
class Answer:
    """A reporter's answer to one step of the draft whose id starts with ``draft_tag``."""

    draft_tag: str
    step: Step
    value: str


@dataclass(frozen=True, slots=True)
class StartReport:
    pass


@dataclass(frozen=True, slots=True)
class ResumeDraft:
    """Continue (``keep=True``) or throw away the unfinished draft ``draft_tag``."""

    draft_tag: str
    keep: bool


@dataclass(frozen=True, slots=True)
class ChooseLanguage:
    language: Language


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """A counsellor confirms receipt, or a coordinator confirms registration, of a case."""

    reference: str


@dataclass(frozen=True, slots=True)
class CleanUp:
    """Remove the conversation of a submitted report from the reporter's chat."""

    reference: str


@dataclass(frozen=True, slots=True)
class CaseCommand:
    """A button on a case: ``verb`` names what to do (see flows.casework and flows.mycases)."""

    verb: str
    reference: str
    arg: str = ""


@dataclass(frozen=True, slots=True)
class Inbox:
    """A counsellor's list of cases, one page."""

    page: int = 0


@dataclass(frozen=True, slots=True)
class RegisterView:
    """The coordinator's register with its filters (short codes, see flows.casework.FILTERS)."""

    status: str = "a"
    category: str = "a"
    role: str = "a"
    period: str = "a"
    page: int = 0


@dataclass(frozen=True, slots=True)
class MyCases:
    page: int = 0


@dataclass(frozen=True, slots=True)
class Forget:
    confirm: bool


@dataclass(frozen=True, slots=True)
class CreateInvite:
    role: str
    department: str = ""


@dataclass(frozen=True, slots=True)
class StopComposing:
    pass


Action = (
    Answer
    | StartReport
    | ResumeDraft
    | ChooseLanguage
    | Acknowledge
    | CleanUp
    | CaseCommand
    | Inbox
    | RegisterView
    | MyCases
    | Forget
    | CreateInvite
    | StopComposing
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


ParamValue = str | int | date | Label | tuple[Label, ...]


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
