"""Reports about the same person: links between cases, the joint timeline, and "not alone".

Two cases are linked while both are linkable (flows/lifecycle.py :func:`~flows.lifecycle.linkable`:
in the register, combined with the reporter's consent, live) and they share a perpetrator
detail of the same kind and keyed index; storage finds them by that index without opening
anything. Links are read, never kept: switching consent off, withdrawing or erasing a case
takes it out of every link at once.

Staff see links only between cases they may open themselves, re-checked with flows.access on
every press. A report outside the register is never shown as linked to anyone: when it names
the same person as registered reports, its reporter alone is asked, once, whether it may join
them (:meth:`Linking.match_may_appear`, called at each moment a match can appear).
"""

from __future__ import annotations

from flows import lifecycle
from flows.access import Access, Grant, Permission, Relation, allows, relations
from flows.clock import Clock
from flows.lifecycle import Case, ConsentAnswer, NotAloneAnswer, Refused, linkable, may_ask_not_alone
from flows.model import Language, Sender
from flows.outcome import Choice, Label, OpenCase, Outcome, Reply
from flows.queries import CoordinatorRegister, CounsellorInbox, LinkViewer
from flows.routing import Router
from flows.views import forms_label
from storage import Storage
from storage.casefile import ActionRecord

# The joint timeline fits one message: the newest linked cases, a few actions each.
TIMELINE_SHOWN = 8
ACTIONS_PER_CASE = 3


def viewer_of(grant: Grant) -> LinkViewer | None:
    """Whose eyes a staff grant looks through when links are counted (None for the reporter)."""
    if grant.relation is Relation.COORDINATOR:
        return CoordinatorRegister(grant.index)
    if grant.relation in (Relation.COUNSELLOR, Relation.ALERTED):
        return CounsellorInbox(grant.index)
    return None


async def not_alone_count(storage: Storage, case: Case) -> int:
    """How many linkable reports by others name the same person as this one (for "not alone")."""
    return len(await storage.cases.linked(case.id, None, not_of=case.person_id))


class Linking:
    def __init__(self, storage: Storage, router: Router, access: Access, clock: Clock) -> None:
        self._storage = storage
        self._router = router
        self._access = access
        self._clock = clock

    # -- what staff see ---------------------------------------------------------------------

    async def linked_set(self, grant: Grant) -> list[Case]:
        """The other cases linked to the granted case that this staff member may open themselves,
        oldest first; empty for a case that takes part in no links, and for its reporter.

        Storage preselects by the viewer; each case is then checked against flows.access as a
        press would be, so nothing reaches a view that its viewer could not open directly.
        """
        viewer = viewer_of(grant)
        if viewer is None or not linkable(grant.case):
            return []
        found = await self._storage.cases.cases(await self._storage.cases.linked(grant.case.id, viewer))
        return [case for case in found if linkable(case) and self._may_open(case, grant.index)]

    def _may_open(self, case: Case, index: bytes) -> bool:
        return any(
            relation is not Relation.OWNER and allows(Permission.VIEW, relation, case)
            for relation in relations(case, index, self._router)
        )

    async def timeline(self, sender: Sender, reference: str) -> Outcome:
        """The linked cases side by side, oldest incident first: reference, date, forms, channel,
        status and what was done, as the viewer may see each of them already; never content or who
        reported."""
        grant = await self._access.check(sender, Permission.VIEW, reference)
        if grant is None or not grant.is_staff:
            return self._denied(sender)
        others = await self.linked_set(grant)
        if not others:
            return Outcome(grant.language, replies=[Reply("linked.none", {"reference": reference})])
        assert grant.member is not None
        actor = lifecycle.Actor(grant.relation.value, grant.member.name, grant.index)
        await self._storage.audit.record_note(
            actor.note("viewed_linked", str(len(others))), self._clock.now(), reference
        )
        every = sorted([grant.case, *others], key=lambda c: (c.incident_date, c.submitted_at))
        shown = every[-TIMELINE_SHOWN:]
        entries = [
            Label(
                "linked.entry",
                {
                    "mark": "▶ " if case.id == grant.case.id else "",
                    "reference": case.reference,
                    "date": case.incident_date,
                    "forms": forms_label(case.forms),
                    "channel": Label(f"channel.{case.channel.value}"),
                    "status": Label(f"status.{case.status.value}"),
                    "actions": _actions(await self._storage.casefile.actions(case.id)),
                },
            )
            for case in shown
        ]
        if len(every) > len(shown):
            entries.insert(0, Label("linked.earlier", {"n": len(every) - len(shown)}))
        buttons = tuple(
            (Choice("list.open", OpenCase(case.reference), {"reference": case.reference}),)
            for case in shown
            if case.id != grant.case.id
        )
        return Outcome(
            grant.language,
            replies=[
                Reply(
                    "linked.timeline",
                    {"reference": reference, "n": len(others), "entries": tuple(entries)},
                    buttons,
                    protect_content=True,
                )
            ],
        )

    # -- not alone ----------------------------------------------------------------------------

    async def match_may_appear(self, case_id: str) -> None:
        """Something happened that can make reports name the same person: a report was submitted,
        a detail added, a case entered the register or its reporter let it be combined. A report
        outside the register that now matches registered ones has its reporter asked, once (the
        question goes through the outbox and is checked again when it is sent). Staff hear nothing."""
        case = await self._storage.cases.get(case_id)
        if case is None:
            return
        concerned = [case.id] if may_ask_not_alone(case) else []
        if linkable(case):
            concerned += await self._storage.cases.askable_matches(case.id)
        for candidate in concerned:
            await self._ask_if_not_alone(candidate)

    async def _ask_if_not_alone(self, case_id: str) -> None:
        case = await self._storage.cases.get(case_id)
        if case is None or not may_ask_not_alone(case) or not await not_alone_count(self._storage, case):
            return
        now = self._clock.now()
        await self._storage.cases.change(case_id, lambda c: lifecycle.ask_not_alone(c, now), now)

    async def answer(self, sender: Sender, reference: str, answer: NotAloneAnswer) -> Outcome:
        """The reporter's word: into the register with or without their name (the register consent
        itself), or no, which changes nothing and tells nobody."""
        grant = await self._access.check(sender, Permission.CONSENT, reference)
        if grant is None or grant.person is None:
            return self._denied(sender)
        if answer is NotAloneAnswer.NO:
            return Outcome(grant.language, edit_pressed=Reply("not_alone.declined", {"reference": reference}))
        given, coordinators = ConsentAnswer(answer.value), self._router.coordinator_indexes()
        _, decision = await self._storage.cases.change(
            grant.case.id, lambda case: lifecycle.consent(case, given, coordinators), self._clock.now()
        )
        if isinstance(decision, Refused):
            return Outcome(grant.language, toast=Label("toast.already_noted"), clear_pressed_buttons=True)
        await self.match_may_appear(grant.case.id)
        return Outcome(grant.language, edit_pressed=Reply(f"not_alone.joined_{answer.value}", {"reference": reference}))

    def _denied(self, sender: Sender) -> Outcome:
        members = self._router.staff_member(sender.telegram_id)
        language = members[0].language if members else Language.from_telegram(sender.language_code)
        return Outcome(language, toast=Label("toast.not_yours"))


def _actions(actions: list[ActionRecord]) -> tuple[Label, ...] | Label:
    if not actions:
        return Label("linked.no_actions")
    return tuple(
        Label("linked.action", {"kind": Label(f"action.{a.kind}"), "outcome": Label(f"outcome.{a.outcome}")})
        for a in actions[-ACTIONS_PER_CASE:]
    )
