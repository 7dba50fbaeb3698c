"""Case handling for counsellors and coordinators.

Every entry point takes the sender and a case reference from a command or a button,
asks :mod:`flows.access` whether this person may do this to that case now, and only
then reads or changes anything; a change is a transition of flows/lifecycle.py, applied
by storage in one transaction. A refusal looks the same whether the case does not exist,
belongs to someone else, or changed hands: "this button is not for you".

Counsellors: an inbox, a case view, acknowledge or take over, private notes, status,
hand over, recuse, message the reporter, ask the reporter's consent to involve the
coordinator, record actions towards the perpetrator. Coordinators: the register with
filters, a case view without identity unless the reporter consented, confirm the
registration, record actions and their outcomes, message the reporter.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import messages
from flows import lifecycle
from flows.access import Access, Grant, Permission, Relation
from flows.aftercare import AftercarePlan
from flows.clock import Clock
from flows.lifecycle import (
    OPEN,
    SETTABLE,
    ActionKind,
    ActionOutcome,
    Actor,
    Case,
    CaseStatus,
    Change,
    CounsellorState,
    Decision,
    FootageState,
    NewAction,
    Party,
    Refused,
    Thread,
    shows_name,
)
from flows.linking import Linking
from flows.model import Audience, Coordinator, Counsellor, Form, Language, Sender
from flows.outcome import (
    Acknowledge,
    AddDetail,
    AllReactions,
    AskConsent,
    Choice,
    Damages,
    Footage,
    HandOver,
    Inbox,
    JointTimeline,
    Keyboard,
    Label,
    OpenCase,
    Outcome,
    Police,
    RecordAction,
    Recuse,
    RegisterView,
    Reply,
    SendFiles,
    SetStatus,
    ShowNotes,
    StartMessage,
    StartNote,
    StopComposing,
    UpdateAction,
)
from flows.queries import CaseQuery, CoordinatorRegister, CounsellorInbox, ListedCase, Page, turned
from flows.routing import Router
from flows.views import NOTES_BUDGET, case_facts, forms_label, latest_actions, pages, track_lines
from storage import Storage

PAGE = 6
VIEW_EXCERPT = 1500
HISTORY = 6

# The register's filters as short codes (so they fit in a button's 64 bytes), in cycling order.
FILTERS: dict[str, tuple[str, ...]] = {
    "status": ("a", "o", "c", "w"),  # all, open, closed, withdrawn
    "form": ("a", *(f.value for f in Form)),
    "role": ("a", "s", "h"),  # all, staff, office holders
    "period": ("a", "w", "m", "q", "y"),  # all, 7, 30, 91, 365 days
}
_STATUS_FILTER = {
    "a": None,
    "o": OPEN,
    "c": frozenset({CaseStatus.CLOSED}),
    "w": frozenset({CaseStatus.WITHDRAWN}),
}
_ROLE_FILTER = {"a": None, "s": Audience.STAFF, "h": Audience.OFFICE_HOLDERS}
_PERIOD_DAYS = {"w": 7, "m": 30, "q": 91, "y": 365}
_REFUSALS = {
    "acknowledged_by_you": "toast.acknowledged_by_you",
    "registered_already": "toast.registered_already",
    "already_noted": "toast.already_noted",
    "already_registered": "toast.already_registered",
    "no_coordinator": "toast.no_coordinator",
}


class Casework:
    def __init__(
        self,
        storage: Storage,
        router: Router,
        access: Access,
        clock: Clock,
        zone: ZoneInfo,
        plan: AftercarePlan | None = None,
        employer_address: str | None = None,
        *,
        linking: Linking,
    ) -> None:
        # Where the employer files a police report ([organisation] address), not the employee's home.
        self._employer_address = employer_address
        self._linking = linking
        self._storage = storage
        self._router = router
        self._access = access
        self._clock = clock
        self._zone = zone
        self._plan = plan

    # -- helpers --------------------------------------------------------------------

    def _language(self, sender: Sender) -> Language:
        members = self._router.staff_member(sender.telegram_id)
        return members[0].language if members else Language.from_telegram(sender.language_code)

    def _denied(self, sender: Sender) -> Outcome:
        return Outcome(self._language(sender), toast=Label("toast.not_yours"))

    def _refused(self, grant: Grant, refusal: Refused, *, alert: bool = False) -> Outcome:
        key = _REFUSALS.get(refusal.reason, "toast.not_yours")
        return Outcome(grant.language, toast=Label(key), toast_alert=alert)

    @staticmethod
    def _actor(grant: Grant) -> Actor:
        assert grant.member is not None
        return Actor(grant.relation.value, grant.member.name, grant.index)

    async def _change(self, grant: Grant, decide: Callable[[Case], Decision]) -> Decision:
        _, decision = await self._storage.cases.change(grant.case.id, decide, self._clock.now())
        return decision

    def counsellor(self, sender: Sender) -> Counsellor | None:
        return self._router.counsellor(self._storage.people.index_of(sender.telegram_id))

    def coordinator(self, sender: Sender) -> Coordinator | None:
        return self._router.coordinator(self._storage.people.index_of(sender.telegram_id))

    # -- lists ----------------------------------------------------------------------

    async def inbox(self, sender: Sender, view: Inbox | None = None) -> Outcome:
        """A counsellor's cases: assigned to them or waiting for someone to pick up."""
        member = self.counsellor(sender)
        view = view or Inbox()
        if member is None or not _valid_page(view.page):
            return self._denied(sender)
        page = await self._storage.cases.listing(
            CaseQuery(
                CounsellorInbox(self._router.index(member)),
                PAGE,
                older_than=None if view.newer else view.anchor,
                newer_than=view.anchor if view.newer else None,
            )
        )

        def turn(anchor: str, newer: bool) -> Inbox:
            return Inbox(turned(view.page, newer), anchor, newer)

        linked = await self._storage.cases.linked_counts(
            [item.id for item in page.cases], CounsellorInbox(self._router.index(member))
        )
        return Outcome(member.language, replies=[self._list_reply("inbox", page, view.page, turn, linked)])

    async def register(self, sender: Sender, view: RegisterView) -> Outcome:
        """The coordinator's register: cases the reporters let in, filtered, a page at a time."""
        member = self.coordinator(sender)
        if member is None or not _valid_filters(view):
            return self._denied(sender)
        since = None if view.period == "a" else self._clock.now() - timedelta(days=_PERIOD_DAYS[view.period])
        page = await self._storage.cases.listing(
            CaseQuery(
                CoordinatorRegister(self._router.index(member)),
                PAGE,
                statuses=_STATUS_FILTER[view.status],
                form=None if view.form == "a" else Form(view.form),
                audience=_ROLE_FILTER[view.role],
                since=since,
                older_than=None if view.newer else view.anchor,
                newer_than=view.anchor if view.newer else None,
            )
        )

        def cycle(field: str) -> RegisterView:
            values = FILTERS[field]
            current = getattr(view, field)
            following = values[(values.index(current) + 1) % len(values)]
            return replace(view, **{field: following}, page=0, anchor=None, newer=False)

        def turn(anchor: str, newer: bool) -> RegisterView:
            return replace(view, page=turned(view.page, newer), anchor=anchor, newer=newer)

        filters = (
            (
                Choice("register.filter_status", cycle("status"), {"value": Label(f"register.status_{view.status}")}),
                Choice("register.filter_period", cycle("period"), {"value": Label(f"register.period_{view.period}")}),
            ),
            (
                Choice(
                    "register.filter_form",
                    cycle("form"),
                    {"value": Label("register.all") if view.form == "a" else Label(f"forms.{view.form}")},
                ),
            ),
            (Choice("register.filter_role", cycle("role"), {"value": Label(f"register.role_{view.role}")}),),
        )
        linked = await self._storage.cases.linked_counts(
            [item.id for item in page.cases], CoordinatorRegister(self._router.index(member))
        )
        reply = self._list_reply("register", page, view.page, turn, linked)
        return Outcome(member.language, replies=[Reply(reply.key, reply.params, filters + reply.keyboard)])

    def _list_reply(
        self,
        key: str,
        page: Page,
        number: int,
        turn: Callable[[str, bool], Inbox | RegisterView],
        linked: Mapping[str, int],
    ) -> Reply:
        lines = tuple(self._line(item, linked.get(item.id, 0)) for item in page.cases)
        rows: list[tuple[Choice, ...]] = [
            (Choice("list.open", OpenCase(item.reference), {"reference": item.reference}),)
            for item in page.cases
            if item.status is not CaseStatus.WITHDRAWN
        ]
        navigation = []
        if page.has_newer and page.cases:
            navigation.append(Choice("list.previous", turn(page.cases[0].reference, True)))
        if page.has_older and page.cases:
            navigation.append(Choice("list.next", turn(page.cases[-1].reference, False)))
        if navigation:
            rows.append(tuple(navigation))
        return Reply(f"{key}.page", {"lines": lines or (Label(f"{key}.empty"),), "page": number + 1}, tuple(rows))

    def _line(self, item: ListedCase, linked: int) -> Label:
        return Label(
            "list.line",
            {
                "linked": Label("list.linked", {"n": linked}) if linked else "",
                "unread": "● " if item.unread else "",
                "reference": item.reference,
                "status": Label(f"status.{item.status.value}"),
                "forms": forms_label(item.forms),
                "age": Label("age", {"days": max(0, (self._clock.now() - item.submitted_at).days)}),
            },
        )

    # -- the case view ----------------------------------------------------------------

    async def open(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._access.check(sender, Permission.VIEW, reference)
        if grant is None or not grant.is_staff:
            return self._denied(sender)
        now = self._clock.now()
        if grant.relation in (Relation.COUNSELLOR, Relation.ALERTED):
            await self._storage.cases.seen_by_counsellor(grant.case.id, grant.index, now)
        else:
            await self._storage.cases.seen_by_coordinator(grant.case.id, grant.index, now)
        await self._audit(grant, "viewed")
        return Outcome(grant.language, replies=[await self.case_view(grant)])

    async def _audit(self, grant: Grant, action: str, detail: str | None = None) -> None:
        """An audit entry for looking (views change nothing else)."""
        note = self._actor(grant).note(action, detail)
        await self._storage.audit.record_note(note, self._clock.now(), grant.case.reference)

    async def case_view(self, grant: Grant) -> Reply:
        case = grant.case
        party = Party.COORDINATOR if grant.relation is Relation.COORDINATOR else Party.COUNSELLOR
        reporter = await self._storage.people.get(case.person_id)
        if shows_name(case, party) and reporter is not None:
            who: Label = Label(
                "staff.reporter_named", {"name": reporter.display_name, "username": _at(reporter.username)}
            )
        elif party is Party.COUNSELLOR:
            who = Label("staff.reporter_pseudonym")
        else:
            who = Label("staff.reporter_anonymous")
        description = messages.shorten(case.description, VIEW_EXCERPT)
        thread = Thread.COUNSELLOR if party is Party.COUNSELLOR else Thread.COORDINATOR
        history = (await self._storage.casefile.messages(case.id, (Thread.CASE, thread)))[-HISTORY:]
        history_lines = tuple(
            Label(
                f"view.message_{message.author.value}",
                {
                    "when": message.created_at.astimezone(self._zone).strftime("%d-%m %H:%M"),
                    "text": _excerpt(message.body) or "📎",
                },
            )
            for message in history
        ) or (Label("view.no_messages"),)
        action_lines = latest_actions(await self._storage.casefile.actions(case.id)) + track_lines(case, self._zone)
        wellbeing: tuple[Label, ...] = ()
        if party is Party.COUNSELLOR:  # health information: the counsellor's alone, never the coordinators'
            answers = await self._storage.casefile.check_ins(case.id)
            if answers:
                lines = tuple(
                    Label(
                        "view.checkin",
                        {
                            "when": _local(a.answered_at, self._zone),
                            "answer": Label(f"checkin.answer_{a.answer.value}"),
                        },
                    )
                    for a in answers[-4:]
                )
                wellbeing = (Label("view.wellbeing", {"lines": lines}),)
        linked = await self._linked(grant, case)
        handler_names = ", ".join(
            m.name for index in sorted(case.handlers) if (m := self._router.counsellor(index)) is not None
        )
        return Reply(
            "view.staff",
            {
                "reference": case.reference,
                "status": Label(f"status.{case.status.value}"),
                "forms": forms_label(case.forms),
                "date": case.incident_date,
                "channel": Label(f"channel.{case.channel.value}"),
                "facts": case_facts(case, await self._storage.cases.perpetrator_details(case.id)),
                "role": Label(f"role.{case.role.value}"),
                "who": who,
                "wish": Label(f"wish.{case.wish.value}"),
                "register": Label(f"register.state_{case.register.value}"),
                "handler": handler_names or "—",
                "submitted": _local(case.submitted_at, self._zone),
                "description": description or Label("staff.description_none"),
                "attachments": case.attachment_count,
                "history": history_lines,
                "actions": action_lines,
                "wellbeing": wellbeing,
                "linked": Label("view.linked_one" if linked == 1 else "view.linked_many", {"n": linked})
                if linked
                else "",
            },
            self._case_buttons(case, grant.relation, linked),
            protect_content=True,
        )

    async def _linked(self, grant: Grant, case: Case) -> int:
        """How many other reports that name the same person this staff member may open."""
        return len(await self._linking.linked_set(replace(grant, case=case)))

    def _case_buttons(self, case: Case, relation: Relation, linked: int) -> Keyboard:
        ref = case.reference
        rows: list[tuple[Choice, ...]] = []
        if linked:
            rows.append((Choice("case.linked", JointTimeline(ref), {"n": linked}),))
        if relation is Relation.ALERTED:
            rows.append((Choice("case.take", Acknowledge(ref)),))
        elif relation is Relation.COUNSELLOR:
            if case.acknowledged_at is None and case.is_open:
                rows.append((Choice("staff.button.acknowledge", Acknowledge(ref)),))
            rows.append((Choice("case.message", StartMessage(ref)), Choice("case.note", StartNote(ref))))
            rows.append((Choice("case.notes", ShowNotes(ref)), Choice("case.status", SetStatus(ref))))
            rows.append((Choice("case.record_action", RecordAction(ref)), Choice("case.files", SendFiles(ref))))
            rows.append((Choice("case.police", Police(ref)),))
            rows.append((Choice("case.add_details", AddDetail(ref)),))
            if not case.in_register:
                rows.append((Choice("case.ask_consent", AskConsent(ref)),))
            if case.is_open:
                rows.append((Choice("case.hand_over", HandOver(ref)), Choice("case.recuse", Recuse(ref))))
        elif relation is Relation.COORDINATOR:
            if case.registered_at is None and case.is_open:
                rows.append((Choice("staff.button.register", Acknowledge(ref)),))
            rows.append((Choice("case.message", StartMessage(ref)), Choice("case.files", SendFiles(ref))))
            row = [Choice("case.record_action", RecordAction(ref))]
            if not case.has_counsellor_side:
                row.append(Choice("case.status", SetStatus(ref)))
            rows.append(tuple(row))
            rows.append((Choice("case.police", Police(ref)), Choice("case.damages", Damages(ref))))
            if case.footage is FootageState.DUE:
                rows.append((Choice("case.footage", Footage(ref)),))
            rows.append((Choice("case.add_details", AddDetail(ref)),))
        return tuple(rows)

    async def files(self, sender: Sender, reference: str) -> Outcome:
        """Send the report's files again to the staff member who asks (through the outbox, protected)."""
        grant = await self._access.check(sender, Permission.VIEW, reference)
        if grant is None or not grant.is_staff:
            return self._denied(sender)
        ids = grant.case.attachment_ids
        party = Party.COORDINATOR if grant.relation is Relation.COORDINATOR else Party.COUNSELLOR
        if ids:
            deliveries = [lifecycle.Delivery(grant.index, party, lifecycle.Notice.CASE_ATTACHMENT, a) for a in ids]
            await self._storage.outbox.enqueue(grant.case.id, deliveries, self._clock.now())
            await self._audit(grant, "viewed_files", str(len(ids)))
        return Outcome(grant.language, toast=Label("toast.files_coming" if ids else "toast.no_files", {"n": len(ids)}))

    # -- acknowledge, take, register -----------------------------------------------------

    async def acknowledge(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._access.check(sender, Permission.ACKNOWLEDGE, reference)
        if grant is None:
            late = await self._already_done(sender, reference)
            return late or self._denied(sender)
        actor, now = self._actor(grant), self._clock.now()
        if grant.relation is Relation.COORDINATOR:
            decision = await self._change(grant, lambda case: lifecycle.register(case, actor, now))
            if isinstance(decision, Refused):
                return replace(self._refused(grant, decision), clear_pressed_buttons=True)
            return Outcome(
                grant.language,
                replies=[Reply("staff.registered", {"reference": reference})],
                pressed_keyboard=self._case_buttons(
                    decision.after, Relation.COORDINATOR, await self._linked(grant, decision.after)
                ),
            )
        decision = await self._change(grant, lambda case: lifecycle.acknowledge(case, actor, now))
        if isinstance(decision, Refused):
            outcome = self._refused(grant, decision)
            if decision.reason == "not_yours":
                outcome.toast = Label("toast.acknowledged_by_colleague")
            outcome.clear_pressed_buttons = True
            return outcome
        took_over = decision.audit is not None and decision.audit.action == "took_over"
        already_acknowledged = decision.before.acknowledged_at is not None
        key = "staff.taken" if took_over and already_acknowledged else "staff.acknowledged"
        # The pressed message keeps working: it now offers what one does with an acknowledged case.
        return Outcome(
            grant.language,
            replies=[Reply(key, {"reference": reference})],
            pressed_keyboard=self._case_buttons(
                decision.after, Relation.COUNSELLOR, await self._linked(grant, decision.after)
            ),
        )

    async def _already_done(self, sender: Sender, reference: str) -> Outcome | None:
        """A kinder word than 'not yours' for a counsellor whose colleague was first."""
        case = await self._storage.cases.by_reference(reference) if len(reference) == 12 else None
        member = self.counsellor(sender)
        if case is None or member is None:
            return None
        state = case.counsellors.get(self._router.index(member))
        if state is CounsellorState.FORMER and case.acknowledged_at is not None:
            return Outcome(member.language, toast=Label("toast.acknowledged_by_colleague"), clear_pressed_buttons=True)
        return None

    # -- notes ----------------------------------------------------------------------

    async def start_note(self, sender: Sender, reference: str) -> Outcome:
        return await self._compose(sender, reference, Permission.NOTES, "note", None, "compose.note")

    async def notes(self, sender: Sender, reference: str, page: int = 0) -> Outcome:
        """A counsellor's private notes, newest page first; a page holds what fits in one message."""
        grant = await self._access.check(sender, Permission.NOTES, reference)
        if grant is None or not _valid_page(page):
            return self._denied(sender)
        notes = await self._storage.casefile.notes(grant.case.id)
        lines = [
            Label(
                "notes.line",
                {
                    "when": _local(n.created_at, self._zone),
                    "author": self._router.name(n.author_index, Party.COUNSELLOR),
                    "text": n.body,
                },
            )
            for n in notes
        ]
        paged = pages(grant.language.value, lines, NOTES_BUDGET)
        page = min(page, max(0, len(paged) - 1))
        await self._audit(grant, "viewed_notes", str(len(notes)))
        navigation = []
        if page + 1 < len(paged):
            navigation.append(Choice("notes.older", ShowNotes(reference, page + 1)))
        if page > 0:
            navigation.append(Choice("notes.newer", ShowNotes(reference, page - 1)))
        shown = paged[page] if paged else ()
        return Outcome(
            grant.language,
            replies=[
                Reply(
                    "notes.list",
                    {
                        "reference": reference,
                        "lines": shown or (Label("notes.none"),),
                        "shown": len(shown),
                        "total": len(notes),
                    },
                    (tuple(navigation),) if navigation else (),
                    protect_content=True,
                )
            ],
        )

    # -- status -----------------------------------------------------------------------

    async def status(self, sender: Sender, reference: str, value: str | None = None) -> Outcome:
        grant = await self._access.check(sender, Permission.STATUS, reference)
        if grant is None:
            return self._denied(sender)
        case = grant.case
        if not value:
            rows = tuple(
                (Choice(f"status.{s.value}", SetStatus(case.reference, s)),) for s in SETTABLE if s is not case.status
            )
            return Outcome(grant.language, replies=[Reply("status.ask", {"reference": case.reference}, rows)])
        if value not in {s.value for s in SETTABLE}:
            return self._denied(sender)
        status, actor, now = CaseStatus(value), self._actor(grant), self._clock.now()
        # The last word on a case: a closing message with the question whether it was enough, once.
        decision = await self._change(
            grant,
            lambda c: lifecycle.set_status(
                c, status, actor, now, ask_survey=self._plan is not None and not c.survey_asked
            ),
        )
        if isinstance(decision, Refused):
            return replace(self._refused(grant, decision), clear_pressed_buttons=True)
        return Outcome(
            grant.language,
            clear_pressed_buttons=True,
            edit_pressed=Reply("status.set", {"reference": case.reference, "status": Label(f"status.{value}")}),
        )

    # -- hand over and recuse -------------------------------------------------------

    def _candidates(self, case: Case, leaving: bytes) -> list[Counsellor]:
        """Who could take the case over: the group's counsellors, minus those barred from it or who
        stepped back from it, and the one leaving."""
        recused = case.with_state(CounsellorState.RECUSED)
        return [
            c
            for c in self._router.serving(case.audience, case.barred)
            if self._router.index(c) not in recused and self._router.index(c) != leaving
        ]

    async def hand_over(self, sender: Sender, reference: str, to: int | None = None) -> Outcome:
        grant = await self._access.check(sender, Permission.HAND_OVER, reference)
        if grant is None:
            return self._denied(sender)
        candidates = self._candidates(grant.case, grant.index)
        if to is None:
            if not candidates:
                return Outcome(grant.language, replies=[Reply("handover.nobody", {"reference": reference})])
            rows = tuple(
                (Choice("handover.to", HandOver(reference, c.position), {"name": c.name}),) for c in candidates
            )
            return Outcome(grant.language, replies=[Reply("handover.ask", {"reference": reference}, rows)])
        chosen = next((c for c in candidates if c.position == to), None)
        if chosen is None:
            return self._denied(sender)
        actor, now = self._actor(grant), self._clock.now()
        target = self._router.index(chosen)
        decision = await self._change(grant, lambda case: lifecycle.hand_over(case, actor, target, now, chosen.name))
        if isinstance(decision, Refused):
            return self._refused(grant, decision)
        return Outcome(
            grant.language, edit_pressed=Reply("handover.done", {"reference": reference, "name": chosen.name})
        )

    async def recuse(self, sender: Sender, reference: str, confirm: bool = False) -> Outcome:
        grant = await self._access.check(sender, Permission.RECUSE, reference)
        if grant is None:
            return self._denied(sender)
        if not confirm:
            return Outcome(
                grant.language,
                replies=[
                    Reply("recuse.ask", {"reference": reference}, ((Choice("recuse.yes", Recuse(reference, True)),),))
                ],
            )
        candidates = self._candidates(grant.case, grant.index)
        chosen: Counsellor | None = None
        if candidates:
            load = await self._storage.cases.open_load([self._router.index(c) for c in candidates])
            chosen = self._router.least_loaded(candidates, load)
        actor, now, coordinators = self._actor(grant), self._clock.now(), self._router.coordinator_indexes()
        target = None if chosen is None else self._router.index(chosen)
        decision = await self._change(grant, lambda case: lifecycle.recuse(case, actor, target, coordinators, now))
        if isinstance(decision, Refused):
            return self._refused(grant, decision)
        if chosen is None:
            # Nobody left who serves this group: the coordinators are told a case waits (no content).
            return Outcome(grant.language, edit_pressed=Reply("recuse.nobody", {"reference": reference}))
        return Outcome(grant.language, edit_pressed=Reply("recuse.done", {"reference": reference, "name": chosen.name}))

    # -- messages to the reporter, consent, actions ------------------------------------------

    async def start_message(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._access.check(sender, Permission.MESSAGE, reference)
        if grant is None:
            return self._denied(sender)
        thread = Thread.COORDINATOR if grant.relation is Relation.COORDINATOR else Thread.COUNSELLOR
        return await self._compose(
            sender, reference, Permission.MESSAGE, "message", thread.value, "compose.message", grant
        )

    async def _compose(
        self,
        sender: Sender,
        reference: str,
        permission: Permission,
        purpose: str,
        detail: str | None,
        prompt: str,
        grant: Grant | None = None,
    ) -> Outcome:
        grant = grant or await self._access.check(sender, permission, reference)
        if grant is None:
            return self._denied(sender)
        await self._storage.composing.start(grant.index, grant.case.id, purpose, detail, self._clock.now())
        return Outcome(
            grant.language,
            replies=[Reply(prompt, {"reference": reference}, ((Choice("compose.stop", StopComposing()),),))],
        )

    async def ask_consent(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._access.check(sender, Permission.ASK_CONSENT, reference)
        if grant is None:
            return self._denied(sender)
        actor, now, coordinators = self._actor(grant), self._clock.now(), self._router.coordinator_indexes()
        decision = await self._change(grant, lambda case: lifecycle.ask_consent(case, actor, coordinators, now))
        if isinstance(decision, Refused):
            return self._refused(grant, decision, alert=decision.reason == "no_coordinator")
        return Outcome(grant.language, replies=[Reply("consent.asked", {"reference": reference})])

    async def record_action(
        self, sender: Sender, reference: str, kind: str | None = None, outcome: str | None = None
    ) -> Outcome:
        """Choose a reaction (those that fit the incident first), then how it stands; then an optional
        note. "No reaction" asks for the reason first: it is recorded only with one."""
        grant = await self._access.check(sender, Permission.RECORD_ACTION, reference)
        if grant is None:
            return self._denied(sender)
        if not kind:
            suggested, _ = lifecycle.reaction_menu(grant.case.forms)
            rows = (
                *((Choice(f"action.{k.value}", RecordAction(reference, k)),) for k in suggested),
                (Choice("action.more", AllReactions(reference)),),
                (Choice("action.nothing", RecordAction(reference, ActionKind.NOTHING)),),
            )
            return Outcome(grant.language, replies=[Reply("action.ask_kind", {"reference": reference}, rows)])
        if kind == ActionKind.NOTHING.value:
            await self._storage.composing.start(grant.index, grant.case.id, "no_reaction", None, self._clock.now())
            return Outcome(
                grant.language,
                edit_pressed=Reply(
                    "action.ask_reason", {"reference": reference}, ((Choice("compose.stop", StopComposing()),),)
                ),
            )
        if kind not in {k.value for k in ActionKind}:
            return self._denied(sender)
        chosen = ActionKind(kind)
        if not outcome:
            rows = tuple((Choice(f"outcome.{o.value}", RecordAction(reference, chosen, o)),) for o in ActionOutcome)
            params: dict[str, object] = {"reference": reference, "kind": Label(f"action.{kind}")}
            key = "action.ask_outcome"
            if chosen is ActionKind.POLICE_REPORT_EMPLOYER and self._employer_address:
                key, params["address"] = "action.ask_outcome_employer", self._employer_address
            return Outcome(grant.language, edit_pressed=Reply(key, params, rows))
        if outcome not in {o.value for o in ActionOutcome}:
            return self._denied(sender)
        new = NewAction(uuid.uuid4().hex, chosen, ActionOutcome(outcome), grant.index)
        actor, now, delay = self._actor(grant), self._clock.now(), self._feedback_delay
        decision = await self._change(grant, lambda case: lifecycle.record_action(case, actor, new, now, delay))
        if isinstance(decision, Refused):
            return self._refused(grant, decision)
        await self._storage.composing.start(grant.index, grant.case.id, "action_note", new.id, now)
        return Outcome(
            grant.language,
            edit_pressed=Reply(
                "action.recorded",
                {"reference": reference, "kind": Label(f"action.{kind}"), "outcome": Label(f"outcome.{outcome}")},
            ),
            replies=[Reply("action.ask_note", {}, ((Choice("compose.skip", StopComposing()),),))],
        )

    async def all_reactions(self, sender: Sender, reference: str) -> Outcome:
        """The whole reaction menu, the suggested ones first, two to a row."""
        grant = await self._access.check(sender, Permission.RECORD_ACTION, reference)
        if grant is None:
            return self._denied(sender)
        suggested, rest = lifecycle.reaction_menu(grant.case.forms)
        choices = [Choice(f"action.{k.value}", RecordAction(reference, k)) for k in (*suggested, *rest)]
        rows = (
            *(tuple(choices[i : i + 2]) for i in range(0, len(choices), 2)),
            (Choice("action.nothing", RecordAction(reference, ActionKind.NOTHING)),),
        )
        return Outcome(grant.language, edit_pressed=Reply("action.ask_kind", {"reference": reference}, rows))

    @property
    def _feedback_delay(self) -> timedelta | None:
        """How long what came of an action waits for the personal note typed after it (None: no feedback)."""
        return None if self._plan is None else self._plan.feedback_delay

    async def update_action(self, sender: Sender, reference: str, action: str, outcome: str | None = None) -> Outcome:
        """Change the outcome of an action recorded earlier (``action``: the first 8 characters of its id)."""
        grant = await self._access.check(sender, Permission.RECORD_ACTION, reference)
        if grant is None:
            return self._denied(sender)
        actions = [a for a in await self._storage.casefile.actions(grant.case.id) if a.id.startswith(action)]
        if len(action) != 8 or len(actions) != 1:
            return self._denied(sender)
        recorded = actions[0]
        if not outcome:
            rows = tuple(
                (Choice(f"outcome.{o.value}", UpdateAction(reference, action, o)),)
                for o in ActionOutcome
                if o is not recorded.outcome
            )
            return Outcome(
                grant.language,
                replies=[
                    Reply(
                        "action.ask_outcome",
                        {"reference": reference, "kind": Label(f"action.{recorded.kind.value}")},
                        rows,
                    )
                ],
            )
        if outcome not in {o.value for o in ActionOutcome}:
            return self._denied(sender)
        update = lifecycle.ActionUpdate(recorded.id, ActionOutcome(outcome), None)
        actor, now, delay = self._actor(grant), self._clock.now(), self._feedback_delay
        decision = await self._change(
            grant, lambda case: lifecycle.update_action(case, actor, update, recorded.kind, now, delay)
        )
        if not isinstance(decision, Change):
            return self._refused(grant, decision)
        await self._storage.composing.start(grant.index, grant.case.id, "action_note", recorded.id, now)
        return Outcome(
            grant.language,
            edit_pressed=Reply(
                "action.recorded",
                {
                    "reference": reference,
                    "kind": Label(f"action.{recorded.kind.value}"),
                    "outcome": Label(f"outcome.{outcome}"),
                },
            ),
            replies=[Reply("action.ask_note", {}, ((Choice("compose.skip", StopComposing()),),))],
        )


def _valid_filters(view: RegisterView) -> bool:
    return all(getattr(view, name) in values for name, values in FILTERS.items()) and _valid_page(view.page)


def _valid_page(page: int) -> bool:
    return 0 <= page < 10_000


def _at(username: str | None) -> str:
    return f"@{username}" if username else "—"


def _excerpt(text: str, limit: int = 160) -> str:
    return messages.shorten(" ".join(text.split()), limit)


def _local(moment: datetime | date | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        return moment.astimezone(zone).strftime("%d-%m-%Y %H:%M")
    return moment.strftime("%d-%m-%Y")
