"""From a pressed button to the flow that handles it.

:func:`press` takes the action decoded from callback data (None when the data was not
one the bot writes) and calls the flow it names. It trusts nothing in the action
beyond naming an intent: every flow checks who is pressing against the database.
Kept free of Telegram objects so that tests can press tens of thousands of forged
buttons without a network.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import messages
from bot.delivery import Courier
from bot.scheduling import Timekeeper
from flows.aftercare import AftercareFlow
from flows.casework import Casework
from flows.intake import Intake
from flows.invites import Admission
from flows.model import Language, Sender
from flows.mycases import MyCaseFlow
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
    Outcome,
    RegisterView,
    Reply,
    ResumeDraft,
    StartReport,
    StopComposing,
)
from flows.relay import Relay
from flows.routing import Router
from storage import Storage

# Buttons only admitted reporters may press (in invite mode; in open mode everyone is admitted).
REPORTER_ACTIONS = (StartReport, Answer, ResumeDraft, CleanUp, MyCases, ChooseLanguage)


class RecentIds:
    """The last ``size`` ids seen, for cheap "did we already ..." checks."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, item: str) -> None:
        self._ids[item] = None
        self._ids.move_to_end(item)
        while len(self._ids) > self._size:
            self._ids.popitem(last=False)

    def __contains__(self, item: object) -> bool:
        return item in self._ids


@dataclass(slots=True)
class Services:
    storage: Storage
    intake: Intake
    casework: Casework
    mycases: MyCaseFlow
    relay: Relay
    admission: Admission
    aftercare: AftercareFlow
    courier: Courier | None
    timekeeper: Timekeeper | None
    clock: object
    router: Router
    # Presses already answered (Telegram takes one answer per press): the error handler skips them.
    answered: RecentIds = field(default_factory=lambda: RecentIds(1024))


async def press(svc: Services, sender: Sender, action: Action | None, bot_username: str) -> Outcome:
    if isinstance(action, REPORTER_ACTIONS) and not await svc.admission.admitted(sender):
        return Outcome(Language.from_telegram(sender.language_code), toast=messages.Label("toast.not_yours"))
    match action:
        case StartReport():
            return await svc.intake.start(sender)
        case Answer():
            return await svc.intake.press(sender, action)
        case ResumeDraft():
            return await svc.intake.resume(sender, action)
        case ChooseLanguage(language):
            return await _choose_language(svc, sender, language)
        case Acknowledge(reference):
            return await svc.casework.acknowledge(sender, reference)
        case CleanUp():
            return await svc.intake.clean_up(sender, action)
        case CaseCommand():
            return await _case_command(svc, sender, action)
        case Inbox(page):
            return _in_place(await svc.casework.inbox(sender, page))
        case RegisterView():
            return _in_place(await svc.casework.register(sender, action))
        case MyCases(page):
            return _in_place(await svc.mycases.list(sender, page))
        case Forget():
            return await svc.mycases.forget(sender, action)
        case CreateInvite():
            return await svc.admission.create_in_bot(sender, action, bot_username)
        case StopComposing():
            return await svc.relay.stop(sender)
    # Forged, mangled, or from a version of the bot that no longer exists.
    return Outcome(Language.from_telegram(sender.language_code), toast=messages.Label("toast.stale"))


def _in_place(outcome: Outcome) -> Outcome:
    """Paging and filters redraw the list in the message that was pressed."""
    if outcome.replies:
        outcome.edit_pressed = outcome.replies.pop()
    return outcome


async def _choose_language(svc: Services, sender: Sender, language: Language) -> Outcome:
    person = await svc.storage.people.ensure(
        telegram_id=sender.telegram_id,
        display_name=sender.display_name,
        username=sender.username,
        language=language.value,
        now=svc.clock.now(),
    )
    await svc.storage.people.choose_language(person.id, language.value, svc.clock.now())
    return Outcome(language, edit_pressed=Reply("language.set"))


async def _case_command(svc: Services, sender: Sender, command: CaseCommand) -> Outcome:
    """Buttons on a case. Staff verbs and reporter verbs (starting with "m") are distinct."""
    casework, mine, ref, arg = svc.casework, svc.mycases, command.reference, command.arg
    match command.verb:
        case "o":
            return await casework.open(sender, ref)
        case "fl":
            return await casework.files(sender, ref)
        case "nt":
            return await casework.start_note(sender, ref)
        case "nl":
            outcome = await casework.notes(sender, ref, arg)
            return _in_place(outcome) if arg else outcome
        case "st":
            return await casework.status(sender, ref, arg)
        case "ho":
            return await casework.hand_over(sender, ref, arg)
        case "rc":
            return await casework.recuse(sender, ref, arg)
        case "ms":
            return await casework.start_message(sender, ref)
        case "cs":
            return await casework.ask_consent(sender, ref)
        case "ac":
            return await casework.record_action(sender, ref, arg)
        case "au":
            return await casework.update_action(sender, ref, arg)
        case "mo":
            return await mine.open(sender, ref)
        case "ma":
            return await mine.start(sender, ref, "addition", "")
        case "mr":
            return await mine.start(sender, ref, "reply", arg)
        case "mc":
            return await mine.consent(sender, ref, arg)
        case "mn":
            return await mine.toggle_name(sender, ref)
        case "mw":
            return await mine.withdraw(sender, ref, arg)
        case "ci":
            return await svc.aftercare.answer(sender, ref, arg)
        case "ro":
            return await svc.aftercare.resume(sender, ref, yes=arg == "y")
        case "sv":
            return await svc.aftercare.survey(sender, ref, arg)
        case "mp":
            return await svc.aftercare.pause(sender, ref)
        case "mx":
            return await svc.aftercare.stop(sender, ref)
        case "mu":
            return await svc.aftercare.resume(sender, ref)
    return Outcome(Language.from_telegram(sender.language_code), toast=messages.Label("toast.stale"))
