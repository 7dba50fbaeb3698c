"""Nobody is left waiting: what happens when a case is not acknowledged in time.

At submission two timers are stored with the case. When the first falls due and no
counsellor has acknowledged the case, the other counsellors of the reporter's group
receive it (to take over), and the reporter is told honestly that more people were
asked (flows.lifecycle.escalate_to_counsellors). When the second falls due and still
nobody has, the coordinators are alerted that a case is waiting: its reference, group,
forms and age, never its content or who reported it
(flows.lifecycle.escalate_to_coordinators).

Running an item twice (a crash between its effect and its completion) changes nothing:
each notification carries the item's id as a de-duplication key, and the case records
how far it was escalated.
"""

from __future__ import annotations

from flows import lifecycle
from flows.clock import Clock
from flows.lifecycle import Refused, TimerKind
from flows.routing import Router
from storage import Storage
from storage.schedule import DueItem

KINDS = (TimerKind.ESCALATE_COUNSELLORS, TimerKind.ESCALATE_COORDINATORS)


class Escalation:
    def __init__(self, storage: Storage, router: Router, clock: Clock) -> None:
        self._storage = storage
        self._router = router
        self._clock = clock

    async def run(self, item: DueItem) -> bool:
        """Carry out one due escalation; returns whether anyone was notified."""
        if item.case_id is None:
            return False
        coordinators = self._router.coordinator_indexes()

        def decide(case: lifecycle.Case) -> lifecycle.Decision:
            if item.kind is TimerKind.ESCALATE_COUNSELLORS:
                serving = [self._router.index(c) for c in self._router.serving(case.audience)]
                return lifecycle.escalate_to_counsellors(case, serving, item.id)
            return lifecycle.escalate_to_coordinators(case, coordinators, item.id)

        _, decision = await self._storage.cases.change(item.case_id, decide, self._clock.now())
        return not isinstance(decision, Refused) and bool(decision.deliveries)
