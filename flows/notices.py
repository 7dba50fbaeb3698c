"""What each notification from the outbox says, composed at the moment it is sent.

The case is read (and decrypted) only then, so the outbox never holds readable
content. Whether a recipient sees the reporter's name is decided by
:func:`flows.routing.shows_name`, nowhere else; alerts to coordinators about cases
that are not theirs carry only the reference, group, category and age.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flows.access import Drop, Send, Verdict, delivery_verdict, in_register
from flows.aftercare import AftercareFlow, checkin_keyboard, practical_tips, reoffer_keyboard, survey_keyboard
from flows.clock import Clock
from flows.outcome import Acknowledge, CaseCommand, Choice, Label, Reply
from flows.routing import (
    ACTION_FEEDBACK,
    CASE_ADDITION,
    CASE_ATTACHMENT,
    CASE_ERASED,
    CASE_REPORT,
    CASE_REPORT_CONSENTED,
    CASE_REPORT_ESCALATED,
    CASE_REPORT_HANDED_OVER,
    CASE_TAKEN_OVER,
    CASE_TEXT,
    CASE_WAITING,
    CASE_WITHDRAWN,
    CHECK_IN,
    CHECKIN_ALERT,
    CONSENT_ANSWER,
    CONSENT_REQUEST,
    COORDINATOR,
    COORDINATOR_ALERT,
    COUNSELLOR,
    REGISTER_WITHDRAWN,
    RELAY,
    RELAY_FILE,
    REOFFER,
    REPORTER,
    REPORTER_ACKNOWLEDGED,
    REPORTER_ESCALATED,
    REPORTER_NEW_COUNSELLOR,
    REPORTER_REGISTERED,
    REPORTER_STATUS,
    SILENCE_REMINDER,
    SURVEY,
    TIPS,
    Router,
    description_parts,
    shows_name,
)
from storage import Storage
from storage.cases import AttachmentRecord, CaseRecord
from storage.outbox import Delivery, OutboxItem
from storage.people import PersonRecord

_BANNERS = {
    CASE_REPORT: None,
    CASE_REPORT_ESCALATED: "staff.banner_escalated",
    CASE_REPORT_HANDED_OVER: "staff.banner_handed_over",
    CASE_REPORT_CONSENTED: "staff.banner_consented",
}


class Gone(Exception):
    """What the item is about no longer exists; ``reason`` is a short code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FileNotice:
    """A file to send, with a caption."""

    attachment: AttachmentRecord
    caption: Reply


Notice = Reply | FileNotice


class Notices:
    def __init__(
        self, storage: Storage, router: Router, zone: ZoneInfo, clock: Clock, aftercare: AftercareFlow | None = None
    ) -> None:
        self._storage = storage
        self._router = router
        self._zone = zone
        self._clock = clock
        self._aftercare = aftercare

    async def authorise(self, item: OutboxItem) -> Verdict:
        """Whether the item may go out now, to this recipient, given the case as it is now."""
        if item.kind == CASE_ERASED:
            return Send()
        case = None if item.case_id is None else await self._storage.cases.get(item.case_id)
        if case is None:
            return Drop("case_gone")
        if item.kind == REPORTER_NEW_COUNSELLOR and await self._storage.outbox.superseded(item):
            return Drop("superseded")  # a later word on who handles the case follows
        states = await self._storage.cases.counsellors_of(case.id)
        return delivery_verdict(
            case,
            item.kind,
            item.recipient_role,
            counsellor_state=states.get(item.recipient_index),
            told_before=await self._storage.outbox.told_before(case.id, item.recipient_index),
            barred=item.recipient_role != REPORTER
            and item.recipient_index in await self._storage.cases.barred_from(case.id),
        )

    async def handlers_now(self, item: OutboxItem) -> list[Delivery]:
        """The same notification for whoever handles the case now (after a hand-over or a take-over)."""
        if item.case_id is None:
            return []
        states = await self._storage.cases.counsellors_of(item.case_id)
        return [
            Delivery(index, COUNSELLOR, item.kind, item.ref, dedupe=f"{item.id}:{n}")
            for n, index in enumerate(sorted(i for i, state in states.items() if state == "assigned"))
            if index != item.recipient_index
        ]

    async def compose(self, item: OutboxItem, language: str) -> Notice:
        """The one Telegram message an outbox item becomes (call :meth:`authorise` first)."""
        if item.kind == CASE_ERASED:
            return Reply("staff.case_erased", {"reference": item.ref or ""})
        case = None if item.case_id is None else await self._storage.cases.get(item.case_id)
        if case is None:
            raise Gone("case_gone")
        role = item.recipient_role
        if item.kind in _BANNERS:
            reporter = await self._storage.people.get(case.person_id)
            return self.staff_report(case, reporter, role, _BANNERS[item.kind])
        if item.kind == CASE_TEXT:
            reply = staff_text_part(case, int(item.ref or 0))
            if reply is None:
                raise Gone("text_part_gone")
            return reply
        if item.kind == CASE_ATTACHMENT:
            attachment = await self._storage.cases.attachment(case, item.ref or "")
            if attachment is None:
                raise Gone("attachment_gone")
            return FileNotice(attachment, attachment_caption(case, attachment))
        if item.kind in (RELAY, CASE_ADDITION):
            return await self._message(case, item, role)
        if item.kind == RELAY_FILE:
            return await self._message_file(case, item, role)
        if role == REPORTER:
            return await self._to_reporter(case, item)
        return await self._to_staff(case, item)

    def staff_report(self, case: CaseRecord, reporter: PersonRecord | None, role: str, banner: str | None) -> Reply:
        """The report as a counsellor or coordinator receives it, with its buttons."""
        if shows_name(case, role) and reporter is not None:
            who: Label = Label(
                "staff.reporter_named",
                {"name": reporter.display_name, "username": f"@{reporter.username}" if reporter.username else "—"},
            )
        elif role == COUNSELLOR:
            who = Label("staff.reporter_pseudonym")
        else:
            who = Label("staff.reporter_anonymous")
        parts = description_parts(case.description)
        description: Label | str
        if parts:
            description = Label("staff.description_follows", {"parts": len(parts)})
        else:
            description = case.description or Label("staff.description_none")
        if role == COUNSELLOR:
            first = Choice(
                "case.take" if banner == "staff.banner_escalated" else "staff.button.acknowledge",
                Acknowledge(case.reference),
            )
        else:
            first = Choice("staff.button.register", Acknowledge(case.reference))
        return Reply(
            "staff.report_counsellor" if role == COUNSELLOR else "staff.report_coordinator",
            {
                "banner": Label(banner) if banner else "",
                "reference": case.reference,
                "category": Label(f"category.{case.category}"),
                "date": case.incident_date,
                "channel": Label(f"channel.{case.channel}"),
                "role": Label(f"role.{case.role}"),
                "wish": Label(f"wish.{case.wish}"),
                "who": who,
                "description": description,
                "attachments": case.attachment_count,
                "submitted": _local(case.submitted_at, self._zone),
            },
            ((first,), (Choice("case.open", CaseCommand("o", case.reference)),)),
            protect_content=True,
        )

    async def _message(self, case: CaseRecord, item: OutboxItem, role: str) -> Reply:
        message = await self._storage.casefile.message(case, item.ref or "")
        if message is None:
            raise Gone("message_gone")
        # A message with a file comes in two: this text, then the file (its own outbox item).
        body = message.body or ("📎" if message.attachment_id else "")
        if role == REPORTER:
            sender_label = (
                Label("relay.from_coordinator")
                if message.author == COORDINATOR
                else Label("relay.from_counsellor", {"name": self._name(message.author_index, COUNSELLOR)})
            )
            return Reply(
                "relay.to_reporter",
                {"from": sender_label, "reference": case.reference, "text": body},
                ((Choice("relay.reply", CaseCommand("mr", case.reference, message.author)),),),
            )
        reporter = await self._storage.people.get(case.person_id)
        if shows_name(case, role) and reporter is not None:
            who: Label = Label("relay.reporter_named", {"name": reporter.display_name})
        else:
            who = Label("relay.reporter")
        key = "relay.addition_to_staff" if item.kind == CASE_ADDITION else "relay.to_staff"
        return Reply(
            key,
            {"who": who, "reference": case.reference, "text": body},
            (
                (
                    Choice("case.message", CaseCommand("ms", case.reference)),
                    Choice("case.open", CaseCommand("o", case.reference)),
                ),
            ),
            protect_content=True,
        )

    async def _message_file(self, case: CaseRecord, item: OutboxItem, role: str) -> FileNotice:
        message = await self._storage.casefile.message(case, item.ref or "")
        attachment = (
            None
            if message is None or message.attachment_id is None
            else await self._storage.cases.attachment(case, message.attachment_id)
        )
        if attachment is None:
            raise Gone("attachment_gone")
        return FileNotice(
            attachment, Reply("relay.file", {"reference": case.reference}, protect_content=role != REPORTER)
        )

    async def _handler_names(self, case: CaseRecord) -> str:
        states = await self._storage.cases.counsellors_of(case.id)
        return ", ".join(
            member.name
            for index, state in states.items()
            if state == "assigned" and (member := self._router.staff_by_index(index, COUNSELLOR)) is not None
        )

    def _name(self, index: bytes | None, role: str) -> str:
        member = None if index is None else self._router.staff_by_index(index, role)
        return member.name if member is not None else "—"

    async def _to_reporter(self, case: CaseRecord, item: OutboxItem) -> Reply:
        reference = {"reference": case.reference}
        if item.kind == REPORTER_ACKNOWLEDGED:
            return Reply("reporter.acknowledged", reference)
        if item.kind == REPORTER_REGISTERED:
            return Reply("reporter.registered", reference)
        if item.kind == REPORTER_ESCALATED:
            return Reply("reporter.escalated", reference)
        if item.kind == REPORTER_NEW_COUNSELLOR:
            names = await self._handler_names(case)
            if not names:
                return Reply("reporter.waiting_counsellor", reference)
            return Reply("reporter.new_counsellor", {**reference, "name": names})
        if item.kind == REPORTER_STATUS:
            return Reply("reporter.status", {**reference, "status": Label(f"status.{item.ref}")})
        if item.kind == CHECK_IN:
            step = int(item.ref or 0)
            plan = self._aftercare.plan if self._aftercare else None
            closing = plan is not None and step < len(plan.check_ins) and plan.check_ins[step].closing
            support = self._aftercare.support_lines(case) if self._aftercare else ()
            return Reply(
                "checkin.closing" if closing else "checkin.ask",
                {**reference, "date": self._submitted_on(case), "support": _support_block(support)},
                checkin_keyboard(case.reference, step),
            )
        if item.kind == TIPS:
            return Reply("tips.intro", {**reference, "tips": tuple(Label(key) for key in practical_tips(case))})
        if item.kind == REOFFER:
            return Reply("reoffer.ask", reference, reoffer_keyboard(case.reference))
        if item.kind == SURVEY:
            return Reply("survey.ask", reference, survey_keyboard(case.reference))
        if item.kind == ACTION_FEEDBACK:
            action = await self._storage.casefile.action(case, item.ref or "")
            if action is None:
                raise Gone("action_gone")
            note = Label("feedback.note", {"note": action.note}) if action.note else ""
            return Reply(
                "feedback.action",
                {
                    **reference,
                    "kind": Label(f"action.{action.kind}"),
                    "outcome": Label(f"outcome.{action.outcome}"),
                    "note": note,
                },
            )
        if item.kind == CONSENT_REQUEST:
            ref = case.reference
            return Reply(
                "consent.request",
                reference,
                (
                    (Choice("consent.named", CaseCommand("mc", ref, "named")),),
                    (Choice("consent.anonymous", CaseCommand("mc", ref, "anonymous")),),
                    (Choice("consent.no", CaseCommand("mc", ref, "no")),),
                ),
            )
        raise Gone(f"unknown_kind:{item.kind}")

    def _submitted_on(self, case: CaseRecord) -> date:
        """The local day the report was sent (a check-in only exists for a sent report)."""
        return (case.submitted_at or self._clock.now()).astimezone(self._zone).date()

    async def _to_staff(self, case: CaseRecord, item: OutboxItem) -> Reply:
        reference = {"reference": case.reference}
        if item.kind == CONSENT_ANSWER:
            return Reply(f"staff.consent_{item.ref}", reference)
        if item.kind == REGISTER_WITHDRAWN:
            return Reply("staff.register_withdrawn", reference)
        if item.kind == CASE_WITHDRAWN:
            return Reply("staff.case_withdrawn", reference)
        if item.kind == CASE_TAKEN_OVER:
            return Reply("staff.taken_over", {**reference, "name": await self._handler_names(case) or "—"})
        if item.kind == CHECKIN_ALERT:
            reporter = await self._storage.people.get(case.person_id)
            who = (
                Label("relay.reporter_named", {"name": reporter.display_name})
                if reporter is not None and shows_name(case, COUNSELLOR)
                else Label("relay.reporter")
            )
            return Reply(
                f"staff.checkin_{item.ref}",
                {**reference, "who": who},
                (
                    (
                        Choice("case.message", CaseCommand("ms", case.reference)),
                        Choice("case.open", CaseCommand("o", case.reference)),
                    ),
                ),
            )
        if item.kind == SILENCE_REMINDER:
            in_view = item.recipient_role == COUNSELLOR or in_register(case)
            return Reply(
                "staff.silence" if in_view else "staff.silence_metadata",
                {
                    **reference,
                    "days": int(item.ref or 0),
                    "audience": Label(f"audience.{case.audience}"),
                    "category": Label(f"category.{case.category}"),
                },
                ((Choice("case.open", CaseCommand("o", case.reference)),),) if in_view else (),
            )
        if item.kind in (COORDINATOR_ALERT, CASE_WAITING):
            return Reply(
                "staff.coordinator_alert" if item.kind == COORDINATOR_ALERT else "staff.case_waiting",
                {
                    **reference,
                    "audience": Label(f"audience.{case.audience}"),
                    "category": Label(f"category.{case.category}"),
                    "hours": int((self._clock.now() - case.submitted_at).total_seconds() // 3600)
                    if case.submitted_at
                    else 0,
                },
            )
        raise Gone(f"unknown_kind:{item.kind}")


def _support_block(lines: tuple[Label, ...]) -> Label | str:
    return Label("checkin.support", {"lines": lines}) if lines else ""


def staff_text_part(case: CaseRecord, number: int) -> Reply | None:
    parts = description_parts(case.description)
    if number >= len(parts):
        return None
    return Reply(
        "staff.description_part",
        {"reference": case.reference, "n": number + 1, "total": len(parts), "text": parts[number]},
        protect_content=True,
    )


def attachment_caption(case: CaseRecord, attachment: AttachmentRecord) -> Reply:
    return Reply(
        "staff.attachment",
        {"reference": case.reference, "n": attachment.seq, "total": max(case.attachment_count, attachment.seq)},
        protect_content=True,
    )


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(zone).strftime("%d-%m-%Y %H:%M")
