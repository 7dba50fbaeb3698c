"""The case file (dossier) of a real case: who may have one drawn up, the reporter's word, and gathering it.

flows/dossier.py draws a :class:`~flows.dossier.Dossier`; this module builds one from the
database and decides who receives it:

- ``/dossier MB-XXXX-XXXX``: the counsellor who handles the case, or a coordinator for a case
  in the register (flows/access.py). The reporter is asked in the bot, for this one case
  file, whether their name and their messages with staff go in it. The answer makes the
  case file; without an answer within :data:`~flows.lifecycle.DOSSIER_ANSWER_WAIT` it is
  made without both. A reporter who was erased cannot be asked: made without.
- The reporter's own copy, from their case in /mycases: with their own name and their
  messages, never staff notes or check-in answers (proof that they reported).
- ``meldbot dossier`` (bot/cli.py): the name and messages only when the reporter's last word
  on a case file allowed them.

The PDF is drawn up when it is sent (:meth:`DossierFlow.document`, called by flows/notices.py
for an outbox item) and goes straight to Telegram: its bytes are never stored. Each one
drawn up is an audit entry with its SHA-256 (:func:`flows.lifecycle.dossier_made`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import messages
from flows import lifecycle
from flows.access import Access, Permission, Relation, relations
from flows.clock import Clock
from flows.lifecycle import (
    LIVE,
    REPORTER_ACTOR,
    ActionKind,
    ActionOutcome,
    Actor,
    Case,
    CaseStatus,
    DossierConsent,
    Party,
    Refused,
    Thread,
)
from flows.model import AttachmentKind, Language, Sender, in_order
from flows.outcome import AnswerDossier, Choice, Outcome, Reply
from flows.perpetrator import recorded_details
from flows.privacy import Organisation as Configured
from flows.routing import Router
from messages import Label
from storage import Storage
from storage.outbox import OutboxItem
from storage.schedule import DueItem

if TYPE_CHECKING:
    # flows/dossier.py draws the PDF with fpdf2, matplotlib's fonts, Pillow and harfbuzz: loading them
    # costs the bot half a second at every start (and some at every stop), so they are imported where
    # a case file is gathered or drawn, not here.
    from flows.dossier import CaseSection, Dossier, Organisation

KINDS = (lifecycle.TimerKind.DOSSIER_WAIT,)

# What a step towards the perpetrator is, on the timeline.
_TIMELINE_KIND = {  # flows.dossier.TimelineKind values
    ActionKind.POLICE_REPORT_VICTIM: "police",
    ActionKind.POLICE_REPORT_EMPLOYER: "police",
    ActionKind.DAMAGES_CLAIMED: "damages",
}
# Whose messages a staff member's case file may hold (with the reporter's word): the conversations they see.
_THREADS = {
    Party.COUNSELLOR: (Thread.CASE, Thread.COUNSELLOR),
    Party.COORDINATOR: (Thread.CASE, Thread.COORDINATOR),
}
ALL_THREADS = tuple(Thread)


@dataclass(frozen=True, slots=True)
class Inclusion:
    """What of one report goes into a case file beyond its facts, account, timeline and files."""

    name: bool  # the reporter's name (only with their word)
    threads: tuple[Thread, ...] = ()  # messages of these conversations (only with their word)


@dataclass(frozen=True, slots=True)
class DossierDocument:
    """A case file drawn up to be sent as a document: never stored."""

    content: bytes
    file_name: str
    caption: Reply

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class NoOrganisation(Exception):
    """No ``[organisation]`` is configured: a case file needs the address for correspondence."""


# -- gathering -------------------------------------------------------------------------


async def gather(
    storage: Storage,
    cases: Sequence[tuple[Case, Inclusion]],
    *,
    organisation: Organisation,
    language: Language,
    now: datetime,
    zone: ZoneInfo,
) -> Dossier:
    """A case file for one report, or for a set of reports, from the database (decrypted)."""
    from flows.dossier import Dossier

    sections = [await section(storage, case, inclusion, language) for case, inclusion in cases]
    return Dossier(organisation, language, now, tuple(sections), zone)


async def section(storage: Storage, case: Case, inclusion: Inclusion, language: Language) -> CaseSection:
    """One report: its facts, the reporter's account, its timeline and every file with its SHA-256."""
    from flows.dossier import Attachment, CaseSection, Facts, TimelineEntry, TimelineKind

    lang = language.value
    timeline = [TimelineEntry(case.submitted_at, TimelineKind.REPORT, messages.plain(lang, "dossier.event.report"))]
    if case.acknowledged_at is not None:
        timeline.append(
            TimelineEntry(
                case.acknowledged_at, TimelineKind.ACKNOWLEDGEMENT, messages.plain(lang, "dossier.event.acknowledged")
            )
        )
    if case.registered_at is not None:
        timeline.append(
            TimelineEntry(
                case.registered_at, TimelineKind.ACKNOWLEDGEMENT, messages.plain(lang, "dossier.event.registered")
            )
        )
    for action in await storage.casefile.actions(case.id):
        kind = TimelineKind(_TIMELINE_KIND.get(action.kind, TimelineKind.REACTION.value))
        what = messages.plain(lang, f"action.{action.kind.value}")
        outcome = messages.plain(lang, f"outcome.{action.outcome.value}")
        note = f"\n{action.note}" if action.note else ""
        if action.updated_at == action.recorded_at or action.outcome is ActionOutcome.IN_PROGRESS:
            timeline.append(TimelineEntry(action.recorded_at, kind, f"{what} ({outcome}){note}"))
        else:
            timeline.append(TimelineEntry(action.recorded_at, kind, what))
            timeline.append(TimelineEntry(action.updated_at, TimelineKind.OUTCOME, f"{what}: {outcome}{note}"))
    if case.closed_at is not None and case.status is CaseStatus.CLOSED:
        timeline.append(
            TimelineEntry(case.closed_at, TimelineKind.OUTCOME, messages.plain(lang, "dossier.event.closed"))
        )
    shared_files: set[str] = set()
    if inclusion.threads:
        for message in await storage.casefile.messages(case.id, inclusion.threads):
            author = messages.plain(lang, f"dossier.author.{message.author.value}")
            body = message.body or messages.plain(lang, "dossier.message_file")
            timeline.append(TimelineEntry(message.created_at, TimelineKind.MESSAGE, f"{author}: {body}"))
            if message.attachment_id is not None:
                shared_files.add(message.attachment_id)
    files = [f for f in await storage.casefile.files(case.id) if not f.added_later or f.id in shared_files]
    attachments = tuple(
        Attachment(
            kind=AttachmentKind(f.kind),
            file_name=f.file_name,
            size=f.size,
            # Of the decrypted bytes: what the server received, and what the police will be handed.
            sha256=hashlib.sha256(f.content).hexdigest(),
            received_at=f.received_at,
            content=f.content if f.kind == AttachmentKind.PHOTO.value else None,
        )
        for f in files
    )
    name = None
    if inclusion.name:
        person = await storage.people.get(case.person_id)
        name = person.display_name if person is not None else None
    facts = Facts(
        forms=in_order(case.forms),
        when=case.incident_date,
        channel=case.channel,
        role=case.role,
        perpetrator=tuple(await recorded_details(storage, case.id)),
    )
    return CaseSection(
        reference=case.reference,
        facts=facts,
        account=case.description,
        reporter_name=name,
        timeline=tuple(sorted(timeline, key=lambda entry: entry.moment)),
        attachments=attachments,
    )


# -- in the bot ------------------------------------------------------------------------


class DossierFlow:
    def __init__(
        self,
        storage: Storage,
        router: Router,
        access: Access,
        clock: Clock,
        zone: ZoneInfo,
        organisation: Configured | None,
        wait: timedelta = lifecycle.DOSSIER_ANSWER_WAIT,
    ) -> None:
        self._storage = storage
        self._router = router
        self._access = access
        self._clock = clock
        self._zone = zone
        self._organisation = organisation
        self._wait = wait

    @property
    def _hours(self) -> int:
        return int(self._wait.total_seconds() // 3600)

    def _staff_language(self, sender: Sender) -> Language:
        members = self._router.staff_member(sender.telegram_id)
        return members[0].language if members else Language.from_telegram(sender.language_code)

    async def request(self, sender: Sender, reference: str) -> Outcome:
        """``/dossier MB-XXXX-XXXX``: staff ask for the case file; the reporter is asked first."""
        grant = await self._access.check(sender, Permission.DOSSIER, reference, prefer=Relation.COUNSELLOR)
        if grant is None or not grant.is_staff or grant.member is None:
            return Outcome(self._staff_language(sender), replies=[await self._why_not(sender, reference)])
        if self._organisation is None:
            return Outcome(grant.language, replies=[Reply("dossier.no_organisation")])
        party = Party.COORDINATOR if grant.relation is Relation.COORDINATOR else Party.COUNSELLOR
        actor = Actor(grant.relation.value, grant.member.name, grant.index)
        now = self._clock.now()
        _, decision = await self._storage.cases.change(
            grant.case.id, lambda case: lifecycle.request_dossier(case, actor, party, now, self._wait), now
        )
        params = {"reference": grant.case.reference}
        if isinstance(decision, Refused):
            key = "dossier.waiting" if decision.reason == "dossier_waiting" else "dossier.withdrawn"
            return Outcome(grant.language, replies=[Reply(key, params)])
        if decision.after.dossier_asked_at is None:  # nobody to ask: it is made at once
            return Outcome(grant.language, replies=[Reply("dossier.coming_unnamed", params)])
        return Outcome(grant.language, replies=[Reply("dossier.asked", {**params, "hours": self._hours})])

    async def _why_not(self, sender: Sender, reference: str) -> Reply:
        """A withdrawn case is named as such to staff who had it; anything else gets the one answer
        that tells nothing about whether the reference exists."""
        case = await self._storage.cases.by_reference(reference)
        if case is not None and case.status not in LIVE:
            index = self._storage.people.index_of(sender.telegram_id)
            if set(relations(case, index, self._router)) - {Relation.OWNER}:
                return Reply("dossier.withdrawn", {"reference": case.reference})
        return Reply("dossier.not_found")

    async def answer(self, sender: Sender, reference: str, answer: DossierConsent) -> Outcome:
        """The reporter's word on the case file: it is drawn up now, for the staff member who asked."""
        grant = await self._access.check(sender, Permission.CONSENT, reference, prefer=Relation.OWNER)
        if grant is None or grant.relation is not Relation.OWNER:
            language = Language.from_telegram(sender.language_code)
            return Outcome(language, toast=Label("toast.not_yours"))
        _, decision = await self._storage.cases.change(
            grant.case.id, lambda case: lifecycle.answer_dossier(case, answer), self._clock.now()
        )
        if isinstance(decision, Refused):
            return Outcome(grant.language, toast=Label("dossier.answer_late"), clear_pressed_buttons=True)
        return Outcome(
            grant.language,
            edit_pressed=Reply(f"dossier.answered_{answer.value}", {"reference": grant.case.reference}),
        )

    async def own_copy(self, sender: Sender, reference: str) -> Outcome:
        """The reporter's own copy, with their name: it comes as a document."""
        grant = await self._access.check(sender, Permission.OWN_COPY, reference, prefer=Relation.OWNER)
        if grant is None or grant.relation is not Relation.OWNER:
            return Outcome(Language.from_telegram(sender.language_code), toast=Label("toast.not_yours"))
        if self._organisation is None:
            return Outcome(grant.language, toast=Label("dossier.copy_unavailable"), toast_alert=True)
        _, decision = await self._storage.cases.change(grant.case.id, lifecycle.own_copy, self._clock.now())
        if isinstance(decision, Refused):
            return Outcome(grant.language, toast=Label("toast.not_yours"))
        return Outcome(grant.language, toast=Label("dossier.copy_coming"))

    async def run(self, item: DueItem) -> bool:
        """The reporter did not answer in time: the case file goes out without name and messages."""
        if item.case_id is None:
            return False
        _, decision = await self._storage.cases.change(
            item.case_id, lambda case: lifecycle.dossier_unanswered(case, item.id), self._clock.now()
        )
        return not isinstance(decision, Refused)

    # -- at the moment of sending -------------------------------------------------------

    def question(self, case: Case, asked_by: str) -> Reply:
        """The reporter is asked whether their name and their messages go in the case file."""
        ref = case.reference
        return Reply(
            "dossier.question",
            {"reference": ref, "who": Label(f"dossier.asked_by_{asked_by}"), "hours": self._hours},
            tuple((Choice(f"dossier.answer_{answer.value}", AnswerDossier(ref, answer)),) for answer in DossierConsent),
        )

    async def document(self, case: Case, item: OutboxItem, language: str) -> DossierDocument:
        """Draw up the case file an outbox item stands for, and note it in the audit trail.

        Raises :class:`NoOrganisation` when no address for correspondence is configured.
        """
        if self._organisation is None:
            raise NoOrganisation()
        from flows.dossier import Organisation, render_dossier

        letterhead = Organisation(self._organisation.name, self._organisation.address)
        if item.kind is lifecycle.Notice.DOSSIER_COPY:
            inclusion = Inclusion(name=True, threads=ALL_THREADS)
            actor = REPORTER_ACTOR
        else:
            consent = DossierConsent(item.ref or DossierConsent.NEITHER.value)
            party = item.recipient_role
            threads = _THREADS.get(party, ()) if consent.with_messages else ()
            inclusion = Inclusion(name=consent.with_name, threads=threads)
            actor = Actor(party.value, self._router.name(item.recipient_index, party), item.recipient_index)
        reader = Language(language)
        now = self._clock.now()
        dossier = await gather(
            self._storage,
            [(case, inclusion)],
            organisation=letterhead,
            language=reader,
            now=now,
            zone=self._zone,
        )
        made = DossierDocument(
            # Drawing takes a second or more with photos: the bot keeps answering meanwhile.
            content=await asyncio.to_thread(render_dossier, dossier),
            file_name=f"dossier-{case.reference}.pdf",
            caption=Reply(
                "dossier.caption_copy" if actor is REPORTER_ACTOR else "dossier.caption",
                {
                    "reference": case.reference,
                    "name": Label("dossier.caption_named" if inclusion.name else "dossier.caption_unnamed"),
                },
                # Staff may not pass it on; the reporter's own proof is theirs to hand to whoever they like.
                protect_content=actor is not REPORTER_ACTOR,
            ),
        )
        await self.note_made(case, actor, inclusion, made.sha256, now)
        return made

    async def note_made(self, case: Case, actor: Actor, inclusion: Inclusion, sha256: str, now: datetime) -> None:
        await self._storage.cases.change(case.id, _noting(inclusion, actor, sha256), now)


def _noting(inclusion: Inclusion, actor: Actor, sha256: str) -> Callable[[Case], lifecycle.Decision]:
    """The transition that puts a case file drawn up in the case's audit trail."""

    def decide(case: Case) -> lifecycle.Decision:
        return lifecycle.dossier_made(
            case, actor, named=inclusion.name, with_messages=bool(inclusion.threads), sha256=sha256
        )

    return decide


# -- for the operator (meldbot dossier) -----------------------------------------------------


class DossierRefused(Exception):
    """No case file: ``reference`` does not exist (any more), or was withdrawn."""

    def __init__(self, reference: str, reason: str) -> None:
        super().__init__(f"{reference}: {reason}")
        self.reference = reference
        self.reason = reason


@dataclass(frozen=True, slots=True)
class OperatorDossier:
    pdf: bytes
    named: tuple[str, ...]  # the references whose reporter is named (their last word allowed it)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


OPERATOR = Actor("operator", "meldbot dossier")


async def operator_dossier(
    storage: Storage,
    references: Sequence[str],
    *,
    organisation: Organisation,
    language: Language,
    now: datetime,
    zone: ZoneInfo,
) -> OperatorDossier:
    """One case file of these reports for ``meldbot dossier``, noted in each case's audit trail.

    Nobody is asked here: a reporter's name and messages are in it only when their last word on
    a case file allowed them. Raises :class:`DossierRefused` for a reference that does not exist
    (wrong, or erased) or was withdrawn, before anything is drawn up.
    """
    chosen: list[tuple[Case, Inclusion]] = []
    for reference in dict.fromkeys(r.strip().upper() for r in references):
        case = await storage.cases.by_reference(reference)
        if case is None:
            raise DossierRefused(reference, "no such report (a wrong reference, or erased)")
        if case.status not in LIVE:
            raise DossierRefused(reference, "withdrawn by the reporter")
        consent = case.dossier_consent
        chosen.append(
            (
                case,
                Inclusion(
                    name=consent is not None and consent.with_name,
                    threads=ALL_THREADS if consent is not None and consent.with_messages else (),
                ),
            )
        )
    from flows.dossier import render_dossier

    dossier = await gather(storage, chosen, organisation=organisation, language=language, now=now, zone=zone)
    made = OperatorDossier(
        render_dossier(dossier), tuple(case.reference for case, inclusion in chosen if inclusion.name)
    )
    for case, inclusion in chosen:
        await storage.cases.change(case.id, _noting(inclusion, OPERATOR, made.sha256), now)
    return made
