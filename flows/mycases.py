"""The reporter's side after filing: their cases, adding to them, consent, withdrawal, erasure.

A reporter sees only their own cases, in their own language, with the latest news.
They decide what the coordinators may see (consent, given or withdrawn, with or
without their name), may withdraw a case, and may have everything about them erased
(/forgetme): the rows that hold their keys are deleted, which makes every sealed byte
of theirs unreadable, and the write-ahead log is folded back so no copy lingers.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import messages
from flows.access import Access, Grant, Permission, has_counsellor_side, in_register, record
from flows.clock import Clock
from flows.model import Language, Sender
from flows.outcome import CaseCommand, Choice, Forget, Label, MyCases, Outcome, Reply, StopComposing
from flows.routing import (
    CASE_ERASED,
    CASE_REPORT_CONSENTED,
    CASE_WITHDRAWN,
    CONSENT_ANSWER,
    COORDINATOR,
    COUNSELLOR,
    REGISTER_WITHDRAWN,
    Router,
)
from flows.views import latest_actions
from storage import Storage
from storage.cases import CaseRecord
from storage.outbox import Delivery

CONSENT_ANSWERS = ("named", "anonymous", "no")
PAGE = 8


class MyCaseFlow:
    def __init__(self, storage: Storage, router: Router, access: Access, clock: Clock, zone: ZoneInfo) -> None:
        self._storage = storage
        self._router = router
        self._access = access
        self._clock = clock
        self._zone = zone

    async def _language(self, sender: Sender) -> Language:
        person = await self._storage.people.find(sender.telegram_id)
        return Language(person.language) if person else Language.from_telegram(sender.language_code)

    async def _denied(self, sender: Sender) -> Outcome:
        return Outcome(await self._language(sender), toast=Label("toast.not_yours"))

    async def _audit(self, grant: Grant, action: str, detail: str | None = None) -> None:
        await record(self._storage, grant, action, self._clock.now(), detail)

    async def staff_on(
        self, case: CaseRecord, *, counsellors: bool = True, coordinators: bool = True
    ) -> list[tuple[bytes, str]]:
        """Who handles the case now: its assigned counsellor(s), and the coordinators if it is in the register."""
        recipients: list[tuple[bytes, str]] = []
        if counsellors:
            for index, state in (await self._storage.cases.counsellors_of(case.id)).items():
                if state == "assigned" and self._router.staff_by_index(index, COUNSELLOR) is not None:
                    recipients.append((index, COUNSELLOR))
        if coordinators and in_register(case):
            recipients += self._router.coordinator_recipients(await self._storage.cases.barred_from(case.id))
        return recipients

    # -- the list and one case ------------------------------------------------------------

    async def list(self, sender: Sender, page: int = 0) -> Outcome:
        language = await self._language(sender)
        person = await self._storage.people.find(sender.telegram_id)
        cases = [] if person is None else await self._storage.cases.of_person(person.id)
        shown = cases[page * PAGE : (page + 1) * PAGE]
        lines = tuple(
            [
                Label(
                    "mycases.line",
                    {
                        "reference": case.reference,
                        "category": Label(f"category.{case.category}"),
                        "status": Label(f"status.{case.status}"),
                        "news": await self._news(case),
                    },
                )
                for case in shown
            ]
        ) or (Label("mycases.none"),)
        rows = [
            (Choice("list.open", CaseCommand("mo", case.reference), {"reference": case.reference}),)
            for case in shown
            if case.status != "withdrawn"
        ]
        navigation = []
        if page > 0:
            navigation.append(Choice("list.previous", MyCases(page - 1)))
        if (page + 1) * PAGE < len(cases):
            navigation.append(Choice("list.next", MyCases(page + 1)))
        if navigation:
            rows.append(tuple(navigation))
        return Outcome(language, replies=[Reply("mycases.page", {"lines": lines}, tuple(rows))])

    async def _news(self, case: CaseRecord) -> Label:
        """The latest thing that happened to the case, as the reporter would put it."""
        messages = await self._storage.casefile.messages(case, ("counsellor", "coordinator"))
        staff_messages = [m for m in messages if m.author != "reporter"]
        events: list[tuple[datetime, Label]] = [
            (case.submitted_at, Label("news.submitted", {"when": self._day(case.submitted_at)}))
        ]
        if case.acknowledged_at:
            events.append((case.acknowledged_at, Label("news.acknowledged", {"when": self._day(case.acknowledged_at)})))
        if case.registered_at:
            events.append((case.registered_at, Label("news.registered", {"when": self._day(case.registered_at)})))
        if staff_messages:
            last = staff_messages[-1]
            events.append((last.created_at, Label(f"news.message_{last.author}", {"when": self._day(last.created_at)})))
        for action in await self._storage.casefile.actions(case):
            events.append(
                (
                    action.updated_at,
                    Label(
                        "news.action", {"kind": Label(f"action.{action.kind}"), "when": self._day(action.updated_at)}
                    ),
                )
            )
        if case.consent_asked_at:
            events.append(
                (case.consent_asked_at, Label("news.consent_asked", {"when": self._day(case.consent_asked_at)}))
            )
        if case.closed_at:
            events.append((case.closed_at, Label("news.closed", {"when": self._day(case.closed_at)})))
        if case.withdrawn_at:
            events.append((case.withdrawn_at, Label("news.withdrawn", {"when": self._day(case.withdrawn_at)})))
        return max(events, key=lambda e: e[0])[1]

    def _day(self, moment: datetime | None) -> str:
        return "—" if moment is None else moment.astimezone(self._zone).strftime("%d-%m-%Y")

    async def open(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._access.check(sender, Permission.VIEW, reference)
        if grant is None or grant.person is None:
            return await self._denied(sender)
        return Outcome(Language(grant.person.language), replies=[await self.view(grant)])

    async def view(self, grant: Grant) -> Reply:
        case = grant.case
        messages = await self._storage.casefile.messages(case, ("case", "counsellor", "coordinator"))
        lines = tuple(
            Label(
                f"mine.message_{m.author}",
                {"when": m.created_at.astimezone(self._zone).strftime("%d-%m %H:%M"), "text": _excerpt(m.body) or "📎"},
            )
            for m in messages[-6:]
        ) or (Label("view.no_messages"),)
        action_lines = latest_actions(await self._storage.casefile.actions(case))
        return Reply(
            "mine.view",
            {
                "reference": case.reference,
                "status": Label(f"status.{case.status}"),
                "category": Label(f"category.{case.category}"),
                "date": case.incident_date,
                "register": Label(f"mine.register_{case.register}"),
                "aftercare": Label(f"mine.aftercare_{case.aftercare}"),
                "history": lines,
                "actions": action_lines,
            },
            self._buttons(case),
        )

    def _buttons(self, case: CaseRecord) -> tuple[tuple[Choice, ...], ...]:
        ref = case.reference
        if case.status == "withdrawn":
            return ()
        rows: list[tuple[Choice, ...]] = [(Choice("mine.add", CaseCommand("ma", ref)),)]
        replies = []
        if has_counsellor_side(case):
            replies.append(Choice("mine.reply_counsellor", CaseCommand("mr", ref, COUNSELLOR)))
        if in_register(case):
            replies.append(Choice("mine.reply_coordinator", CaseCommand("mr", ref, COORDINATOR)))
        if replies:
            rows.append(tuple(replies))
        if in_register(case):
            rows.append((Choice("mine.consent_withdraw", CaseCommand("mc", ref, "withdraw")),))
        elif self._router.coordinators:
            rows.append(
                (
                    Choice("consent.named", CaseCommand("mc", ref, "named")),
                    Choice("consent.anonymous", CaseCommand("mc", ref, "anonymous")),
                )
            )
        if has_counsellor_side(case):
            label = "mine.name_shared" if case.share_name_counsellor else "mine.name_hidden"
            rows.append((Choice(label, CaseCommand("mn", ref)),))
        if case.aftercare == "active":
            rows.append((Choice("mine.pause", CaseCommand("mp", ref)), Choice("mine.stop", CaseCommand("mx", ref))))
        else:
            rows.append((Choice("mine.resume", CaseCommand("mu", ref)),))
        rows.append((Choice("mine.withdraw", CaseCommand("mw", ref)),))
        return tuple(rows)

    # -- adding, replying ----------------------------------------------------------------

    async def start(self, sender: Sender, reference: str, purpose: str, thread: str) -> Outcome:
        permission = Permission.ADD_INFO if purpose == "addition" else Permission.REPLY
        grant = await self._access.check(sender, permission, reference)
        if grant is None or grant.person is None:
            return await self._denied(sender)
        if purpose == "reply" and thread not in (COUNSELLOR, COORDINATOR):
            return await self._denied(sender)
        if purpose == "reply" and thread == COORDINATOR and not in_register(grant.case):
            return await self._denied(sender)
        await self._storage.composing.start(grant.index, grant.case.id, purpose, thread or None, self._clock.now())
        prompt = "compose.addition" if purpose == "addition" else f"compose.reply_{thread}"
        return Outcome(
            Language(grant.person.language),
            replies=[Reply(prompt, {"reference": grant.case.reference}, ((Choice("compose.stop", StopComposing()),),))],
        )

    # -- consent --------------------------------------------------------------------------

    async def consent(self, sender: Sender, reference: str, answer: str) -> Outcome:
        """The reporter's word on the register: with name, without name, no, or withdrawn."""
        grant = await self._access.check(sender, Permission.CONSENT, reference)
        if grant is None or grant.person is None or answer not in (*CONSENT_ANSWERS, "withdraw"):
            return await self._denied(sender)
        case, now = grant.case, self._clock.now()
        language = Language(grant.person.language)
        counsellors = await self.staff_on(case, coordinators=False)
        if answer == "withdraw":
            if not in_register(case):
                return Outcome(language, toast=Label("toast.already_noted"), clear_pressed_buttons=True)
            barred = await self._storage.cases.barred_from(case.id)
            deliveries = [
                Delivery(i, COORDINATOR, REGISTER_WITHDRAWN) for i, _ in self._router.coordinator_recipients(barred)
            ]
            deliveries += [Delivery(i, r, CONSENT_ANSWER, "withdraw") for i, r in counsellors]
            await self._storage.cases.set_register(case, "withdrawn", deliveries, now)
            await self._audit(grant, "consent_withdrawn")
            return Outcome(language, edit_pressed=Reply("consent.withdrawn", {"reference": case.reference}))
        if answer == "no":
            deliveries = [Delivery(i, r, CONSENT_ANSWER, "no") for i, r in counsellors]
            await self._storage.cases.set_register(case, case.register, deliveries, now)  # unchanged; question answered
            await self._audit(grant, "consent_refused")
            return Outcome(language, edit_pressed=Reply("consent.refused", {"reference": case.reference}))
        if in_register(case) and case.register == answer:
            return Outcome(language, toast=Label("toast.already_noted"), clear_pressed_buttons=True)
        first_time = not in_register(case)
        deliveries = [Delivery(i, r, CONSENT_ANSWER, answer) for i, r in counsellors]
        if first_time:
            attachment_ids = await self._storage.cases.attachment_ids(case.id)
            deliveries += self._router.report_deliveries(
                case,
                attachment_ids,
                self._router.coordinator_recipients(await self._storage.cases.barred_from(case.id)),
                CASE_REPORT_CONSENTED,
            )
        await self._storage.cases.set_register(case, answer, deliveries, now)
        await self._audit(grant, "consent_given", answer)
        return Outcome(
            language,
            edit_pressed=Reply(f"consent.given_{answer}", {"reference": case.reference}),
        )

    async def toggle_name(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._access.check(sender, Permission.SHARE_NAME, reference)
        if grant is None or grant.person is None or not has_counsellor_side(grant.case):
            return await self._denied(sender)
        share = not grant.case.share_name_counsellor
        await self._storage.cases.share_name_with_counsellor(grant.case, share, self._clock.now())
        await self._audit(grant, "name_shared" if share else "name_hidden")
        return Outcome(Language(grant.person.language), edit_pressed=await self.view(grant))

    # -- withdrawing and forgetting ---------------------------------------------------------

    async def withdraw(self, sender: Sender, reference: str, confirm: str) -> Outcome:
        grant = await self._access.check(sender, Permission.WITHDRAW, reference)
        if grant is None or grant.person is None:
            return await self._denied(sender)
        case = grant.case
        language = Language(grant.person.language)
        if confirm != "y":
            return Outcome(
                language,
                replies=[
                    Reply(
                        "withdraw.ask",
                        {"reference": case.reference},
                        ((Choice("withdraw.yes", CaseCommand("mw", case.reference, "y")),),),
                    )
                ],
            )
        staff = await self.staff_on(case)
        deliveries = [Delivery(i, r, CASE_WITHDRAWN) for i, r in staff]
        if not await self._storage.cases.withdraw(case, deliveries, self._clock.now()):
            return Outcome(language, toast=Label("toast.already_noted"), clear_pressed_buttons=True)
        await self._audit(grant, "withdrawn")
        return Outcome(language, edit_pressed=Reply("withdraw.done", {"reference": case.reference}))

    async def forget_question(self, sender: Sender) -> Outcome:
        language = await self._language(sender)
        if await self._storage.people.find(sender.telegram_id) is None:
            return Outcome(language, replies=[Reply("forget.nothing")])
        return Outcome(
            language,
            replies=[
                Reply(
                    "forget.ask",
                    {},
                    ((Choice("forget.yes", Forget(True)),), (Choice("forget.no", Forget(False)),)),
                )
            ],
        )

    async def forget(self, sender: Sender, action: Forget) -> Outcome:
        language = await self._language(sender)
        if not action.confirm:
            return Outcome(language, edit_pressed=Reply("forget.kept"))
        person = await self._storage.people.find(sender.telegram_id)
        if person is None:
            return Outcome(language, edit_pressed=Reply("forget.nothing"))
        deliveries: list[Delivery] = []
        message_ids: list[int] = []
        references: list[str] = []
        for case in await self._storage.cases.of_person(person.id):
            message_ids += case.state.get("message_ids", [])
            references.append(case.reference)
            if case.status != "withdrawn":
                deliveries += [Delivery(i, r, CASE_ERASED, case.reference) for i, r in await self.staff_on(case)]
        draft = await self._storage.cases.draft_of(person.id)
        if draft is not None:
            message_ids += draft.state.get("message_ids", [])
        await self._storage.people.erase(person.id, deliveries, self._clock.now())
        for reference in references:
            await self._storage.audit.record(
                actor_role="reporter", actor="reporter", action="erased", now=self._clock.now(), case_ref=reference
            )
        return Outcome(
            language,
            edit_pressed=Reply("forget.done", {"n": len(references)}),
            delete_messages=tuple(message_ids),
        )


def _excerpt(text: str, limit: int = 160) -> str:
    return messages.shorten(" ".join(text.split()), limit)
