"""Case handling for counsellors and coordinators.

Every entry point takes the sender and a case reference from a command or a button,
asks :mod:`flows.access` whether this person may do this to that case now, and only
then reads or changes anything. A refusal looks the same whether the case does not
exist, belongs to someone else, or changed hands: "this button is not for you".

Counsellors: an inbox, a case view, acknowledge or take over, private notes, status,
hand over, recuse, message the reporter, ask the reporter's consent to involve the
coordinator, record actions towards the perpetrator. Coordinators: the register with
filters, a case view without identity unless the reporter consented, confirm the
registration, record actions and their outcomes, message the reporter.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import messages
from flows.access import OPEN, Access, Grant, Permission, Relation, has_counsellor_side, in_register, record
from flows.aftercare import AftercareFlow
from flows.clock import Clock
from flows.model import Audience, Counsellor, Language, Sender
from flows.outcome import (
    Acknowledge,
    CaseCommand,
    Choice,
    Inbox,
    Keyboard,
    Label,
    Outcome,
    RegisterView,
    Reply,
    StopComposing,
)
from flows.routing import (
    ACTION_FEEDBACK,
    CASE_ATTACHMENT,
    CASE_REPORT_HANDED_OVER,
    CASE_TAKEN_OVER,
    CASE_WAITING,
    CONSENT_REQUEST,
    COORDINATOR,
    COUNSELLOR,
    REPORTER,
    REPORTER_ACKNOWLEDGED,
    REPORTER_NEW_COUNSELLOR,
    REPORTER_REGISTERED,
    REPORTER_STATUS,
    Router,
    shows_name,
)
from flows.views import NOTES_BUDGET, latest_actions, pages
from storage import Storage
from storage.cases import CaseListing, CaseRecord
from storage.database import to_db
from storage.outbox import Delivery

PAGE = 6
STATUSES = ("new", "acknowledged", "in_progress", "closed")
ACTION_KINDS = (
    "conversation",
    "warning_letter",
    "access_ban",
    "service_suspended",
    "police_report_victim",
    "police_report_employer",
    "damages_claimed",
    "nothing",
)
OUTCOMES = ("in_progress", "completed", "unsuccessful")
VIEW_EXCERPT = 1500
HISTORY = 6

# The register's filters as short codes (so they fit in a button's 64 bytes), in cycling order.
FILTERS: dict[str, tuple[str, ...]] = {
    "status": ("a", "o", "c", "w"),  # all, open, closed, withdrawn
    "category": ("a", "verbal_aggression", "threat", "intimidation", "discrimination", "violence", "bribery", "other"),
    "role": ("a", "s", "h"),  # all, staff, office holders
    "period": ("a", "w", "m", "q", "y"),  # all, 7, 30, 91, 365 days
}
_PERIOD_DAYS = {"w": 7, "m": 30, "q": 91, "y": 365}


class Casework:
    def __init__(
        self,
        storage: Storage,
        router: Router,
        access: Access,
        clock: Clock,
        zone: ZoneInfo,
        aftercare: AftercareFlow | None = None,
    ) -> None:
        self._storage = storage
        self._router = router
        self._access = access
        self._clock = clock
        self._zone = zone
        self._aftercare = aftercare

    # -- helpers --------------------------------------------------------------------

    def _language(self, sender: Sender, grant: Grant | None = None) -> Language:
        if grant is not None and grant.member is not None:
            return grant.member.language
        members = self._router.staff_member(sender.telegram_id)
        return members[0].language if members else Language.from_telegram(sender.language_code)

    def _denied(self, sender: Sender) -> Outcome:
        return Outcome(self._language(sender), toast=Label("toast.not_yours"), clear_pressed_buttons=False)

    async def _audit(self, grant: Grant, action: str, detail: str | None = None) -> None:
        await record(self._storage, grant, action, self._clock.now(), detail)

    async def _to_reporter(self, case: CaseRecord, kind: str, ref: str | None = None) -> list[Delivery]:
        index = await self._storage.people.index_of_person(case.person_id)
        return [] if index is None else [Delivery(index, REPORTER, kind, ref)]

    def counsellor(self, sender: Sender) -> Counsellor | None:
        return self._router.staff_by_index(self._storage.people.index_of(sender.telegram_id), COUNSELLOR)

    def coordinator(self, sender: Sender):
        return self._router.staff_by_index(self._storage.people.index_of(sender.telegram_id), COORDINATOR)

    # -- lists ----------------------------------------------------------------------

    async def inbox(self, sender: Sender, page: int = 0) -> Outcome:
        """A counsellor's cases: assigned to them or waiting for someone to pick up."""
        member = self.counsellor(sender)
        if member is None:
            return self._denied(sender)
        index = self._router.index(member)
        listings, total = await self._storage.cases.listing(
            "c.status != 'draft' AND EXISTS (SELECT 1 FROM case_counsellors cc WHERE cc.case_id = c.id"
            " AND cc.staff_index = ? AND cc.state IN ('assigned', 'alerted'))",
            (index,),
            seen="SELECT seen_at FROM case_counsellors cc WHERE cc.case_id = c.id AND cc.staff_index = ?",
            seen_args=(index,),
            offset=page * PAGE,
            limit=PAGE,
        )
        return Outcome(
            member.language,
            replies=[self._list_reply("inbox", listings, total, page, lambda p: Inbox(p))],
        )

    async def register(self, sender: Sender, view: RegisterView) -> Outcome:
        """The coordinator's register: cases the reporters let in, filtered, a page at a time."""
        member = self.coordinator(sender)
        if member is None or not _valid_filters(view):
            return self._denied(sender)
        index = self._router.index(member)
        # Never their own reports, nor those the reporter kept them out of.
        where = [
            "c.status != 'draft'",
            "c.register IN ('anonymous', 'named')",
            "NOT EXISTS (SELECT 1 FROM case_exclusions x WHERE x.case_id = c.id AND x.staff_index = ?)",
            "NOT EXISTS (SELECT 1 FROM persons p WHERE p.id = c.person_id AND p.tg_index = ?)",
        ]
        args: list[object] = [index, index]
        where.append(
            {
                "a": "1 = 1",
                "o": "c.status IN ('new', 'acknowledged', 'in_progress')",
                "c": "c.status = 'closed'",
                "w": "c.status = 'withdrawn'",
            }[view.status]
        )
        if view.category != "a":
            where.append("c.category = ?")
            args.append(view.category)
        if view.role != "a":
            where.append("c.audience = ?")
            args.append("staff" if view.role == "s" else "office_holders")
        if view.period != "a":
            since = self._clock.now() - timedelta(days=_PERIOD_DAYS[view.period])
            where.append("c.submitted_at >= ?")
            args.append(to_db(since))
        listings, total = await self._storage.cases.listing(
            " AND ".join(where),
            args,
            seen="SELECT seen_at FROM coordinator_views v WHERE v.case_id = c.id AND v.staff_index = ?",
            seen_args=(index,),
            offset=view.page * PAGE,
            limit=PAGE,
        )

        def cycle(field: str) -> RegisterView:
            values = FILTERS[field]
            current = getattr(view, field)
            following = values[(values.index(current) + 1) % len(values)]
            return RegisterView(**{**_fields(view), field: following, "page": 0})

        filters = (
            (
                Choice("register.filter_status", cycle("status"), {"value": Label(f"register.status_{view.status}")}),
                Choice("register.filter_period", cycle("period"), {"value": Label(f"register.period_{view.period}")}),
            ),
            (
                Choice(
                    "register.filter_category",
                    cycle("category"),
                    {"value": Label("register.all") if view.category == "a" else Label(f"category.{view.category}")},
                ),
            ),
            (Choice("register.filter_role", cycle("role"), {"value": Label(f"register.role_{view.role}")}),),
        )
        reply = self._list_reply(
            "register", listings, total, view.page, lambda p: RegisterView(**{**_fields(view), "page": p})
        )
        return Outcome(member.language, replies=[Reply(reply.key, reply.params, filters + reply.keyboard)])

    def _list_reply(self, key: str, listings: list[CaseListing], total: int, page: int, paging) -> Reply:
        lines = tuple(
            Label(
                "list.line",
                {
                    "unread": "● " if item.unread else "",
                    "reference": item.reference,
                    "status": Label(f"status.{item.status}"),
                    "category": Label(f"category.{item.category}"),
                    "age": Label("age", {"days": self._age_days(item.submitted_at)}),
                },
            )
            for item in listings
        )
        rows: list[tuple[Choice, ...]] = [
            (Choice("list.open", CaseCommand("o", item.reference), {"reference": item.reference}),)
            for item in listings
            if item.status != "withdrawn"
        ]
        pages = max(1, -(-total // PAGE))
        navigation = []
        if page > 0:
            navigation.append(Choice("list.previous", paging(page - 1)))
        if page + 1 < pages:
            navigation.append(Choice("list.next", paging(page + 1)))
        if navigation:
            rows.append(tuple(navigation))
        return Reply(
            f"{key}.page",
            {"lines": lines or (Label(f"{key}.empty"),), "page": page + 1, "pages": pages, "total": total},
            tuple(rows),
        )

    def _age_days(self, moment: datetime | None) -> int:
        if moment is None:
            return 0
        return max(0, (self._clock.now() - moment).days)

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
        return Outcome(grant.member.language, replies=[await self.case_view(grant)])

    async def case_view(self, grant: Grant) -> Reply:
        case = grant.case
        role = COORDINATOR if grant.relation is Relation.COORDINATOR else COUNSELLOR
        reporter = await self._storage.people.get(case.person_id)
        if shows_name(case, role) and reporter is not None:
            who: Label = Label(
                "staff.reporter_named", {"name": reporter.display_name, "username": _at(reporter.username)}
            )
        elif role == COUNSELLOR:
            who = Label("staff.reporter_pseudonym")
        else:
            who = Label("staff.reporter_anonymous")
        description = messages.shorten(case.description or "", VIEW_EXCERPT)
        threads = ("case", "counsellor") if role == COUNSELLOR else ("case", "coordinator")
        history = (await self._storage.casefile.messages(case, threads))[-HISTORY:]
        history_lines = tuple(
            Label(
                f"view.message_{message.author}",
                {
                    "when": message.created_at.astimezone(self._zone).strftime("%d-%m %H:%M"),
                    "text": _excerpt(message.body) or "📎",
                },
            )
            for message in history
        ) or (Label("view.no_messages"),)
        actions = await self._storage.casefile.actions(case)
        action_lines = latest_actions(actions)
        wellbeing: tuple[Label, ...] = ()
        if role == COUNSELLOR:  # health information: the counsellor's alone, never the coordinators'
            answers = await self._storage.aftercare.answers(case)
            wellbeing = (
                (
                    Label(
                        "view.wellbeing",
                        {
                            "lines": tuple(
                                Label(
                                    "view.checkin",
                                    {
                                        "when": _local(a.answered_at, self._zone),
                                        "answer": Label(f"checkin.answer_{a.answer}"),
                                    },
                                )
                                for a in answers[-4:]
                            )
                        },
                    ),
                )
                if answers
                else ()
            )
        counsellors = await self._storage.cases.counsellors_of(case.id)
        handler_names = ", ".join(
            m.name
            for index, state in counsellors.items()
            if state == "assigned" and (m := self._router.staff_by_index(index, COUNSELLOR)) is not None
        )
        return Reply(
            "view.staff",
            {
                "reference": case.reference,
                "status": Label(f"status.{case.status}"),
                "category": Label(f"category.{case.category}"),
                "date": case.incident_date,
                "channel": Label(f"channel.{case.channel}"),
                "role": Label(f"role.{case.role}"),
                "who": who,
                "wish": Label(f"wish.{case.wish}"),
                "register": Label(f"register.state_{case.register}"),
                "handler": handler_names or "—",
                "submitted": _local(case.submitted_at, self._zone),
                "description": description or Label("staff.description_none"),
                "attachments": case.attachment_count,
                "history": history_lines,
                "actions": action_lines,
                "wellbeing": wellbeing,
            },
            self._case_buttons(grant),
            protect_content=True,
        )

    def _case_buttons(self, grant: Grant) -> Keyboard:
        case, ref = grant.case, grant.case.reference
        rows: list[tuple[Choice, ...]] = []
        if grant.relation is Relation.ALERTED:
            rows.append((Choice("case.take", Acknowledge(ref)),))
        elif grant.relation is Relation.COUNSELLOR:
            if case.acknowledged_at is None and case.status in OPEN:
                rows.append((Choice("staff.button.acknowledge", Acknowledge(ref)),))
            rows.append((Choice("case.message", CaseCommand("ms", ref)), Choice("case.note", CaseCommand("nt", ref))))
            rows.append((Choice("case.notes", CaseCommand("nl", ref)), Choice("case.status", CaseCommand("st", ref))))
            rows.append(
                (Choice("case.record_action", CaseCommand("ac", ref)), Choice("case.files", CaseCommand("fl", ref)))
            )
            second = [Choice("case.hand_over", CaseCommand("ho", ref)), Choice("case.recuse", CaseCommand("rc", ref))]
            if not in_register(case):
                rows.append((Choice("case.ask_consent", CaseCommand("cs", ref)),))
            if case.status in OPEN:
                rows.append(tuple(second))
        elif grant.relation is Relation.COORDINATOR:
            if case.registered_at is None and case.status in OPEN:
                rows.append((Choice("staff.button.register", Acknowledge(ref)),))
            rows.append((Choice("case.message", CaseCommand("ms", ref)), Choice("case.files", CaseCommand("fl", ref))))
            row = [Choice("case.record_action", CaseCommand("ac", ref))]
            if not has_counsellor_side(case):
                row.append(Choice("case.status", CaseCommand("st", ref)))
            rows.append(tuple(row))
        return tuple(rows)

    async def files(self, sender: Sender, reference: str) -> Outcome:
        """Send the report's files again to the staff member who asks (through the outbox, protected)."""
        grant = await self._access.check(sender, Permission.VIEW, reference)
        if grant is None or not grant.is_staff:
            return self._denied(sender)
        ids = await self._storage.cases.attachment_ids(grant.case.id)
        role = COORDINATOR if grant.relation is Relation.COORDINATOR else COUNSELLOR
        if ids:
            await self._storage.outbox.enqueue(
                grant.case.id, [Delivery(grant.index, role, CASE_ATTACHMENT, a) for a in ids], self._clock.now()
            )
            await self._audit(grant, "viewed_files", str(len(ids)))
        outcome = Outcome(grant.member.language)
        outcome.toast = Label("toast.files_coming" if ids else "toast.no_files", {"n": len(ids)})
        return outcome

    # -- acknowledge, take, register -----------------------------------------------------

    async def acknowledge(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._access.check(sender, Permission.ACKNOWLEDGE, reference)
        if grant is None:
            late = await self._already_done(sender, reference)
            return late or self._denied(sender)
        case, now = grant.case, self._clock.now()
        outcome = Outcome(grant.member.language, clear_pressed_buttons=True)
        if grant.relation is Relation.COORDINATOR:
            deliveries = await self._to_reporter(case, REPORTER_REGISTERED)
            if not await self._storage.cases.register(case, deliveries, now):
                outcome.toast = Label("toast.registered_already")
                return outcome
            await self._audit(grant, "registered")
            outcome.replies.append(Reply("staff.registered", {"reference": case.reference}))
            outcome.pressed_keyboard = self._case_buttons(grant)
            return outcome
        if case.acknowledged_at is not None:
            # Acknowledged already (by a colleague who then went quiet?): an alerted counsellor takes over.
            if grant.relation is Relation.ALERTED:
                deliveries = await self._to_reporter(case, REPORTER_NEW_COUNSELLOR)
                deliveries += await self._tell_taken_over(case, grant.index)
                await self._storage.cases.take(case, grant.index, deliveries, now)
                await self._audit(grant, "took_over")
                outcome.replies.append(Reply("staff.taken", {"reference": case.reference}))
                outcome.pressed_keyboard = self._case_buttons(replace(grant, relation=Relation.COUNSELLOR))
                return outcome
            outcome.toast = Label("toast.acknowledged_by_you")
            return outcome
        deliveries = await self._to_reporter(case, REPORTER_ACKNOWLEDGED)
        if grant.relation is Relation.ALERTED:
            deliveries += await self._tell_taken_over(case, grant.index)
        if not await self._storage.cases.acknowledge(case, grant.index, deliveries, now):
            outcome.toast = Label("toast.acknowledged_by_colleague")
            return outcome
        await self._storage.schedule.cancel(case.id, ("escalate_counsellors", "escalate_coordinators"))
        await self._audit(grant, "acknowledged" if grant.relation is Relation.COUNSELLOR else "took_over")
        outcome.replies.append(Reply("staff.acknowledged", {"reference": case.reference}))
        # The pressed message keeps working: it now offers what one does with an acknowledged case.
        outcome.pressed_keyboard = self._case_buttons(replace(grant, relation=Relation.COUNSELLOR))
        return outcome

    async def _tell_taken_over(self, case: CaseRecord, by: bytes) -> list[Delivery]:
        """The counsellor a colleague takes the case from hears it (sent once they are no longer on it)."""
        states = await self._storage.cases.counsellors_of(case.id)
        return [Delivery(i, COUNSELLOR, CASE_TAKEN_OVER) for i, s in states.items() if s == "assigned" and i != by]

    async def _already_done(self, sender: Sender, reference: str) -> Outcome | None:
        """A kinder word than 'not yours' for a counsellor whose colleague was first."""
        case = await self._storage.cases.by_reference(reference) if len(reference) == 12 else None
        member = self.counsellor(sender)
        if case is None or member is None:
            return None
        state = (await self._storage.cases.counsellors_of(case.id)).get(self._router.index(member))
        if state == "former" and case.acknowledged_at is not None:
            return Outcome(member.language, toast=Label("toast.acknowledged_by_colleague"), clear_pressed_buttons=True)
        return None

    # -- notes ----------------------------------------------------------------------

    async def start_note(self, sender: Sender, reference: str) -> Outcome:
        return await self._compose(sender, reference, Permission.NOTES, "note", None, "compose.note")

    async def notes(self, sender: Sender, reference: str, page_text: str = "") -> Outcome:
        """A counsellor's private notes, newest page first; a page holds what fits in one message."""
        grant = await self._access.check(sender, Permission.NOTES, reference)
        if grant is None or (page_text and not page_text.isdigit()):
            return self._denied(sender)
        language = grant.member.language
        notes = await self._storage.casefile.notes(grant.case)
        lines = [
            Label(
                "notes.line",
                {
                    "when": _local(n.created_at, self._zone),
                    "author": self._staff_name(n.author_index, COUNSELLOR),
                    "text": n.body,
                },
            )
            for n in notes
        ]
        paged = pages(language.value, lines, NOTES_BUDGET)
        page = min(int(page_text or 0), max(0, len(paged) - 1))
        await self._audit(grant, "viewed_notes", str(len(notes)))
        ref = grant.case.reference
        navigation = []
        if page + 1 < len(paged):
            navigation.append(Choice("notes.older", CaseCommand("nl", ref, str(page + 1))))
        if page > 0:
            navigation.append(Choice("notes.newer", CaseCommand("nl", ref, str(page - 1))))
        shown = paged[page] if paged else ()
        return Outcome(
            language,
            replies=[
                Reply(
                    "notes.list",
                    {
                        "reference": ref,
                        "lines": shown or (Label("notes.none"),),
                        "shown": len(shown),
                        "total": len(notes),
                    },
                    (tuple(navigation),) if navigation else (),
                    protect_content=True,
                )
            ],
        )

    def _staff_name(self, index: bytes, role: str) -> str:
        member = self._router.staff_by_index(index, role)
        return member.name if member is not None else "—"

    # -- status -----------------------------------------------------------------------

    async def status(self, sender: Sender, reference: str, value: str) -> Outcome:
        grant = await self._access.check(sender, Permission.STATUS, reference)
        if grant is None:
            return self._denied(sender)
        case = grant.case
        if not value:
            rows = tuple(
                (Choice(f"status.{s}", CaseCommand("st", case.reference, s)),) for s in STATUSES if s != case.status
            )
            return Outcome(grant.member.language, replies=[Reply("status.ask", {"reference": case.reference}, rows)])
        if value not in STATUSES:
            return self._denied(sender)
        outcome = Outcome(grant.member.language, clear_pressed_buttons=True)
        if value == case.status:
            outcome.toast = Label("toast.already_noted")
            return outcome
        if value == "closed" and self._aftercare is not None:
            # The last word on a case: a closing message with the question whether it was enough.
            deliveries = await self._aftercare.closing_deliveries(case)
            if not await self._storage.aftercare.ask_survey(case, [], self._clock.now()):
                deliveries = await self._to_reporter(case, REPORTER_STATUS, value)
        else:
            deliveries = await self._to_reporter(case, REPORTER_STATUS, value)
        await self._storage.cases.set_status(case, value, deliveries, self._clock.now())
        await self._storage.cases.news(case.id, self._clock.now())
        if value == "closed":
            await self._storage.schedule.cancel(case.id, ("escalate_counsellors", "escalate_coordinators"))
        await self._audit(grant, "status", value)
        outcome.edit_pressed = Reply("status.set", {"reference": case.reference, "status": Label(f"status.{value}")})
        return outcome

    # -- hand over and recuse -------------------------------------------------------

    async def _candidates(self, case: CaseRecord, exclude: set[bytes]) -> list[Counsellor]:
        """Who could take the case over: the group's counsellors, minus those barred from it."""
        audience = Audience(case.audience) if case.audience else Audience.STAFF
        barred = await self._storage.cases.barred_from(case.id)
        return [c for c in self._router.serving(audience, barred) if self._router.index(c) not in exclude]

    async def hand_over(self, sender: Sender, reference: str, target: str) -> Outcome:
        grant = await self._access.check(sender, Permission.HAND_OVER, reference)
        if grant is None:
            return self._denied(sender)
        case = grant.case
        history = await self._storage.cases.counsellors_of(case.id)
        recused = {index for index, state in history.items() if state == "recused"}
        candidates = await self._candidates(case, {grant.index} | recused)
        if not target:
            if not candidates:
                return Outcome(grant.member.language, replies=[Reply("handover.nobody", {"reference": case.reference})])
            rows = tuple(
                (Choice("handover.to", CaseCommand("ho", case.reference, str(c.position)), {"name": c.name}),)
                for c in candidates
            )
            return Outcome(grant.member.language, replies=[Reply("handover.ask", {"reference": case.reference}, rows)])
        chosen = next((c for c in candidates if str(c.position) == target), None)
        if chosen is None:
            return self._denied(sender)
        await self._move(grant, chosen, "former")
        await self._audit(grant, "handed_over", chosen.name)
        return Outcome(
            grant.member.language,
            edit_pressed=Reply("handover.done", {"reference": case.reference, "name": chosen.name}),
        )

    async def recuse(self, sender: Sender, reference: str, confirm: str) -> Outcome:
        grant = await self._access.check(sender, Permission.RECUSE, reference)
        if grant is None:
            return self._denied(sender)
        case = grant.case
        if confirm != "y":
            return Outcome(
                grant.member.language,
                replies=[
                    Reply(
                        "recuse.ask",
                        {"reference": case.reference},
                        ((Choice("recuse.yes", CaseCommand("rc", case.reference, "y")),),),
                    )
                ],
            )
        history = await self._storage.cases.counsellors_of(case.id)
        recused = {index for index, state in history.items() if state == "recused"}
        candidates = await self._candidates(case, {grant.index} | recused)
        now = self._clock.now()
        if candidates:
            load = await self._storage.cases.open_load([self._router.index(c) for c in candidates])
            chosen = min(candidates, key=lambda c: (load.get(self._router.index(c), 0), c.position))
            await self._move(grant, chosen, "recused")
            await self._audit(grant, "recused", "reassigned")
            reply = Reply("recuse.done", {"reference": case.reference, "name": chosen.name})
        else:
            # Nobody left who serves this group: the coordinators are told a case waits (no content).
            barred = await self._storage.cases.barred_from(case.id)
            deliveries = [
                Delivery(i, COORDINATOR, CASE_WAITING) for i, _ in self._router.coordinator_recipients(barred)
            ]
            deliveries += await self._to_reporter(case, REPORTER_NEW_COUNSELLOR)
            await self._storage.cases.step_back(case, grant.index, deliveries, now)
            await self._audit(grant, "recused", "waiting")
            reply = Reply("recuse.nobody", {"reference": case.reference})
        return Outcome(grant.member.language, edit_pressed=reply)

    async def _move(self, grant: Grant, to: Counsellor, leaving_state: str) -> None:
        case = grant.case
        to_index = self._router.index(to)
        attachment_ids = await self._storage.cases.attachment_ids(case.id)
        deliveries = self._router.report_deliveries(
            case, attachment_ids, [(to_index, COUNSELLOR)], CASE_REPORT_HANDED_OVER
        )
        deliveries += await self._to_reporter(case, REPORTER_NEW_COUNSELLOR)
        await self._storage.cases.hand_over(
            case, grant.index, to_index, deliveries, self._clock.now(), leaving_state=leaving_state
        )

    # -- messages to the reporter, consent, actions ------------------------------------------

    async def start_message(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._access.check(sender, Permission.MESSAGE, reference)
        if grant is None:
            return self._denied(sender)
        thread = COORDINATOR if grant.relation is Relation.COORDINATOR else COUNSELLOR
        return await self._compose(sender, reference, Permission.MESSAGE, "message", thread, "compose.message", grant)

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
            self._language(sender, grant),
            replies=[Reply(prompt, {"reference": grant.case.reference}, ((Choice("compose.stop", StopComposing()),),))],
        )

    async def ask_consent(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._access.check(sender, Permission.ASK_CONSENT, reference)
        if grant is None:
            return self._denied(sender)
        case = grant.case
        outcome = Outcome(grant.member.language, clear_pressed_buttons=False)
        if in_register(case):
            outcome.toast = Label("toast.already_registered")
            return outcome
        if not self._router.coordinators:
            outcome.toast = Label("toast.no_coordinator")
            outcome.toast_alert = True
            return outcome
        deliveries = await self._to_reporter(case, CONSENT_REQUEST)
        await self._storage.cases.ask_consent(case, deliveries, self._clock.now())
        await self._audit(grant, "asked_consent")
        outcome.replies.append(Reply("consent.asked", {"reference": case.reference}))
        return outcome

    async def record_action(self, sender: Sender, reference: str, kind: str) -> Outcome:
        """Choose a kind, then an outcome; then an optional note (a reason, for 'nothing')."""
        grant = await self._access.check(sender, Permission.RECORD_ACTION, reference)
        if grant is None:
            return self._denied(sender)
        case = grant.case
        if not kind:
            choices = [Choice(f"action.{k}", CaseCommand("ac", case.reference, k)) for k in ACTION_KINDS]
            rows = tuple(tuple(choices[i : i + 2]) for i in range(0, len(choices), 2))
            return Outcome(
                grant.member.language, replies=[Reply("action.ask_kind", {"reference": case.reference}, rows)]
            )
        kind, _, outcome_value = kind.partition(".")
        if kind not in ACTION_KINDS:
            return self._denied(sender)
        if not outcome_value:
            rows = tuple((Choice(f"outcome.{o}", CaseCommand("ac", case.reference, f"{kind}.{o}")),) for o in OUTCOMES)
            return Outcome(
                grant.member.language,
                edit_pressed=Reply(
                    "action.ask_outcome", {"reference": case.reference, "kind": Label(f"action.{kind}")}, rows
                ),
            )
        if outcome_value not in OUTCOMES:
            return self._denied(sender)
        action_id = await self._storage.casefile.record_action(
            case,
            kind=kind,
            outcome=outcome_value,
            recorded_by=grant.index,
            deliveries=await self._feedback(case),
            now=self._clock.now(),
        )
        await self._audit(grant, "recorded_action", f"{kind}/{outcome_value}")
        await self._storage.composing.start(grant.index, case.id, "action_note", action_id, self._clock.now())
        prompt = "action.ask_reason" if kind == "nothing" else "action.ask_note"
        return Outcome(
            grant.member.language,
            edit_pressed=Reply(
                "action.recorded",
                {
                    "reference": case.reference,
                    "kind": Label(f"action.{kind}"),
                    "outcome": Label(f"outcome.{outcome_value}"),
                },
            ),
            replies=[Reply(prompt, {}, ((Choice("compose.skip", StopComposing()),),))],
        )

    async def _feedback(self, case: CaseRecord) -> list[Delivery]:
        """What came of it, for the reporter: sent after a short wait for the personal note
        typed next (the text is composed when it goes out, so the note is in it)."""
        if self._aftercare is None:
            return []
        now = self._clock.now()
        await self._storage.cases.news(case.id, now)
        return [
            replace(d, not_before=now + self._aftercare.plan.feedback_delay)
            for d in await self._to_reporter(case, ACTION_FEEDBACK)
        ]

    async def update_action(self, sender: Sender, reference: str, arg: str) -> Outcome:
        """Change the outcome of an action recorded earlier (``arg``: action id prefix and outcome)."""
        grant = await self._access.check(sender, Permission.RECORD_ACTION, reference)
        if grant is None:
            return self._denied(sender)
        prefix, _, outcome_value = arg.partition(".")
        actions = [a for a in await self._storage.casefile.actions(grant.case) if a.id.startswith(prefix)]
        if len(prefix) != 8 or len(actions) != 1:
            return self._denied(sender)
        action = actions[0]
        if not outcome_value:
            rows = tuple(
                (Choice(f"outcome.{o}", CaseCommand("au", grant.case.reference, f"{prefix}.{o}")),)
                for o in OUTCOMES
                if o != action.outcome
            )
            return Outcome(
                grant.member.language,
                replies=[
                    Reply(
                        "action.ask_outcome",
                        {"reference": grant.case.reference, "kind": Label(f"action.{action.kind}")},
                        rows,
                    )
                ],
            )
        if outcome_value not in OUTCOMES:
            return self._denied(sender)
        await self._storage.casefile.update_action(
            grant.case,
            action.id,
            outcome=outcome_value,
            note=None,
            deliveries=await self._feedback(grant.case),
            now=self._clock.now(),
        )
        await self._audit(grant, "updated_action", f"{action.kind}/{outcome_value}")
        await self._storage.composing.start(grant.index, grant.case.id, "action_note", action.id, self._clock.now())
        return Outcome(
            grant.member.language,
            edit_pressed=Reply(
                "action.recorded",
                {
                    "reference": grant.case.reference,
                    "kind": Label(f"action.{action.kind}"),
                    "outcome": Label(f"outcome.{outcome_value}"),
                },
            ),
            replies=[Reply("action.ask_note", {}, ((Choice("compose.skip", StopComposing()),),))],
        )


def _fields(view: RegisterView) -> dict[str, object]:
    return {
        "status": view.status,
        "category": view.category,
        "role": view.role,
        "period": view.period,
        "page": view.page,
    }


def _valid_filters(view: RegisterView) -> bool:
    return all(getattr(view, name) in values for name, values in FILTERS.items()) and 0 <= view.page < 10_000


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
