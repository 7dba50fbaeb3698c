"""A recipient confirms they have the case; the reporter hears of it.

A counsellor's press acknowledges the case (the first one counts); a coordinator's
press confirms the registration. The press is authorised here, on the server,
against the configuration and the outbox: only someone the case was actually sent
to, in the role it was sent to them in, can act on it. Callback data is never
trusted for more than naming the case.
"""

from __future__ import annotations

from flows.clock import Clock
from flows.model import Language, Sender
from flows.outcome import Acknowledge, Label, Outcome, Reply
from flows.routing import (
    CASE_REPORT,
    COUNSELLOR,
    REPORTER,
    REPORTER_ACKNOWLEDGED,
    REPORTER_REGISTERED,
    Router,
)
from storage import Storage
from storage.outbox import Delivery


class Acknowledgements:
    def __init__(self, storage: Storage, router: Router, clock: Clock) -> None:
        self._storage = storage
        self._router = router
        self._clock = clock

    async def press(self, sender: Sender, action: Acknowledge) -> Outcome:
        roles = self._router.staff_member(sender.telegram_id)
        language = roles[0].language if roles else Language.from_telegram(sender.language_code)
        outcome = Outcome(language)
        denied = Label("toast.not_yours")
        if not roles:
            outcome.toast = denied
            return outcome
        case = await self._storage.cases.by_reference(action.reference)
        index = self._storage.people.index_of(sender.telegram_id)
        role = None if case is None else await self._storage.outbox.addressed_to(case.id, index, CASE_REPORT)
        if case is None or role is None or case.status in ("draft", "withdrawn"):
            outcome.toast = denied
            return outcome
        member = self._router.staff_by_index(index, role)
        if member is None:  # no longer holds that role in the configuration
            outcome.toast = denied
            return outcome
        outcome.language = member.language
        reporter = [] if case.person_id is None else [await self._storage.people.get(case.person_id)]
        now = self._clock.now()
        kind = REPORTER_ACKNOWLEDGED if role == COUNSELLOR else REPORTER_REGISTERED
        deliveries = [Delivery(self._storage.people.index_of(p.telegram_id), REPORTER, kind) for p in reporter if p]
        if role == COUNSELLOR:
            done = await self._storage.cases.acknowledge(case, index, deliveries, now)
            if not done:
                mine = case.acknowledged_by == index
                outcome.toast = Label("toast.acknowledged_by_you" if mine else "toast.acknowledged_by_colleague")
                outcome.clear_pressed_buttons = True
                return outcome
            outcome.replies.append(Reply("staff.acknowledged", {"reference": case.reference}))
        else:
            done = await self._storage.cases.register(case, deliveries, now)
            if not done:
                outcome.toast = Label("toast.registered_already")
                outcome.clear_pressed_buttons = True
                return outcome
            outcome.replies.append(Reply("staff.registered", {"reference": case.reference}))
        outcome.clear_pressed_buttons = True
        outcome.wake_outbox = bool(deliveries)
        return outcome
