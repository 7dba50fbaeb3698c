"""Messages between a reporter and the staff on their case, carried by the bot.

When someone presses "message the reporter", "add information", "reply", "add a note" or
records an action, the next text (or file) they send is taken for that purpose: the
intent is kept in the database (``composing``), so a restart in between loses nothing.
Each message is re-authorised when it arrives, not only when the button was pressed: a
case that changed hands or was withdrawn in the meantime takes nothing more. Each purpose
has its own handler below.

The reporter sees "your counsellor" (with the counsellor's configured name) or "the
coordinator"; staff see the reporter under the case reference unless the reporter
shares their name (flows.lifecycle.shows_name).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import messages
from flows import lifecycle
from flows.access import Access, Grant, Permission, Relation
from flows.clock import Clock
from flows.intake import MAX_DETAIL
from flows.lifecycle import (
    REPORTER_ACTOR,
    ActionKind,
    ActionOutcome,
    Actor,
    Change,
    NewAction,
    NewAttachment,
    NewMessage,
    NewNote,
    Notice,
    Party,
    Refused,
    Thread,
)
from flows.linking import Linking
from flows.model import IncomingAttachment, Language, Sender
from flows.mycases import MyCaseFlow
from flows.outcome import AddDetail, Choice, Label, Outcome, Reply, StartMessage, StopComposing
from flows.perpetrator import IdentifierKind
from flows.routing import Router
from storage import Storage
from storage.composing import Composing

MAX_MESSAGE = 3500  # one Telegram message with the header around it (messages.length)
MAX_NOTE = 3500


@dataclass(frozen=True, slots=True)
class Typed:
    """What arrived for a purpose, already checked: the text, and the file if one came."""

    grant: Grant
    composing: Composing
    text: str
    attachment: NewAttachment | None


class Relay:
    def __init__(
        self, storage: Storage, router: Router, access: Access, mycases: MyCaseFlow, clock: Clock, linking: Linking
    ) -> None:
        self._storage = storage
        self._linking = linking
        self._router = router
        self._access = access
        self._mycases = mycases
        self._clock = clock
        # purpose -> (the permission that must still hold when the text arrives, whether a file may
        # come with it, the longest text, what to do with it)
        self._purposes: dict[str, tuple[Permission, bool, int, Callable[[Typed], Awaitable[Outcome]]]] = {
            "note": (Permission.NOTES, False, MAX_NOTE, self._note),
            "action_note": (Permission.RECORD_ACTION, False, MAX_NOTE, self._action_note),
            "no_reaction": (Permission.RECORD_ACTION, False, MAX_NOTE, self._no_reaction),
            "survey_comment": (Permission.AFTERCARE, False, MAX_NOTE, self._survey_comment),
            "message": (Permission.MESSAGE, True, MAX_MESSAGE, self._staff_message),
            "addition": (Permission.ADD_INFO, True, MAX_MESSAGE, self._addition),
            "reply": (Permission.REPLY, True, MAX_MESSAGE, self._reply),
            "perpetrator_detail": (Permission.PERPETRATOR_DETAILS, False, MAX_DETAIL, self._perpetrator_detail),
        }

    def add_purpose(
        self, purpose: str, permission: Permission, limit: int, handle: Callable[[Typed], Awaitable[Outcome]]
    ) -> None:
        """Another flow's purpose for typed text (no file): the next text is checked like any other
        (the permission must still hold when it arrives) and handed to ``handle``."""
        self._purposes[purpose] = (permission, False, limit, handle)

    async def current(self, sender: Sender) -> Composing | None:
        return await self._storage.composing.current(self._storage.people.index_of(sender.telegram_id))

    async def stop(self, sender: Sender) -> Outcome:
        index = self._storage.people.index_of(sender.telegram_id)
        composing = await self._storage.composing.current(index)
        if composing is None:
            # An old or replayed "stop" press: there is nothing to stop, and the message stays as it is.
            return Outcome(await self._language(sender, None), toast=Label("toast.stale"), clear_pressed_buttons=True)
        await self._storage.composing.stop(index)
        language = await self._language(sender, None)
        if composing.purpose == "action_note":
            # No personal note: the feedback to the reporter need not wait for one.
            await self._storage.outbox.hurry(composing.case_id, Notice.ACTION_FEEDBACK, self._clock.now())
            return Outcome(language, edit_pressed=Reply("compose.skipped"))
        if composing.purpose == "survey_comment":
            return Outcome(language, edit_pressed=Reply("survey.no_comment"))
        return Outcome(language, edit_pressed=Reply("compose.stopped"))

    async def _language(self, sender: Sender, grant: Grant | None) -> Language:
        if grant is not None:
            return grant.language
        members = self._router.staff_member(sender.telegram_id)
        if members:
            return members[0].language
        person = await self._storage.people.find(sender.telegram_id)
        return Language(person.language) if person else Language.from_telegram(sender.language_code)

    async def text(self, sender: Sender, text: str) -> Outcome | None:
        """Take ``text`` for what the sender is composing; None if they are not composing."""
        composing = await self.current(sender)
        if composing is None:
            return None
        return await self._take(sender, composing, text.strip(), None)

    async def attachment(self, sender: Sender, incoming: IncomingAttachment) -> Outcome | None:
        composing = await self.current(sender)
        if composing is None or composing.purpose not in self._purposes or not self._purposes[composing.purpose][1]:
            return None
        return await self._take(sender, composing, (incoming.caption or "").strip(), incoming)

    async def _take(
        self, sender: Sender, composing: Composing, text: str, incoming: IncomingAttachment | None
    ) -> Outcome:
        index = self._storage.people.index_of(sender.telegram_id)
        permission, _, limit, handle = self._purposes[composing.purpose]
        case = await self._storage.cases.get(composing.case_id)
        grant = None if case is None else await self._access.check_case(sender, permission, case)
        if grant is None:
            # The case changed hands, closed for this, or was withdrawn while they typed.
            await self._storage.composing.stop(index)
            return Outcome(await self._language(sender, None), replies=[Reply("compose.no_longer")])
        if (size := messages.length(text)) > limit:
            return Outcome(grant.language, replies=[Reply("compose.too_long", {"length": size, "max": limit})])
        if not text and incoming is None:
            return Outcome(grant.language, replies=[Reply("compose.empty")])
        await self._storage.composing.stop(index)
        attachment = (
            None
            if incoming is None
            else NewAttachment(
                uuid.uuid4().hex,
                incoming.kind,
                incoming.content,
                incoming.file_name,
                incoming.mime_type,
                incoming.duration,
                added_later=True,
            )
        )
        return await handle(Typed(grant, composing, text, attachment))

    def _actor(self, grant: Grant) -> Actor:
        if grant.member is None:
            return REPORTER_ACTOR
        return Actor(grant.relation.value, grant.member.name, grant.index)

    # -- perpetrator details added later --------------------------------------------------

    async def detail(self, sender: Sender, action: AddDetail) -> Outcome:
        """Without a kind: which kind to add; with one: the next text is that detail."""
        grant = await self._access.check(sender, Permission.PERPETRATOR_DETAILS, action.reference)
        if grant is None:
            return Outcome(await self._language(sender, None), toast=Label("toast.not_yours"))
        reference = grant.case.reference
        if action.kind is None:
            choices = [Choice(f"perpetrator.kind.{k.value}", AddDetail(reference, k)) for k in IdentifierKind]
            rows = tuple(tuple(choices[i : i + 2]) for i in range(0, len(choices), 2))
            return Outcome(grant.language, replies=[Reply("details.later", {"reference": reference}, rows)])
        await self._storage.composing.start(
            grant.index, grant.case.id, "perpetrator_detail", action.kind.value, self._clock.now()
        )
        return Outcome(
            grant.language,
            edit_pressed=Reply(
                "compose.detail",
                {"reference": reference, "kind": Label(f"perpetrator.kind.{action.kind.value}"), "max": MAX_DETAIL},
                ((Choice("compose.stop", StopComposing()),),),
            ),
        )

    async def _perpetrator_detail(self, typed: Typed) -> Outcome:
        grant = typed.grant
        kind = IdentifierKind(typed.composing.detail or IdentifierKind.DESCRIPTION.value)
        added_by = {None: Party.REPORTER, Relation.COORDINATOR: Party.COORDINATOR}.get(
            None if grant.member is None else grant.relation, Party.COUNSELLOR
        )
        new = lifecycle.NewPerpetratorDetail(uuid.uuid4().hex, kind, typed.text, added_by)
        _, decision = await self._storage.cases.change(
            grant.case.id,
            lambda case: lifecycle.add_perpetrator_detail(case, self._actor(grant), new),
            self._clock.now(),
        )
        if isinstance(decision, Refused):
            return Outcome(grant.language, replies=[Reply("compose.no_longer")])
        await self._linking.match_may_appear(grant.case.id)
        reference = grant.case.reference
        return Outcome(
            grant.language,
            replies=[
                Reply(
                    "details.saved",
                    {"reference": reference, "kind": Label(f"perpetrator.kind.{kind.value}")},
                    ((Choice("details.another", AddDetail(reference)),),),
                )
            ],
        )

    # -- what each purpose does --------------------------------------------------------------

    async def _note(self, typed: Typed) -> Outcome:
        grant = typed.grant
        note = NewNote(uuid.uuid4().hex, grant.index, typed.text)
        await self._storage.cases.change(
            grant.case.id, lambda case: lifecycle.note(case, self._actor(grant), note), self._clock.now()
        )
        return Outcome(grant.language, replies=[Reply("note.saved", {"reference": grant.case.reference})])

    async def _action_note(self, typed: Typed) -> Outcome:
        grant, now = typed.grant, self._clock.now()
        update = lifecycle.ActionUpdate(typed.composing.detail or "", None, typed.text)
        await self._storage.cases.change(
            grant.case.id, lambda case: lifecycle.note_on_action(case, self._actor(grant), update), now
        )
        # The feedback waited for this note: it goes now, with the note in it.
        await self._storage.outbox.hurry(grant.case.id, Notice.ACTION_FEEDBACK, now)
        return Outcome(grant.language, replies=[Reply("action.note_saved", {"reference": grant.case.reference})])

    async def _no_reaction(self, typed: Typed) -> Outcome:
        """ "No reaction, because ...": recorded only now, with the reason typed (it stops the clock
        for a reaction like any other reaction). The reporter hears it at once, the reason in it."""
        grant, now = typed.grant, self._clock.now()
        new = NewAction(uuid.uuid4().hex, ActionKind.NOTHING, ActionOutcome.COMPLETED, grant.index, typed.text)
        _, decision = await self._storage.cases.change(
            grant.case.id,
            lambda case: lifecycle.record_action(case, self._actor(grant), new, now, timedelta(0)),
            now,
        )
        key = "action.no_reaction_recorded" if isinstance(decision, Change) else "compose.no_longer"
        return Outcome(grant.language, replies=[Reply(key, {"reference": grant.case.reference})])

    async def _survey_comment(self, typed: Typed) -> Outcome:
        await self._storage.casefile.comment_survey(typed.grant.case.id, typed.text, self._clock.now())
        return Outcome(typed.grant.language, replies=[Reply("survey.comment_saved")])

    async def _staff_message(self, typed: Typed) -> Outcome:
        """Staff write to the reporter (who sees "your counsellor (name)" or "the coordinator")."""
        grant = typed.grant
        thread = Thread.COORDINATOR if typed.composing.detail == Thread.COORDINATOR else Thread.COUNSELLOR
        author = Party.COORDINATOR if thread is Thread.COORDINATOR else Party.COUNSELLOR
        reporter = [(grant.case.reporter, Party.REPORTER)] if grant.case.reporter is not None else []
        await self._send(typed, thread, author, grant.index, reporter, "messaged_reporter")
        reference = grant.case.reference
        return Outcome(
            grant.language,
            replies=[
                Reply(
                    "message.sent", {"reference": reference}, ((Choice("message.another", StartMessage(reference)),),)
                )
            ],
        )

    async def _addition(self, typed: Typed) -> Outcome:
        """The reporter adds information to the case: whoever handles it hears."""
        staff = self._mycases.staff_on(typed.grant.case)
        decision = await self._send(typed, Thread.CASE, Party.REPORTER, None, staff, "added_information")
        told = not isinstance(decision, Refused) and bool(decision.deliveries)
        return Outcome(
            typed.grant.language,
            replies=[Reply("addition.sent" if told else "addition.kept", {"reference": typed.grant.case.reference})],
        )

    async def _reply(self, typed: Typed) -> Outcome:
        """The reporter writes to their counsellor, or to the coordinator."""
        thread = Thread(typed.composing.detail or Thread.COUNSELLOR.value)
        staff = self._mycases.staff_on(
            typed.grant.case, counsellors=thread is Thread.COUNSELLOR, coordinators=thread is Thread.COORDINATOR
        )
        decision = await self._send(typed, thread, Party.REPORTER, None, staff, f"replied_{thread.value}")
        told = not isinstance(decision, Refused) and bool(decision.deliveries)
        return Outcome(
            typed.grant.language,
            replies=[Reply("reply.sent" if told else "reply.kept", {"reference": typed.grant.case.reference})],
        )

    async def _send(
        self,
        typed: Typed,
        thread: Thread,
        author: Party,
        author_index: bytes | None,
        recipients: list[tuple[bytes, Party]],
        action: str,
    ) -> lifecycle.Decision:
        grant, now = typed.grant, self._clock.now()
        new = NewMessage(
            uuid.uuid4().hex,
            thread,
            author,
            author_index,
            typed.text,
            None if typed.attachment is None else typed.attachment.id,
        )
        _, decision = await self._storage.cases.change(
            grant.case.id,
            lambda case: lifecycle.message(case, self._actor(grant), new, typed.attachment, recipients, action, now),
            now,
        )
        return decision
