"""Who may report: anyone (``open``), or only people with an invitation (``invite``).

The coordinator's /invite also offers staff links (flows/enrolment.py), in either mode.

In invite mode a coordinator (in the bot, or an operator with ``meldbot invite``)
creates a single-use link for a role and, optionally, a department. Opening the link
admits the person with that role; a stranger who finds the bot otherwise gets a
polite explanation and nothing else. Counsellors and coordinators are always
admitted: they come from the configuration.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flows.clock import Clock
from flows.model import Coordinator, Language, Role, Sender, StaffRole
from flows.outcome import Choice, CreateInvite, CreateStaffInvite, Label, Outcome, Reply, Serves, StartReport
from flows.routing import Router
from storage import Storage

OPEN_MODE, INVITE_MODE = "open", "invite"
MAX_DEPARTMENT = 30
_DEPARTMENT = re.compile(r"^[\w .&/-]{1,30}$")
_CODE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# The staff links a coordinator can make in the chat: a counsellor for each group or both, a
# coordinator, someone from management.
STAFF_CHOICES = (
    (StaffRole.COUNSELLOR, Serves.STAFF),
    (StaffRole.COUNSELLOR, Serves.OFFICE_HOLDERS),
    (StaffRole.COUNSELLOR, Serves.BOTH),
    (StaffRole.COORDINATOR, Serves.NONE),
    (StaffRole.MANAGEMENT, Serves.NONE),
)


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def clean_department(text: str) -> str | None:
    """A department name fit for a button (30 characters); None if it is not one."""
    text = " ".join(text.split())
    if not text:
        return ""
    if len(text.encode()) > MAX_DEPARTMENT or not _DEPARTMENT.match(text):
        return None
    return text


class Admission:
    def __init__(self, storage: Storage, router: Router, clock: Clock, mode: str, valid_for: timedelta) -> None:
        self._storage = storage
        self._router = router
        self._clock = clock
        self.mode = mode
        self.valid_for = valid_for

    async def admitted(self, sender: Sender) -> bool:
        if self.mode == OPEN_MODE or self._router.staff_member(sender.telegram_id):
            return True
        person = await self._storage.people.find(sender.telegram_id)
        if person is None:
            return False
        # Someone who reported while the bot was open keeps access when it turns to invitations.
        return person.admitted or await self._storage.cases.has_reported(person.id)

    def stranger(self, sender: Sender) -> Outcome:
        return Outcome(Language.from_telegram(sender.language_code), replies=[Reply("invite.stranger")])

    async def create(
        self, *, role: str, department: str | None, created_by: bytes | None, now: datetime
    ) -> tuple[str, datetime]:
        expires = now + self.valid_for
        code = await self._storage.invites.create(
            role=Role(role).value, department=department or None, created_by=created_by, expires_at=expires, now=now
        )
        await self._storage.audit.record(
            actor_role="coordinator" if created_by else "operator",
            actor="coordinator" if created_by else "operator",
            action="invite_created",
            now=now,
            detail=role,
        )
        return code, expires

    async def menu(self, sender: Sender, department_text: str) -> Outcome:
        """The coordinator's /invite: choose the role the invitation is for."""
        coordinator = self._coordinator(sender)
        if coordinator is None:
            return Outcome(Language.from_telegram(sender.language_code), replies=[Reply("staff.only_coordinators")])
        department = clean_department(department_text)
        if department is None:
            return Outcome(coordinator.language, replies=[Reply("invite.bad_department", {"max": MAX_DEPARTMENT})])
        rows = tuple((Choice(f"role.{role.value}", CreateInvite(role, department)),) for role in Role)
        # The same text names a colleague for a staff link (flows/enrolment.py): they go by it.
        staff_rows = tuple(
            (Choice(f"staff.invite_{role.value}_{serves.value}", CreateStaffInvite(role, serves, department)),)
            for role, serves in STAFF_CHOICES
        )
        return Outcome(
            coordinator.language,
            replies=[
                Reply("invite.ask_role", {"department": department or Label("invite.no_department")}, rows),
                Reply("staff.invite_ask", {"name": department or Label("staff.own_name")}, staff_rows),
            ],
        )

    async def create_in_bot(self, sender: Sender, action: CreateInvite, bot_username: str) -> Outcome:
        coordinator = self._coordinator(sender)
        department = clean_department(action.department)
        if coordinator is None or department is None:
            return Outcome(Language.from_telegram(sender.language_code), toast=Label("toast.not_yours"))
        now = self._clock.now()
        code, expires = await self.create(
            role=action.role.value, department=department, created_by=self._router.index(coordinator), now=now
        )
        return Outcome(
            coordinator.language,
            edit_pressed=Reply(
                "invite.created",
                {
                    "link": invite_link(bot_username, code),
                    "role": Label(f"role.{action.role.value}"),
                    "department": department or Label("invite.no_department"),
                    "expires": expires.date(),
                },
            ),
        )

    def _coordinator(self, sender: Sender) -> Coordinator | None:
        return self._router.coordinator(self._storage.people.index_of(sender.telegram_id))

    async def redeem(self, sender: Sender, code: str) -> Outcome | None:
        """/start with an invitation code. None when the payload is not an invitation at all."""
        if not _CODE.match(code):
            return None
        language = Language.from_telegram(sender.language_code)
        existing = await self._storage.people.find(sender.telegram_id)
        if (existing is None or not existing.admitted) and not await self._storage.invites.usable(
            code, self._clock.now()
        ):
            # Nothing is stored about someone holding a used, expired or made-up code.
            return Outcome(
                language if existing is None else Language(existing.language), replies=[Reply("invite.invalid")]
            )
        person = await self._storage.people.ensure(
            telegram_id=sender.telegram_id,
            display_name=sender.display_name,
            username=sender.username,
            language=language.value,
            now=self._clock.now(),
        )
        language = Language(person.language)
        if person.admitted:
            return Outcome(
                language, replies=[Reply("invite.already_in", keyboard=((Choice("button.report", StartReport()),),))]
            )
        invite = await self._storage.invites.redeem(code, person.id, self._clock.now())
        if invite is None:
            return Outcome(language, replies=[Reply("invite.invalid")])
        await self._storage.audit.record(
            actor_role="reporter", actor="reporter", action="invite_redeemed", now=self._clock.now(), detail=invite.role
        )
        return Outcome(
            language,
            replies=[
                Reply(
                    "invite.welcome",
                    {
                        "role": Label(f"role.{invite.role}"),
                        "department": invite.department or Label("invite.no_department"),
                    },
                    ((Choice("button.report", StartReport()),),),
                )
            ],
        )
