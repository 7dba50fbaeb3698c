"""Messages between a reporter and the staff on their case, carried by the bot.

When someone presses "message the reporter", "add information", "reply" or "add a
note", the next text (or file) they send is taken for that purpose: the intent is
kept in the database (``composing``), so a restart in between loses nothing. Each
message is re-authorised when it arrives, not only when the button was pressed: a
case that changed hands or was withdrawn in the meantime takes nothing more.

The reporter sees "your counsellor" (with the counsellor's configured name) or "the
coordinator"; staff see the reporter under the case reference unless the reporter
shares their name (see flows.routing.shows_name).
"""

from __future__ import annotations

import messages
from flows.access import Access, Grant, Permission, record
from flows.clock import Clock
from flows.model import IncomingAttachment, Language, Sender
from flows.mycases import MyCaseFlow
from flows.outcome import CaseCommand, Choice, Label, Outcome, Reply
from flows.routing import (
    ACTION_FEEDBACK,
    CASE_ADDITION,
    COORDINATOR,
    COUNSELLOR,
    RELAY,
    RELAY_FILE,
    REPORTER,
    Router,
)
from storage import Storage
from storage.composing import Composing
from storage.outbox import Delivery

MAX_MESSAGE = 3500  # one Telegram message with the header around it
MAX_NOTE = 3500

# purpose -> the permission that must still hold when the text arrives
_PERMISSIONS = {
    "survey_comment": Permission.AFTERCARE,
    "message": Permission.MESSAGE,
    "note": Permission.NOTES,
    "action_note": Permission.RECORD_ACTION,
    "addition": Permission.ADD_INFO,
    "reply": Permission.REPLY,
}


class Relay:
    def __init__(self, storage: Storage, router: Router, access: Access, mycases: MyCaseFlow, clock: Clock) -> None:
        self._storage = storage
        self._router = router
        self._access = access
        self._mycases = mycases
        self._clock = clock

    async def current(self, sender: Sender) -> Composing | None:
        return await self._storage.composing.current(self._storage.people.index_of(sender.telegram_id))

    async def stop(self, sender: Sender) -> Outcome:
        index = self._storage.people.index_of(sender.telegram_id)
        composing = await self._storage.composing.current(index)
        if composing is None:
            # An old or replayed "stop" press: there is nothing to stop, and the message stays as it is.
            return Outcome(await self._language(sender, None), toast=Label("toast.stale"), clear_pressed_buttons=True)
        await self._storage.composing.stop(index)
        if composing.purpose == "action_note":
            # No personal note: the feedback to the reporter need not wait for one.
            await self._storage.outbox.hurry(composing.case_id, ACTION_FEEDBACK, self._clock.now())
            return Outcome(await self._language(sender, None), edit_pressed=Reply("compose.skipped"))
        if composing.purpose == "survey_comment":
            return Outcome(await self._language(sender, None), edit_pressed=Reply("survey.no_comment"))
        return Outcome(await self._language(sender, None), edit_pressed=Reply("compose.stopped"))

    async def _language(self, sender: Sender, grant: Grant | None) -> Language:
        if grant is not None and grant.member is not None:
            return grant.member.language
        if grant is not None and grant.person is not None:
            return Language(grant.person.language)
        members = self._router.staff_member(sender.telegram_id)
        if members:
            return members[0].language
        person = await self._storage.people.find(sender.telegram_id)
        return Language(person.language) if person else Language.from_telegram(sender.language_code)

    async def _grant(self, sender: Sender, composing: Composing) -> Grant | None:
        case = await self._storage.cases.get(composing.case_id)
        if case is None:
            return None
        return await self._access.check_case(sender, _PERMISSIONS[composing.purpose], case)

    async def text(self, sender: Sender, text: str) -> Outcome | None:
        """Take ``text`` for what the sender is composing; None if they are not composing."""
        composing = await self.current(sender)
        if composing is None:
            return None
        return await self._take(sender, composing, text.strip(), None)

    async def attachment(self, sender: Sender, incoming: IncomingAttachment) -> Outcome | None:
        composing = await self.current(sender)
        if composing is None or composing.purpose not in ("message", "addition", "reply"):
            return None
        return await self._take(sender, composing, (incoming.caption or "").strip(), incoming)

    async def _take(
        self, sender: Sender, composing: Composing, text: str, incoming: IncomingAttachment | None
    ) -> Outcome:
        grant = await self._grant(sender, composing)
        index = self._storage.people.index_of(sender.telegram_id)
        if grant is None:
            # The case changed hands, closed for this, or was withdrawn while they typed.
            await self._storage.composing.stop(index)
            return Outcome(await self._language(sender, None), replies=[Reply("compose.no_longer")])
        language = await self._language(sender, grant)
        limit = MAX_NOTE if composing.purpose in ("note", "action_note", "survey_comment") else MAX_MESSAGE
        if messages.length(text) > limit:
            return Outcome(
                language, replies=[Reply("compose.too_long", {"length": messages.length(text), "max": limit})]
            )
        if not text and incoming is None:
            return Outcome(language, replies=[Reply("compose.empty")])
        now = self._clock.now()
        case = grant.case
        await self._storage.composing.stop(index)
        if composing.purpose == "note":
            await self._storage.casefile.add_note(case, grant.index, text, now)
            await self._audit(grant, "added_note")
            return Outcome(language, replies=[Reply("note.saved", {"reference": case.reference})])
        if composing.purpose == "action_note":
            await self._storage.casefile.update_action(
                case, composing.detail or "", outcome=None, note=text, deliveries=[], now=now
            )
            await self._storage.outbox.hurry(case.id, ACTION_FEEDBACK, now)
            await self._audit(grant, "action_note")
            return Outcome(language, replies=[Reply("action.note_saved", {"reference": case.reference})])
        if composing.purpose == "survey_comment":
            await self._storage.aftercare.comment_survey(case, text, now)
            return Outcome(language, replies=[Reply("survey.comment_saved")])
        attachment_id = None
        if incoming is not None:
            attachment_id = await self._storage.cases.add_attachment(
                case,
                kind=incoming.kind.value,
                content=incoming.content,
                file_name=incoming.file_name,
                mime_type=incoming.mime_type,
                duration=incoming.duration,
                now=now,
                added_later=True,
            )
        kinds = (RELAY, RELAY_FILE) if attachment_id else (RELAY,)
        if composing.purpose == "message":
            thread = COORDINATOR if grant.member is not None and composing.detail == COORDINATOR else COUNSELLOR
            deliveries = [
                Delivery(d.recipient_index, d.recipient_role, k) for d in await self._reporter(case) for k in kinds
            ]
            author = thread
            reply = Reply(
                "message.sent",
                {"reference": case.reference},
                ((Choice("message.another", CaseCommand("ms", case.reference)),),),
            )
            action = "messaged_reporter"
        elif composing.purpose == "addition":
            thread, author = "case", REPORTER
            additions = (CASE_ADDITION, RELAY_FILE) if attachment_id else (CASE_ADDITION,)
            deliveries = [Delivery(i, r, k) for i, r in await self._mycases.staff_on(case) for k in additions]
            reply = Reply("addition.sent" if deliveries else "addition.kept", {"reference": case.reference})
            action = "added_information"
        else:
            thread, author = composing.detail or COUNSELLOR, REPORTER
            staff = await self._mycases.staff_on(
                case, counsellors=thread == COUNSELLOR, coordinators=thread == COORDINATOR
            )
            deliveries = [Delivery(i, r, k) for i, r in staff for k in kinds]
            reply = Reply("reply.sent" if deliveries else "reply.kept", {"reference": case.reference})
            action = f"replied_{thread}"
        await self._storage.casefile.add_message(
            case,
            thread=thread,
            author=author,
            author_index=None if author == REPORTER else grant.index,
            body=text,
            attachment_id=attachment_id,
            deliveries=deliveries,
            now=now,
        )
        await self._audit(grant, action)
        return Outcome(language, replies=[reply])

    async def _reporter(self, case) -> list[Delivery]:
        index = await self._storage.people.index_of_person(case.person_id)
        return [] if index is None else [Delivery(index, REPORTER, RELAY)]

    async def _audit(self, grant: Grant, action: str) -> None:
        await record(self._storage, grant, action, self._clock.now())
