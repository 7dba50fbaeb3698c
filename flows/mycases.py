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
from flows import lifecycle
from flows.access import Access, Permission
from flows.clock import Clock
from flows.lifecycle import (
    REPORTER_ACTOR,
    AftercareState,
    Case,
    CaseStatus,
    ConsentAnswer,
    Delivery,
    Notice,
    Refused,
    RegisterRules,
    Thread,
)
from flows.linking import Linking
from flows.model import Language, Sender
from flows.outcome import (
    AddDetail,
    AddInfo,
    Choice,
    Forget,
    GiveConsent,
    Label,
    MyCases,
    OpenMine,
    Outcome,
    OwnCopy,
    PauseCheckIns,
    Police,
    Reply,
    ReplyTo,
    ResumeCheckIns,
    StopCheckIns,
    StopComposing,
    ToggleLink,
    ToggleName,
    Withdraw,
)
from flows.queries import CaseQuery, ReporterCases, turned
from flows.routing import Router
from flows.views import forms_label, latest_actions, police_and_damages_lines
from storage import Storage
from storage.casefile import News

PAGE = 8


class MyCaseFlow:
    def __init__(
        self,
        storage: Storage,
        router: Router,
        access: Access,
        clock: Clock,
        zone: ZoneInfo,
        linking: Linking,
        register: RegisterRules | None = None,
    ) -> None:
        self._register = register or RegisterRules()
        self._linking = linking
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

    def staff_on(
        self, case: Case, *, counsellors: bool = True, coordinators: bool = True
    ) -> list[tuple[bytes, lifecycle.Party]]:
        """Who handles the case now: its counsellor(s), and the coordinators if it is in the register."""
        return lifecycle.staff_on(
            case, self._router.coordinator_indexes(), counsellors=counsellors, in_register=coordinators
        )

    # -- the list and one case ------------------------------------------------------------

    async def list(self, sender: Sender, view: MyCases | None = None) -> Outcome:
        view = view or MyCases()
        language = await self._language(sender)
        person = await self._storage.people.find(sender.telegram_id)
        if person is None or not 0 <= view.page < 10_000:
            return Outcome(language, replies=[Reply("mycases.page", {"lines": (Label("mycases.none"),)})])
        page = await self._storage.cases.listing(
            CaseQuery(
                ReporterCases(person.id),
                PAGE,
                older_than=None if view.newer else view.anchor,
                newer_than=view.anchor if view.newer else None,
            )
        )
        shown = await self._storage.cases.cases([item.id for item in page.cases])
        news = await self._storage.casefile.news([case.id for case in shown])
        lines = tuple(
            [
                Label(
                    "mycases.line",
                    {
                        "reference": case.reference,
                        "forms": forms_label(case.forms),
                        "status": Label(f"status.{case.status.value}"),
                        "news": self._news(case, news[case.id]),
                    },
                )
                for case in shown
            ]
        ) or (Label("mycases.none"),)
        rows: list[tuple[Choice, ...]] = [
            (Choice("list.open", OpenMine(case.reference), {"reference": case.reference}),)
            for case in shown
            if case.status is not CaseStatus.WITHDRAWN
        ]
        navigation: list[Choice] = []
        if page.has_newer and shown:
            navigation.append(Choice("list.previous", MyCases(turned(view.page, True), shown[0].reference, True)))
        if page.has_older and shown:
            navigation.append(Choice("list.next", MyCases(turned(view.page, False), shown[-1].reference, False)))
        if navigation:
            rows.append(tuple(navigation))
        return Outcome(language, replies=[Reply("mycases.page", {"lines": lines}, tuple(rows))])

    def _news(self, case: Case, news: News) -> Label:
        """The latest thing that happened to the case, as the reporter would put it."""
        events: list[tuple[datetime, Label]] = [
            (case.submitted_at, Label("news.submitted", {"when": self._day(case.submitted_at)}))
        ]
        if case.acknowledged_at:
            events.append((case.acknowledged_at, Label("news.acknowledged", {"when": self._day(case.acknowledged_at)})))
        if case.registered_at:
            events.append((case.registered_at, Label("news.registered", {"when": self._day(case.registered_at)})))
        if news.message is not None:
            author, when = news.message
            events.append((when, Label(f"news.message_{author.value}", {"when": self._day(when)})))
        if news.action is not None:
            kind, when = news.action
            events.append(
                (when, Label("news.action", {"kind": Label(f"action.{kind.value}"), "when": self._day(when)}))
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
        return Outcome(grant.language, replies=[await self.view(grant.case)])

    async def view(self, case: Case) -> Reply:
        messages_ = await self._storage.casefile.messages(case.id, tuple(Thread))
        lines = tuple(
            Label(
                f"mine.message_{m.author.value}",
                {"when": m.created_at.astimezone(self._zone).strftime("%d-%m %H:%M"), "text": _excerpt(m.body) or "📎"},
            )
            for m in messages_[-6:]
        ) or (Label("view.no_messages"),)
        return Reply(
            "mine.view",
            {
                "reference": case.reference,
                "status": Label(f"status.{case.status.value}"),
                "forms": forms_label(case.forms),
                "date": case.incident_date,
                "register": Label(f"mine.register_{case.register.value}"),
                "aftercare": Label(f"mine.aftercare_{case.aftercare.value}"),
                "history": lines,
                "actions": latest_actions(await self._storage.casefile.actions(case.id))
                + police_and_damages_lines(case),
            },
            self._buttons(case),
        )

    def _buttons(self, case: Case) -> tuple[tuple[Choice, ...], ...]:
        ref = case.reference
        if case.status is CaseStatus.WITHDRAWN:
            return ()
        rows: list[tuple[Choice, ...]] = [
            (Choice("mine.add", AddInfo(ref)), Choice("mine.add_details", AddDetail(ref)))
        ]
        replies = []
        if case.has_counsellor_side:
            replies.append(Choice("mine.reply_counsellor", ReplyTo(ref, Thread.COUNSELLOR)))
        if case.in_register:
            replies.append(Choice("mine.reply_coordinator", ReplyTo(ref, Thread.COORDINATOR)))
        if replies:
            rows.append(tuple(replies))
        rows.append((Choice("mine.police", Police(ref)),))
        if case.in_register:
            rows.append((Choice("mine.consent_withdraw", GiveConsent(ref, ConsentAnswer.WITHDRAW)),))
        elif self._router.coordinators:
            rows.append(
                (
                    Choice("consent.named", GiveConsent(ref, ConsentAnswer.NAMED)),
                    Choice("consent.anonymous", GiveConsent(ref, ConsentAnswer.ANONYMOUS)),
                )
            )
        if case.has_counsellor_side:
            label = "mine.name_shared" if case.share_name_counsellor else "mine.name_hidden"
            rows.append((Choice(label, ToggleName(ref)),))
        rows.append((Choice("toggle.link_on" if case.link_consent else "toggle.link_off", ToggleLink(ref)),))
        if case.aftercare is AftercareState.ACTIVE:
            rows.append((Choice("mine.pause", PauseCheckIns(ref)), Choice("mine.stop", StopCheckIns(ref))))
        else:
            rows.append((Choice("mine.resume", ResumeCheckIns(ref)),))
        rows.append((Choice("mine.own_copy", OwnCopy(ref)),))
        rows.append((Choice("mine.withdraw", Withdraw(ref)),))
        return tuple(rows)

    # -- adding, replying ----------------------------------------------------------------

    async def start(self, sender: Sender, reference: str, purpose: str, thread: str) -> Outcome:
        permission = Permission.ADD_INFO if purpose == "addition" else Permission.REPLY
        grant = await self._access.check(sender, permission, reference)
        if grant is None or grant.person is None:
            return await self._denied(sender)
        if purpose == "reply" and thread not in (Thread.COUNSELLOR, Thread.COORDINATOR):
            return await self._denied(sender)
        if purpose == "reply" and thread == Thread.COORDINATOR and not grant.case.in_register:
            return await self._denied(sender)
        await self._storage.composing.start(grant.index, grant.case.id, purpose, thread or None, self._clock.now())
        prompt = "compose.addition" if purpose == "addition" else f"compose.reply_{thread}"
        return Outcome(
            grant.language,
            replies=[Reply(prompt, {"reference": reference}, ((Choice("compose.stop", StopComposing()),),))],
        )

    # -- consent --------------------------------------------------------------------------

    async def consent(self, sender: Sender, reference: str, answer: str) -> Outcome:
        """The reporter's word on the register: with name, without name, no, or withdrawn."""
        grant = await self._access.check(sender, Permission.CONSENT, reference)
        if grant is None or grant.person is None or answer not in {a.value for a in ConsentAnswer}:
            return await self._denied(sender)
        given, coordinators, now = ConsentAnswer(answer), self._router.coordinator_indexes(), self._clock.now()
        _, decision = await self._storage.cases.change(
            grant.case.id, lambda case: lifecycle.consent(case, given, coordinators, self._register, now), now
        )
        if isinstance(decision, Refused):
            return Outcome(grant.language, toast=Label("toast.already_noted"), clear_pressed_buttons=True)
        await self._linking.match_may_appear(grant.case.id)  # in the register now: others may be asked
        key = {
            ConsentAnswer.WITHDRAW: "consent.withdrawn",
            ConsentAnswer.NO: "consent.refused",
        }.get(given, f"consent.given_{answer}")
        return Outcome(grant.language, edit_pressed=Reply(key, {"reference": reference}))

    async def toggle_name(self, sender: Sender, reference: str) -> Outcome:
        grant = await self._access.check(sender, Permission.SHARE_NAME, reference)
        if grant is None or grant.person is None:
            return await self._denied(sender)
        share = not grant.case.share_name_counsellor
        _, decision = await self._storage.cases.change(
            grant.case.id, lambda case: lifecycle.share_name(case, share), self._clock.now()
        )
        if isinstance(decision, Refused):
            return await self._denied(sender)
        return Outcome(grant.language, edit_pressed=await self.view(decision.after))

    async def toggle_link(self, sender: Sender, reference: str) -> Outcome:
        """Combining with reports about the same person, switched on or off (off: out of every link)."""
        grant = await self._access.check(sender, Permission.CONSENT, reference)
        if grant is None or grant.person is None:
            return await self._denied(sender)
        on = not grant.case.link_consent
        _, decision = await self._storage.cases.change(
            grant.case.id, lambda case: lifecycle.set_link_consent(case, on), self._clock.now()
        )
        if isinstance(decision, Refused):
            return await self._denied(sender)
        if on:
            await self._linking.match_may_appear(grant.case.id)
        return Outcome(grant.language, edit_pressed=await self.view(decision.after))

    # -- withdrawing and forgetting ---------------------------------------------------------

    async def withdraw(self, sender: Sender, reference: str, confirm: bool = False) -> Outcome:
        grant = await self._access.check(sender, Permission.WITHDRAW, reference)
        if grant is None or grant.person is None:
            return await self._denied(sender)
        if not confirm:
            return Outcome(
                grant.language,
                replies=[
                    Reply(
                        "withdraw.ask",
                        {"reference": reference},
                        ((Choice("withdraw.yes", Withdraw(reference, True)),),),
                    )
                ],
            )
        now, coordinators = self._clock.now(), self._router.coordinator_indexes()
        _, decision = await self._storage.cases.change(
            grant.case.id, lambda case: lifecycle.withdraw(case, coordinators, now), now
        )
        if isinstance(decision, Refused):
            return Outcome(grant.language, toast=Label("toast.already_noted"), clear_pressed_buttons=True)
        return Outcome(grant.language, edit_pressed=Reply("withdraw.done", {"reference": reference}))

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
        erased: list[str] = []
        for case in await self._storage.cases.of_person(person.id):
            message_ids += case.message_ids
            erased.append(case.reference)
            if case.status is CaseStatus.WITHDRAWN:
                continue
            # Staff who knew of the case hear only that it no longer exists.
            for index, party in self.staff_on(case):
                if await self._storage.outbox.told_before(case.id, index):
                    deliveries.append(Delivery(index, party, Notice.CASE_ERASED, case.reference))
        draft = await self._storage.cases.draft_of(person.id)
        if draft is not None:
            message_ids += draft.state.message_ids
        audit = [(reference, REPORTER_ACTOR.note("erased")) for reference in erased]
        await self._storage.pulse.forget(sender.telegram_id)  # the counts stay: they name nobody
        await self._storage.people.erase(person.id, deliveries, audit, self._clock.now())
        return Outcome(
            language,
            edit_pressed=Reply("forget.done", {"n": len(erased)}),
            delete_messages=tuple(message_ids),
        )


def _excerpt(text: str, limit: int = 160) -> str:
    return messages.shorten(" ".join(text.split()), limit)
