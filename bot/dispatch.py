"""From a pressed button to the flow that handles it.

:func:`press` takes the action decoded from callback data (None when the data was not
one the bot writes) and calls the flow its type names, through :data:`HANDLERS`: one
line per action. It trusts nothing in the action beyond naming an intent: every flow
checks who is pressing against the database. Kept free of Telegram objects so that tests
can press tens of thousands of forged buttons without a network.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import messages
from bot.services import Services
from flows.model import Language, Sender
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
    Outcome,
    OwnCopy,
    PauseCheckIns,
    Police,
    PulseAnswer,
    PulseDecline,
    RecordAction,
    Recuse,
    RegisterView,
    Reoffer,
    Reply,
    ReplyTo,
    ResumeCheckIns,
    ResumeDraft,
    SendFiles,
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

# Buttons only admitted reporters may press (in invite mode; in open mode everyone is admitted).
REPORTER_ACTIONS = (StartReport, Answer, ResumeDraft, CleanUp, MyCases, ChooseLanguage)

Handler = Callable[[Services, Sender, Any], Awaitable[Outcome]]


def _in_place(outcome: Outcome) -> Outcome:
    """Paging and filters redraw the list in the message that was pressed."""
    if outcome.replies:
        outcome.edit_pressed = outcome.replies.pop()
    return outcome


async def _paged(outcome: Awaitable[Outcome]) -> Outcome:
    return _in_place(await outcome)


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


async def _notes(svc: Services, sender: Sender, a: ShowNotes) -> Outcome:
    outcome = await svc.casework.notes(sender, a.reference, a.page)
    return _in_place(outcome) if a.page else outcome


HANDLERS: dict[type[Any], Handler] = {
    StartReport: lambda svc, s, a: svc.intake.start(s),
    Answer: lambda svc, s, a: svc.intake.press(s, a),
    ResumeDraft: lambda svc, s, a: svc.intake.resume(s, a),
    CleanUp: lambda svc, s, a: svc.intake.clean_up(s, a),
    ChooseLanguage: lambda svc, s, a: _choose_language(svc, s, a.language),
    Forget: lambda svc, s, a: svc.mycases.forget(s, a),
    StopComposing: lambda svc, s, a: svc.relay.stop(s),
    Inbox: lambda svc, s, a: _paged(svc.casework.inbox(s, a)),
    RegisterView: lambda svc, s, a: _paged(svc.casework.register(s, a)),
    MyCases: lambda svc, s, a: _paged(svc.mycases.list(s, a)),
    Acknowledge: lambda svc, s, a: svc.casework.acknowledge(s, a.reference),
    OpenCase: lambda svc, s, a: svc.casework.open(s, a.reference),
    SendFiles: lambda svc, s, a: svc.casework.files(s, a.reference),
    StartNote: lambda svc, s, a: svc.casework.start_note(s, a.reference),
    ShowNotes: _notes,
    SetStatus: lambda svc, s, a: svc.casework.status(s, a.reference, a.status),
    HandOver: lambda svc, s, a: svc.casework.hand_over(s, a.reference, a.to),
    Recuse: lambda svc, s, a: svc.casework.recuse(s, a.reference, a.confirm),
    StartMessage: lambda svc, s, a: svc.casework.start_message(s, a.reference),
    AskConsent: lambda svc, s, a: svc.casework.ask_consent(s, a.reference),
    RecordAction: lambda svc, s, a: svc.casework.record_action(s, a.reference, a.kind, a.outcome),
    UpdateAction: lambda svc, s, a: svc.casework.update_action(s, a.reference, a.action, a.outcome),
    AllReactions: lambda svc, s, a: svc.casework.all_reactions(s, a.reference),
    Footage: lambda svc, s, a: svc.tracks.footage(s, a.reference, a.state),
    Police: lambda svc, s, a: svc.tracks.police(s, a.reference, a.step),
    Damages: lambda svc, s, a: svc.tracks.damages(s, a.reference),
    DamagesItem: lambda svc, s, a: svc.tracks.damages_item(s, a.reference, a.kind),
    DamagesClaim: lambda svc, s, a: svc.tracks.damages_claim(s, a.reference, a.claim),
    DamagesInsurance: lambda svc, s, a: svc.tracks.damages_insurance(s, a.reference),
    DamagesRecovered: lambda svc, s, a: svc.tracks.damages_recovered(s, a.reference),
    OpenMine: lambda svc, s, a: svc.mycases.open(s, a.reference),
    AddInfo: lambda svc, s, a: svc.mycases.start(s, a.reference, "addition", ""),
    AddDetail: lambda svc, s, a: svc.relay.detail(s, a),
    ReplyTo: lambda svc, s, a: svc.mycases.start(s, a.reference, "reply", a.thread.value),
    GiveConsent: lambda svc, s, a: svc.mycases.consent(s, a.reference, a.answer.value),
    ToggleName: lambda svc, s, a: svc.mycases.toggle_name(s, a.reference),
    Withdraw: lambda svc, s, a: svc.mycases.withdraw(s, a.reference, a.confirm),
    CheckIn: lambda svc, s, a: svc.aftercare.answer(s, a.reference, a.step, a.answer.value),
    Consequences: lambda svc, s, a: svc.aftercare.consequences(s, a),
    Influence: lambda svc, s, a: svc.aftercare.influence(s, a),
    Reoffer: lambda svc, s, a: svc.aftercare.resume(s, a.reference, yes=a.yes),
    Survey: lambda svc, s, a: svc.aftercare.survey(s, a.reference, a.answer.value),
    PauseCheckIns: lambda svc, s, a: svc.aftercare.pause(s, a.reference),
    StopCheckIns: lambda svc, s, a: svc.aftercare.stop(s, a.reference),
    ResumeCheckIns: lambda svc, s, a: svc.aftercare.resume(s, a.reference),
    PulseAnswer: lambda svc, s, a: svc.pulse.press(s, a),
    PulseDecline: lambda svc, s, a: svc.pulse.decline(s, a),
    AnswerDossier: lambda svc, s, a: svc.dossiers.answer(s, a.reference, a.answer),
    OwnCopy: lambda svc, s, a: svc.dossiers.own_copy(s, a.reference),
    StatsView: lambda svc, s, a: _paged(svc.steering.stats(s, a)),
    StatsCharts: lambda svc, s, a: svc.steering.stats_charts(s, a),
    JointTimeline: lambda svc, s, a: svc.linking.timeline(s, a.reference),
    ToggleLink: lambda svc, s, a: svc.mycases.toggle_link(s, a.reference),
    NotAlone: lambda svc, s, a: svc.linking.answer(s, a.reference, a.answer),
}


async def press(svc: Services, sender: Sender, action: Action | None, bot_username: str) -> Outcome:
    if isinstance(action, REPORTER_ACTIONS) and not await svc.admission.admitted(sender):
        return Outcome(Language.from_telegram(sender.language_code), toast=messages.Label("toast.not_yours"))
    if isinstance(action, CreateInvite):
        return await svc.admission.create_in_bot(sender, action, bot_username)
    if isinstance(action, CreateStaffInvite):
        return await svc.enrolment.create_in_bot(sender, action, bot_username)
    handler = None if action is None else HANDLERS.get(type(action))
    if handler is None:
        # Forged, mangled, or from a version of the bot that no longer exists.
        return Outcome(Language.from_telegram(sender.language_code), toast=messages.Label("toast.stale"))
    return await handler(svc, sender, action)
