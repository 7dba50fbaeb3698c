"""Nobody is left waiting: what happens when a case is not acknowledged in time.

At submission two timers are stored with the case. When the first falls due and no
counsellor has acknowledged the case, the other counsellors of the reporter's group
receive it (to take over), and the reporter is told honestly that more people were
asked. When the second falls due and still nobody has, the coordinators are alerted
that a case is waiting: its reference, group, category and age, never its content or
who reported it (a case for a counsellor only is not theirs to read).

Running an item twice (a crash between its effect and its completion) changes
nothing: each notification carries the item's id as a de-duplication key, and the
case records how far it was escalated.
"""

from __future__ import annotations

from flows.access import OPEN
from flows.clock import Clock
from flows.model import Audience
from flows.routing import (
    CASE_REPORT_ESCALATED,
    COORDINATOR,
    COORDINATOR_ALERT,
    COUNSELLOR,
    REPORTER,
    REPORTER_ESCALATED,
    Router,
)
from storage import Storage
from storage.outbox import Delivery
from storage.schedule import DueItem

ESCALATE_COUNSELLORS = "escalate_counsellors"
ESCALATE_COORDINATORS = "escalate_coordinators"
KINDS = (ESCALATE_COUNSELLORS, ESCALATE_COORDINATORS)


class Escalation:
    def __init__(self, storage: Storage, router: Router, clock: Clock) -> None:
        self._storage = storage
        self._router = router
        self._clock = clock

    async def run(self, item: DueItem) -> bool:
        """Carry out one due escalation; returns whether anyone was notified."""
        case = None if item.case_id is None else await self._storage.cases.get(item.case_id)
        if case is None or case.acknowledged_at is not None or case.status not in OPEN:
            return False
        now = self._clock.now()
        barred = await self._storage.cases.barred_from(case.id)
        if item.kind == ESCALATE_COUNSELLORS and case.escalation < 1:
            history = await self._storage.cases.counsellors_of(case.id)
            audience = Audience(case.audience) if case.audience else Audience.STAFF
            others = [
                self._router.index(c)
                for c in self._router.serving(audience, barred)
                if self._router.index(c) not in history
            ]
            attachment_ids = await self._storage.cases.attachment_ids(case.id)
            deliveries = self._router.report_deliveries(
                case, attachment_ids, [(index, COUNSELLOR) for index in others], CASE_REPORT_ESCALATED
            )
            reporter = await self._storage.people.index_of_person(case.person_id)
            if reporter is not None:
                deliveries.append(Delivery(reporter, REPORTER, REPORTER_ESCALATED))
            deliveries = [_once(d, item.id, n) for n, d in enumerate(deliveries)]
            await self._storage.cases.alert_counsellors(case.id, others, deliveries, 1, now)
            await self._audit(case.reference, "escalated_to_counsellors", str(len(others)))
            return bool(deliveries)
        if item.kind == ESCALATE_COORDINATORS and case.escalation < 2:
            deliveries = [
                _once(Delivery(index, COORDINATOR, COORDINATOR_ALERT), item.id, n)
                for n, (index, _) in enumerate(self._router.coordinator_recipients(barred))
            ]
            await self._storage.cases.alert_counsellors(case.id, [], deliveries, 2, now)
            await self._audit(case.reference, "escalated_to_coordinators", str(len(deliveries)))
            return bool(deliveries)
        return False

    async def _audit(self, reference: str, action: str, detail: str) -> None:
        await self._storage.audit.record(
            actor_role="system",
            actor="meldbot",
            action=action,
            now=self._clock.now(),
            case_ref=reference,
            detail=detail,
        )


def _once(delivery: Delivery, item_id: str, n: int) -> Delivery:
    return Delivery(delivery.recipient_index, delivery.recipient_role, delivery.kind, delivery.ref, f"{item_id}:{n}")
