"""What each notification from the outbox says, composed at the moment it is sent.

The case is read (and decrypted) only then, so the outbox never holds readable content.
Before that, :meth:`Notices.authorise` asks flows.lifecycle.delivery_verdict whether the
item may still go to this recipient, given the case as it is now. Whether a recipient
sees the reporter's name is flows.lifecycle.shows_name, nowhere else; alerts to
coordinators about cases that are not theirs carry only the reference, group, forms
and age.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flows.access import sees_statistics
from flows.aftercare import (
    AftercarePlan,
    checkin_keyboard,
    practical_tips,
    reoffer_keyboard,
    support_lines,
    survey_keyboard,
)
from flows.charts import trend_chart
from flows.clock import Clock
from flows.dossiers import DossierDocument, DossierFlow, NoOrganisation
from flows.lifecycle import (
    Case,
    ConsentAnswer,
    CounsellorState,
    Delivery,
    Drop,
    NotAloneAnswer,
    Notice,
    Party,
    Send,
    Verdict,
    delivery_verdict,
    description_parts,
    shows_name,
)
from flows.linking import not_alone_count
from flows.outcome import (
    Acknowledge,
    Choice,
    GiveConsent,
    Label,
    NotAlone,
    OpenCase,
    RecordAction,
    Reply,
    ReplyTo,
    StartMessage,
)
from flows.pulse import PulseFlow
from flows.routing import Router
from flows.statistics import PeriodKind
from flows.steering import TREND_MONTHS, published, summary_caption, summary_quarter
from flows.tracks import euro, footage_task
from flows.views import case_facts, forms_label
from storage import Storage
from storage.cases import AttachmentRecord
from storage.outbox import OutboxItem
from storage.people import PersonRecord

_BANNERS: dict[Notice, str | None] = {
    Notice.CASE_REPORT: None,
    Notice.CASE_REPORT_ESCALATED: "staff.banner_escalated",
    Notice.CASE_REPORT_HANDED_OVER: "staff.banner_handed_over",
    Notice.CASE_REPORT_CONSENTED: "staff.banner_consented",
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


NoticeMessage = Reply | FileNotice | DossierDocument


class Notices:
    def __init__(
        self,
        storage: Storage,
        router: Router,
        zone: ZoneInfo,
        clock: Clock,
        plan: AftercarePlan,
        pulse: PulseFlow | None = None,
        dossiers: DossierFlow | None = None,
    ) -> None:
        self._storage = storage
        self._router = router
        self._zone = zone
        self._clock = clock
        self._plan = plan
        self._pulse = pulse  # the safety pulse has no case: it decides and words its own items
        self._dossiers = dossiers

    async def authorise(self, item: OutboxItem) -> Verdict:
        """Whether the item may go out now, to this recipient, given the case as it is now."""
        if item.kind is Notice.CASE_ERASED:
            return Send()
        if item.kind is Notice.PULSE:
            return Drop("pulse_off") if self._pulse is None else await self._pulse.authorise(item)
        if item.kind is Notice.QUARTERLY_SUMMARY:
            # Counts only, no case: for whoever may see the statistics at the moment it is sent.
            return Send() if sees_statistics(item.recipient_index, self._router) else Drop("not_steering")
        case = None if item.case_id is None else await self._storage.cases.get(item.case_id)
        if case is None:
            return Drop("case_gone")
        if item.kind is Notice.REPORTER_NEW_COUNSELLOR and await self._storage.outbox.superseded(item):
            return Drop("superseded")  # a later word on who handles the case follows
        if item.kind is Notice.NOT_ALONE and not await not_alone_count(self._storage, case):
            return Drop("no_match")  # the other reports left the register, or withdrew their consent
        return delivery_verdict(
            case,
            item.kind,
            item.recipient_index,
            item.recipient_role,
            told_before=await self._storage.outbox.told_before(case.id, item.recipient_index),
        )

    async def handlers_now(self, item: OutboxItem) -> list[Delivery]:
        """The same notification for whoever handles the case now (after a hand-over or a take-over)."""
        case = None if item.case_id is None else await self._storage.cases.get(item.case_id)
        if case is None:
            return []
        return [
            Delivery(index, Party.COUNSELLOR, item.kind, item.ref, dedupe=f"{item.id}:{n}")
            for n, index in enumerate(sorted(case.handlers))
            if index != item.recipient_index
        ]

    async def compose(self, item: OutboxItem, language: str) -> NoticeMessage:
        """The one Telegram message an outbox item becomes (call :meth:`authorise` first)."""
        if item.kind is Notice.CASE_ERASED:
            return Reply("staff.case_erased", {"reference": item.ref or ""})
        if item.kind is Notice.PULSE:
            if self._pulse is None:
                raise Gone("pulse_off")
            return self._pulse.compose(item)
        if item.kind is Notice.QUARTERLY_SUMMARY:
            return await self._summary(item.ref, language)
        case = None if item.case_id is None else await self._storage.cases.get(item.case_id)
        if case is None:
            raise Gone("case_gone")
        party = item.recipient_role
        if item.kind in _BANNERS:
            reporter = await self._storage.people.get(case.person_id)
            return self.staff_report(case, reporter, party, _BANNERS[item.kind])
        if item.kind is Notice.CASE_TEXT:
            reply = staff_text_part(case, int(item.ref or 0))
            if reply is None:
                raise Gone("text_part_gone")
            return reply
        if item.kind is Notice.CASE_ATTACHMENT:
            attachment = await self._storage.cases.attachment(case.id, item.ref or "")
            if attachment is None:
                raise Gone("attachment_gone")
            return FileNotice(attachment, attachment_caption(case, attachment))
        if item.kind in (Notice.RELAY, Notice.CASE_ADDITION):
            return await self._message(case, item, party)
        if item.kind is Notice.RELAY_FILE:
            return await self._message_file(case, item, party)
        if item.kind in (Notice.DOSSIER_QUESTION, Notice.DOSSIER, Notice.DOSSIER_COPY):
            return await self._dossier(case, item, language)
        if party is Party.REPORTER:
            return await self._to_reporter(case, item)
        return await self._to_staff(case, item)

    async def _dossier(self, case: Case, item: OutboxItem, language: str) -> Reply | DossierDocument:
        if self._dossiers is None:
            raise Gone("no_dossiers")
        if item.kind is Notice.DOSSIER_QUESTION:
            return self._dossiers.question(case, item.ref or Party.COUNSELLOR.value)
        try:
            return await self._dossiers.document(case, item, language)
        except NoOrganisation:
            raise Gone("no_organisation") from None

    async def _summary(self, ref: str | None, language: str) -> FileNotice:
        """The quarter's key figures as the caption of its trend chart, worked out when it is sent."""
        quarter = summary_quarter(ref)
        figures = await published(self._storage, self._zone, self._clock.now())
        if quarter is None or quarter.months()[-1] > figures.latest(PeriodKind.MONTH):
            raise Gone("quarter_not_ended")
        chart = await asyncio.to_thread(
            lambda: trend_chart(figures.trend(quarter.months()[-1], months=TREND_MONTHS), language)
        )
        picture = AttachmentRecord(
            f"summary-{ref}", 0, "photo", len(chart), f"meldbot-{ref}.png", "image/png", None, chart
        )
        statistics = await asyncio.to_thread(figures.statistics, quarter)
        return FileNotice(picture, summary_caption(language, statistics))

    def staff_report(self, case: Case, reporter: PersonRecord | None, party: Party, banner: str | None) -> Reply:
        """The report as a counsellor or coordinator receives it, with its buttons."""
        if shows_name(case, party) and reporter is not None:
            who: Label = Label(
                "staff.reporter_named",
                {"name": reporter.display_name, "username": f"@{reporter.username}" if reporter.username else "—"},
            )
        elif party is Party.COUNSELLOR:
            who = Label("staff.reporter_pseudonym")
        else:
            who = Label("staff.reporter_anonymous")
        parts = description_parts(case.description)
        description: Label | str
        if parts:
            description = Label("staff.description_follows", {"parts": len(parts)})
        else:
            description = case.description or Label("staff.description_none")
        if party is Party.COUNSELLOR:
            first = Choice(
                "case.take" if banner == "staff.banner_escalated" else "staff.button.acknowledge",
                Acknowledge(case.reference),
            )
        else:
            first = Choice("staff.button.register", Acknowledge(case.reference))
        return Reply(
            "staff.report_counsellor" if party is Party.COUNSELLOR else "staff.report_coordinator",
            {
                "banner": Label(banner) if banner else "",
                "reference": case.reference,
                "forms": forms_label(case.forms),
                "date": case.incident_date,
                "channel": Label(f"channel.{case.channel.value}"),
                "facts": case_facts(case),
                "role": Label(f"role.{case.role.value}"),
                "wish": Label(f"wish.{case.wish.value}"),
                "who": who,
                "description": description,
                "attachments": case.attachment_count,
                "submitted": _local(case.submitted_at, self._zone),
            },
            ((first,), (Choice("case.open", OpenCase(case.reference)),)),
            protect_content=True,
        )

    async def _message(self, case: Case, item: OutboxItem, party: Party) -> Reply:
        message = await self._storage.casefile.message(case.id, item.ref or "")
        if message is None:
            raise Gone("message_gone")
        # A message with a file comes in two: this text, then the file (its own outbox item).
        body = message.body or ("📎" if message.attachment_id else "")
        if party is Party.REPORTER:
            sender_label = (
                Label("relay.from_coordinator")
                if message.author is Party.COORDINATOR
                else Label("relay.from_counsellor", {"name": self._router.name(message.author_index, Party.COUNSELLOR)})
            )
            thread = message.thread
            return Reply(
                "relay.to_reporter",
                {"from": sender_label, "reference": case.reference, "text": body},
                ((Choice("relay.reply", ReplyTo(case.reference, thread)),),),
            )
        reporter = await self._storage.people.get(case.person_id)
        if shows_name(case, party) and reporter is not None:
            who: Label = Label("relay.reporter_named", {"name": reporter.display_name})
        else:
            who = Label("relay.reporter")
        key = "relay.addition_to_staff" if item.kind is Notice.CASE_ADDITION else "relay.to_staff"
        return Reply(
            key,
            {"who": who, "reference": case.reference, "text": body},
            (
                (
                    Choice("case.message", StartMessage(case.reference)),
                    Choice("case.open", OpenCase(case.reference)),
                ),
            ),
            protect_content=True,
        )

    async def _message_file(self, case: Case, item: OutboxItem, party: Party) -> FileNotice:
        message = await self._storage.casefile.message(case.id, item.ref or "")
        attachment = (
            None
            if message is None or message.attachment_id is None
            else await self._storage.cases.attachment(case.id, message.attachment_id)
        )
        if attachment is None:
            raise Gone("attachment_gone")
        return FileNotice(
            attachment, Reply("relay.file", {"reference": case.reference}, protect_content=party is not Party.REPORTER)
        )

    def _handler_names(self, case: Case) -> str:
        return ", ".join(
            member.name
            for index, state in case.counsellors.items()
            if state is CounsellorState.ASSIGNED and (member := self._router.counsellor(index)) is not None
        )

    async def _to_reporter(self, case: Case, item: OutboxItem) -> Reply:
        reference = {"reference": case.reference}
        match item.kind:
            case Notice.REPORTER_ACKNOWLEDGED:
                return Reply("reporter.acknowledged", reference)
            case Notice.REPORTER_REGISTERED:
                return Reply("reporter.registered", reference)
            case Notice.REPORTER_ESCALATED:
                return Reply("reporter.escalated", reference)
            case Notice.REPORTER_NEW_COUNSELLOR:
                names = self._handler_names(case)
                if not names:
                    return Reply("reporter.waiting_counsellor", reference)
                return Reply("reporter.new_counsellor", {**reference, "name": names})
            case Notice.REPORTER_STATUS:
                return Reply("reporter.status", {**reference, "status": Label(f"status.{item.ref}")})
            case Notice.CHECK_IN:
                step = int(item.ref or 0)
                steps = self._plan.check_ins
                closing = step < len(steps) and steps[step].closing
                support = support_lines(self._plan, case)
                return Reply(
                    "checkin.closing" if closing else "checkin.ask",
                    {**reference, "date": self._submitted_on(case), "support": _support_block(support)},
                    checkin_keyboard(case.reference, step),
                )
            case Notice.TIPS:
                return Reply("tips.intro", {**reference, "tips": tuple(Label(key) for key in practical_tips(case))})
            case Notice.REOFFER:
                return Reply("reoffer.ask", reference, reoffer_keyboard(case.reference))
            case Notice.SURVEY:
                return Reply("survey.ask", reference, survey_keyboard(case.reference))
            case Notice.ACTION_FEEDBACK:
                action = await self._storage.casefile.action(case.id, item.ref or "")
                if action is None:
                    raise Gone("action_gone")
                note = Label("feedback.note", {"note": action.note}) if action.note else ""
                return Reply(
                    "feedback.action",
                    {
                        **reference,
                        "kind": Label(f"action.{action.kind.value}"),
                        "outcome": Label(f"outcome.{action.outcome.value}"),
                        "note": note,
                    },
                )
            case Notice.POLICE_FEEDBACK:
                police = await self._storage.casefile.police_step(case.id, item.ref or "")
                if police is None:
                    raise Gone("police_step_gone")
                return Reply(
                    "feedback.police",
                    {**reference, "step": Label(f"police.step_{police.step.value}"), "date": police.on},
                )
            case Notice.DAMAGES_FEEDBACK:
                return Reply("feedback.damages", {**reference, **await self._damages(case)})
            case Notice.NOT_ALONE:
                ref, n = case.reference, await not_alone_count(self._storage, case)
                return Reply(
                    "not_alone.ask_one" if n == 1 else "not_alone.ask_many",
                    {**reference, "n": n},
                    (
                        (Choice("not_alone.named", NotAlone(ref, NotAloneAnswer.NAMED)),),
                        (Choice("not_alone.anonymous", NotAlone(ref, NotAloneAnswer.ANONYMOUS)),),
                        (Choice("not_alone.no", NotAlone(ref, NotAloneAnswer.NO)),),
                    ),
                )
            case Notice.CONSENT_REQUEST:
                ref = case.reference
                return Reply(
                    "consent.request",
                    reference,
                    (
                        (Choice("consent.named", GiveConsent(ref, ConsentAnswer.NAMED)),),
                        (Choice("consent.anonymous", GiveConsent(ref, ConsentAnswer.ANONYMOUS)),),
                        (Choice("consent.no", GiveConsent(ref, ConsentAnswer.NO)),),
                    ),
                )
        raise Gone(f"unknown_kind:{item.kind}")

    async def _damages(self, case: Case) -> dict[str, object]:
        """The damages as figures: total, what was recovered, where the claim stands."""
        items = await self._storage.casefile.cost_items(case.id)
        return {
            "total": euro(sum(i.amount_cents for i in items)),
            "recovered": euro(case.damages_recovered_cents),
            "claim": Label(f"damages.status_{case.damages_claim.value}"),
        }

    def _submitted_on(self, case: Case) -> date:
        """The local day the report was sent (a check-in only exists for a sent report)."""
        return case.submitted_at.astimezone(self._zone).date()

    async def _to_staff(self, case: Case, item: OutboxItem) -> Reply:
        reference = {"reference": case.reference}
        match item.kind:
            case Notice.CONSENT_ANSWER:
                return Reply(f"staff.consent_{item.ref}", reference)
            case Notice.REGISTER_WITHDRAWN:
                return Reply("staff.register_withdrawn", reference)
            case Notice.CASE_WITHDRAWN:
                return Reply("staff.case_withdrawn", reference)
            case Notice.CASE_TAKEN_OVER:
                return Reply("staff.taken_over", {**reference, "name": self._handler_names(case) or "—"})
            case Notice.CHECKIN_ALERT:
                reporter = await self._storage.people.get(case.person_id)
                who = (
                    Label("relay.reporter_named", {"name": reporter.display_name})
                    if reporter is not None and shows_name(case, Party.COUNSELLOR)
                    else Label("relay.reporter")
                )
                return Reply(
                    f"staff.checkin_{item.ref}",
                    {**reference, "who": who},
                    (
                        (
                            Choice("case.message", StartMessage(case.reference)),
                            Choice("case.open", OpenCase(case.reference)),
                        ),
                    ),
                )
            case Notice.SILENCE_REMINDER:
                in_view = item.recipient_role is Party.COUNSELLOR or case.in_register
                return Reply(
                    "staff.silence" if in_view else "staff.silence_metadata",
                    {
                        **reference,
                        "days": int(item.ref or 0),
                        "audience": Label(f"audience.{case.audience.value}"),
                        "forms": forms_label(case.forms),
                    },
                    ((Choice("case.open", OpenCase(case.reference)),),) if in_view else (),
                )
            case Notice.REACTION_REMINDER:
                return Reply(
                    "staff.reaction_reminder",
                    {
                        **reference,
                        "category": forms_label(case.forms),
                        "due": _local(case.reaction_due_at or case.submitted_at, self._zone),
                    },
                    (
                        (Choice("case.record_action", RecordAction(case.reference)),),
                        (Choice("case.open", OpenCase(case.reference)),),
                    ),
                )
            case Notice.REACTION_ESCALATED:
                since = case.reaction_since or case.submitted_at
                return Reply(
                    "management.reaction_escalated",
                    {
                        **reference,
                        "audience": Label(f"audience.{case.audience.value}"),
                        "category": forms_label(case.forms),
                        "hours": int((self._clock.now() - since).total_seconds() // 3600),
                    },
                )
            case Notice.FOOTAGE_TASK:
                return footage_task(case, "footage.task", self._zone)
            case Notice.FOOTAGE_REMINDER:
                return footage_task(case, "footage.reminder", self._zone)
            case Notice.POLICE_NEWS:
                step = await self._storage.casefile.police_step(case.id, item.ref or "")
                if step is None:
                    raise Gone("police_step_gone")
                return Reply(
                    "staff.police_news",
                    {**reference, "step": Label(f"police.step_{step.step.value}"), "date": step.on},
                    ((Choice("case.open", OpenCase(case.reference)),),),
                )
            case Notice.DAMAGES_ALERT:
                return Reply("damages.alert", {**reference, **await self._damages(case)})
            case Notice.COORDINATOR_ALERT | Notice.CASE_WAITING:
                return Reply(
                    "staff.coordinator_alert" if item.kind is Notice.COORDINATOR_ALERT else "staff.case_waiting",
                    {
                        **reference,
                        "audience": Label(f"audience.{case.audience.value}"),
                        "forms": forms_label(case.forms),
                        "hours": int((self._clock.now() - case.submitted_at).total_seconds() // 3600),
                    },
                )
        raise Gone(f"unknown_kind:{item.kind}")


def _support_block(lines: tuple[Label, ...]) -> Label | str:
    return Label("checkin.support", {"lines": lines}) if lines else ""


def staff_text_part(case: Case, number: int) -> Reply | None:
    parts = description_parts(case.description)
    if number >= len(parts):
        return None
    return Reply(
        "staff.description_part",
        {"reference": case.reference, "n": number + 1, "total": len(parts), "text": parts[number]},
        protect_content=True,
    )


def attachment_caption(case: Case, attachment: AttachmentRecord) -> Reply:
    return Reply(
        "staff.attachment",
        {"reference": case.reference, "n": attachment.seq, "total": max(case.attachment_count, attachment.seq)},
        protect_content=True,
    )


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d-%m-%Y %H:%M")
